//! District settings: who allocates a district's housing in its OPC
//! communities (its reviewers, the default, or each community's operator;
//! see `spaces::housing`). The city sets them; every signed-in role reads
//! them; a change is audited and applies at once, to the tenancies already
//! running too.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{Result, ServiceError};
use opcity_domain::{District, HousingAllocator};

/// A district's settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictSettings {
    #[schema(value_type = String)]
    pub district: District,
    /// Who allocates its housing in OPC communities: `district_reviewer`
    /// or `community_operator` (elsewhere always the district's reviewers).
    #[schema(value_type = String)]
    pub housing_allocator: HousingAllocator,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistrictSettingsInput {
    /// `district_reviewer` or `community_operator`.
    pub housing_allocator: String,
}

impl Services {
    /// Whether `actor` may change district settings (as the page posts them).
    pub fn may_set_district_settings(&self, actor: &Actor) -> bool {
        crate::authz::permits(actor, Action::Update, Resource::DistrictSettings)
    }

    /// Every district's settings, in the districts' order.
    pub async fn district_settings(&self, actor: &Actor) -> Result<Vec<DistrictSettings>> {
        authorize(actor, Action::Read, Resource::DistrictSettings)?;
        let stored = opcity_store::districts::housing_allocators(self.store().db()).await?;
        Ok(District::ALL
            .into_iter()
            .map(|district| DistrictSettings {
                district,
                housing_allocator: stored
                    .get(district.id())
                    .and_then(|a| a.parse().ok())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Sets who allocates `district`'s housing in its communities.
    pub async fn set_district_settings(
        &self,
        actor: &Actor,
        district: &str,
        input: &DistrictSettingsInput,
    ) -> Result<DistrictSettings> {
        authorize(actor, Action::Update, Resource::DistrictSettings)?;
        let district: District = district
            .parse()
            .map_err(|_| ServiceError::NotFound { entity: "district" })?;
        let allocator: HousingAllocator = input
            .housing_allocator
            .parse()
            .map_err(|_| ServiceError::invalid("housing_allocator", "unknown_allocator"))?;
        let before = self
            .district_settings(actor)
            .await?
            .into_iter()
            .find(|s| s.district == district);
        let tx = self.store().begin().await?;
        opcity_store::districts::set_housing_allocator(&tx, district.id(), allocator.id())
            .await?
            .ok_or(ServiceError::NotFound { entity: "district" })?;
        let after = DistrictSettings {
            district,
            housing_allocator: allocator,
        };
        // Districts have text ids, so the entry's number is 0 and its
        // `before` and `after` name the district.
        crate::commit_change(
            tx,
            self.now(),
            &actor.audit_label(),
            "district.settings",
            0,
            before.as_ref(),
            after,
        )
        .await
    }
}
