//! Chinese resident identity card numbers (GB 11643-1999): 17 digits and a
//! check character (digit or X), with the birth date in characters 7–14.
//!
//! The full number is personal data: it is stored encrypted and shown masked
//! (see [`ResidentId::masked`]) to everyone but its owner. The mask keeps
//! only the first and the last character, so nothing else shown about the
//! person (their birth date, district or name) completes it: the hidden
//! sixteen characters hold the rest of the region code, the whole birth date
//! and the sequence number.

use chrono::NaiveDate;
use std::fmt;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

#[derive(Clone, PartialEq, Eq)]
pub struct ResidentId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("must be 18 characters, got {0}")]
    Length(usize),
    #[error("the first 17 characters must be digits")]
    Digits,
    #[error("characters 7–14 are not a valid birth date")]
    BirthDate,
    #[error("check character is `{found}`, expected `{expected}`")]
    Check { found: char, expected: char },
}

/// The check character for seventeen ASCII digits.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    char::from(CHECK[(sum % 11) as usize])
}

impl ResidentId {
    pub fn parse(input: &str) -> Result<ResidentId, ResidentIdError> {
        let normalised = input.trim().to_ascii_uppercase();
        let bytes = normalised.as_bytes();
        if bytes.len() != 18 || normalised.chars().count() != 18 {
            return Err(ResidentIdError::Length(normalised.chars().count()));
        }
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(ResidentIdError::Digits);
        }
        NaiveDate::parse_from_str(&normalised[6..14], "%Y%m%d")
            .map_err(|_| ResidentIdError::BirthDate)?;
        let expected = check_char(&bytes[..17]);
        let found = char::from(bytes[17]);
        if found != expected {
            return Err(ResidentIdError::Check { found, expected });
        }
        Ok(ResidentId(normalised))
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("validated at parse")
    }

    /// The number with everything but its first and last characters hidden
    /// (`4****************X`). Not six and four: those leave exactly the birth
    /// date hidden, which anyone who sees the birth date fills back in.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    /// The full number, for encryption at rest and for its owner only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The mask of a stored number, the same as [`ResidentId::masked`]: the
/// first and last characters, everything between hidden.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    match chars.as_slice() {
        [first, middle @ .., last] if !middle.is_empty() => {
            format!("{first}{}{last}", "*".repeat(middle.len()))
        }
        _ => "*".repeat(chars.len()),
    }
}

/// Debug never prints the full number, so it cannot leak into logs.
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_number_and_masks_it() {
        // The standard's worked example.
        let id = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(id.masked(), "1****************X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!format!("{id:?}").contains("19491231"));
        assert!(!format!("{id:?}").contains("110105"));
    }

    #[test]
    fn the_mask_cannot_be_completed_from_the_birth_date() {
        // The old mask (six and four) hid exactly the birth date: with the
        // birth date beside it, the number was whole again. The mask shows
        // two characters; the birth date adds eight; seven stay hidden.
        let id = ResidentId::parse("44030519880612101X").unwrap();
        let masked = id.masked();
        assert_eq!(masked, "4****************X");
        assert_eq!(masked.len(), 18);
        let shown: usize = masked.chars().filter(|c| *c != '*').count();
        assert_eq!(shown, 2);
        assert!(!masked.contains("440305") && !masked.contains("101X"));
        assert_eq!(mask("12"), "**");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(
            ResidentId::parse("110105194912310021"),
            Err(ResidentIdError::Check {
                found: '1',
                expected: 'X'
            })
        );
        assert_eq!(
            ResidentId::parse("110105194913310021"),
            Err(ResidentIdError::BirthDate)
        );
        assert_eq!(
            ResidentId::parse("1101051949"),
            Err(ResidentIdError::Length(10))
        );
        assert_eq!(
            ResidentId::parse("1101051949123100AX"),
            Err(ResidentIdError::Digits)
        );
    }
}
