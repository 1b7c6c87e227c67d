//! Transitional housing (measure 4): beds, rooms and apartments with a
//! market reference rent, leased to young founders for at most the pack's
//! limit in months (36) at the pack's share of that rent (60%), both read
//! from the pack in force on the lease's start date. Transitional housing and
//! the housing subsidy exclude each other: an allocation is refused when the
//! person (or the named enterprise) has a housing-subsidy grant, and records
//! the transitional-housing grant it makes.
//!
//! Transitional housing approved through an application waits in the
//! district's queue ([`requests`]) until a lease serves it.
//!
//! Who allocates a unit (and moves its tenants in and out) is the
//! district's to say (`districts.housing_allocator`): units in an OPC
//! community are allocated by the district's reviewers or by the
//! community's operator; units elsewhere always by the district
//! ([`Allocators`]). Keeping the stock (adding and editing units) stays
//! with whoever manages the premises.
//!
//! This module holds the types and the façade; each use case lives in its
//! own module.

mod allocate;
mod lapse;
mod requests;
mod tenancy;
mod units;
mod views;

pub use requests::HousingRequestView;
pub(crate) use units::validate as validate_housing_unit;

use super::agreements::EndInput;
use super::hold::Claim;
use super::inventory::premises;
use super::{
    UnitTable, add_months, day_start, holdings_by_unit, in_range, months_between_ceil, one_of,
    parameter_on, refuse, required_date, shanghai_date,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, allocation_scope, authorize, authorize_either};
use crate::error::{FieldError, Result, ServiceError};
use crate::grants::{Benefit, NewGrant, Subject, TRANSITIONAL_HOUSING, grants_for};
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::{District, HousingAllocator};
use opcity_store::bookings;
use opcity_store::entity::{enterprise, housing_lease, housing_unit, person};
use opcity_store::intervals::Holdings;
use opcity_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use opcity_store::spaces::HousingUnitFields;
use std::collections::BTreeMap;

pub const HOUSING_KINDS: [&str; 3] = ["bed", "room", "apartment"];
pub const MAX_MONTHS: &str = "transitional_housing_max_months";
pub const RENT_PERCENT: &str = "transitional_housing_rent_percent";
const HOUSING_TAKEN: ErrorCode = ErrorCode::HousingUnitTaken;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HousingUnitInput {
    pub district: String,
    /// Set when a community operator runs it.
    pub community_id: Option<i64>,
    pub address: String,
    /// Label, unique in the district.
    pub code: String,
    /// `bed`, `room` or `apartment`.
    pub kind: String,
    pub area_m2: i64,
    /// Monthly market reference rent, fen.
    pub market_rent_fen: i64,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct HousingUnitView {
    pub id: i64,
    #[schema(value_type = String)]
    pub district: District,
    pub community_id: Option<i64>,
    pub address: String,
    pub code: String,
    pub kind: String,
    pub area_m2: i64,
    pub market_rent_fen: i64,
    pub active: bool,
    /// Who allocates it: `district_reviewer` or `community_operator`.
    #[schema(value_type = String)]
    pub allocated_by: HousingAllocator,
}

/// Who allocates each district's housing in its communities.
#[derive(Debug, Clone, Default)]
pub(crate) struct Allocators(BTreeMap<String, HousingAllocator>);

impl Allocators {
    pub(crate) async fn read<C: ConnectionTrait>(db: &C) -> Result<Allocators> {
        let settings = opcity_store::districts::housing_allocators(db).await?;
        Ok(Allocators(
            settings
                .into_iter()
                .filter_map(|(district, by)| Some((district, by.parse().ok()?)))
                .collect(),
        ))
    }

    /// Who allocates unit `u`: outside communities, always the district.
    fn of(&self, u: &housing_unit::Model) -> HousingAllocator {
        match u.community_id {
            None => HousingAllocator::DistrictReviewer,
            Some(_) => self.0.get(&u.district).copied().unwrap_or_default(),
        }
    }

    /// What allocating unit `u` (or changing its tenancies) asks of `authz`.
    fn resource(&self, u: &housing_unit::Model) -> Resource {
        Resource::HousingAllocation {
            community_id: u.community_id,
            district: u.district.parse().expect("district ids are foreign keys"),
            by: self.of(u),
        }
    }

    fn view(&self, u: &housing_unit::Model) -> HousingUnitView {
        HousingUnitView {
            allocated_by: self.of(u),
            ..HousingUnitView::from(u)
        }
    }
}

/// What allocating unit `u` asks of `authz`, with its district's setting.
async fn allocation_of<C: ConnectionTrait>(db: &C, u: &housing_unit::Model) -> Result<Resource> {
    Ok(Allocators::read(db).await?.resource(u))
}

impl From<&housing_unit::Model> for HousingUnitView {
    /// The unit as stored; who allocates it is [`Allocators::view`]'s to fill in.
    fn from(u: &housing_unit::Model) -> Self {
        HousingUnitView {
            allocated_by: HousingAllocator::default(),
            id: u.id,
            district: u.district.parse().expect("district ids are foreign keys"),
            community_id: u.community_id,
            address: u.address.clone(),
            code: u.code.clone(),
            kind: u.kind.clone(),
            area_m2: u.area_m2,
            market_rent_fen: u.market_rent_fen,
            active: u.active,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseInput {
    pub housing_unit_id: i64,
    pub person_id: i64,
    /// The person's enterprise, if the lease is in its name too.
    pub enterprise_id: Option<i64>,
    /// First day, `YYYY-MM-DD` (Shanghai).
    pub start: String,
    /// Whole months; at most the pack's limit, counting earlier leases.
    pub months: i32,
    /// The approved housing request this lease serves, if any.
    pub request_id: Option<i64>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewInput {
    /// Months to add; the person's total stays within the pack's limit.
    pub months: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LeaseView {
    pub id: i64,
    pub housing_unit_id: i64,
    pub unit_code: String,
    pub unit_kind: String,
    #[schema(value_type = String)]
    pub district: District,
    pub person_id: i64,
    pub enterprise_id: Option<i64>,
    pub start_at: DateTime<Utc>,
    /// Exclusive.
    pub end_at: DateTime<Utc>,
    pub start_date: NaiveDate,
    /// First day no longer held.
    pub end_date: NaiveDate,
    pub months: i32,
    pub market_rent_fen: i64,
    pub rent_percent: i32,
    pub monthly_rent_fen: i64,
    /// `reserved`, `active` (moved in), `ended` or `cancelled`.
    pub status: String,
    pub moved_in_at: Option<DateTime<Utc>>,
    pub moved_out_at: Option<DateTime<Utc>>,
    /// The tenant, by name, on reads.
    pub holder: Option<String>,
}

impl crate::Party for LeaseView {
    /// The tenant is the person, whatever enterprise the lease names.
    fn party(&self) -> (Option<i64>, Option<i64>) {
        (None, Some(self.person_id))
    }

    fn set_party_name(&mut self, name: Option<String>) {
        self.holder = name;
    }
}

fn lease_view(l: &housing_lease::Model, u: &housing_unit::Model) -> LeaseView {
    LeaseView {
        id: l.id,
        housing_unit_id: l.housing_unit_id,
        unit_code: u.code.clone(),
        unit_kind: u.kind.clone(),
        district: u.district.parse().expect("district ids are foreign keys"),
        person_id: l.person_id,
        enterprise_id: l.enterprise_id,
        start_at: l.start_at,
        end_at: l.end_at,
        start_date: shanghai_date(l.start_at),
        end_date: shanghai_date(l.end_at),
        months: l.months,
        market_rent_fen: l.market_rent_fen,
        rent_percent: l.rent_percent,
        monthly_rent_fen: l.monthly_rent_fen,
        status: l.status.clone(),
        moved_in_at: l.moved_in_at,
        moved_out_at: l.moved_out_at,
        holder: None,
    }
}

/// One unit on the occupancy view, with the lease holding it that day.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OccupancyRow {
    pub unit: HousingUnitView,
    pub lease: Option<LeaseView>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OccupancyKind {
    pub kind: String,
    pub units: i64,
    pub occupied: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OccupancyView {
    pub on: NaiveDate,
    pub units: Vec<OccupancyRow>,
    /// bed → room → apartment.
    pub by_kind: Vec<OccupancyKind>,
}

/// Rent at `percent` of the market rent, rounded to the nearest fen.
pub fn programme_rent(market_rent_fen: i64, percent: i64) -> i64 {
    (market_rent_fen * percent + 50) / 100
}

fn unit_resource(u: &housing_unit::Model) -> Resource {
    premises(u.community_id, &u.district)
}

fn lease_holding(l: &housing_lease::Model, u: &housing_unit::Model) -> Resource {
    Resource::Holding {
        enterprise_id: l.enterprise_id,
        person_id: Some(l.person_id),
        district: u.district.parse().ok(),
    }
}

async fn load_unit<C: ConnectionTrait>(db: &C, id: i64) -> Result<housing_unit::Model> {
    housing_unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound {
            entity: "housing_unit",
        })
}

async fn load_lease<C: ConnectionTrait>(db: &C, id: i64) -> Result<housing_lease::Model> {
    housing_lease::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "lease" })
}

/// A lease about to change, its row locked until the transaction ends
/// (`opcity_store::rows`), so that what the change reads (its months, its
/// status) is what it writes over.
async fn lock_lease(tx: &DatabaseTransaction, id: i64) -> Result<housing_lease::Model> {
    opcity_store::rows::lock_by_id::<housing_lease::Entity>(tx, id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "lease" })
}

fn lease_too_long(max: i64, used: i64, asked: i64) -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("months", "lease_too_long")
            .with("max", max)
            .with("used", used)
            .with("asked", asked),
    ])
}

fn conflict(code: ErrorCode, field: &'static str) -> ServiceError {
    ServiceError::Conflict {
        code,
        field: Some(field),
    }
}

impl Services {
    /// Create housing unit.
    pub async fn create_housing_unit(
        &self,
        actor: &Actor,
        input: &HousingUnitInput,
    ) -> Result<HousingUnitView> {
        units::create_housing_unit(self, actor, input).await
    }

    /// Update housing unit.
    pub async fn update_housing_unit(
        &self,
        actor: &Actor,
        id: i64,
        input: &HousingUnitInput,
    ) -> Result<HousingUnitView> {
        units::update_housing_unit(self, actor, id, input).await
    }

    /// Housing units the actor may see (every signed-in role sees the stock).
    pub async fn list_housing_units(
        &self,
        actor: &Actor,
        district: Option<District>,
        community_id: Option<i64>,
    ) -> Result<Vec<HousingUnitView>> {
        units::list_housing_units(self, actor, district, community_id).await
    }

    /// Allocates a housing unit to a young founder within the pack's limits.
    pub async fn allocate_housing(&self, actor: &Actor, input: &LeaseInput) -> Result<LeaseView> {
        allocate::allocate_housing(self, actor, input).await
    }

    /// Housing requests the actor may serve (a founder: their own).
    pub async fn housing_requests(&self, actor: &Actor) -> Result<Vec<HousingRequestView>> {
        requests::housing_requests(self, actor).await
    }

    /// The tenant has the keys: a reserved lease becomes active.
    pub async fn move_in(&self, actor: &Actor, id: i64) -> Result<LeaseView> {
        tenancy::move_in(self, actor, id).await
    }

    /// Extends a lease by whole months, within the pack's limit and a free unit.
    pub async fn renew_lease(
        &self,
        actor: &Actor,
        id: i64,
        input: &RenewInput,
    ) -> Result<LeaseView> {
        tenancy::renew_lease(self, actor, id, input).await
    }

    /// After a confirmed lapse: the lease allocated for housing request
    /// `request_id` ends after `last_day`, in the lapse's transaction.
    pub(crate) async fn end_lease_on_lapse(
        &self,
        tx: &DatabaseTransaction,
        request_id: i64,
        last_day: NaiveDate,
        actor: &Actor,
    ) -> Result<()> {
        lapse::end_lease_on_lapse(self, tx, request_id, last_day, actor).await
    }

    /// The tenant leaves: the lease ends at the start of `on`.
    pub async fn move_out(&self, actor: &Actor, id: i64, input: &EndInput) -> Result<LeaseView> {
        tenancy::move_out(self, actor, id, input).await
    }

    /// Get lease.
    pub async fn get_lease(&self, actor: &Actor, id: i64) -> Result<LeaseView> {
        views::get_lease(self, actor, id).await
    }

    /// Leases the actor may see, by start.
    pub async fn list_leases(&self, actor: &Actor) -> Result<Vec<LeaseView>> {
        views::list_leases(self, actor).await
    }

    /// Which of the units the actor manages are occupied on `on`.
    pub async fn housing_occupancy(
        &self,
        actor: &Actor,
        district: Option<District>,
        community_id: Option<i64>,
        on: NaiveDate,
    ) -> Result<OccupancyView> {
        views::housing_occupancy(self, actor, district, community_id, on).await
    }
}

#[cfg(test)]
mod tests {
    use super::programme_rent;

    #[test]
    fn programme_rent_rounds_to_the_nearest_fen() {
        assert_eq!(programme_rent(300_000, 60), 180_000);
        assert_eq!(programme_rent(333_333, 60), 200_000);
        assert_eq!(programme_rent(1, 60), 1);
        assert_eq!(programme_rent(0, 60), 0);
    }
}
