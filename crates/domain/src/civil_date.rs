//! Civil dates in Asia/Shanghai.
//!
//! Shanghai has used UTC+8 without daylight saving since 1991, so a fixed
//! offset is exact for every date this platform handles and avoids shipping a
//! time-zone database.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// The earliest civil date the platform accepts from anyone (the registry's
/// birth dates start here too).
pub const MIN_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");

/// The latest civil date the platform accepts from anyone: far beyond any
/// programme, lease or booking, and far enough inside what chrono and both
/// databases represent that arithmetic on it (a day's start in UTC, a lease
/// of years) cannot overflow.
pub const MAX_DATE: NaiveDate = NaiveDate::from_ymd_opt(2999, 12, 31).expect("a valid date");

/// Whether `date` lies in [`MIN_DATE`]`..=`[`MAX_DATE`].
pub fn in_range(date: NaiveDate) -> bool {
    (MIN_DATE..=MAX_DATE).contains(&date)
}

/// The Asia/Shanghai offset (UTC+8, no DST since 1991).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The civil date in Shanghai at the given instant.
pub fn today_in_shanghai(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shanghai()).date_naive()
}

/// `date` plus `years` years, same month and day; 29 February rolls to 28 February
/// when the target year is not a leap year (the spec's "within N years" rule).
pub fn add_years(date: NaiveDate, years: i32) -> Option<NaiveDate> {
    let year = date.year().checked_add(years)?;
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), date.day() - 1))
}

/// Age in whole years on `on` for someone born on `birth`, counting a
/// 29 February birthday as reached on 28 February in common years.
/// Negative when `on` is before `birth`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    let birthday_this_year = add_years(birth, age);
    if birthday_this_year.is_some_and(|b| b > on) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_accepted_range_is_bounded() {
        assert!(in_range(d("1900-01-01")) && in_range(d("2999-12-31")));
        assert!(!in_range(d("1899-12-31")) && !in_range(d("3000-01-01")));
        assert!(!in_range(NaiveDate::MIN) && !in_range(NaiveDate::MAX));
    }

    #[test]
    fn add_years_rolls_leap_day_to_28_february() {
        assert_eq!(add_years(d("2024-02-29"), 1), Some(d("2025-02-28")));
        assert_eq!(add_years(d("2024-02-29"), 4), Some(d("2028-02-29")));
        assert_eq!(add_years(d("2021-06-30"), 5), Some(d("2026-06-30")));
    }

    #[test]
    fn age_counts_birthdays() {
        assert_eq!(age_on(d("1990-06-15"), d("2026-06-14")), 35);
        assert_eq!(age_on(d("1990-06-15"), d("2026-06-15")), 36);
        assert_eq!(age_on(d("2000-02-29"), d("2026-02-28")), 26);
        assert_eq!(age_on(d("2000-02-29"), d("2026-02-27")), 25);
        assert_eq!(age_on(d("2030-01-01"), d("2026-01-01")), -4);
    }

    #[test]
    fn shanghai_date_is_utc_plus_eight() {
        let late_utc: DateTime<Utc> = "2026-12-31T16:30:00Z".parse().unwrap();
        assert_eq!(today_in_shanghai(late_utc), d("2027-01-01"));
        let early_utc: DateTime<Utc> = "2026-12-31T15:59:59Z".parse().unwrap();
        assert_eq!(today_in_shanghai(early_utc), d("2026-12-31"));
    }
}
