//! Strict ISO dates (`YYYY-MM-DD`) for cases and pack files.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, de};
use std::fmt;

/// Parses exactly `YYYY-MM-DD`; chrono's own parser also takes other widths
/// and signs, which the spec does not allow.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(format!("`{text}` is not a date in the form YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a valid date (no such day)"))
}

/// A date in a pack file; deserializes through [`parse_date`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsoDate(pub NaiveDate);

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = IsoDate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date YYYY-MM-DD")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IsoDate, E> {
                parse_date(v).map(IsoDate).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_real_iso_dates() {
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        assert!(
            parse_date("2026-02-29")
                .unwrap_err()
                .contains("no such day")
        );
        assert!(parse_date("2026-2-1").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("+2026-01-01").is_err());
        assert!(parse_date("2026/01/01").is_err());
    }
}
