//! Shared instruments (measure 9): institutions list GPU servers and lab
//! equipment with slots, opening hours (Asia/Shanghai), a weekly quota per
//! enterprise, approval where required, a cancellation notice period and a
//! no-show grace period after which a booking is released.
//!
//! A booking holds `[start, end)`; pending bookings (awaiting approval) hold
//! their slot too, so approval never finds it double-booked.
//!
//! This module holds the types and the façade; each use case lives in its
//! own module.

mod book;
mod catalogue;
pub(crate) use catalogue::validate as validate_instrument;
mod changes;
mod views;

pub(super) use book::check_quota;

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
use opcity_store::entity::{enterprise, instrument, instrument_booking};
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

pub(crate) fn hhmm(minutes: i32) -> String {
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
    /// The enterprise, by name, on reads.
    pub holder: Option<String>,
}

impl crate::Party for BookingView {
    fn party(&self) -> (Option<i64>, Option<i64>) {
        (Some(self.enterprise_id), None)
    }

    fn set_party_name(&mut self, name: Option<String>) {
        self.holder = name;
    }
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
        holder: None,
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

/// Who manages an instrument `actor` lists or edits: an institution
/// manages what it lists; administrators may name the manager (`asked`).
/// One rule for the write and for [`Services::may_list_instrument`].
pub(crate) fn listing_manager(actor: &Actor, asked: Option<i64>) -> Option<i64> {
    match actor.role {
        opcity_domain::Role::ServiceProvider => Some(actor.account_id),
        _ => asked,
    }
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
    /// Lists an instrument.
    pub async fn create_instrument(
        &self,
        actor: &Actor,
        input: &InstrumentInput,
    ) -> Result<InstrumentView> {
        catalogue::save(self, actor, None, input).await
    }

    /// Edits an instrument.
    pub async fn update_instrument(
        &self,
        actor: &Actor,
        id: i64,
        input: &InstrumentInput,
    ) -> Result<InstrumentView> {
        catalogue::save(self, actor, Some(id), input).await
    }

    /// Instruments open to booking (every signed-in role may look).
    pub async fn list_instruments(&self, actor: &Actor) -> Result<Vec<InstrumentView>> {
        catalogue::list_instruments(self, actor).await
    }

    /// One instrument, if the actor may see it.
    pub async fn get_instrument(&self, actor: &Actor, id: i64) -> Result<InstrumentView> {
        catalogue::get_instrument(self, actor, id).await
    }

    /// Books `[start, end)` for an enterprise, within hours, quota and a free interval.
    pub async fn book_instrument(
        &self,
        actor: &Actor,
        input: &BookingInput,
    ) -> Result<BookingView> {
        book::book_instrument(self, actor, input).await
    }

    /// The institution approves or rejects a pending booking.
    pub async fn decide_booking(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
    ) -> Result<BookingView> {
        changes::decide_booking(self, actor, id, approve).await
    }

    /// Cancels a booking before it starts (late inside the notice period).
    pub async fn cancel_booking(&self, actor: &Actor, id: i64) -> Result<BookingView> {
        changes::cancel_booking(self, actor, id).await
    }

    /// The holder arrives, within the check-in window.
    pub async fn check_in(&self, actor: &Actor, id: i64) -> Result<BookingView> {
        changes::check_in(self, actor, id).await
    }

    /// The no-show job: releases no-shows and rejects stale pending bookings.
    pub async fn release_no_shows(&self, at: DateTime<Utc>) -> Result<usize> {
        changes::release_no_shows(self, at).await
    }

    /// Bookings the actor may see, by start; optionally of one instrument.
    pub async fn list_bookings(
        &self,
        actor: &Actor,
        instrument_id: Option<i64>,
    ) -> Result<Vec<BookingView>> {
        views::list_bookings(self, actor, instrument_id).await
    }

    /// One booking, for its holder or the instrument's manager.
    pub async fn get_booking(&self, actor: &Actor, id: i64) -> Result<BookingView> {
        views::get_booking(self, actor, id).await
    }

    /// A day's slots of an instrument and whether each is free.
    pub async fn instrument_day(&self, actor: &Actor, id: i64, date: NaiveDate) -> Result<DayView> {
        views::instrument_day(self, actor, id, date).await
    }

    /// The instrument's recent and coming bookings, as iCalendar.
    pub async fn instrument_calendar(&self, actor: &Actor, id: i64) -> Result<String> {
        views::instrument_calendar(self, actor, id).await
    }

    /// The actor's own visible bookings as iCalendar.
    pub async fn bookings_calendar(&self, actor: &Actor) -> Result<String> {
        views::bookings_calendar(self, actor).await
    }
}

/// Whose holding a booking is, for authorization.
pub(super) async fn booking_holding<C: ConnectionTrait>(
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
