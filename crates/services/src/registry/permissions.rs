//! What a viewer may do with registry records, asked of [`crate::authz`] as
//! the writes themselves ask it, so that pages offer only the forms and
//! buttons that will not end in a refusal.

use super::communities::CommunityView;
use super::enterprises::EnterpriseView;
use super::persons::PersonView;
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use opcity_domain::District;

impl Services {
    /// Whether `actor` may add a community in some district.
    pub fn may_create_community(&self, actor: &Actor) -> bool {
        District::ALL.into_iter().any(|district| {
            permits(
                actor,
                Action::Create,
                Resource::Community { id: None, district },
            )
        })
    }

    /// Whether `actor` may edit community `c`.
    pub fn may_update_community(&self, actor: &Actor, c: &CommunityView) -> bool {
        permits(
            actor,
            Action::Update,
            Resource::Community {
                id: Some(c.id),
                district: c.district,
            },
        )
    }

    /// Whether `actor` may register an enterprise in some district.
    pub fn may_create_enterprise(&self, actor: &Actor) -> bool {
        District::ALL.into_iter().any(|district| {
            permits(
                actor,
                Action::Create,
                Resource::Enterprise {
                    id: None,
                    district,
                    community_id: None,
                },
            )
        })
    }

    /// Whether `actor` may edit enterprise `e`.
    pub fn may_update_enterprise(&self, actor: &Actor, e: &EnterpriseView) -> bool {
        permits(
            actor,
            Action::Update,
            Resource::Enterprise {
                id: Some(e.id),
                district: e.district,
                community_id: e.community_id,
            },
        )
    }

    /// Whether `actor` may register a person (in some district, or none).
    pub fn may_create_person(&self, actor: &Actor) -> bool {
        District::ALL
            .into_iter()
            .map(Some)
            .chain([None])
            .any(|district| {
                permits(
                    actor,
                    Action::Create,
                    Resource::Person { id: None, district },
                )
            })
    }

    /// Whether `actor` may edit person `p`.
    pub fn may_update_person(&self, actor: &Actor, p: &PersonView) -> bool {
        permits(
            actor,
            Action::Update,
            Resource::Person {
                id: Some(p.id),
                district: p.district,
            },
        )
    }
}
