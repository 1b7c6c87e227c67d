//! What a viewer may do with spaces, housing and instruments, asked of
//! [`crate::authz`] with the same action and resource as the writes ask it,
//! so that pages offer only the forms and buttons that will not end in a
//! refusal. Each method names the write it mirrors.
//!
//! A holding's district decides only who may *read* it (a district's
//! reviewer); creating or changing one is decided by its holders alone, so
//! the checks below that do not know a holder's district pass none.

use super::agreements::{AgreementView, RequestView};
use super::housing::HousingUnitView;
use super::instruments::{BookingView, InstrumentView, listing_manager};
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use opcity_domain::District;

fn premises(community_id: Option<i64>, district: District) -> Resource {
    Resource::Premises {
        community_id,
        district,
    }
}

fn holding(
    enterprise_id: Option<i64>,
    person_id: Option<i64>,
    district: Option<District>,
) -> Resource {
    Resource::Holding {
        enterprise_id,
        person_id,
        district,
    }
}

fn instrument(i: &InstrumentView) -> Resource {
    Resource::Instrument {
        community_id: i.community_id,
        manager: i.manager_account_id,
    }
}

impl Services {
    /// Whether `actor` may add buildings, floors and units to a site: an
    /// OPC community's (`community_id`) or a district's other space
    /// (`create_building`, `create_floor`, `create_unit`).
    pub fn may_keep_inventory(
        &self,
        actor: &Actor,
        community_id: Option<i64>,
        district: District,
    ) -> bool {
        permits(actor, Action::Create, premises(community_id, district))
    }

    /// Whether `actor` may ask for space for a holder of their own, in some
    /// district (`request_space`: every party named must be theirs).
    pub fn may_request_space(&self, actor: &Actor) -> bool {
        let holders = actor
            .enterprise_ids
            .iter()
            .map(|e| (Some(*e), None))
            .chain([(None, actor.person_id)]);
        holders.into_iter().any(|(enterprise_id, person_id)| {
            District::ALL.into_iter().any(|district| {
                let asked = holding(enterprise_id, person_id, Some(district));
                permits(actor, Action::Create, asked)
            })
        })
    }

    /// Whether `actor` may withdraw request `r`: its holder, or whoever
    /// manages its site (`withdraw_space_request`).
    pub fn may_withdraw_request(&self, actor: &Actor, r: &RequestView) -> bool {
        let holder = holding(r.enterprise_id, r.person_id, Some(r.district));
        permits(actor, Action::Update, holder)
            || permits(actor, Action::Update, premises(r.community_id, r.district))
    }

    /// Whether `actor` may offer a unit to request `r`, directly or by
    /// serving the waitlist (`offer_space`, `serve_waitlist`): the unit must
    /// stand at the request's site, and its site decides.
    pub fn may_offer_to(&self, actor: &Actor, r: &RequestView) -> bool {
        permits(actor, Action::Update, premises(r.community_id, r.district))
    }

    /// Whether `actor` may accept or decline a change proposed to request
    /// `r`: its holder (`accept_space_change`, `decline_space_change`).
    pub fn may_answer_proposal(&self, actor: &Actor, r: &RequestView) -> bool {
        let holder = holding(r.enterprise_id, r.person_id, Some(r.district));
        permits(actor, Action::Update, holder)
    }

    /// Whether `actor` may accept or decline offer `a`: its holder
    /// (`accept_space_offer`, `decline_offer`).
    pub fn may_answer_offer(&self, actor: &Actor, a: &AgreementView) -> bool {
        let holder = holding(a.enterprise_id, a.person_id, Some(a.district));
        permits(actor, Action::Update, holder)
    }

    /// Whether `actor` may withdraw offer `a`, end it or move it to another
    /// unit of its site: whoever manages its unit (`withdraw_offer`,
    /// `end_agreement`, `move_agreement`).
    pub fn may_manage_agreement(&self, actor: &Actor, a: &AgreementView) -> bool {
        permits(actor, Action::Update, premises(a.community_id, a.district))
    }

    /// Whether `actor` may add a housing unit outside any community, in
    /// some district (`create_housing_unit`, as the page posts it).
    pub fn may_add_housing_unit(&self, actor: &Actor) -> bool {
        District::ALL
            .into_iter()
            .any(|district| permits(actor, Action::Create, premises(None, district)))
    }

    /// Whether `actor` manages housing unit `u`: allocates it, and moves
    /// its tenants in and out and renews their leases (`allocate_housing`,
    /// `move_in`, `renew_lease`, `move_out`).
    pub fn may_manage_housing_unit(&self, actor: &Actor, u: &HousingUnitView) -> bool {
        let allocation = Resource::HousingAllocation {
            community_id: u.community_id,
            district: u.district,
            by: u.allocated_by,
        };
        permits(actor, Action::Update, allocation)
    }

    /// Whether `actor` may list a new instrument outside any community (as
    /// the page posts it): it needs both the instrument and its site
    /// (`create_instrument`).
    pub fn may_list_instrument(&self, actor: &Actor) -> bool {
        let target = Resource::Instrument {
            community_id: None,
            manager: listing_manager(actor, None),
        };
        permits(actor, Action::Create, target)
            && permits(
                actor,
                Action::Create,
                Resource::InstrumentSite { community_id: None },
            )
    }

    /// Whether `actor` manages instrument `i`: decides its bookings
    /// (`decide_booking`).
    pub fn may_manage_instrument(&self, actor: &Actor, i: &InstrumentView) -> bool {
        permits(actor, Action::Update, instrument(i))
    }

    /// Whether `actor` may book instrument `i` for `enterprise_id`: for an
    /// enterprise of their own, or as its manager (`book_instrument`).
    pub fn may_book_for(&self, actor: &Actor, i: &InstrumentView, enterprise_id: i64) -> bool {
        let holder = holding(Some(enterprise_id), None, None);
        permits(actor, Action::Create, holder) || self.may_manage_instrument(actor, i)
    }

    /// Whether `actor` may cancel booking `b` of instrument `i` or check it
    /// in: its holder, or the instrument's manager (`cancel_booking`,
    /// `check_in`).
    pub fn may_act_on_booking(&self, actor: &Actor, i: &InstrumentView, b: &BookingView) -> bool {
        let holder = holding(Some(b.enterprise_id), None, None);
        permits(actor, Action::Update, holder) || self.may_manage_instrument(actor, i)
    }
}
