//! Unified Social Credit Code (统一社会信用代码), GB 32100-2015.
//!
//! Eighteen characters from a 31-character alphabet (digits and capital
//! letters without I, O, Z, S, V). Characters 9–17 embed an organisation code
//! (GB 11714-1997) whose own check character is character 17; character 18 is
//! the check character over the first seventeen.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("must be 18 characters, got {0}")]
    Length(usize),
    #[error("character {position} `{ch}` is not allowed (digits and A–Y without I, O, S, V, Z)")]
    Character { position: usize, ch: char },
    #[error("characters 3–8 must be a six-digit administrative division code")]
    Division,
    #[error("organisation code check character is `{found}`, expected `{expected}`")]
    OrganisationCheck { found: char, expected: char },
    #[error("check character is `{found}`, expected `{expected}`")]
    Check { found: char, expected: char },
}

fn value_of(ch: u8) -> Option<u32> {
    ALPHABET.iter().position(|&c| c == ch).map(|p| p as u32)
}

/// GB 11714 value of a character: digits 0–9, letters A=10 … Z=35.
fn org_value(ch: u8) -> u32 {
    if ch.is_ascii_digit() {
        u32::from(ch - b'0')
    } else {
        u32::from(ch - b'A') + 10
    }
}

/// The GB 11714 check character for an eight-character organisation code body.
pub fn organisation_check_char(body: &[u8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(&c, w)| org_value(c) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).expect("0..=9"),
    }
}

/// The GB 32100 check character for the first seventeen characters.
/// Every byte must already be in the alphabet.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value_of(c).expect("validated alphabet") * w)
        .sum();
    let index = (31 - sum % 31) % 31;
    char::from(ALPHABET[index as usize])
}

impl Uscc {
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let bytes = input.as_bytes();
        let length = input.chars().count();
        if length != 18 || bytes.len() != 18 {
            return Err(UsccError::Length(length));
        }
        if let Some((i, &c)) = bytes
            .iter()
            .enumerate()
            .find(|(_, c)| value_of(**c).is_none())
        {
            return Err(UsccError::Character {
                position: i + 1,
                ch: char::from(c),
            });
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(UsccError::Division);
        }
        let expected_org = organisation_check_char(&bytes[8..16]);
        if char::from(bytes[16]) != expected_org {
            return Err(UsccError::OrganisationCheck {
                found: char::from(bytes[16]),
                expected: expected_org,
            });
        }
        let expected = check_char(&bytes[..17]);
        if char::from(bytes[17]) != expected {
            return Err(UsccError::Check {
                found: char::from(bytes[17]),
                expected,
            });
        }
        Ok(Uscc(input.to_owned()))
    }

    /// Completes a code from its first sixteen characters by appending both
    /// check characters. Used to generate demo and test data.
    pub fn complete(first16: &str) -> Result<Uscc, UsccError> {
        let bytes = first16.as_bytes();
        if bytes.len() != 16 {
            return Err(UsccError::Length(bytes.len() + 2));
        }
        if let Some((i, &c)) = bytes
            .iter()
            .enumerate()
            .find(|(_, c)| value_of(**c).is_none())
        {
            return Err(UsccError::Character {
                position: i + 1,
                ch: char::from(c),
            });
        }
        let mut code = first16.to_owned();
        code.push(organisation_check_char(&bytes[8..16]));
        if value_of(code.as_bytes()[16]).is_none() {
            // An organisation check of 'X' is outside the USCC alphabet, so no
            // valid code has this body.
            return Err(UsccError::Character {
                position: 17,
                ch: 'X',
            });
        }
        code.push(check_char(code.as_bytes()));
        Uscc::parse(&code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division code (characters 3–8).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

impl TryFrom<String> for Uscc {
    type Error = UsccError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Uscc::parse(&s)
    }
}

impl From<Uscc> for String {
    fn from(u: Uscc) -> String {
        u.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_codes() {
        // Codes of well-known public companies, as printed on their licences.
        for code in ["91440300708461136T", "914403001922038216"] {
            let parsed = Uscc::parse(code);
            assert!(parsed.is_ok(), "{code}: {parsed:?}");
        }
    }

    #[test]
    fn rejects_wrong_check_character() {
        assert_eq!(
            Uscc::parse("91440300708461136U"),
            Err(UsccError::Check {
                found: 'U',
                expected: 'T'
            })
        );
    }

    #[test]
    fn rejects_wrong_organisation_check() {
        let err = Uscc::parse("914403007084611373").unwrap_err();
        assert!(
            matches!(err, UsccError::OrganisationCheck { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_length_and_alphabet() {
        assert_eq!(Uscc::parse("9144"), Err(UsccError::Length(4)));
        assert_eq!(
            Uscc::parse("91440300708461136I"),
            Err(UsccError::Character {
                position: 18,
                ch: 'I'
            })
        );
        assert_eq!(Uscc::parse("91A40300708461136T"), Err(UsccError::Division));
    }

    #[test]
    fn complete_produces_valid_codes() {
        let code = Uscc::complete("9144030070846113").unwrap();
        assert_eq!(code.as_str(), "91440300708461136T");
        assert_eq!(code.division_code(), "440300");
    }
}
