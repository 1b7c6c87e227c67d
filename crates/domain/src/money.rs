//! Money: always an integer number of fen (1 yuan = 100 fen), never floating point.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen. Signed so that ledger deltas can be expressed;
/// callers that need a non-negative amount use [`Fen::positive`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// The most any one amount entered anywhere may be: ¥10 trillion, far
    /// above any budget of the programme. Bounding what comes in keeps the
    /// sums the ledgers and budgets form inside `i64`.
    pub const MAX_AMOUNT: Fen = Fen(1_000_000_000_000_000);

    /// The most a budget's total may reach by funding: a thousand times
    /// [`Fen::MAX_AMOUNT`], so a total plus any amount stays inside `i64`.
    pub const MAX_TOTAL: Fen = Fen(1_000_000_000_000_000_000);

    /// Whole yuan to fen. Returns `None` on overflow.
    pub fn from_yuan(yuan: i64) -> Option<Fen> {
        yuan.checked_mul(100).map(Fen)
    }

    /// Yuan as a person types them (`12,345.6`, `¥30,000`, `-3`, a
    /// full-width comma) to fen, exactly, without floating point. `None` for
    /// anything else: letters, more than two decimals, a sign anywhere but
    /// in front, nothing at all, or an amount outside `i64`.
    pub fn parse_yuan(text: &str) -> Option<Fen> {
        let cleaned: String = text.trim().replace([',', '，', ' ', '¥'], "");
        let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let negative = whole.starts_with('-');
        let digits = whole.strip_prefix('-').unwrap_or(whole);
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if (digits.is_empty() && frac.is_empty())
            || frac.len() > 2
            || !all_digits(digits)
            || !all_digits(frac)
        {
            return None;
        }
        let yuan: i64 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let fen: i64 = format!("{frac:0<2}").parse().ok()?;
        let total = yuan.checked_mul(100)?.checked_add(fen)?;
        Some(Fen(if negative { -total } else { total }))
    }

    /// Yuan with two decimals, without symbol or grouping (`-1250.05`), for
    /// files other programs read (CSV).
    pub fn decimal_yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// The amount if it is strictly positive (amounts moved by a transfer or
    /// approved by a reviewer must be).
    pub fn positive(self) -> Option<Fen> {
        (self.0 > 0).then_some(self)
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Fen> {
        self.0.checked_mul(factor).map(Fen)
    }

    /// `self * numerator / denominator`, rounded down, without intermediate overflow.
    /// Used for "a share of a contract" rules (e.g. a voucher covering 50%).
    pub fn share(self, numerator: i64, denominator: i64) -> Option<Fen> {
        if denominator <= 0 {
            return None;
        }
        let value = i128::from(self.0) * i128::from(numerator) / i128::from(denominator);
        i64::try_from(value).ok().map(Fen)
    }
}

impl fmt::Display for Fen {
    /// Renders as yuan with two decimals and thousands separators: `¥1,250.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let yuan = abs / 100;
        let fen = abs % 100;
        let digits = yuan.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}¥{grouped}.{fen:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_yuan_with_grouping() {
        assert_eq!(Fen(125_000).to_string(), "¥1,250.00");
        assert_eq!(Fen(3_000_000_000).to_string(), "¥30,000,000.00");
        assert_eq!(Fen(-5).to_string(), "-¥0.05");
        assert_eq!(Fen(0).to_string(), "¥0.00");
    }

    #[test]
    fn parses_yuan_as_people_type_them() {
        let fen = |text: &str| Fen::parse_yuan(text).map(|f| f.0);
        assert_eq!(fen("30,000"), Some(3_000_000));
        assert_eq!(fen("1，234.5"), Some(123_450));
        assert_eq!(fen(" ¥12.5 "), Some(1_250));
        assert_eq!(fen("0.07"), Some(7));
        assert_eq!(fen(".5"), Some(50));
        assert_eq!(fen("-3"), Some(-300));
        for refused in [
            "",
            "-",
            ".",
            "1.234",
            "abc",
            "1.-5",
            "--1",
            "1-",
            "1e3",
            "92233720368547758.08",
        ] {
            assert_eq!(fen(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn decimal_yuan_is_plain() {
        assert_eq!(Fen(125_005).decimal_yuan(), "1250.05");
        assert_eq!(Fen(-5).decimal_yuan(), "-0.05");
        assert_eq!(Fen(0).decimal_yuan(), "0.00");
    }

    #[test]
    fn share_rounds_down_and_rejects_bad_denominator() {
        assert_eq!(Fen(1_001).share(1, 2), Some(Fen(500)));
        assert_eq!(
            Fen(i64::MAX).share(3, 5),
            Some(Fen(i64::MAX / 5 * 3 + (i64::MAX % 5) * 3 / 5))
        );
        assert_eq!(Fen(10).share(1, 0), None);
    }

    #[test]
    fn checked_arithmetic_detects_overflow() {
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
        assert_eq!(Fen::from_yuan(i64::MAX), None);
        assert_eq!(Fen::from_yuan(1_250), Some(Fen(125_000)));
        assert_eq!(Fen(0).positive(), None);
    }
}
