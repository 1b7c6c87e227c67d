//! Transitional housing (measure 4): beds, rooms and apartments with a
//! market reference rent, leased to young founders for at most the pack's
//! limit in months (36) at the pack's share of that rent (60%), both read
//! from the pack in force on the lease's start date. Transitional housing and
//! the housing subsidy exclude each other: an allocation is refused when the
//! person (or the named enterprise) has a housing-subsidy grant, and records
//! the transitional-housing grant it makes.

use super::agreements::EndInput;
use super::hold::Claim;
use super::inventory::premises;
use super::{
    ScopeParts, add_months, day_start, in_range, months_between_ceil, one_of, parameter_on, refuse,
    required_date, scope_condition, shanghai_date,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, allocation_scope, authorize, authorize_either};
use crate::error::{FieldError, Result, ServiceError};
use crate::grants::{NewGrant, Subject, TRANSITIONAL_HOUSING, grants_for};
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::District;
use opcity_store::bookings;
use opcity_store::entity::{community, enterprise, housing_lease, housing_unit, person};
use opcity_store::intervals::Holdings;
use opcity_store::sea_orm::sea_query::Query;
use opcity_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use opcity_store::spaces::{HousingUnitFields, save_housing_unit};
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
}

impl From<&housing_unit::Model> for HousingUnitView {
    fn from(u: &housing_unit::Model) -> Self {
        HousingUnitView {
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
    pub async fn create_housing_unit(
        &self,
        actor: &Actor,
        input: &HousingUnitInput,
    ) -> Result<HousingUnitView> {
        self.save_housing_unit(actor, None, input).await
    }

    pub async fn update_housing_unit(
        &self,
        actor: &Actor,
        id: i64,
        input: &HousingUnitInput,
    ) -> Result<HousingUnitView> {
        self.save_housing_unit(actor, Some(id), input).await
    }

    async fn save_housing_unit(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: &HousingUnitInput,
    ) -> Result<HousingUnitView> {
        let now = self.now();
        let db = self.store().db();
        let mut c = Checker::default();
        let mut district = c.district("district", &input.district);
        if let Some(cid) = input.community_id {
            match community::Entity::find_by_id(cid).one(db).await? {
                Some(found) => district = found.district.parse().ok(),
                None => c.push(FieldError::new("community_id", "unknown_community")),
            }
        }
        let address = c.required_text("address", &input.address, 300);
        let code = c.required_text("code", &input.code, 50);
        let kind = one_of(&mut c, "kind", &input.kind, &HOUSING_KINDS);
        in_range(&mut c, "area_m2", input.area_m2, 1, 10_000);
        in_range(
            &mut c,
            "market_rent_fen",
            input.market_rent_fen,
            1,
            100_000_000_000,
        );
        c.finish()?;
        let district = district.expect("checked");
        let target = Resource::Premises {
            community_id: input.community_id,
            district,
        };
        let tx = self.store().begin().await?;
        let before = match id {
            None => {
                authorize(actor, Action::Create, target)?;
                None
            }
            Some(id) => {
                let existing = load_unit(&tx, id).await?;
                authorize(actor, Action::Update, unit_resource(&existing))?;
                authorize(actor, Action::Update, target)?;
                Some(HousingUnitView::from(&existing))
            }
        };
        let fields = HousingUnitFields {
            district: district.id().to_owned(),
            community_id: input.community_id,
            address,
            code,
            kind,
            area_m2: input.area_m2,
            market_rent_fen: input.market_rent_fen,
            active: input.active.unwrap_or(true),
        };
        let saved = save_housing_unit(&tx, id, fields, now)
            .await
            .map_err(|e| match e {
                opcity_store::StoreError::Unique(_) => {
                    conflict(ErrorCode::HousingCodeTaken, "code")
                }
                other => other.into(),
            })?;
        let view = HousingUnitView::from(&saved);
        let action = if before.is_some() {
            "housing_unit.update"
        } else {
            "housing_unit.create"
        };
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            action,
            saved.id,
            before.as_ref(),
            Some(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Housing units the actor may see (every signed-in role sees the stock).
    pub async fn list_housing_units(
        &self,
        actor: &Actor,
        district: Option<District>,
        community_id: Option<i64>,
    ) -> Result<Vec<HousingUnitView>> {
        let mut q = housing_unit::Entity::find();
        if let Some(d) = district {
            q = q.filter(housing_unit::Column::District.eq(d.id()));
        }
        if let Some(c) = community_id {
            q = q.filter(housing_unit::Column::CommunityId.eq(c));
        }
        let rows = q
            .order_by_asc(housing_unit::Column::District)
            .order_by_asc(housing_unit::Column::Code)
            .limit(1_000)
            .all(self.store().db())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for u in &rows {
            if authorize(actor, Action::Read, unit_resource(u)).is_ok() {
                out.push(HousingUnitView::from(u));
            }
        }
        Ok(out)
    }

    /// Allocates a housing unit to a young founder: a lease reserved from
    /// `start` for `months`, at the pack's share of the market rent; refused
    /// when the person's leases would exceed the pack's limit or when a
    /// housing-subsidy grant excludes it. Records the transitional-housing
    /// grant (or extends it, for a later lease of the same person).
    pub async fn allocate_housing(&self, actor: &Actor, input: &LeaseInput) -> Result<LeaseView> {
        let now = self.now();
        let db = self.store().db();
        let mut c = Checker::default();
        let start = required_date(&mut c, "start", &input.start);
        in_range(&mut c, "months", i64::from(input.months), 1, 1_200);
        if person::Entity::find_by_id(input.person_id)
            .one(db)
            .await?
            .is_none()
        {
            c.push(FieldError::new("person_id", "unknown_person"));
        }
        if let Some(e) = input.enterprise_id
            && enterprise::Entity::find_by_id(e).one(db).await?.is_none()
        {
            c.push(FieldError::new("enterprise_id", "unknown_enterprise"));
        }
        c.finish()?;
        let start = start.expect("checked");
        let unit = load_unit(db, input.housing_unit_id).await?;
        authorize(actor, Action::Update, unit_resource(&unit))?;
        if !unit.active {
            return Err(refuse("housing_unit_id", "unit_inactive"));
        }
        let max = parameter_on(self, MAX_MONTHS, start)?;
        let percent = parameter_on(self, RENT_PERCENT, start)?;
        let months = i64::from(input.months);
        if months > max {
            return Err(lease_too_long(max, 0, months));
        }
        let end = add_months(start, input.months as u32).ok_or(refuse("months", "out_of_range"))?;
        let (start_at, end_at) = (day_start(start), day_start(end));
        self.guarded(async |tx, guard| {
            // Locks the person's grants: the exclusion and the limit are
            // judged with no other allocation or grant in between.
            let person = Subject::Person(input.person_id);
            opcity_store::grants::lock_subject(tx, &person.to_string()).await?;
            self.check_housing_exclusion(tx, person, input.enterprise_id)
                .await?;
            let used = self.months_used(tx, input.person_id, None).await?;
            if used + months > max {
                return Err(lease_too_long(max, used, months));
            }
            guard
                .check(
                    tx,
                    Claim {
                        kind: Holdings::HousingLeases,
                        resource_id: unit.id,
                        start: start_at,
                        end: end_at,
                        except: None,
                        code: HOUSING_TAKEN,
                        field: "housing_unit_id",
                    },
                )
                .await?;
            let lease = bookings::NewLease {
                housing_unit_id: unit.id,
                person_id: input.person_id,
                enterprise_id: input.enterprise_id,
                start: start_at,
                end: end_at,
                months: input.months,
                market_rent_fen: unit.market_rent_fen,
                rent_percent: percent as i32,
                monthly_rent_fen: programme_rent(unit.market_rent_fen, percent),
                at: now,
            };
            let saved = bookings::insert_lease(tx, lease).await?;
            let view = lease_view(&saved, &unit);
            record_change(
                tx,
                now,
                &actor.audit_label(),
                "housing_lease.create",
                saved.id,
                None,
                Some(&view),
            )
            .await?;
            self.sync_housing_grant(tx, now, actor, input.person_id, saved.id)
                .await?;
            Ok(view)
        })
        .await
    }

    /// Refuses housing to a person (or the named enterprise) holding a
    /// grant that excludes it: the housing subsidy.
    async fn check_housing_exclusion(
        &self,
        tx: &DatabaseTransaction,
        person: Subject,
        enterprise_id: Option<i64>,
    ) -> Result<()> {
        let mut subjects = vec![person];
        subjects.extend(enterprise_id.map(Subject::Enterprise));
        for subject in subjects {
            if let Some(refusal) = self
                .refusal_by_grants(tx, subject, TRANSITIONAL_HOUSING)
                .await?
                && refusal.code == "excluded_by_grant"
            {
                return Err(ServiceError::Validation(vec![refusal]));
            }
        }
        Ok(())
    }

    /// Months of transitional housing the person has had or booked, over
    /// every lease that was not cancelled (leaving `except` out).
    async fn months_used<C: ConnectionTrait>(
        &self,
        db: &C,
        person_id: i64,
        except: Option<i64>,
    ) -> Result<i64> {
        let leases = housing_lease::Entity::find()
            .filter(housing_lease::Column::PersonId.eq(person_id))
            .filter(housing_lease::Column::Status.ne("cancelled"))
            .all(db)
            .await?;
        Ok(leases
            .iter()
            .filter(|l| Some(l.id) != except)
            .map(|l| i64::from(l.months))
            .sum())
    }

    /// Keeps the person's transitional-housing grant covering their leases:
    /// from the first lease's first day to the last lease's last day.
    async fn sync_housing_grant(
        &self,
        tx: &DatabaseTransaction,
        now: DateTime<Utc>,
        actor: &Actor,
        person_id: i64,
        lease_id: i64,
    ) -> Result<()> {
        let leases = housing_lease::Entity::find()
            .filter(housing_lease::Column::PersonId.eq(person_id))
            .filter(housing_lease::Column::Status.ne("cancelled"))
            .all(tx)
            .await?;
        let (Some(first), Some(last)) = (
            leases.iter().map(|l| shanghai_date(l.start_at)).min(),
            leases.iter().map(|l| shanghai_date(l.end_at)).max(),
        ) else {
            return Ok(());
        };
        let to = last.pred_opt();
        let subject = Subject::Person(person_id);
        let existing = grants_for(tx, subject)
            .await?
            .into_iter()
            .find(|g| g.programme == TRANSITIONAL_HOUSING);
        match existing {
            Some(grant) => {
                self.set_grant_end(tx, now, &actor.audit_label(), grant, to)
                    .await
            }
            None => self
                .grant_in_tx(
                    tx,
                    now,
                    &actor.audit_label(),
                    NewGrant {
                        subject,
                        programme: TRANSITIONAL_HOUSING,
                        from: first,
                        to,
                        source: &format!("housing_lease:{lease_id}"),
                    },
                )
                .await
                .map(|_| ()),
        }
    }

    /// The tenant has the keys: a reserved lease becomes active.
    pub async fn move_in(&self, actor: &Actor, id: i64) -> Result<LeaseView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let lease = lock_lease(&tx, id).await?;
        let unit = load_unit(&tx, lease.housing_unit_id).await?;
        authorize(actor, Action::Update, unit_resource(&unit))?;
        if lease.status != "reserved" {
            return Err(conflict(ErrorCode::NotReserved, "status"));
        }
        let before = lease_view(&lease, &unit);
        let saved = bookings::move_in(&tx, id, now)
            .await?
            .ok_or(conflict(ErrorCode::NotReserved, "status"))?;
        let after = lease_view(&saved, &unit);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "housing_lease.move_in",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Extends a lease by whole months, within the pack's limit over all the
    /// person's leases and only while the unit is free for the extension.
    pub async fn renew_lease(
        &self,
        actor: &Actor,
        id: i64,
        input: &RenewInput,
    ) -> Result<LeaseView> {
        let now = self.now();
        let mut c = Checker::default();
        in_range(&mut c, "months", i64::from(input.months), 1, 1_200);
        c.finish()?;
        self.guarded(async |tx, guard| {
            let lease = lock_lease(tx, id).await?;
            let unit = load_unit(tx, lease.housing_unit_id).await?;
            authorize(actor, Action::Update, unit_resource(&unit))?;
            if !matches!(lease.status.as_str(), "reserved" | "active") {
                return Err(conflict(ErrorCode::LeaseNotCurrent, "status"));
            }
            let person = Subject::Person(lease.person_id);
            opcity_store::grants::lock_subject(tx, &person.to_string()).await?;
            let start = shanghai_date(lease.start_at);
            let max = parameter_on(self, MAX_MONTHS, start)?;
            let others = self.months_used(tx, lease.person_id, Some(id)).await?;
            let total = i64::from(lease.months) + i64::from(input.months);
            if others + total > max {
                return Err(lease_too_long(
                    max,
                    others + i64::from(lease.months),
                    i64::from(input.months),
                ));
            }
            let end = add_months(start, total as u32).ok_or(refuse("months", "out_of_range"))?;
            let end_at = day_start(end);
            guard
                .check(
                    tx,
                    Claim {
                        kind: Holdings::HousingLeases,
                        resource_id: unit.id,
                        start: lease.start_at,
                        end: end_at,
                        except: Some(id),
                        code: HOUSING_TAKEN,
                        field: "months",
                    },
                )
                .await?;
            let before = lease_view(&lease, &unit);
            let saved = bookings::extend_lease(tx, id, end_at, total as i32, now)
                .await?
                .ok_or(conflict(ErrorCode::LeaseNotCurrent, "status"))?;
            let after = lease_view(&saved, &unit);
            record_change(
                tx,
                now,
                &actor.audit_label(),
                "housing_lease.renew",
                id,
                Some(&before),
                Some(&after),
            )
            .await?;
            self.sync_housing_grant(tx, now, actor, saved.person_id, id)
                .await?;
            Ok(after)
        })
        .await
    }

    /// The tenant leaves: the lease holds the unit until the start of `on`
    /// and counts the months actually begun.
    pub async fn move_out(&self, actor: &Actor, id: i64, input: &EndInput) -> Result<LeaseView> {
        let now = self.now();
        let mut c = Checker::default();
        let on = required_date(&mut c, "on", &input.on);
        c.finish()?;
        let on = on.expect("checked");
        let tx = self.store().begin().await?;
        let lease = lock_lease(&tx, id).await?;
        let unit = load_unit(&tx, lease.housing_unit_id).await?;
        authorize(actor, Action::Update, unit_resource(&unit))?;
        if !matches!(lease.status.as_str(), "reserved" | "active") {
            return Err(conflict(ErrorCode::LeaseNotCurrent, "status"));
        }
        let at = day_start(on);
        if at <= lease.start_at {
            return Err(ServiceError::Validation(vec![
                FieldError::new("on", "ends_before_start")
                    .with("start", shanghai_date(lease.start_at)),
            ]));
        }
        if at > lease.end_at {
            return Err(ServiceError::Validation(vec![
                FieldError::new("on", "after_end").with("end", shanghai_date(lease.end_at)),
            ]));
        }
        let before = lease_view(&lease, &unit);
        let months = months_between_ceil(shanghai_date(lease.start_at), on).max(1);
        let person_id = lease.person_id;
        let saved = bookings::end_lease(&tx, id, at, months as i32, now)
            .await?
            .ok_or(conflict(ErrorCode::LeaseNotCurrent, "status"))?;
        let after = lease_view(&saved, &unit);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "housing_lease.move_out",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        self.sync_housing_grant(&tx, now, actor, person_id, id)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn get_lease(&self, actor: &Actor, id: i64) -> Result<LeaseView> {
        let db = self.store().db();
        let lease = load_lease(db, id).await?;
        let unit = load_unit(db, lease.housing_unit_id).await?;
        authorize_either(
            actor,
            (Action::Read, lease_holding(&lease, &unit)),
            (Action::Update, unit_resource(&unit)),
        )?;
        Ok(lease_view(&lease, &unit))
    }

    /// Leases the actor may see, by start.
    pub async fn list_leases(&self, actor: &Actor) -> Result<Vec<LeaseView>> {
        let units_where = |cond: Condition| {
            housing_lease::Column::HousingUnitId.in_subquery(
                Query::select()
                    .column(housing_unit::Column::Id)
                    .from(housing_unit::Entity)
                    .cond_where(cond)
                    .take(),
            )
        };
        let Some(visible) = scope_condition(
            &allocation_scope(actor),
            &ScopeParts {
                enterprises: &|ids| housing_lease::Column::EnterpriseId.is_in(ids),
                person: Some(&|p| housing_lease::Column::PersonId.eq(p)),
                manager: None,
                communities: &|ids| {
                    units_where(Condition::all().add(housing_unit::Column::CommunityId.is_in(ids)))
                },
                district: &|d| {
                    units_where(Condition::all().add(housing_unit::Column::District.eq(d)))
                },
            },
        ) else {
            return Ok(Vec::new());
        };
        let q = housing_lease::Entity::find().filter(visible);
        let db = self.store().db();
        let rows = q
            .order_by_asc(housing_lease::Column::StartAt)
            .limit(1_000)
            .all(db)
            .await?;
        let units: BTreeMap<i64, housing_unit::Model> = housing_unit::Entity::find()
            .filter(housing_unit::Column::Id.is_in(rows.iter().map(|l| l.housing_unit_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(rows
            .iter()
            .filter_map(|l| units.get(&l.housing_unit_id).map(|u| lease_view(l, u)))
            .collect())
    }

    /// Which units are occupied on `on`: the units the actor manages (the
    /// view names tenants).
    pub async fn housing_occupancy(
        &self,
        actor: &Actor,
        district: Option<District>,
        community_id: Option<i64>,
        on: NaiveDate,
    ) -> Result<OccupancyView> {
        let db = self.store().db();
        let units: Vec<housing_unit::Model> = {
            let mut q = housing_unit::Entity::find();
            if let Some(d) = district {
                q = q.filter(housing_unit::Column::District.eq(d.id()));
            }
            if let Some(c) = community_id {
                q = q.filter(housing_unit::Column::CommunityId.eq(c));
            }
            q.order_by_asc(housing_unit::Column::Code)
                .limit(1_000)
                .all(db)
                .await?
        }
        .into_iter()
        .filter(|u| authorize(actor, Action::Update, unit_resource(u)).is_ok())
        .collect();
        let (from, to) = (day_start(on), day_start(on.succ_opt().unwrap_or(on)));
        let leases: BTreeMap<i64, housing_lease::Model> = housing_lease::Entity::find()
            .filter(housing_lease::Column::HousingUnitId.is_in(units.iter().map(|u| u.id)))
            .filter(
                housing_lease::Column::Status
                    .is_in(Holdings::HousingLeases.holding_statuses().iter().copied()),
            )
            .filter(housing_lease::Column::StartAt.lt(to))
            .filter(housing_lease::Column::EndAt.gt(from))
            .all(db)
            .await?
            .into_iter()
            .map(|l| (l.housing_unit_id, l))
            .collect();
        let by_kind = HOUSING_KINDS
            .iter()
            .map(|k| OccupancyKind {
                kind: (*k).to_owned(),
                units: units.iter().filter(|u| u.kind == *k).count() as i64,
                occupied: units
                    .iter()
                    .filter(|u| u.kind == *k && leases.contains_key(&u.id))
                    .count() as i64,
            })
            .collect();
        Ok(OccupancyView {
            on,
            units: units
                .iter()
                .map(|u| OccupancyRow {
                    unit: HousingUnitView::from(u),
                    lease: leases.get(&u.id).map(|l| lease_view(l, u)),
                })
                .collect(),
            by_kind,
        })
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
