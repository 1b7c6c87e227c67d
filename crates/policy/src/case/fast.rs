//! A hand-written reader for the common case: a well-formed case object with
//! known keys, each once, values of the expected JSON types, strings without
//! escapes or control characters. It returns `None` at the first thing it is
//! not sure of — anything unusual, anything wrong — and then serde reads the
//! text, so every error and every edge case is serde's own. What it accepts
//! it reads exactly as serde would (`tests` below check it on generated and
//! mutated cases).

use super::{CaseInput, Degree, EnterpriseInput, GrantInput, PersonInput, Size, Text};
use opcity_domain::District;
use std::borrow::Cow;

/// Reads `text` as serde would, or `None`.
pub(super) fn read(text: &str) -> Option<CaseInput<'_>> {
    let mut r = Reader { text, at: 0 };
    let mut input = CaseInput {
        person: PersonInput::default(),
        enterprise: None,
        granted: None,
    };
    let mut seen = 0u32;
    r.object(|r, key| {
        match key {
            "person" => {
                once(&mut seen, 0)?;
                input.person = r.person()?;
            }
            "enterprise" => {
                once(&mut seen, 1)?;
                input.enterprise = if r.null() {
                    None
                } else {
                    Some(r.enterprise()?)
                };
            }
            "granted" => {
                once(&mut seen, 2)?;
                input.granted = if r.null() { None } else { Some(r.grants()?) };
            }
            _ => return None,
        }
        Some(())
    })?;
    r.ws();
    (r.at == text.len()).then_some(input)
}

/// Marks key number `bit` as seen; `None` on a duplicate (serde rejects it).
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    let mask = 1 << bit;
    if *seen & mask != 0 {
        return None;
    }
    *seen |= mask;
    Some(())
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// JSON whitespace, as serde_json skips it.
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &str) -> bool {
        self.ws();
        let found = self.text.as_bytes()[self.at..].starts_with(word.as_bytes());
        if found {
            self.at += word.len();
        }
        found
    }

    /// Consumes `null` if it is next.
    fn null(&mut self) -> bool {
        self.literal("null")
    }

    /// A string without escapes or control characters, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let bytes = self.text.as_bytes();
        self.at = special(bytes, self.at);
        loop {
            match *bytes.get(self.at)? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        // Both ends are ASCII quotes, so these are character boundaries.
        self.text.get(start..self.at - 1)
    }

    /// `{ "key": value, … }`, calling `value` after each key's colon.
    fn object(&mut self, mut value: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            value(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn opt_bool(&mut self) -> Option<Option<bool>> {
        if self.literal("true") {
            Some(Some(true))
        } else if self.literal("false") {
            Some(Some(false))
        } else if self.null() {
            Some(None)
        } else {
            None
        }
    }

    fn opt_text(&mut self) -> Option<Option<Text<'a>>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(Text(Cow::Borrowed(self.string()?))))
    }

    /// A string that `word` maps, or `null`.
    fn opt_word<T>(&mut self, word: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
        if self.null() {
            return Some(None);
        }
        word(self.string()?).map(Some)
    }

    fn person(&mut self) -> Option<PersonInput<'a>> {
        let mut p = PersonInput::default();
        let mut seen = 0u32;
        self.object(|r, key| {
            match key {
                "id" => {
                    once(&mut seen, 0)?;
                    p.id = r.opt_text()?;
                }
                "birth_date" => {
                    once(&mut seen, 1)?;
                    p.birth_date = r.opt_text()?;
                }
                "highest_degree" => {
                    once(&mut seen, 2)?;
                    p.highest_degree = r.opt_word(degree)?;
                }
                "degree_date" => {
                    once(&mut seen, 3)?;
                    p.degree_date = r.opt_text()?;
                }
                "overseas_degree" => {
                    once(&mut seen, 4)?;
                    p.overseas_degree = r.opt_bool()?;
                }
                "hukou_shenzhen_since" => {
                    once(&mut seen, 5)?;
                    // Present, even as `null`, is `Some`.
                    p.hukou_shenzhen_since = Some(r.opt_text()?);
                }
                "works_in_ai" => {
                    once(&mut seen, 6)?;
                    p.works_in_ai = r.opt_bool()?;
                }
                "is_founder" => {
                    once(&mut seen, 7)?;
                    p.is_founder = r.opt_bool()?;
                }
                "kunpeng_selected" => {
                    once(&mut seen, 8)?;
                    p.kunpeng_selected = r.opt_bool()?;
                }
                "high_level_talent" => {
                    once(&mut seen, 9)?;
                    p.high_level_talent = r.opt_bool()?;
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(p)
    }

    fn enterprise(&mut self) -> Option<EnterpriseInput<'a>> {
        let mut e = EnterpriseInput {
            uscc: None,
            registered_date: None,
            district: None,
            in_opc_community: None,
            ai_business: None,
            size: None,
            gov_deployed_product: None,
            demonstration_project: None,
            consortium_lead: None,
        };
        let mut seen = 0u32;
        self.object(|r, key| {
            match key {
                "uscc" => {
                    once(&mut seen, 0)?;
                    e.uscc = r.opt_text()?;
                }
                "registered_date" => {
                    once(&mut seen, 1)?;
                    e.registered_date = r.opt_text()?;
                }
                "district" => {
                    once(&mut seen, 2)?;
                    e.district = r.opt_word(district)?;
                }
                "in_opc_community" => {
                    once(&mut seen, 3)?;
                    e.in_opc_community = r.opt_bool()?;
                }
                "ai_business" => {
                    once(&mut seen, 4)?;
                    e.ai_business = r.opt_bool()?;
                }
                "size" => {
                    once(&mut seen, 5)?;
                    e.size = r.opt_word(size)?;
                }
                "gov_deployed_product" => {
                    once(&mut seen, 6)?;
                    e.gov_deployed_product = r.opt_bool()?;
                }
                "demonstration_project" => {
                    once(&mut seen, 7)?;
                    e.demonstration_project = r.opt_bool()?;
                }
                "consortium_lead" => {
                    once(&mut seen, 8)?;
                    e.consortium_lead = r.opt_bool()?;
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(e)
    }

    fn grants(&mut self) -> Option<Vec<GrantInput<'a>>> {
        self.eat(b'[')?;
        let mut grants = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(grants);
        }
        loop {
            grants.push(self.grant()?);
            self.ws();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(grants);
                }
                _ => return None,
            }
        }
    }

    fn grant(&mut self) -> Option<GrantInput<'a>> {
        let mut g = GrantInput {
            programme: None,
            from: None,
            to: None,
        };
        let mut seen = 0u32;
        self.object(|r, key| {
            match key {
                "programme" => {
                    once(&mut seen, 0)?;
                    g.programme = r.opt_text()?;
                }
                "from" => {
                    once(&mut seen, 1)?;
                    g.from = r.opt_text()?;
                }
                "to" => {
                    once(&mut seen, 2)?;
                    g.to = r.opt_text()?;
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(g)
    }
}

/// The position of the first `"`, `\` or control character at or after
/// `at` (or a little before it: the caller goes on byte by byte), eight
/// bytes at a time.
fn special(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Flags the zero bytes of `v`; the lowest flag is always exact.
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let found = zero(word ^ (ONES * u64::from(b'"')))
            | zero(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGH);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at
}

fn degree(word: &str) -> Option<Degree> {
    Some(match word {
        "none" => Degree::None,
        "associate" => Degree::Associate,
        "bachelor" => Degree::Bachelor,
        "master" => Degree::Master,
        "doctorate" => Degree::Doctorate,
        _ => return None,
    })
}

fn size(word: &str) -> Option<Size> {
    Some(match word {
        "micro" => Size::Micro,
        "small" => Size::Small,
        "medium" => Size::Medium,
        "large" => Size::Large,
        _ => return None,
    })
}

fn district(word: &str) -> Option<District> {
    District::ALL.into_iter().find(|d| d.id() == word)
}

#[cfg(test)]
mod tests {
    use super::super::Case;
    use super::*;

    /// Whatever the fast reader accepts, serde reads the same way.
    fn check(text: &str) -> bool {
        match read(text) {
            Some(input) => {
                let serde = serde_json::from_str::<CaseInput>(text)
                    .unwrap_or_else(|e| panic!("serde rejects {text}: {e}"));
                assert_eq!(Case::try_from(input), Case::try_from(serde), "{text}");
                true
            }
            None => false,
        }
    }

    const FULL: &str = r#"{"person":{"id":"p1","birth_date":"1995-02-28","highest_degree":"master","degree_date":"2020-06-30","overseas_degree":false,"hukou_shenzhen_since":null,"works_in_ai":true,"is_founder":true,"kunpeng_selected":false,"high_level_talent":null},"enterprise":{"uscc":"91440300708461136T","registered_date":"2026-03-01","district":"nanshan","in_opc_community":true,"ai_business":true,"size":"micro","gov_deployed_product":false,"demonstration_project":null,"consortium_lead":true},"granted":[{"programme":"x","from":"2026-01-01","to":null},{"programme":"y","from":"2025-01-01","to":"2025-12-31"},{"from":"2024-01-01","programme":"z"}]}"#;

    #[test]
    fn finds_the_first_special_byte() {
        for text in [
            "",
            "abc",
            "abcdefgh\"",
            "abcdefghijklmnop",
            "ab\"cd",
            "深圳深圳\\x",
            "abcdefghi\u{1}",
        ] {
            let bytes = text.as_bytes();
            let exact = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len());
            let found = special(bytes, 0);
            assert!(found <= exact, "{text:?}");
            assert!(
                bytes[found..exact]
                    .iter()
                    .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
            );
        }
    }

    #[test]
    fn reads_what_serde_reads() {
        for text in [
            FULL,
            "{}",
            " { } \n",
            r#"{"person":{}}"#,
            r#"{"person":{"hukou_shenzhen_since":"2026-01-01"}}"#,
            r#"{"enterprise":null,"granted":null}"#,
            r#"{"granted":[],"enterprise":{}}"#,
            "{ \"person\" :\t{ \"id\" : \"a b\" , \"works_in_ai\" : true }\r\n}",
            r#"{"person":{"id":"深圳 🦀"}}"#,
        ] {
            assert!(check(text), "not read: {text}");
        }
        for word in ["none", "associate", "bachelor", "master", "doctorate"] {
            assert!(check(&format!(
                r#"{{"person":{{"highest_degree":"{word}"}}}}"#
            )));
        }
        for word in ["micro", "small", "medium", "large"] {
            assert!(check(&format!(r#"{{"enterprise":{{"size":"{word}"}}}}"#)));
        }
        for d in District::ALL {
            assert!(check(&format!(
                r#"{{"enterprise":{{"district":"{}"}}}}"#,
                d.id()
            )));
        }
    }

    #[test]
    fn leaves_anything_unusual_to_serde() {
        for text in [
            r#"{"person":{"id":"a\"b"}}"#,
            r#"{"person":{"id":"\u0041"}}"#,
            "{\"person\":{\"id\":\"a\u{1}\"}}",
            r#"{"person":{"id":1}}"#,
            r#"{"person":null}"#,
            r#"{"person":{},"person":{}}"#,
            r#"{"person":{"id":"a","id":"b"}}"#,
            r#"{"person":{"nickname":"x"}}"#,
            r#"{"colour":1}"#,
            r#"{"person":{"highest_degree":"phd"}}"#,
            r#"{"person":{"works_in_ai":"yes"}}"#,
            r#"{"person":{"works_in_ai":tru}}"#,
            r#"{"enterprise":{"district":"Nanshan"}}"#,
            r#"{"granted":[{"programme":"x","from":"2026-01-01",}]}"#,
            r#"{"granted":[{"programme":"x"},]}"#,
            r#"{"granted":{}}"#,
            r#"{"person":{}} x"#,
            r#"{"person":{}"#,
            r#"{"person":{},}"#,
            "[1]",
            "",
        ] {
            assert!(!check(text), "read: {text}");
        }
    }

    #[test]
    fn agrees_with_serde_on_every_truncation_and_mutation() {
        // Every prefix, and every single-byte deletion or replacement, of a
        // case with every field: what the fast reader accepts, serde reads
        // identically.
        let mut accepted = 0;
        for end in 0..=FULL.len() {
            if FULL.is_char_boundary(end) {
                accepted += usize::from(check(&FULL[..end]));
            }
        }
        let bytes = FULL.as_bytes();
        for i in 0..bytes.len() {
            let mut deleted = bytes.to_vec();
            deleted.remove(i);
            if let Ok(text) = String::from_utf8(deleted) {
                accepted += usize::from(check(&text));
            }
            for b in [b' ', b'"', b',', b'}', b']', b'{', b':', b'n', b'1', b'\\'] {
                let mut replaced = bytes.to_vec();
                replaced[i] = b;
                if let Ok(text) = String::from_utf8(replaced) {
                    accepted += usize::from(check(&text));
                }
            }
        }
        assert!(accepted > 1_000, "{accepted}");
    }
}
