//! Spaces, housing and shared instruments (measures 3, 4 and 9).
//!
//! - [`inventory`]: buildings, floors and units (desk, office, floor) of OPC
//!   communities and of other industrial space; the dashboard's area figures.
//! - [`agreements`]: requests and waitlists, offers, agreements and the growth
//!   path desk → office → floor; the young-talent area ceiling.
//! - [`housing`]: transitional housing units, leases within the pack's limits,
//!   exclusion with the housing subsidy, occupancy.
//! - [`instruments`]: instruments with opening hours, slots, quotas, approval,
//!   cancellation, no-show release; [`ical`] calendars.
//! - [`permissions`]: what a viewer may do, asked as the writes ask it, for
//!   pages that offer only the forms that will be allowed.
//!
//! When a benefit lapses, the space or flat allocated for it ends after the
//! pack's notice period (`agreements::lapse`, `housing::lapse`) and whoever
//! manages the premises is told ([`tell_managers`]).
//!
//! Every agreement, lease and booking holds a half-open interval
//! `[start, end)` of UTC instants; the database refuses two holdings of one
//! resource that overlap ([`opcity_store::intervals`]) and [`hold`] turns a
//! refusal into an error naming the interval that is held. Civil dates are
//! Asia/Shanghai days: a day's holding starts at 00:00 Shanghai time.

pub mod agreements;
mod booking_group;
mod hold;
pub mod housing;
pub mod ical;
pub mod instruments;
pub mod inventory;
pub mod permissions;
pub mod unit_choices;

use crate::authz::AllocationScope;
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use opcity_domain::Role;
use opcity_domain::civil_date::shanghai;
use opcity_store::accounts;
use opcity_store::entity::{community, housing_lease, housing_unit, space_agreement, space_unit};
use opcity_store::notifications::{self, NewNotification};
use opcity_store::sea_orm::sea_query::{Expr, IntoTableRef, Query};
use opcity_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
};
use std::collections::BTreeMap;

/// The instant a Shanghai civil day begins, in UTC.
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    shanghai()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has exactly one instant per local time")
        .with_timezone(&Utc)
}

/// The Shanghai civil date of an instant.
pub fn shanghai_date(at: DateTime<Utc>) -> NaiveDate {
    opcity_domain::today_in_shanghai(at)
}

/// `date` plus whole months; the 31st rolls back to the month's last day.
pub fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

/// Whole months from `start` to `end`, counting a started month as whole
/// (a stay of one month and a day counts two).
pub fn months_between_ceil(start: NaiveDate, end: NaiveDate) -> u32 {
    let mut months = 0;
    while add_months(start, months).is_some_and(|d| d < end) {
        months += 1;
    }
    months
}

/// An instant written as RFC 3339 (`2026-05-01T09:00:00+08:00`), or as a
/// local Shanghai time `YYYY-MM-DDTHH:MM` (what a browser's datetime field
/// sends).
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .and_then(|local| shanghai().from_local_datetime(&local).single())
        .map(|at| at.with_timezone(&Utc))
}

/// An instant as Shanghai local time, `2026-05-01 09:00`.
pub fn shanghai_text(at: DateTime<Utc>) -> String {
    at.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An instant in RFC 3339 with the Shanghai offset, for messages.
pub fn shanghai_rfc3339(at: DateTime<Utc>) -> String {
    at.with_timezone(&shanghai())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Dates this platform accepts for allocations.
fn date_bounds() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2020, 1, 1).expect("valid"),
        NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid"),
    )
}

/// A required civil date.
pub(crate) fn required_date(c: &mut Checker, field: &str, value: &str) -> Option<NaiveDate> {
    if value.trim().is_empty() {
        c.push(FieldError::new(field, "required"));
        return None;
    }
    let date = c.date(field, Some(value), date_bounds().1)?;
    if date < date_bounds().0 {
        c.push(
            FieldError::new(field, "date_out_of_range")
                .with("value", value.trim())
                .with("latest", date_bounds().1),
        );
        return None;
    }
    Some(date)
}

/// A required instant (see [`parse_instant`]), stored with whole seconds.
pub(crate) fn required_instant(c: &mut Checker, field: &str, value: &str) -> Option<DateTime<Utc>> {
    if value.trim().is_empty() {
        c.push(FieldError::new(field, "required"));
        return None;
    }
    match parse_instant(value) {
        Some(at) if (date_bounds().0..=date_bounds().1).contains(&shanghai_date(at)) => {
            Some(opcity_store::intervals::stored_instant(at))
        }
        Some(_) => {
            c.push(FieldError::new(field, "date_out_of_range").with("value", value.trim()));
            None
        }
        None => {
            c.push(FieldError::new(field, "invalid_instant").with("value", value.trim()));
            None
        }
    }
}

/// An integer within bounds.
/// The district of the community a form names (`Some(None)`: there is no
/// such community; `None`: none is named), as the housing unit and
/// instrument validations take it.
pub(crate) async fn community_district<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
) -> Result<Option<Option<opcity_domain::District>>> {
    let Some(id) = community_id else {
        return Ok(None);
    };
    let found = opcity_store::registry::community(db, id).await?;
    Ok(Some(found.and_then(|c| c.district.parse().ok())))
}

pub(crate) fn in_range(c: &mut Checker, field: &str, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        c.push(
            FieldError::new(field, "out_of_range")
                .with("min", min)
                .with("max", max),
        );
    }
}

/// One of a fixed list of words.
pub(crate) fn one_of(c: &mut Checker, field: &str, value: &str, allowed: &[&str]) -> String {
    let v = value.trim();
    if v.is_empty() {
        c.push(FieldError::new(field, "required"));
    } else if !allowed.contains(&v) {
        c.push(FieldError::new(field, "not_one_of").with("allowed", allowed.join(", ")));
    }
    v.to_owned()
}

/// A pack parameter's value on `date`; an unset parameter stops the
/// allocation, naming the parameter (the authority has not fixed it).
pub(crate) fn parameter_on(
    services: &crate::Services,
    name: &'static str,
    date: NaiveDate,
) -> Result<i64> {
    services
        .pack()
        .parameter(name)
        .and_then(|p| p.value_at(date))
        .and_then(|v| v.value)
        .ok_or(ServiceError::Validation(vec![
            FieldError::new("start", "parameter_unset")
                .with("parameter", name)
                .with("date", date),
        ]))
}

/// A refusal that names one field.
pub(crate) fn refuse(field: &str, code: &'static str) -> ServiceError {
    ServiceError::invalid(field, code)
}

/// How one allocation table answers to an [`AllocationScope`]: the condition
/// each part of a scope puts on it (`None`: the table has no such holder).
pub(crate) struct ScopeParts<'a> {
    pub enterprises: &'a dyn Fn(Vec<i64>) -> Expr,
    pub person: Option<&'a dyn Fn(i64) -> Expr>,
    pub manager: Option<&'a dyn Fn(i64) -> Expr>,
    pub communities: &'a dyn Fn(Vec<i64>) -> Expr,
    pub district: &'a dyn Fn(&str) -> Expr,
}

/// The allocations `scope` may see, as one condition on the table `parts`
/// describes: `None` when it sees nothing, an empty condition when it sees
/// everything. Records outside it are never loaded.
pub(crate) fn scope_condition(scope: &AllocationScope, parts: &ScopeParts) -> Option<Condition> {
    if scope.all {
        return Some(Condition::all());
    }
    let mut any = Condition::any();
    if !scope.enterprise_ids.is_empty() {
        any = any.add((parts.enterprises)(scope.enterprise_ids.clone()));
    }
    if let (Some(p), Some(person)) = (scope.person_id, parts.person) {
        any = any.add(person(p));
    }
    if let (Some(m), Some(manager)) = (scope.manager_account, parts.manager) {
        any = any.add(manager(m));
    }
    if !scope.community_ids.is_empty() {
        any = any.add((parts.communities)(scope.community_ids.clone()));
    }
    if let Some(d) = scope.district {
        any = any.add((parts.district)(d.id()));
    }
    (!any.is_empty()).then_some(any)
}

/// Where a unit table keeps what scopes the holdings of its units: its id,
/// its community and its district.
pub(crate) struct UnitTable<T, C> {
    pub table: T,
    pub id: C,
    pub community: C,
    pub district: C,
}

impl<T: IntoTableRef + Clone, C: ColumnTrait> UnitTable<T, C> {
    /// The holdings (naming their unit by `unit_fk`) whose unit meets `cond`.
    pub fn holdings_where(&self, unit_fk: impl ColumnTrait, cond: Condition) -> Expr {
        unit_fk.in_subquery(
            Query::select()
                .column(self.id)
                .from(self.table.clone())
                .cond_where(cond)
                .take(),
        )
    }
}

/// The condition for holdings (agreements, leases) that `scope` may see: the
/// holder's own, by `enterprise` or `person`, and those whose unit (named by
/// `unit_fk`, kept in `units`) lies in the scope's communities or district.
pub(crate) fn holdings_by_unit<H, T, C>(
    scope: &AllocationScope,
    enterprise: H,
    person: H,
    unit_fk: H,
    units: &UnitTable<T, C>,
) -> Option<Condition>
where
    H: ColumnTrait,
    T: IntoTableRef + Clone,
    C: ColumnTrait,
{
    let units_where = |cond: Condition| units.holdings_where(unit_fk, cond);
    scope_condition(
        scope,
        &ScopeParts {
            enterprises: &|ids| enterprise.is_in(ids),
            person: Some(&|p| person.eq(p)),
            manager: None,
            communities: &|ids| units_where(Condition::all().add(units.community.is_in(ids))),
            district: &|d| units_where(Condition::all().add(units.district.eq(d))),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn shanghai_days_start_at_16_utc_the_day_before() {
        assert_eq!(
            day_start(d("2026-03-01")).to_rfc3339(),
            "2026-02-28T16:00:00+00:00"
        );
        assert_eq!(shanghai_date(day_start(d("2026-03-01"))), d("2026-03-01"));
    }

    #[test]
    fn months_are_counted_whole_and_roll_back_at_month_end() {
        assert_eq!(add_months(d("2026-01-31"), 1), Some(d("2026-02-28")));
        assert_eq!(months_between_ceil(d("2026-01-01"), d("2026-04-01")), 3);
        assert_eq!(months_between_ceil(d("2026-01-01"), d("2026-04-02")), 4);
        assert_eq!(months_between_ceil(d("2026-01-01"), d("2026-01-02")), 1);
    }

    #[test]
    fn instants_parse_with_offsets_or_as_shanghai_local_time() {
        let utc = parse_instant("2026-05-01T09:00").unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-05-01T01:00:00+00:00");
        assert_eq!(parse_instant("2026-05-01T01:00:00Z"), Some(utc));
        assert_eq!(parse_instant("2026-05-01T09:00:00+08:00"), Some(utc));
        assert_eq!(shanghai_text(utc), "2026-05-01 09:00");
        assert_eq!(shanghai_rfc3339(utc), "2026-05-01T09:00:00+08:00");
        assert_eq!(parse_instant("tomorrow"), None);
        assert_eq!(parse_instant("2026-02-30T09:00"), None);
    }
}

/// Tells whoever manages premises — the community's operator, or outside
/// communities the district's reviewers — of a change to `subject`
/// (`space_agreement:{id}`, `housing_lease:{id}`): a notification of `kind`.
pub(crate) async fn tell_managers(
    tx: &DatabaseTransaction,
    (community_id, district): (Option<i64>, &str),
    kind: &str,
    programme: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let managers: Vec<i64> = match community_id {
        Some(id) => community::Entity::find_by_id(id)
            .one(tx)
            .await?
            .and_then(|c| c.operator_account_id)
            .into_iter()
            .collect(),
        None => accounts::enabled_in_district(tx, Role::DistrictReviewer.id(), district)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect(),
    };
    let told: Vec<NewNotification<'_>> = managers
        .into_iter()
        .map(|account_id| NewNotification {
            account_id,
            kind,
            programme: Some(programme),
            subject: Some(subject),
            at,
        })
        .collect();
    notifications::insert_all(tx, &told).await?;
    Ok(())
}

/// A space or flat that ends: its unit's code and the last day it is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub unit_code: String,
    pub last_day: NaiveDate,
}

/// For each of `subjects` naming an agreement or a lease
/// (`space_agreement:{id}`, `housing_lease:{id}`), its unit and last day:
/// what a manager's notice of an ending shows. Four queries at most.
pub(crate) async fn endings<C: ConnectionTrait>(
    db: &C,
    subjects: &[&str],
) -> Result<BTreeMap<String, Ending>> {
    let ids = |prefix: &str| -> Vec<i64> {
        subjects
            .iter()
            .filter_map(|s| s.strip_prefix(prefix)?.parse().ok())
            .collect()
    };
    let (agreements, leases) = (ids("space_agreement:"), ids("housing_lease:"));
    let mut out = BTreeMap::new();
    if !agreements.is_empty() {
        let rows = crate::rows_by_id::<space_agreement::Entity, _>(
            db,
            space_agreement::Column::Id,
            agreements,
            |a| a.id,
        )
        .await?;
        let units = crate::rows_by_id::<space_unit::Entity, _>(
            db,
            space_unit::Column::Id,
            rows.values().map(|a| a.unit_id),
            |u| u.id,
        )
        .await?;
        for a in rows.into_values() {
            if let Some(u) = units.get(&a.unit_id) {
                out.insert(
                    format!("space_agreement:{}", a.id),
                    ending(&u.code, a.end_at),
                );
            }
        }
    }
    if !leases.is_empty() {
        let rows = crate::rows_by_id::<housing_lease::Entity, _>(
            db,
            housing_lease::Column::Id,
            leases,
            |l| l.id,
        )
        .await?;
        let units = crate::rows_by_id::<housing_unit::Entity, _>(
            db,
            housing_unit::Column::Id,
            rows.values().map(|l| l.housing_unit_id),
            |u| u.id,
        )
        .await?;
        for l in rows.into_values() {
            if let Some(u) = units.get(&l.housing_unit_id) {
                out.insert(format!("housing_lease:{}", l.id), ending(&u.code, l.end_at));
            }
        }
    }
    Ok(out)
}

/// A holding ending at the (exclusive) instant `end`.
fn ending(code: &str, end: DateTime<Utc>) -> Ending {
    let last_day = shanghai_date(end).pred_opt().unwrap_or(NaiveDate::MIN);
    Ending {
        unit_code: code.to_owned(),
        last_day,
    }
}
