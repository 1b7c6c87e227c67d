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
    // The digits are checked above; reading them directly is much cheaper
    // than chrono's format-string parser, and the outcome is the same.
    let number = |range: std::ops::Range<usize>| {
        text.as_bytes()[range]
            .iter()
            .fold(0, |n, d| n * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
        .ok_or_else(|| format!("`{text}` is not a valid date (no such day)"))
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
        assert_eq!(
            parse_date("0000-01-01"),
            Ok(NaiveDate::from_ymd_opt(0, 1, 1).unwrap())
        );
        for bad in ["2026-00-10", "2026-13-01", "2026-01-00", "2026-04-31"] {
            assert!(
                parse_date(bad).unwrap_err().contains("no such day"),
                "{bad}"
            );
        }
        assert!(parse_date("2026/01/01").is_err());
    }

    #[test]
    fn agrees_with_chronos_parser() {
        for y in [0, 4, 1900, 2000, 2023, 2024, 2026, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let text = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(
                        parse_date(&text).ok(),
                        NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok(),
                        "{text}"
                    );
                }
            }
        }
    }
}
