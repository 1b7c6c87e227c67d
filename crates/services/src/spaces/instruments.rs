//! Shared instruments (measure 9): institutions list GPU servers and lab
//! equipment with slots, opening hours (Asia/Shanghai), a weekly quota per
//! enterprise, approval where required, a cancellation notice period and a
//! no-show grace period after which a booking is released.
//!
//! A booking holds `[start, end)`; pending bookings (awaiting approval) hold
//! their slot too, so approval never finds it double-booked.

use super::hold::Claim;
use super::ical::{Event, calendar};
use super::{
    ScopeParts, day_start, in_range, one_of, refuse, required_instant, scope_condition,
    shanghai_date, shanghai_text,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, allocation_scope, authorize, authorize_either};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use opcity_domain::District;
use opcity_store::bookings;
use opcity_store::entity::{community, enterprise, instrument, instrument_booking};
use opcity_store::intervals::{Holdings, stored_instant};
use opcity_store::sea_orm::sea_query::Query;
use opcity_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use opcity_store::spaces::{InstrumentFields, save_instrument};
use std::collections::BTreeMap;

pub const INSTRUMENT_KINDS: [&str; 3] = ["gpu_server", "lab_equipment", "other"];
const SLOT_TAKEN: ErrorCode = ErrorCode::InstrumentSlotTaken;
/// How early before its start a booking may be checked into.
const CHECK_IN_EARLY_MINUTES: i64 = 30;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstrumentInput {
    pub name: String,
    /// `gpu_server`, `lab_equipment` or `other`.
    pub kind: String,
    /// The institution that lends it (a university lab, a computing centre).
    pub institution: String,
    pub district: String,
    /// The OPC community it stands in, if any.
    pub community_id: Option<i64>,
    /// The account managing it; an institution's own account by default.
    pub manager_account_id: Option<i64>,
    pub description: Option<String>,
    /// Length of one slot, minutes (60 = hourly).
    pub slot_minutes: i32,
    /// Opening and closing time, `HH:MM` Shanghai time (`24:00` = midnight).
    pub opens: String,
    pub closes: String,
    /// ISO weekdays it opens, `1234567` (Monday = 1).
    pub open_days: String,
    /// Hours one enterprise may hold in an ISO week; absent = no quota.
    pub quota_hours_week: Option<i32>,
    pub requires_approval: bool,
    /// Cancelling later than this many hours before the start still counts
    /// against the quota.
    pub cancel_notice_hours: i32,
    /// A booking not checked into this many minutes after its start is released.
    pub no_show_grace_minutes: i32,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct InstrumentView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub institution: String,
    #[schema(value_type = String)]
    pub district: District,
    pub community_id: Option<i64>,
    pub manager_account_id: Option<i64>,
    pub description: String,
    pub slot_minutes: i32,
    pub opens: String,
    pub closes: String,
    pub open_days: String,
    pub quota_hours_week: Option<i32>,
    pub requires_approval: bool,
    pub cancel_notice_hours: i32,
    pub no_show_grace_minutes: i32,
    pub active: bool,
}

fn hhmm(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn parse_hhmm(text: &str) -> Option<i32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl From<&instrument::Model> for InstrumentView {
    fn from(i: &instrument::Model) -> Self {
        InstrumentView {
            id: i.id,
            name: i.name.clone(),
            kind: i.kind.clone(),
            institution: i.institution.clone(),
            district: i.district.parse().expect("district ids are foreign keys"),
            community_id: i.community_id,
            manager_account_id: i.manager_account_id,
            description: i.description.clone(),
            slot_minutes: i.slot_minutes,
            opens: hhmm(i.opens_minute),
            closes: hhmm(i.closes_minute),
            open_days: i.open_days.clone(),
            quota_hours_week: i.quota_hours_week,
            requires_approval: i.requires_approval,
            cancel_notice_hours: i.cancel_notice_hours,
            no_show_grace_minutes: i.no_show_grace_minutes,
            active: i.active,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    pub instrument_id: i64,
    pub enterprise_id: i64,
    /// RFC 3339 (`2026-05-01T09:00:00+08:00`) or Shanghai local `2026-05-01T09:00`.
    pub start: String,
    /// Exclusive end, same forms.
    pub end: String,
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BookingView {
    pub id: i64,
    pub instrument_id: i64,
    pub enterprise_id: i64,
    pub start_at: DateTime<Utc>,
    /// Exclusive.
    pub end_at: DateTime<Utc>,
    /// Shanghai local times, `2026-05-01 09:00`.
    pub start_local: String,
    pub end_local: String,
    /// `pending` (awaiting approval), `confirmed`, `checked_in`, `released`
    /// (no-show), `cancelled` or `rejected`.
    pub status: String,
    pub late_cancel: bool,
    pub purpose: String,
}

pub(super) fn booking_view(b: &instrument_booking::Model) -> BookingView {
    BookingView {
        id: b.id,
        instrument_id: b.instrument_id,
        enterprise_id: b.enterprise_id,
        start_at: b.start_at,
        end_at: b.end_at,
        start_local: shanghai_text(b.start_at),
        end_local: shanghai_text(b.end_at),
        status: b.status.clone(),
        late_cancel: b.late_cancel,
        purpose: b.purpose.clone(),
    }
}

/// A booking checked and authorized, as its transaction writes it.
#[derive(Debug, Clone)]
pub(crate) struct NewBooking {
    pub instrument_id: i64,
    pub quota_hours_week: Option<i32>,
    pub requires_approval: bool,
    pub enterprise_id: i64,
    pub booked_by: i64,
    /// The booker's audit label.
    pub actor: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub purpose: String,
    pub at: DateTime<Utc>,
}

impl NewBooking {
    /// The interval it holds: a fresh row, refused by the database on
    /// overlap.
    pub fn claim(&self) -> Claim {
        Claim {
            kind: Holdings::InstrumentBookings,
            resource_id: self.instrument_id,
            start: self.start,
            end: self.end,
            except: None,
            code: SLOT_TAKEN,
            field: "start",
        }
    }

    /// The lock that orders quota decisions of its enterprise on its
    /// instrument.
    pub fn quota_key(&self) -> String {
        format!(
            "quota:instrument:{}:enterprise:{}",
            self.instrument_id, self.enterprise_id
        )
    }

    /// The row the store writes.
    pub fn row(&self) -> bookings::NewBooking {
        bookings::NewBooking {
            instrument_id: self.instrument_id,
            enterprise_id: self.enterprise_id,
            booked_by: self.booked_by,
            start: self.start,
            end: self.end,
            pending: self.requires_approval,
            purpose: self.purpose.clone(),
            at: self.at,
        }
    }
}

/// Inserts `booking`, pending until approved where the instrument requires
/// approval. The database refuses it when it overlaps a holding.
pub(super) async fn insert_booking(
    tx: &DatabaseTransaction,
    booking: &NewBooking,
) -> Result<BookingView> {
    Ok(booking_view(
        &bookings::insert_booking(tx, &booking.row()).await?,
    ))
}

/// Inserts `bookings` with one statement on PostgreSQL, skipping each one
/// that overlaps a holding (`opcity_store::bookings::insert_free_bookings`),
/// and returns the rows inserted.
pub(super) async fn insert_free(
    tx: &DatabaseTransaction,
    new: &[&NewBooking],
) -> Result<Vec<instrument_booking::Model>> {
    let rows: Vec<bookings::NewBooking> = new.iter().map(|b| b.row()).collect();
    let rows: Vec<&bookings::NewBooking> = rows.iter().collect();
    Ok(bookings::insert_free_bookings(tx, &rows).await?)
}

/// One slot of a day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SlotView {
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// Shanghai local time, `09:00`.
    pub label: String,
    pub free: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DayView {
    pub instrument: InstrumentView,
    pub date: NaiveDate,
    pub open: bool,
    pub slots: Vec<SlotView>,
}

fn resource(i: &instrument::Model) -> Resource {
    Resource::Instrument {
        community_id: i.community_id,
        manager: i.manager_account_id,
    }
}

async fn load<C: ConnectionTrait>(db: &C, id: i64) -> Result<instrument::Model> {
    instrument::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound {
            entity: "instrument",
        })
}

async fn load_booking<C: ConnectionTrait>(db: &C, id: i64) -> Result<instrument_booking::Model> {
    instrument_booking::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "booking" })
}

/// A booking about to change, its row locked until the transaction ends
/// (`opcity_store::rows`): a cancellation racing a check-in or a decision
/// reads what the other wrote.
async fn lock_booking(tx: &DatabaseTransaction, id: i64) -> Result<instrument_booking::Model> {
    opcity_store::rows::lock_by_id::<instrument_booking::Entity>(tx, id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "booking" })
}

fn conflict(code: ErrorCode, field: &'static str) -> ServiceError {
    ServiceError::Conflict {
        code,
        field: Some(field),
    }
}

/// Minutes after the Shanghai midnight that begins `date`.
fn minutes_into(date: NaiveDate, at: DateTime<Utc>) -> i64 {
    (at - day_start(date)).num_minutes()
}

/// Whether `[start, end)` lies within one day's opening hours on the slot grid.
fn check_opening(i: &instrument::Model, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<()> {
    let date = shanghai_date(start);
    let (from, to) = (minutes_into(date, start), minutes_into(date, end));
    let weekday = date.weekday().number_from_monday().to_string();
    let open = i.open_days.contains(weekday.as_str())
        && from >= i64::from(i.opens_minute)
        && to <= i64::from(i.closes_minute);
    if !open {
        return Err(ServiceError::Validation(vec![
            FieldError::new("start", "outside_opening_hours")
                .with("opens", hhmm(i.opens_minute))
                .with("closes", hhmm(i.closes_minute))
                .with("days", &i.open_days),
        ]));
    }
    let slot = i64::from(i.slot_minutes);
    if (from - i64::from(i.opens_minute)) % slot != 0 || (to - from) % slot != 0 {
        return Err(ServiceError::Validation(vec![
            FieldError::new("start", "not_on_slot_grid").with("slot_minutes", slot),
        ]));
    }
    Ok(())
}

/// The Monday that begins the ISO week of `date`.
fn week_start(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

impl Services {
    pub async fn create_instrument(
        &self,
        actor: &Actor,
        input: &InstrumentInput,
    ) -> Result<InstrumentView> {
        self.save_instrument(actor, None, input).await
    }

    pub async fn update_instrument(
        &self,
        actor: &Actor,
        id: i64,
        input: &InstrumentInput,
    ) -> Result<InstrumentView> {
        self.save_instrument(actor, Some(id), input).await
    }

    async fn save_instrument(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: &InstrumentInput,
    ) -> Result<InstrumentView> {
        let now = self.now();
        let db = self.store().db();
        let mut c = Checker::default();
        let name = c.required_text("name", &input.name, 200);
        let kind = one_of(&mut c, "kind", &input.kind, &INSTRUMENT_KINDS);
        let institution = c.required_text("institution", &input.institution, 200);
        let mut district = c.district("district", &input.district);
        if let Some(cid) = input.community_id {
            match community::Entity::find_by_id(cid).one(db).await? {
                Some(found) => district = found.district.parse().ok(),
                None => c.push(FieldError::new("community_id", "unknown_community")),
            }
        }
        let description = c
            .optional_text("description", input.description.as_deref(), 2_000)
            .unwrap_or_default();
        in_range(
            &mut c,
            "slot_minutes",
            i64::from(input.slot_minutes),
            5,
            24 * 60,
        );
        let opens = parse_hhmm(&input.opens);
        let closes = parse_hhmm(&input.closes);
        if opens.is_none() {
            c.push(FieldError::new("opens", "invalid_time"));
        }
        if closes.is_none() {
            c.push(FieldError::new("closes", "invalid_time"));
        }
        if let (Some(o), Some(cl)) = (opens, closes)
            && cl <= o
        {
            c.push(FieldError::new("closes", "ends_before_start"));
        }
        let days: String = input.open_days.trim().to_owned();
        let valid_days = !days.is_empty()
            && days.chars().all(|d| ('1'..='7').contains(&d))
            && days
                .chars()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                == days.len();
        if !valid_days {
            c.push(FieldError::new("open_days", "invalid_weekdays"));
        }
        if let Some(q) = input.quota_hours_week {
            in_range(&mut c, "quota_hours_week", i64::from(q), 1, 168);
        }
        in_range(
            &mut c,
            "cancel_notice_hours",
            i64::from(input.cancel_notice_hours),
            0,
            720,
        );
        in_range(
            &mut c,
            "no_show_grace_minutes",
            i64::from(input.no_show_grace_minutes),
            1,
            24 * 60,
        );
        c.finish()?;
        // An institution manages what it lists; administrators may name the manager.
        let manager = match actor.role {
            opcity_domain::Role::ServiceProvider => Some(actor.account_id),
            _ => input.manager_account_id,
        };
        let target = Resource::Instrument {
            community_id: input.community_id,
            manager,
        };
        let site = Resource::InstrumentSite {
            community_id: input.community_id,
        };
        let tx = self.store().begin().await?;
        let before = match id {
            None => {
                authorize(actor, Action::Create, target)?;
                authorize(actor, Action::Create, site)?;
                None
            }
            Some(id) => {
                let existing = load(&tx, id).await?;
                authorize(actor, Action::Update, resource(&existing))?;
                authorize(actor, Action::Update, target)?;
                if existing.community_id != input.community_id {
                    // Moved: sited anew.
                    authorize(actor, Action::Create, site)?;
                }
                Some(InstrumentView::from(&existing))
            }
        };
        let mut days_sorted: Vec<char> = days.chars().collect();
        days_sorted.sort_unstable();
        let fields = InstrumentFields {
            name,
            kind,
            institution,
            district: district.expect("checked").id().to_owned(),
            community_id: input.community_id,
            manager_account_id: manager,
            description,
            slot_minutes: input.slot_minutes,
            opens_minute: opens.expect("checked"),
            closes_minute: closes.expect("checked"),
            open_days: days_sorted.into_iter().collect(),
            quota_hours_week: input.quota_hours_week,
            requires_approval: input.requires_approval,
            cancel_notice_hours: input.cancel_notice_hours,
            no_show_grace_minutes: input.no_show_grace_minutes,
            active: input.active.unwrap_or(true),
        };
        let saved = save_instrument(&tx, id, fields, now)
            .await
            .map_err(|e| match e {
                opcity_store::StoreError::ForeignKey(_) => {
                    ServiceError::invalid("manager_account_id", "unknown_account")
                }
                other => other.into(),
            })?;
        let view = InstrumentView::from(&saved);
        let action = if before.is_some() {
            "instrument.update"
        } else {
            "instrument.create"
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

    /// Instruments open to booking (every signed-in role may look).
    pub async fn list_instruments(&self, actor: &Actor) -> Result<Vec<InstrumentView>> {
        let rows = instrument::Entity::find()
            .order_by_asc(instrument::Column::Id)
            .limit(1_000)
            .all(self.store().db())
            .await?;
        Ok(rows
            .iter()
            .filter(|i| authorize(actor, Action::Read, resource(i)).is_ok())
            .map(InstrumentView::from)
            .collect())
    }

    pub async fn get_instrument(&self, actor: &Actor, id: i64) -> Result<InstrumentView> {
        let i = load(self.store().db(), id).await?;
        authorize(actor, Action::Read, resource(&i))?;
        Ok(InstrumentView::from(&i))
    }

    /// Books `[start, end)` for an enterprise: inside opening hours on the
    /// slot grid, within the weekly quota, on a free interval. Pending until
    /// approved when the instrument requires approval.
    pub async fn book_instrument(
        &self,
        actor: &Actor,
        input: &BookingInput,
    ) -> Result<BookingView> {
        let now = self.now();
        let db = self.store().db();
        let mut c = Checker::default();
        let start = required_instant(&mut c, "start", &input.start);
        let end = required_instant(&mut c, "end", &input.end);
        let purpose = c
            .optional_text("purpose", input.purpose.as_deref(), 500)
            .unwrap_or_default();
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            c.push(FieldError::new("end", "ends_before_start"));
        }
        let firm = enterprise::Entity::find_by_id(input.enterprise_id)
            .one(db)
            .await?;
        if firm.is_none() {
            c.push(FieldError::new("enterprise_id", "unknown_enterprise"));
        }
        c.finish()?;
        let (start, end) = (start.expect("checked"), end.expect("checked"));
        let inst = load(db, input.instrument_id).await?;
        authorize_either(
            actor,
            (
                Action::Create,
                Resource::Holding {
                    enterprise_id: Some(input.enterprise_id),
                    person_id: None,
                    district: firm.and_then(|f| f.district.parse().ok()),
                },
            ),
            (Action::Update, resource(&inst)),
        )?;
        if !inst.active {
            return Err(refuse("instrument_id", "instrument_inactive"));
        }
        if start < stored_instant(now) {
            return Err(refuse("start", "in_the_past"));
        }
        check_opening(&inst, start, end)?;
        let booking = NewBooking {
            requires_approval: inst.requires_approval,
            quota_hours_week: inst.quota_hours_week,
            instrument_id: inst.id,
            enterprise_id: input.enterprise_id,
            booked_by: actor.account_id,
            actor: actor.audit_label(),
            start,
            end,
            purpose,
            at: now,
        };
        self.in_group(booking).await
    }

    /// Refuses `booking` when it would take its enterprise over the
    /// instrument's weekly quota, counting what `tx` sees. The caller holds
    /// the quota's turn (`NewBooking::quota_key`), so two bookings cannot
    /// both fit the last hours.
    pub(super) async fn check_quota(
        &self,
        tx: &DatabaseTransaction,
        booking: &NewBooking,
    ) -> Result<()> {
        let Some(quota) = booking.quota_hours_week else {
            return Ok(());
        };
        let used = self
            .minutes_used(
                tx,
                booking.instrument_id,
                booking.enterprise_id,
                booking.start,
            )
            .await?;
        let asked = (booking.end - booking.start).num_minutes();
        if used + asked > i64::from(quota) * 60 {
            return Err(ServiceError::Validation(vec![
                FieldError::new("end", "over_quota")
                    .with("quota_hours", quota)
                    .with("used_hours", format!("{:.1}", used as f64 / 60.0)),
            ]));
        }
        Ok(())
    }

    /// Minutes the enterprise holds on the instrument in the ISO week of
    /// `at` (Shanghai), late cancellations included.
    async fn minutes_used<C: ConnectionTrait>(
        &self,
        db: &C,
        instrument_id: i64,
        enterprise_id: i64,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let monday = week_start(shanghai_date(at));
        let (from, to) = (day_start(monday), day_start(monday + Duration::days(7)));
        let rows = instrument_booking::Entity::find()
            .filter(instrument_booking::Column::InstrumentId.eq(instrument_id))
            .filter(instrument_booking::Column::EnterpriseId.eq(enterprise_id))
            .filter(instrument_booking::Column::StartAt.gte(from))
            .filter(instrument_booking::Column::StartAt.lt(to))
            .filter(
                Condition::any()
                    .add(
                        instrument_booking::Column::Status.is_in(
                            Holdings::InstrumentBookings
                                .holding_statuses()
                                .iter()
                                .copied(),
                        ),
                    )
                    .add(instrument_booking::Column::LateCancel.eq(true)),
            )
            .all(db)
            .await?;
        Ok(rows
            .iter()
            .map(|b| (b.end_at - b.start_at).num_minutes())
            .sum())
    }

    /// The institution approves or rejects a pending booking.
    pub async fn decide_booking(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
    ) -> Result<BookingView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let b = lock_booking(&tx, id).await?;
        let inst = load(&tx, b.instrument_id).await?;
        authorize(actor, Action::Update, resource(&inst))?;
        if b.status != "pending" {
            return Err(conflict(ErrorCode::NotPending, "status"));
        }
        let before = booking_view(&b);
        let saved = bookings::decide_booking(&tx, id, approve, now)
            .await?
            .ok_or(conflict(ErrorCode::NotPending, "status"))?;
        let after = booking_view(&saved);
        let action = if approve {
            "booking.approve"
        } else {
            "booking.reject"
        };
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
        tx.commit().await?;
        Ok(after)
    }

    /// Cancels a booking before it starts. A holder cancelling inside the
    /// instrument's notice period still has the hours counted against the
    /// quota (`late_cancel`).
    pub async fn cancel_booking(&self, actor: &Actor, id: i64) -> Result<BookingView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let b = lock_booking(&tx, id).await?;
        let inst = load(&tx, b.instrument_id).await?;
        let manages = authorize(actor, Action::Update, resource(&inst)).is_ok();
        if !manages {
            authorize(actor, Action::Update, self.booking_holding(&tx, &b).await?)?;
        }
        if !matches!(b.status.as_str(), "pending" | "confirmed") {
            return Err(conflict(ErrorCode::NotCancellable, "status"));
        }
        if b.start_at <= now {
            return Err(conflict(ErrorCode::AlreadyStarted, "status"));
        }
        let late =
            !manages && b.start_at - now < Duration::hours(i64::from(inst.cancel_notice_hours));
        let before = booking_view(&b);
        let saved = bookings::cancel_booking(&tx, id, late, now)
            .await?
            .ok_or(conflict(ErrorCode::NotCancellable, "status"))?;
        let after = booking_view(&saved);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "booking.cancel",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The holder arrives: from half an hour before the start until the
    /// no-show grace period has passed.
    pub async fn check_in(&self, actor: &Actor, id: i64) -> Result<BookingView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let b = lock_booking(&tx, id).await?;
        let inst = load(&tx, b.instrument_id).await?;
        authorize_either(
            actor,
            (Action::Update, self.booking_holding(&tx, &b).await?),
            (Action::Update, resource(&inst)),
        )?;
        if b.status != "confirmed" {
            return Err(conflict(ErrorCode::NotConfirmed, "status"));
        }
        let opens = b.start_at - Duration::minutes(CHECK_IN_EARLY_MINUTES);
        let closes = b.start_at + Duration::minutes(i64::from(inst.no_show_grace_minutes));
        if now < opens || now >= closes.min(b.end_at) {
            return Err(conflict(ErrorCode::CheckInClosed, "status"));
        }
        let before = booking_view(&b);
        let saved = bookings::check_in_booking(&tx, id, now)
            .await?
            .ok_or(conflict(ErrorCode::NotConfirmed, "status"))?;
        let after = booking_view(&saved);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "booking.check_in",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn booking_holding<C: ConnectionTrait>(
        &self,
        db: &C,
        b: &instrument_booking::Model,
    ) -> Result<Resource> {
        let district = enterprise::Entity::find_by_id(b.enterprise_id)
            .one(db)
            .await?
            .and_then(|e| e.district.parse().ok());
        Ok(Resource::Holding {
            enterprise_id: Some(b.enterprise_id),
            person_id: None,
            district,
        })
    }

    /// The no-show job, run with the current instant: confirmed bookings not
    /// checked into within their grace period are released from `at` on (the
    /// rest of the slot can be booked again), and pending bookings whose
    /// start has passed unapproved are rejected. Returns how many changed.
    pub async fn release_no_shows(&self, at: DateTime<Utc>) -> Result<usize> {
        let at = stored_instant(at);
        let due = instrument_booking::Entity::find()
            .filter(instrument_booking::Column::Status.is_in(["confirmed", "pending"]))
            .filter(instrument_booking::Column::StartAt.lte(at))
            .order_by_asc(instrument_booking::Column::StartAt)
            .limit(1_000)
            .all(self.store().db())
            .await?;
        let instruments: BTreeMap<i64, instrument::Model> = instrument::Entity::find()
            .filter(instrument::Column::Id.is_in(due.iter().map(|b| b.instrument_id)))
            .all(self.store().db())
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        let mut changed = 0;
        for b in due {
            let Some(inst) = instruments.get(&b.instrument_id) else {
                continue;
            };
            let grace_over =
                b.start_at + Duration::minutes(i64::from(inst.no_show_grace_minutes)) <= at;
            if b.status == "confirmed" && !grace_over {
                continue;
            }
            let tx = self.store().begin().await?;
            // Re-read inside the write transaction: a check-in may have won.
            let current = lock_booking(&tx, b.id).await?;
            if current.status != b.status {
                continue;
            }
            let before = booking_view(&current);
            let saved = if b.status == "pending" {
                bookings::expire_booking(&tx, b.id, at).await?
            } else {
                bookings::release_booking(&tx, b.id, b.end_at.min(at)).await?
            };
            // Not reached: the row is locked and its status was just read.
            let Some(saved) = saved else { continue };
            let action = if b.status == "pending" {
                "booking.expire"
            } else {
                "booking.release"
            };
            record_change(
                &tx,
                at,
                "system",
                action,
                b.id,
                Some(&before),
                Some(&booking_view(&saved)),
            )
            .await?;
            tx.commit().await?;
            changed += 1;
        }
        Ok(changed)
    }

    /// Bookings the actor may see, by start; optionally of one instrument.
    pub async fn list_bookings(
        &self,
        actor: &Actor,
        instrument_id: Option<i64>,
    ) -> Result<Vec<BookingView>> {
        let instruments_where = |cond: Condition| {
            instrument_booking::Column::InstrumentId.in_subquery(
                Query::select()
                    .column(instrument::Column::Id)
                    .from(instrument::Entity)
                    .cond_where(cond)
                    .take(),
            )
        };
        let Some(visible) = scope_condition(
            &allocation_scope(actor),
            &ScopeParts {
                enterprises: &|ids| instrument_booking::Column::EnterpriseId.is_in(ids),
                person: None,
                manager: Some(&|m| {
                    instruments_where(
                        Condition::all().add(instrument::Column::ManagerAccountId.eq(m)),
                    )
                }),
                communities: &|ids| {
                    instruments_where(
                        Condition::all().add(instrument::Column::CommunityId.is_in(ids)),
                    )
                },
                district: &|d| {
                    instruments_where(Condition::all().add(instrument::Column::District.eq(d)))
                },
            },
        ) else {
            return Ok(Vec::new());
        };
        let mut q = instrument_booking::Entity::find().filter(visible);
        if let Some(i) = instrument_id {
            q = q.filter(instrument_booking::Column::InstrumentId.eq(i));
        }
        let rows = q
            .order_by_asc(instrument_booking::Column::StartAt)
            .limit(1_000)
            .all(self.store().db())
            .await?;
        Ok(rows.iter().map(booking_view).collect())
    }

    pub async fn get_booking(&self, actor: &Actor, id: i64) -> Result<BookingView> {
        let db = self.store().db();
        let b = load_booking(db, id).await?;
        let inst = load(db, b.instrument_id).await?;
        authorize_either(
            actor,
            (Action::Read, self.booking_holding(db, &b).await?),
            (Action::Update, resource(&inst)),
        )?;
        Ok(booking_view(&b))
    }

    /// A day's slots of an instrument and whether each is free.
    pub async fn instrument_day(&self, actor: &Actor, id: i64, date: NaiveDate) -> Result<DayView> {
        let db = self.store().db();
        let inst = load(db, id).await?;
        authorize(actor, Action::Read, resource(&inst))?;
        let weekday = date.weekday().number_from_monday().to_string();
        let open = inst.open_days.contains(weekday.as_str());
        let first = day_start(date) + Duration::minutes(i64::from(inst.opens_minute));
        let last = day_start(date) + Duration::minutes(i64::from(inst.closes_minute));
        let held = instrument_booking::Entity::find()
            .filter(instrument_booking::Column::InstrumentId.eq(id))
            .filter(
                instrument_booking::Column::Status.is_in(
                    Holdings::InstrumentBookings
                        .holding_statuses()
                        .iter()
                        .copied(),
                ),
            )
            .filter(instrument_booking::Column::StartAt.lt(last))
            .filter(instrument_booking::Column::EndAt.gt(first))
            .all(db)
            .await?;
        let step = Duration::minutes(i64::from(inst.slot_minutes));
        let mut slots = Vec::new();
        let mut at = first;
        while open && at + step <= last {
            let end = at + step;
            slots.push(SlotView {
                start_at: at,
                end_at: end,
                label: shanghai_text(at)[11..].to_owned(),
                free: !held.iter().any(|b| b.start_at < end && b.end_at > at),
            });
            at = end;
        }
        Ok(DayView {
            instrument: InstrumentView::from(&inst),
            date,
            open,
            slots,
        })
    }

    /// The instrument's bookings from 30 days ago on, as iCalendar. Bookings
    /// the actor may not see in detail read only "Booked".
    pub async fn instrument_calendar(&self, actor: &Actor, id: i64) -> Result<String> {
        let db = self.store().db();
        let inst = load(db, id).await?;
        authorize(actor, Action::Read, resource(&inst))?;
        let manages = authorize(actor, Action::Update, resource(&inst)).is_ok();
        let now = self.now();
        let rows = instrument_booking::Entity::find()
            .filter(instrument_booking::Column::InstrumentId.eq(id))
            .filter(instrument_booking::Column::Status.is_in([
                "pending",
                "confirmed",
                "checked_in",
            ]))
            .filter(instrument_booking::Column::EndAt.gt(now - Duration::days(30)))
            .order_by_asc(instrument_booking::Column::StartAt)
            .limit(5_000)
            .all(db)
            .await?;
        let events: Vec<Event> = rows
            .iter()
            .map(|b| {
                let holder = Resource::Holding {
                    enterprise_id: Some(b.enterprise_id),
                    person_id: None,
                    district: None,
                };
                let detailed = manages || authorize(actor, Action::Update, holder).is_ok();
                event(b, &inst.name, detailed)
            })
            .collect();
        Ok(calendar(&inst.name, &events, now))
    }

    /// The actor's own visible bookings as iCalendar.
    pub async fn bookings_calendar(&self, actor: &Actor) -> Result<String> {
        let names: BTreeMap<i64, String> = instrument::Entity::find()
            .all(self.store().db())
            .await?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
        let rows = instrument_booking::Entity::find()
            .filter(
                instrument_booking::Column::Id
                    .is_in(self.list_bookings(actor, None).await?.iter().map(|b| b.id)),
            )
            .filter(instrument_booking::Column::Status.is_in([
                "pending",
                "confirmed",
                "checked_in",
            ]))
            .all(self.store().db())
            .await?;
        let events: Vec<Event> = rows
            .iter()
            .map(|b| {
                event(
                    b,
                    names.get(&b.instrument_id).map_or("", String::as_str),
                    true,
                )
            })
            .collect();
        Ok(calendar("opcity bookings", &events, self.now()))
    }
}

fn event(b: &instrument_booking::Model, instrument: &str, detailed: bool) -> Event {
    let summary = if detailed {
        format!("{instrument}: enterprise #{}", b.enterprise_id)
    } else {
        format!("{instrument}: booked")
    };
    Event {
        uid: format!("booking-{}@opcity", b.id),
        start: b.start_at,
        end: b.end_at,
        summary,
        description: (detailed && !b.purpose.is_empty()).then(|| b.purpose.clone()),
        status: if b.status == "pending" {
            "TENTATIVE"
        } else {
            "CONFIRMED"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_times_parse() {
        assert_eq!(parse_hhmm("09:30"), Some(570));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("9"), None);
        assert_eq!(hhmm(570), "09:30");
    }

    #[test]
    fn weeks_start_on_monday() {
        let d: NaiveDate = "2026-05-03".parse().unwrap(); // a Sunday
        assert_eq!(week_start(d), "2026-04-27".parse::<NaiveDate>().unwrap());
        let m: NaiveDate = "2026-04-27".parse().unwrap();
        assert_eq!(week_start(m), m);
    }
}
