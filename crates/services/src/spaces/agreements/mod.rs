//! Workspace allocation: an enterprise (or a young founder, outside OPC
//! communities) requests space sized to its team and waits in its site's
//! queue for that unit kind; the operator offers a unit, which holds the
//! unit from then on; the holder accepts (an agreement) or declines. The
//! growth path desk → office → floor is [`Services::move_agreement`]: one
//! transaction ends the old agreement at the instant the next one starts.
//!
//! Waitlists are served in order: a unit may only be offered to the earliest
//! waiting request of its site and kind whose team fits it, where requests
//! whose holder holds a title's priority industrial space (measure (2)) on
//! the day come before the others.
//!
//! An operator fits a request to what the site has: by proposing new terms
//! the holder accepts or declines (`amend`), or by offering a unit of
//! another kind instead, with a note saying why (an alternative, which the
//! holder accepts or declines like any offer).
//!
//! This module holds the types and the façade; each use case lives in its
//! own module.

mod amend;
mod answer;
mod grant;
mod lapse;
mod offer;
mod place;
mod request;
mod terminate;
mod views;

pub use amend::{AmendmentInput, AmendmentView};

use super::hold::{Claim, Guard};
use super::inventory::{UNIT_KINDS, growth_rank, premises};
use super::{
    ScopeParts, UnitTable, day_start, holdings_by_unit, in_range, one_of, parameter_on, refuse,
    required_date, scope_condition, shanghai_date,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, allocation_scope, authorize, authorize_either};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::District;
use opcity_policy::Support;
use opcity_store::bookings;
use opcity_store::entity::{
    community, enterprise, person, space_agreement, space_request, space_unit,
};
use opcity_store::intervals::{Holdings, lock_key};
use opcity_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

pub const OPC_WORKSPACE: &str = "sz.space.opc_workspace";
pub const YOUNG_TALENT: &str = "sz.space.young_talent";
/// The pack parameter with the young-talent area ceiling (m²).
pub const YOUNG_TALENT_MAX_AREA: &str = "young_talent_space_max_m2";

const UNIT_TAKEN: ErrorCode = ErrorCode::SpaceUnitTaken;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceRequestInput {
    /// The enterprise asking for space in an OPC community.
    pub enterprise_id: Option<i64>,
    /// The young founder asking for space outside communities.
    pub person_id: Option<i64>,
    /// The community; absent: other industrial space in `district`.
    pub community_id: Option<i64>,
    pub district: Option<String>,
    /// `desk`, `office` or `floor`.
    pub kind: String,
    /// People to seat.
    pub team_size: i32,
    /// `YYYY-MM-DD`.
    pub wanted_from: String,
    pub months: i32,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub community_id: Option<i64>,
    #[schema(value_type = String)]
    pub district: District,
    pub kind: String,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub team_size: i32,
    pub wanted_from: NaiveDate,
    pub months: i32,
    pub note: String,
    /// `waiting`, `offered`, `fulfilled` or `withdrawn`.
    pub status: String,
    pub requested_at: DateTime<Utc>,
    /// Place in its waitlist (1 = next), while waiting.
    pub position: Option<i64>,
    /// While waiting: the holder (the enterprise, one of its founders, or
    /// the person) holds a title's priority industrial space, so the request
    /// is served before those without it.
    pub priority: bool,
    /// Who holds it, by name (the enterprise's, else the person's), on reads.
    pub holder: Option<String>,
    /// While waiting: new terms its site's operator proposes, not yet answered.
    pub proposal: Option<AmendmentView>,
}

impl crate::Party for RequestView {
    fn party(&self) -> (Option<i64>, Option<i64>) {
        (self.enterprise_id, self.person_id)
    }

    fn set_party_name(&mut self, name: Option<String>) {
        self.holder = name;
    }
}

/// Where a waiting request stands in its waitlist.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// 1 = next.
    position: i64,
    priority: bool,
}

/// The waitlists' serving order on `now`'s date in Shanghai: holders of a
/// title's priority industrial space first (measure (2)).
fn serving_order(now: DateTime<Utc>) -> bookings::Priority<'static> {
    bookings::Priority {
        support: Support::PriorityIndustrialSpace.name(),
        on: opcity_domain::today_in_shanghai(now),
    }
}

fn request_view(r: &space_request::Model, place: Option<Place>) -> RequestView {
    RequestView {
        id: r.id,
        community_id: r.community_id,
        district: r.district.parse().expect("district ids are checked"),
        kind: r.kind.clone(),
        programme: r.programme.clone(),
        enterprise_id: r.enterprise_id,
        person_id: r.person_id,
        team_size: r.team_size,
        wanted_from: r.wanted_from,
        months: r.months,
        note: r.note.clone(),
        status: r.status.clone(),
        requested_at: r.requested_at,
        position: place.map(|p| p.position),
        priority: place.is_some_and(|p| p.priority),
        holder: None,
        proposal: None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AgreementView {
    pub id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_kind: String,
    pub area_m2: i64,
    pub community_id: Option<i64>,
    #[schema(value_type = String)]
    pub district: District,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub request_id: Option<i64>,
    /// Held from this instant (UTC) …
    pub start_at: DateTime<Utc>,
    /// … until this one, exclusive.
    pub end_at: DateTime<Utc>,
    /// The first and the first free Shanghai day.
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub list_rent_fen: i64,
    pub monthly_rent_fen: i64,
    pub discount_fen: i64,
    /// `offered`, `active`, `ended`, `declined` or `withdrawn`.
    pub status: String,
    pub previous_id: Option<i64>,
    /// The operator's note with the offer; an alternative (a unit of
    /// another kind than the request asked for) always has one.
    pub offer_note: Option<String>,
    /// Who holds it, by name (the enterprise's, else the person's), on reads.
    pub holder: Option<String>,
}

impl crate::Party for AgreementView {
    fn party(&self) -> (Option<i64>, Option<i64>) {
        (self.enterprise_id, self.person_id)
    }

    fn set_party_name(&mut self, name: Option<String>) {
        self.holder = name;
    }
}

fn agreement_view(a: &space_agreement::Model, u: &space_unit::Model) -> AgreementView {
    AgreementView {
        id: a.id,
        unit_id: a.unit_id,
        unit_code: u.code.clone(),
        unit_kind: u.kind.clone(),
        area_m2: u.area_m2,
        community_id: u.community_id,
        district: u.district.parse().expect("district ids are checked"),
        programme: a.programme.clone(),
        enterprise_id: a.enterprise_id,
        person_id: a.person_id,
        request_id: a.request_id,
        start_at: a.start_at,
        end_at: a.end_at,
        start_date: shanghai_date(a.start_at),
        end_date: shanghai_date(a.end_at),
        list_rent_fen: a.list_rent_fen,
        monthly_rent_fen: a.monthly_rent_fen,
        discount_fen: a.list_rent_fen - a.monthly_rent_fen,
        status: a.status.clone(),
        previous_id: a.previous_id,
        offer_note: a.offer_note.clone(),
        holder: None,
    }
}

/// An offer of a unit to the request at the head of its waitlist.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferInput {
    pub request_id: i64,
    pub unit_id: i64,
    /// First day, `YYYY-MM-DD` (Shanghai).
    pub start: String,
    /// First day no longer held, `YYYY-MM-DD` (half-open: `[start, end)`).
    pub end: String,
    /// Monthly rent, fen; default the unit's discounted rent.
    pub monthly_rent_fen: Option<i64>,
    /// The operator's note to the holder; required when the unit is of
    /// another kind than the request asks for (an alternative).
    #[serde(default)]
    pub note: Option<String>,
}

/// Offers a unit to whoever is next in its waitlist.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServeInput {
    pub unit_id: i64,
    pub start: String,
    pub end: String,
    pub monthly_rent_fen: Option<i64>,
}

/// The growth path: from `on`, the holder moves to `unit_id` until `end`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    pub unit_id: i64,
    /// The day the old agreement ends and the new one starts.
    pub on: String,
    /// First day the new unit is no longer held.
    pub end: String,
    pub monthly_rent_fen: Option<i64>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    /// First day no longer held.
    pub on: String,
}

/// Filters for lists of requests and agreements.
#[derive(Debug, Clone, Default)]
pub struct AllocationFilter {
    pub community_id: Option<i64>,
    pub district: Option<District>,
    pub kind: Option<String>,
    pub status: Option<String>,
}

/// The validated dates of an offer or move: `[start, end)` as instants.
fn interval(
    c: &mut Checker,
    start_field: &str,
    start: &str,
    end: &str,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let s = required_date(c, start_field, start);
    let e = required_date(c, "end", end);
    let (s, e) = (s?, e?);
    if e <= s {
        c.push(
            FieldError::new("end", "ends_before_start")
                .with("start", s)
                .with("end", e),
        );
        return None;
    }
    Some((day_start(s), day_start(e)))
}

/// The turn a holder's waiting requests change under (`intervals::lock_key`):
/// one waiting request per holder and queue.
fn holder_turn(enterprise_id: Option<i64>, person_id: Option<i64>) -> String {
    match (enterprise_id, person_id) {
        (Some(e), _) => format!("space_request:enterprise:{e}"),
        (_, p) => format!("space_request:person:{}", p.unwrap_or_default()),
    }
}

fn holding_of(r: &space_request::Model) -> Resource {
    Resource::Holding {
        enterprise_id: r.enterprise_id,
        person_id: r.person_id,
        district: r.district.parse().ok(),
    }
}

fn agreement_holding(a: &space_agreement::Model, u: &space_unit::Model) -> Resource {
    Resource::Holding {
        enterprise_id: a.enterprise_id,
        person_id: a.person_id,
        district: u.district.parse().ok(),
    }
}

async fn load_unit<C: ConnectionTrait>(db: &C, id: i64) -> Result<space_unit::Model> {
    space_unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "unit" })
}

/// An agreement about to change, its row locked until the transaction ends
/// (`opcity_store::rows`), so two responses to one offer cannot both pass.
async fn lock_agreement(tx: &DatabaseTransaction, id: i64) -> Result<space_agreement::Model> {
    opcity_store::rows::lock_by_id::<space_agreement::Entity>(tx, id)
        .await?
        .ok_or(ServiceError::NotFound {
            entity: "agreement",
        })
}

async fn load_agreement<C: ConnectionTrait>(db: &C, id: i64) -> Result<space_agreement::Model> {
    space_agreement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound {
            entity: "agreement",
        })
}

fn conflict(code: ErrorCode, field: &'static str) -> ServiceError {
    ServiceError::Conflict {
        code,
        field: Some(field),
    }
}

impl Services {
    /// A request for space; it waits in its site's queue for its unit kind.
    pub async fn request_space(
        &self,
        actor: &Actor,
        input: &SpaceRequestInput,
    ) -> Result<RequestView> {
        request::request_space(self, actor, input).await
    }

    /// The site's operator proposes new terms for a waiting request, with the reason.
    pub async fn propose_space_change(
        &self,
        actor: &Actor,
        request_id: i64,
        input: &AmendmentInput,
    ) -> Result<AmendmentView> {
        amend::propose(self, actor, request_id, input).await
    }

    /// The holder accepts a proposed change: the request takes its terms.
    pub async fn accept_space_change(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        amend::accept(self, actor, id).await
    }

    /// The holder declines a proposed change: the request stays as it was.
    pub async fn decline_space_change(&self, actor: &Actor, id: i64) -> Result<AmendmentView> {
        amend::close(self, actor, id, false).await
    }

    /// The site's operator withdraws a change not yet answered.
    pub async fn withdraw_space_change(&self, actor: &Actor, id: i64) -> Result<AmendmentView> {
        amend::close(self, actor, id, true).await
    }

    /// The holder withdraws a waiting request.
    pub async fn withdraw_space_request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        request::withdraw_space_request(self, actor, id).await
    }

    /// Offers a unit to a waiting request; the offer holds the unit.
    pub async fn offer_space(&self, actor: &Actor, input: &OfferInput) -> Result<AgreementView> {
        offer::offer_space(self, actor, input).await
    }

    /// Offers a unit to the earliest waiting request whose team fits it.
    pub async fn serve_waitlist(&self, actor: &Actor, input: &ServeInput) -> Result<AgreementView> {
        offer::serve_waitlist(self, actor, input).await
    }

    /// The holder accepts an offer: it becomes the agreement.
    pub async fn accept_space_offer(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        answer::accept_space_offer(self, actor, id).await
    }

    /// The holder declines an offer: the request waits again in its place.
    pub async fn decline_offer(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        answer::decline_offer(self, actor, id).await
    }

    /// The operator withdraws an offer not yet accepted.
    pub async fn withdraw_offer(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        answer::withdraw_offer(self, actor, id).await
    }

    /// After a confirmed lapse: what request `request_id` holds ends after
    /// `last_day`, in the lapse's transaction.
    pub(crate) async fn end_space_on_lapse(
        &self,
        tx: &DatabaseTransaction,
        request_id: i64,
        last_day: NaiveDate,
        label: &str,
    ) -> Result<()> {
        lapse::end_space_on_lapse(self, tx, request_id, last_day, label).await
    }

    /// Ends an agreement early: it holds the unit until the start of `on`.
    pub async fn end_agreement(
        &self,
        actor: &Actor,
        id: i64,
        input: &EndInput,
    ) -> Result<AgreementView> {
        terminate::end_agreement(self, actor, id, input).await
    }

    /// The growth path: one agreement ends as the next, at another unit, starts.
    pub async fn move_agreement(
        &self,
        actor: &Actor,
        id: i64,
        input: &MoveInput,
    ) -> Result<AgreementView> {
        terminate::move_agreement(self, actor, id, input).await
    }

    /// Requests the actor may see, oldest first, with waitlist positions.
    pub async fn list_space_requests(
        &self,
        actor: &Actor,
        filter: &AllocationFilter,
    ) -> Result<Vec<RequestView>> {
        views::list_space_requests(self, actor, filter).await
    }

    /// One agreement or offer, for its holder or the premises' operator.
    pub async fn get_agreement(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        views::get_agreement(self, actor, id).await
    }

    /// Agreements and offers the actor may see, by start.
    pub async fn list_agreements(
        &self,
        actor: &Actor,
        filter: &AllocationFilter,
    ) -> Result<Vec<AgreementView>> {
        views::list_agreements(self, actor, filter).await
    }
}

/// What [`place::insert_agreement`] writes.
struct NewAgreement<'a> {
    unit: &'a space_unit::Model,
    request_id: Option<i64>,
    programme: &'a str,
    enterprise_id: Option<i64>,
    person_id: Option<i64>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    rent: i64,
    status: &'static str,
    previous_id: Option<i64>,
    offer_note: Option<String>,
}

/// Whether a unit suits a request: offered, at the request's site, seating
/// its team (a unit of another kind is an alternative, see `offer`).
fn check_unit_fits(unit: &space_unit::Model, r: &space_request::Model) -> Result<()> {
    if !unit.active {
        return Err(refuse("unit_id", "unit_inactive"));
    }
    if unit.community_id != r.community_id || unit.district != r.district {
        return Err(refuse("unit_id", "unit_elsewhere"));
    }
    if unit.capacity < r.team_size {
        return Err(ServiceError::Validation(vec![
            FieldError::new("unit_id", "unit_too_small")
                .with("capacity", unit.capacity)
                .with("team_size", r.team_size),
        ]));
    }
    Ok(())
}

/// An agreement may end only strictly inside its interval.
fn check_end(a: &space_agreement::Model, at: DateTime<Utc>) -> Result<()> {
    if at <= a.start_at {
        return Err(ServiceError::Validation(vec![
            FieldError::new("on", "ends_before_start").with("start", shanghai_date(a.start_at)),
        ]));
    }
    if at >= a.end_at {
        return Err(ServiceError::Validation(vec![
            FieldError::new("on", "after_end").with("end", shanghai_date(a.end_at)),
        ]));
    }
    Ok(())
}

/// Ends the active agreement `a` at `at` (guarded: it must still be active).
async fn end_at(
    tx: &DatabaseTransaction,
    a: &space_agreement::Model,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<space_agreement::Model> {
    bookings::end_agreement(tx, a.id, at, now)
        .await?
        .ok_or(conflict(ErrorCode::NotActive, "status"))
}
