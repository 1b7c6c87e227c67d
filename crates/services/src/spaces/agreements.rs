//! Workspace allocation: an enterprise (or a young founder, outside OPC
//! communities) requests space sized to its team and waits in its site's
//! queue for that unit kind; the operator offers a unit, which holds the
//! unit from then on; the holder accepts (an agreement) or declines. The
//! growth path desk → office → floor is [`Services::move_agreement`]: one
//! transaction ends the old agreement at the instant the next one starts.
//!
//! Waitlists are served in order: a unit may only be offered to the earliest
//! waiting request of its site and kind whose team fits it.

use super::hold::{Claim, Guard};
use super::inventory::{UNIT_KINDS, growth_rank, premises};
use super::{
    ScopeParts, day_start, in_range, one_of, parameter_on, refuse, required_date, scope_condition,
    shanghai_date,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, allocation_scope, authorize, authorize_either};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::District;
use opcity_store::bookings;
use opcity_store::entity::{
    community, enterprise, person, space_agreement, space_request, space_unit,
};
use opcity_store::intervals::{Holdings, lock_key};
use opcity_store::sea_orm::sea_query::Query;
use opcity_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::BTreeMap;

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
}

fn request_view(r: &space_request::Model, position: Option<i64>) -> RequestView {
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
        position,
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

fn waiting_queue(
    community_id: Option<i64>,
    district: &str,
    kind: &str,
) -> opcity_store::sea_orm::Select<space_request::Entity> {
    let q = space_request::Entity::find()
        .filter(space_request::Column::Status.eq("waiting"))
        .filter(space_request::Column::Kind.eq(kind))
        .filter(space_request::Column::District.eq(district));
    let q = match community_id {
        Some(c) => q.filter(space_request::Column::CommunityId.eq(c)),
        None => q.filter(space_request::Column::CommunityId.is_null()),
    };
    q.order_by_asc(space_request::Column::RequestedAt)
        .order_by_asc(space_request::Column::Id)
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
        let now = self.now();
        let db = self.store().db();
        let mut c = Checker::default();
        let kind = one_of(&mut c, "kind", &input.kind, &UNIT_KINDS);
        in_range(&mut c, "team_size", i64::from(input.team_size), 1, 1_000);
        in_range(&mut c, "months", i64::from(input.months), 1, 120);
        let wanted_from = required_date(&mut c, "wanted_from", &input.wanted_from);
        let note = c
            .optional_text("note", input.note.as_deref(), 1_000)
            .unwrap_or_default();
        let (programme, district) = match input.community_id {
            Some(id) => {
                if input.enterprise_id.is_none() {
                    c.push(FieldError::new("enterprise_id", "required"));
                }
                if input.person_id.is_some() {
                    c.push(FieldError::new("person_id", "not_for_communities"));
                }
                let found = community::Entity::find_by_id(id).one(db).await?;
                if found.is_none() {
                    c.push(FieldError::new("community_id", "unknown_community"));
                }
                (
                    OPC_WORKSPACE,
                    found.and_then(|f| f.district.parse::<District>().ok()),
                )
            }
            None => {
                if input.person_id.is_none() {
                    c.push(FieldError::new("person_id", "required"));
                }
                if input.enterprise_id.is_some() {
                    c.push(FieldError::new("enterprise_id", "only_in_communities"));
                }
                (
                    YOUNG_TALENT,
                    c.district("district", input.district.as_deref().unwrap_or("")),
                )
            }
        };
        if let Some(e) = input.enterprise_id
            && enterprise::Entity::find_by_id(e).one(db).await?.is_none()
        {
            c.push(FieldError::new("enterprise_id", "unknown_enterprise"));
        }
        if let Some(p) = input.person_id
            && person::Entity::find_by_id(p).one(db).await?.is_none()
        {
            c.push(FieldError::new("person_id", "unknown_person"));
        }
        c.finish()?;
        let district = district.expect("checked");
        authorize(
            actor,
            Action::Create,
            Resource::Holding {
                enterprise_id: input.enterprise_id,
                person_id: input.person_id,
                district: Some(district),
            },
        )?;
        let tx = self.store().begin().await?;
        let holder = match (input.enterprise_id, input.person_id) {
            (Some(e), _) => format!("enterprise:{e}"),
            (_, p) => format!("person:{}", p.unwrap_or_default()),
        };
        lock_key(&tx, &format!("space_request:{holder}")).await?;
        let mut already = waiting_queue(input.community_id, district.id(), &kind);
        already = match (input.enterprise_id, input.person_id) {
            (Some(e), _) => already.filter(space_request::Column::EnterpriseId.eq(e)),
            (_, p) => already.filter(space_request::Column::PersonId.eq(p)),
        };
        if already.one(&tx).await?.is_some() {
            return Err(conflict(ErrorCode::AlreadyWaiting, "kind"));
        }
        let request = bookings::NewRequest {
            community_id: input.community_id,
            district: district.id().to_owned(),
            kind,
            programme: programme.to_owned(),
            enterprise_id: input.enterprise_id,
            person_id: input.person_id,
            team_size: input.team_size,
            wanted_from: wanted_from.expect("checked"),
            months: input.months,
            note,
            requested_by: actor.account_id,
            at: now,
        };
        let saved = bookings::insert_request(&tx, request).await?;
        let position = self.position_in(&tx, &saved).await?;
        let view = request_view(&saved, position);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "space_request.create",
            saved.id,
            None,
            Some(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn position_in<C: ConnectionTrait>(
        &self,
        db: &C,
        r: &space_request::Model,
    ) -> Result<Option<i64>> {
        if r.status != "waiting" {
            return Ok(None);
        }
        let queue = waiting_queue(r.community_id, &r.district, &r.kind)
            .all(db)
            .await?;
        Ok(queue
            .iter()
            .position(|q| q.id == r.id)
            .map(|p| p as i64 + 1))
    }

    /// Requests the actor may see, oldest first, with waitlist positions.
    pub async fn list_space_requests(
        &self,
        actor: &Actor,
        filter: &AllocationFilter,
    ) -> Result<Vec<RequestView>> {
        let Some(visible) = scope_condition(
            &allocation_scope(actor),
            &ScopeParts {
                enterprises: &|ids| space_request::Column::EnterpriseId.is_in(ids),
                person: Some(&|p| space_request::Column::PersonId.eq(p)),
                manager: None,
                communities: &|ids| space_request::Column::CommunityId.is_in(ids),
                district: &|d| space_request::Column::District.eq(d),
            },
        ) else {
            return Ok(Vec::new());
        };
        let mut q = space_request::Entity::find().filter(visible);
        if let Some(c) = filter.community_id {
            q = q.filter(space_request::Column::CommunityId.eq(c));
        }
        if let Some(d) = filter.district {
            q = q.filter(space_request::Column::District.eq(d.id()));
        }
        if let Some(k) = &filter.kind {
            q = q.filter(space_request::Column::Kind.eq(k.as_str()));
        }
        if let Some(s) = &filter.status {
            q = q.filter(space_request::Column::Status.eq(s.as_str()));
        }
        let db = self.store().db();
        let rows = q
            .order_by_asc(space_request::Column::RequestedAt)
            .order_by_asc(space_request::Column::Id)
            .limit(500)
            .all(db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(request_view(r, self.position_in(db, r).await?));
        }
        Ok(out)
    }

    /// The holder withdraws a waiting request.
    pub async fn withdraw_space_request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let r = space_request::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "request" })?;
        authorize_either(
            actor,
            (Action::Update, holding_of(&r)),
            (Action::Update, premises(r.community_id, &r.district)),
        )?;
        if r.status != "waiting" {
            return Err(conflict(ErrorCode::RequestNotWaiting, "status"));
        }
        let before = request_view(&r, None);
        let saved = bookings::move_request(&tx, id, &["waiting"], "withdrawn", now)
            .await?
            .ok_or(conflict(ErrorCode::RequestNotWaiting, "status"))?;
        let after = request_view(&saved, None);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "space_request.withdraw",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The operator offers a unit to a waiting request; the offer holds the
    /// unit over `[start, end)` until it is accepted, declined or withdrawn.
    pub async fn offer_space(&self, actor: &Actor, input: &OfferInput) -> Result<AgreementView> {
        let now = self.now();
        let mut c = Checker::default();
        let dates = interval(&mut c, "start", &input.start, &input.end);
        if let Some(rent) = input.monthly_rent_fen {
            in_range(&mut c, "monthly_rent_fen", rent, 0, 100_000_000_000);
        }
        c.finish()?;
        let (start, end) = dates.expect("checked");
        self.guarded(async |tx, guard| {
            let r = space_request::Entity::find_by_id(input.request_id)
                .one(tx)
                .await?
                .ok_or(ServiceError::NotFound { entity: "request" })?;
            let unit = load_unit(tx, input.unit_id).await?;
            authorize(
                actor,
                Action::Update,
                premises(unit.community_id, &unit.district),
            )?;
            // One offer at a time per queue, so the order check below sees
            // every earlier offer (PostgreSQL; SQLite writers are serial).
            let site = r
                .community_id
                .map_or_else(|| r.district.clone(), |c| c.to_string());
            lock_key(tx, &format!("space_queue:{site}:{}", r.kind)).await?;
            let r = space_request::Entity::find_by_id(r.id)
                .one(tx)
                .await?
                .ok_or(ServiceError::NotFound { entity: "request" })?;
            if r.status != "waiting" {
                return Err(conflict(ErrorCode::RequestNotWaiting, "request_id"));
            }
            check_unit_fits(&unit, &r)?;
            // Served in order: nobody earlier in this queue fits the unit.
            let queue = waiting_queue(r.community_id, &r.district, &r.kind)
                .all(tx)
                .await?;
            if queue
                .iter()
                .take_while(|q| q.id != r.id)
                .any(|q| q.team_size <= unit.capacity)
            {
                return Err(conflict(ErrorCode::WaitlistOrder, "request_id"));
            }
            let rent = input.monthly_rent_fen.unwrap_or(unit.discounted_rent_fen);
            if rent > unit.list_rent_fen {
                return Err(refuse("monthly_rent_fen", "above_list_rent"));
            }
            let new = NewAgreement {
                unit: &unit,
                request_id: Some(r.id),
                programme: &r.programme,
                enterprise_id: r.enterprise_id,
                person_id: r.person_id,
                start,
                end,
                rent,
                status: "offered",
                previous_id: None,
            };
            let view = self
                .insert_agreement(tx, guard, now, actor, new, "space_agreement.offer")
                .await?;
            let before = request_view(&r, None);
            let saved = bookings::move_request(tx, r.id, &["waiting"], "offered", now)
                .await?
                .ok_or(conflict(ErrorCode::RequestNotWaiting, "request_id"))?;
            record_change(
                tx,
                now,
                &actor.audit_label(),
                "space_request.offer",
                saved.id,
                Some(&before),
                Some(&request_view(&saved, None)),
            )
            .await?;
            Ok(view)
        })
        .await
    }

    /// Offers a unit to the earliest waiting request of its site and kind
    /// whose team fits it.
    pub async fn serve_waitlist(&self, actor: &Actor, input: &ServeInput) -> Result<AgreementView> {
        let db = self.store().db();
        let unit = load_unit(db, input.unit_id).await?;
        authorize(
            actor,
            Action::Update,
            premises(unit.community_id, &unit.district),
        )?;
        let queue = waiting_queue(unit.community_id, &unit.district, &unit.kind)
            .all(db)
            .await?;
        let next = queue
            .iter()
            .find(|q| q.team_size <= unit.capacity)
            .ok_or(conflict(ErrorCode::WaitlistEmpty, "unit_id"))?;
        self.offer_space(
            actor,
            &OfferInput {
                request_id: next.id,
                unit_id: unit.id,
                start: input.start.clone(),
                end: input.end.clone(),
                monthly_rent_fen: input.monthly_rent_fen,
            },
        )
        .await
    }

    /// The holder accepts an offer: it becomes the agreement.
    pub async fn accept_space_offer(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        self.respond_to_offer(actor, id, "active", "fulfilled", "space_agreement.accept")
            .await
    }

    /// The holder declines an offer: the unit is free again and the request
    /// waits again in its place.
    pub async fn decline_offer(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        self.respond_to_offer(actor, id, "declined", "waiting", "space_agreement.decline")
            .await
    }

    /// The operator withdraws an offer not yet accepted.
    pub async fn withdraw_offer(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        self.respond_to_offer(
            actor,
            id,
            "withdrawn",
            "waiting",
            "space_agreement.withdraw",
        )
        .await
    }

    async fn respond_to_offer(
        &self,
        actor: &Actor,
        id: i64,
        status: &'static str,
        request_status: &'static str,
        action: &'static str,
    ) -> Result<AgreementView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let a = lock_agreement(&tx, id).await?;
        let unit = load_unit(&tx, a.unit_id).await?;
        let manage = (Action::Update, premises(unit.community_id, &unit.district));
        match status {
            "withdrawn" => authorize(actor, manage.0, manage.1)?,
            _ => authorize(actor, Action::Update, agreement_holding(&a, &unit))?,
        }
        if a.status != "offered" {
            return Err(conflict(ErrorCode::NotOffered, "status"));
        }
        let before = agreement_view(&a, &unit);
        let request_id = a.request_id;
        let saved = bookings::answer_offer(&tx, id, status, now)
            .await?
            .ok_or(conflict(ErrorCode::NotOffered, "status"))?;
        let after = agreement_view(&saved, &unit);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            action,
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        if let Some(rid) = request_id
            && let Some(r) = space_request::Entity::find_by_id(rid).one(&tx).await?
        {
            let rb = request_view(&r, None);
            let rs = bookings::follow_offer(&tx, r, request_status, now).await?;
            record_change(
                &tx,
                now,
                &actor.audit_label(),
                "space_request.update",
                rid,
                Some(&rb),
                Some(&request_view(&rs, None)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Ends an agreement early: it holds the unit until the start of `on`.
    pub async fn end_agreement(
        &self,
        actor: &Actor,
        id: i64,
        input: &EndInput,
    ) -> Result<AgreementView> {
        let now = self.now();
        let mut c = Checker::default();
        let on = required_date(&mut c, "on", &input.on);
        c.finish()?;
        let at = day_start(on.expect("checked"));
        let tx = self.store().begin().await?;
        let a = lock_agreement(&tx, id).await?;
        let unit = load_unit(&tx, a.unit_id).await?;
        authorize(
            actor,
            Action::Update,
            premises(unit.community_id, &unit.district),
        )?;
        if a.status != "active" {
            return Err(conflict(ErrorCode::NotActive, "status"));
        }
        check_end(&a, at)?;
        let before = agreement_view(&a, &unit);
        let saved = end_at(&tx, &a, at, now).await?;
        let after = agreement_view(&saved, &unit);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "space_agreement.end",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The growth path: the active agreement `id` ends at the start of `on`
    /// and an agreement for `unit_id` (the same or a larger kind, at the same
    /// site) starts at that same instant, in one transaction: no gap, no
    /// overlap, and nothing changes if either part is refused.
    pub async fn move_agreement(
        &self,
        actor: &Actor,
        id: i64,
        input: &MoveInput,
    ) -> Result<AgreementView> {
        let now = self.now();
        let mut c = Checker::default();
        let dates = interval(&mut c, "on", &input.on, &input.end);
        if let Some(rent) = input.monthly_rent_fen {
            in_range(&mut c, "monthly_rent_fen", rent, 0, 100_000_000_000);
        }
        c.finish()?;
        let (at, end) = dates.expect("checked");
        self.guarded(async |tx, guard| {
            let old = lock_agreement(tx, id).await?;
            let old_unit = load_unit(tx, old.unit_id).await?;
            let unit = load_unit(tx, input.unit_id).await?;
            authorize(
                actor,
                Action::Update,
                premises(old_unit.community_id, &old_unit.district),
            )?;
            authorize(
                actor,
                Action::Update,
                premises(unit.community_id, &unit.district),
            )?;
            if old.status != "active" {
                return Err(conflict(ErrorCode::NotActive, "status"));
            }
            check_end(&old, at)?;
            if unit.id == old_unit.id {
                return Err(refuse("unit_id", "same_unit"));
            }
            if !unit.active {
                return Err(refuse("unit_id", "unit_inactive"));
            }
            if unit.community_id != old_unit.community_id || unit.district != old_unit.district {
                return Err(refuse("unit_id", "unit_elsewhere"));
            }
            if growth_rank(&unit.kind) < growth_rank(&old_unit.kind) {
                return Err(ServiceError::Validation(vec![
                    FieldError::new("unit_id", "not_a_growth_step")
                        .with("from", &old_unit.kind)
                        .with("to", &unit.kind),
                ]));
            }
            let rent = input.monthly_rent_fen.unwrap_or(unit.discounted_rent_fen);
            if rent > unit.list_rent_fen {
                return Err(refuse("monthly_rent_fen", "above_list_rent"));
            }
            let before = agreement_view(&old, &old_unit);
            let (programme, enterprise_id, person_id, request_id) = (
                old.programme.clone(),
                old.enterprise_id,
                old.person_id,
                old.request_id,
            );
            let ended = end_at(tx, &old, at, now).await?;
            record_change(
                tx,
                now,
                &actor.audit_label(),
                "space_agreement.end",
                id,
                Some(&before),
                Some(&agreement_view(&ended, &old_unit)),
            )
            .await?;
            let new = NewAgreement {
                unit: &unit,
                request_id,
                programme: &programme,
                enterprise_id,
                person_id,
                start: at,
                end,
                rent,
                status: "active",
                previous_id: Some(id),
            };
            self.insert_agreement(tx, guard, now, actor, new, "space_agreement.move")
                .await
        })
        .await
    }

    /// Writes an offer or agreement after the young-talent ceiling and the
    /// overlap checks.
    async fn insert_agreement(
        &self,
        tx: &DatabaseTransaction,
        guard: &Guard,
        now: DateTime<Utc>,
        actor: &Actor,
        new: NewAgreement<'_>,
        action: &str,
    ) -> Result<AgreementView> {
        if new.programme == YOUNG_TALENT
            && let Some(person_id) = new.person_id
        {
            self.check_area_ceiling(tx, person_id, new.unit, new.start, new.end)
                .await?;
        }
        guard
            .check(
                tx,
                Claim {
                    kind: Holdings::SpaceAgreements,
                    resource_id: new.unit.id,
                    start: new.start,
                    end: new.end,
                    except: None,
                    code: UNIT_TAKEN,
                    field: "unit_id",
                },
            )
            .await?;
        let row = bookings::NewAgreement {
            unit_id: new.unit.id,
            request_id: new.request_id,
            programme: new.programme.to_owned(),
            enterprise_id: new.enterprise_id,
            person_id: new.person_id,
            start: new.start,
            end: new.end,
            list_rent_fen: new.unit.list_rent_fen,
            monthly_rent_fen: new.rent,
            status: new.status,
            previous_id: new.previous_id,
            at: now,
        };
        let saved = bookings::insert_agreement(tx, row).await?;
        let view = agreement_view(&saved, new.unit);
        record_change(
            tx,
            now,
            &actor.audit_label(),
            action,
            saved.id,
            None,
            Some(&view),
        )
        .await?;
        Ok(view)
    }

    /// Young talent outside communities holds at most the pack's ceiling
    /// (50 m²) at any time: the units they hold over `[start, end)` plus
    /// this one. The person's allocations are locked for the check.
    async fn check_area_ceiling(
        &self,
        tx: &DatabaseTransaction,
        person_id: i64,
        unit: &space_unit::Model,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<()> {
        lock_key(tx, &format!("space_area:person:{person_id}")).await?;
        let max = parameter_on(self, YOUNG_TALENT_MAX_AREA, shanghai_date(start))?;
        let held = space_agreement::Entity::find()
            .filter(space_agreement::Column::PersonId.eq(person_id))
            .filter(space_agreement::Column::Programme.eq(YOUNG_TALENT))
            .filter(space_agreement::Column::Status.is_in(["offered", "active"]))
            .filter(space_agreement::Column::StartAt.lt(end))
            .filter(space_agreement::Column::EndAt.gt(start))
            .all(tx)
            .await?;
        let ids: Vec<i64> = held.iter().map(|a| a.unit_id).collect();
        let held_area: i64 = space_unit::Entity::find()
            .filter(space_unit::Column::Id.is_in(ids))
            .all(tx)
            .await?
            .iter()
            .map(|u| u.area_m2)
            .sum();
        if held_area + unit.area_m2 > max {
            return Err(ServiceError::Validation(vec![
                FieldError::new("unit_id", "over_area_ceiling")
                    .with("max", max)
                    .with("held", held_area)
                    .with("asked", unit.area_m2),
            ]));
        }
        Ok(())
    }

    pub async fn get_agreement(&self, actor: &Actor, id: i64) -> Result<AgreementView> {
        let db = self.store().db();
        let a = load_agreement(db, id).await?;
        let unit = load_unit(db, a.unit_id).await?;
        authorize_either(
            actor,
            (Action::Read, agreement_holding(&a, &unit)),
            (Action::Update, premises(unit.community_id, &unit.district)),
        )?;
        Ok(agreement_view(&a, &unit))
    }

    /// Agreements and offers the actor may see, by start.
    pub async fn list_agreements(
        &self,
        actor: &Actor,
        filter: &AllocationFilter,
    ) -> Result<Vec<AgreementView>> {
        let units_where = |cond: Condition| {
            space_agreement::Column::UnitId.in_subquery(
                Query::select()
                    .column(space_unit::Column::Id)
                    .from(space_unit::Entity)
                    .cond_where(cond)
                    .take(),
            )
        };
        let Some(visible) = scope_condition(
            &allocation_scope(actor),
            &ScopeParts {
                enterprises: &|ids| space_agreement::Column::EnterpriseId.is_in(ids),
                person: Some(&|p| space_agreement::Column::PersonId.eq(p)),
                manager: None,
                communities: &|ids| {
                    units_where(Condition::all().add(space_unit::Column::CommunityId.is_in(ids)))
                },
                district: &|d| {
                    units_where(Condition::all().add(space_unit::Column::District.eq(d)))
                },
            },
        ) else {
            return Ok(Vec::new());
        };
        let mut q = space_agreement::Entity::find().filter(visible);
        let mut site = Condition::all();
        if let Some(c) = filter.community_id {
            site = site.add(space_unit::Column::CommunityId.eq(c));
        }
        if let Some(d) = filter.district {
            site = site.add(space_unit::Column::District.eq(d.id()));
        }
        if let Some(k) = &filter.kind {
            site = site.add(space_unit::Column::Kind.eq(k.as_str()));
        }
        if !site.is_empty() {
            q = q.filter(units_where(site));
        }
        if let Some(s) = &filter.status {
            q = q.filter(space_agreement::Column::Status.eq(s.as_str()));
        }
        let db = self.store().db();
        let rows = q
            .order_by_asc(space_agreement::Column::StartAt)
            .order_by_asc(space_agreement::Column::Id)
            .limit(500)
            .all(db)
            .await?;
        let units: BTreeMap<i64, space_unit::Model> = space_unit::Entity::find()
            .filter(space_unit::Column::Id.is_in(rows.iter().map(|a| a.unit_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(rows
            .iter()
            .filter_map(|a| units.get(&a.unit_id).map(|u| agreement_view(a, u)))
            .collect())
    }
}

/// What [`Services::insert_agreement`] writes.
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
}

/// Whether a unit suits a request: offered, at the request's site, of its
/// kind, seating its team.
fn check_unit_fits(unit: &space_unit::Model, r: &space_request::Model) -> Result<()> {
    if !unit.active {
        return Err(refuse("unit_id", "unit_inactive"));
    }
    if unit.community_id != r.community_id || unit.district != r.district {
        return Err(refuse("unit_id", "unit_elsewhere"));
    }
    if unit.kind != r.kind {
        return Err(ServiceError::Validation(vec![
            FieldError::new("unit_id", "unit_kind_mismatch")
                .with("wanted", &r.kind)
                .with("offered", &unit.kind),
        ]));
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
