//! One evaluation case: the person, the optional enterprise and the benefits
//! already granted.
//!
//! Input goes through two stages. Serde reads the wire shape (`*Input`, with
//! `deny_unknown_fields`) so that unknown fields, wrong types and missing keys
//! are caught with their path; then a conversion parses dates and the USCC and
//! checks grants, so each problem gets its own [`CaseErrorKind`]. The result,
//! [`Case`], only holds valid values.

use crate::date::parse_date;
use crate::error::{join_path, missing_field, without_position};
use chrono::NaiveDate;
use opcity_domain::{District, Uscc};
use serde::{Deserialize, Deserializer, Serialize, de};
use std::borrow::Cow;
use std::fmt;

mod fast;

/// A validated case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    pub person: Person,
    /// `None`: the person has no company (yet).
    pub enterprise: Option<Enterprise>,
    pub granted: Vec<Grant>,
}

/// Person facts; `None` means the fact is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub id: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub highest_degree: Option<Degree>,
    pub degree_date: Option<NaiveDate>,
    pub overseas_degree: Option<bool>,
    pub hukou_shenzhen_since: Option<Hukou>,
    pub works_in_ai: Option<bool>,
    pub is_founder: Option<bool>,
    pub kunpeng_selected: Option<bool>,
    pub high_level_talent: Option<bool>,
}

/// The household registration, when known: `null` on the wire is a known
/// "not Shenzhen", which is different from the fact being absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hukou {
    ShenzhenSince(NaiveDate),
    NotShenzhen,
}

/// Enterprise facts; `None` means the fact is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enterprise {
    pub uscc: Option<Uscc>,
    pub registered_date: Option<NaiveDate>,
    pub district: Option<District>,
    pub in_opc_community: Option<bool>,
    pub ai_business: Option<bool>,
    pub size: Option<Size>,
    pub gov_deployed_product: Option<bool>,
    pub demonstration_project: Option<bool>,
    pub consortium_lead: Option<bool>,
}

/// A benefit already granted. `to: None` is open-ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub programme: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Grant {
    /// Still running on `as_of` (or not started yet): `to` is open or not
    /// before `as_of`.
    pub fn active_on(&self, as_of: NaiveDate) -> bool {
        self.to.is_none_or(|to| to >= as_of)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Degree {
    None,
    Associate,
    Bachelor,
    Master,
    Doctorate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Micro,
    Small,
    Medium,
    Large,
}

/// What is wrong with a case, with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseErrorKind {
    NotJson,
    UnknownField,
    MissingField,
    WrongType,
    InvalidValue,
    InvalidDate,
    InvalidUscc,
    BadGrant,
}

impl CaseErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            CaseErrorKind::NotJson => "not_json",
            CaseErrorKind::UnknownField => "unknown_field",
            CaseErrorKind::MissingField => "missing_field",
            CaseErrorKind::WrongType => "wrong_type",
            CaseErrorKind::InvalidValue => "invalid_value",
            CaseErrorKind::InvalidDate => "invalid_date",
            CaseErrorKind::InvalidUscc => "invalid_uscc",
            CaseErrorKind::BadGrant => "bad_grant",
        }
    }
}

/// A bad case. Serializes as the spec's `{ "field": ..., "problem": ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct CaseError {
    #[serde(skip)]
    pub kind: CaseErrorKind,
    /// Path of the offending field, e.g. `person.birth_date`, `granted[0].to`;
    /// `case` when the case as a whole is unusable.
    pub field: String,
    pub problem: String,
}

impl CaseError {
    fn new(kind: CaseErrorKind, field: impl Into<String>, problem: impl Into<String>) -> Self {
        CaseError {
            kind,
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Parses and validates one case from JSON text, except for grant programme
/// ids, which need the pack (see [`Case::validate`] and
/// [`crate::Pack::parse_case`]).
pub fn parse_case(text: &str) -> Result<Case, CaseError> {
    // Serde would also read a struct from an array, positionally; a case is
    // an object with named facts only.
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) => CaseError::new(CaseErrorKind::NotJson, "case", format!("not JSON: {e}")),
            Ok(_) => CaseError::new(
                CaseErrorKind::WrongType,
                "case",
                "a case must be a JSON object",
            ),
        });
    }
    // Well-formed cases take the hand-written reader; anything it is not
    // sure of goes to serde, which has the last word on errors.
    if let Some(input) = fast::read(text) {
        return Case::try_from(input);
    }
    // Serde pays nothing for error paths; only a failing case is read a
    // second time to find where it failed.
    match serde_json::from_str::<CaseInput>(text) {
        Ok(input) => Case::try_from(input),
        Err(e) if e.is_syntax() || e.is_eof() => Err(CaseError::new(
            CaseErrorKind::NotJson,
            "case",
            format!("not JSON: {e}"),
        )),
        Err(e) => Err(locate_data_error(text, &e)),
    }
}

/// Re-reads a case that is JSON but not a valid case, tracking the path.
fn locate_data_error(text: &str, first: &serde_json::Error) -> CaseError {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, CaseInput>(&mut de) {
        Err(e) => serde_error(
            &e.path().to_string(),
            without_position(&e.inner().to_string()),
        ),
        Ok(_) => serde_error("", without_position(&first.to_string())),
    }
}

/// Turns a serde message at `path` into a case error. The path of an unknown
/// field already ends with it; a missing field is reported at the enclosing
/// object, so the name in the message completes the path.
fn serde_error(path: &str, message: &str) -> CaseError {
    let root = path.is_empty() || path == ".";
    if message.starts_with("unknown field `") {
        return CaseError::new(CaseErrorKind::UnknownField, path, "unknown field");
    }
    if let Some(name) = missing_field(message) {
        return CaseError::new(
            CaseErrorKind::MissingField,
            join_path(path, name),
            "is required",
        );
    }
    let field = if root { "case" } else { path };
    let kind = if message.starts_with("unknown variant") || message.starts_with("invalid value") {
        CaseErrorKind::InvalidValue
    } else {
        CaseErrorKind::WrongType
    };
    CaseError::new(kind, field, message)
}

impl Case {
    /// Checks what needs the pack: every granted programme must be one of its
    /// programmes.
    pub fn validate(&self, pack: &crate::Pack) -> Result<(), CaseError> {
        for (i, grant) in self.granted.iter().enumerate() {
            if pack.programme(&grant.programme).is_none() {
                return Err(CaseError::new(
                    CaseErrorKind::BadGrant,
                    format!("granted[{i}].programme"),
                    format!("unknown programme `{}`", grant.programme),
                ));
            }
        }
        Ok(())
    }
}

/// Reads a case as serde's `try_from = "CaseInput"` would (the same error
/// messages), borrowing the input's strings on the way.
impl<'de> Deserialize<'de> for Case {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Case, D::Error> {
        let input = CaseInput::deserialize(d)?;
        Case::try_from(input).map_err(de::Error::custom)
    }
}

// ---- wire shape ----

/// A string of the input: borrowed when it has no escapes, so reading a
/// case allocates only what [`Case`] keeps.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<'a>, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                // As `String` says it, so messages do not change.
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_string(Visitor)
    }
}

impl Text<'_> {
    fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a case object")]
struct CaseInput<'a> {
    #[serde(default, borrow)]
    person: PersonInput<'a>,
    #[serde(default, borrow)]
    enterprise: Option<EnterpriseInput<'a>>,
    /// `null` is accepted as an empty list, like an absent one.
    #[serde(default, borrow)]
    granted: Option<Vec<GrantInput<'a>>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a person object")]
struct PersonInput<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    birth_date: Option<Text<'a>>,
    highest_degree: Option<Degree>,
    #[serde(borrow)]
    degree_date: Option<Text<'a>>,
    overseas_degree: Option<bool>,
    #[serde(default, borrow, deserialize_with = "present")]
    hukou_shenzhen_since: Option<Option<Text<'a>>>,
    works_in_ai: Option<bool>,
    is_founder: Option<bool>,
    kunpeng_selected: Option<bool>,
    high_level_talent: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an enterprise object")]
struct EnterpriseInput<'a> {
    #[serde(borrow)]
    uscc: Option<Text<'a>>,
    #[serde(borrow)]
    registered_date: Option<Text<'a>>,
    district: Option<District>,
    in_opc_community: Option<bool>,
    ai_business: Option<bool>,
    size: Option<Size>,
    gov_deployed_product: Option<bool>,
    demonstration_project: Option<bool>,
    consortium_lead: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a grant object")]
struct GrantInput<'a> {
    #[serde(borrow)]
    programme: Option<Text<'a>>,
    #[serde(borrow)]
    from: Option<Text<'a>>,
    #[serde(borrow)]
    to: Option<Text<'a>>,
}

/// A present key, even with a `null` value, becomes `Some`; an absent key
/// stays `None` through `#[serde(default)]`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn date(field: &str, text: Option<Text>) -> Result<Option<NaiveDate>, CaseError> {
    text.map(|t| parse_date(&t.0))
        .transpose()
        .map_err(|problem| CaseError::new(CaseErrorKind::InvalidDate, field, problem))
}

impl TryFrom<CaseInput<'_>> for Case {
    type Error = CaseError;

    fn try_from(input: CaseInput) -> Result<Case, CaseError> {
        Ok(Case {
            person: Person::try_from(input.person)?,
            enterprise: input.enterprise.map(Enterprise::try_from).transpose()?,
            granted: input
                .granted
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, g)| grant(i, g))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl TryFrom<PersonInput<'_>> for Person {
    type Error = CaseError;

    fn try_from(p: PersonInput) -> Result<Person, CaseError> {
        let hukou = match p.hukou_shenzhen_since {
            None => None,
            Some(None) => Some(Hukou::NotShenzhen),
            Some(Some(text)) => {
                date("person.hukou_shenzhen_since", Some(text))?.map(Hukou::ShenzhenSince)
            }
        };
        Ok(Person {
            id: p.id.map(Text::into_owned),
            birth_date: date("person.birth_date", p.birth_date)?,
            highest_degree: p.highest_degree,
            degree_date: date("person.degree_date", p.degree_date)?,
            overseas_degree: p.overseas_degree,
            hukou_shenzhen_since: hukou,
            works_in_ai: p.works_in_ai,
            is_founder: p.is_founder,
            kunpeng_selected: p.kunpeng_selected,
            high_level_talent: p.high_level_talent,
        })
    }
}

impl TryFrom<EnterpriseInput<'_>> for Enterprise {
    type Error = CaseError;

    fn try_from(e: EnterpriseInput) -> Result<Enterprise, CaseError> {
        let uscc = e
            .uscc
            .map(|code| Uscc::parse(&code.0))
            .transpose()
            .map_err(|err| {
                CaseError::new(
                    CaseErrorKind::InvalidUscc,
                    "enterprise.uscc",
                    err.to_string(),
                )
            })?;
        Ok(Enterprise {
            uscc,
            registered_date: date("enterprise.registered_date", e.registered_date)?,
            district: e.district,
            in_opc_community: e.in_opc_community,
            ai_business: e.ai_business,
            size: e.size,
            gov_deployed_product: e.gov_deployed_product,
            demonstration_project: e.demonstration_project,
            consortium_lead: e.consortium_lead,
        })
    }
}

fn grant(i: usize, g: GrantInput) -> Result<Grant, CaseError> {
    let field = |name: &str| format!("granted[{i}].{name}");
    let required = |name: &str| CaseError::new(CaseErrorKind::BadGrant, field(name), "is required");
    let programme = g
        .programme
        .map(Text::into_owned)
        .ok_or_else(|| required("programme"))?;
    let from = date(&field("from"), g.from)?.ok_or_else(|| required("from"))?;
    let to = date(&field("to"), g.to)?;
    if let Some(to) = to.filter(|to| *to < from) {
        return Err(CaseError::new(
            CaseErrorKind::BadGrant,
            field("to"),
            format!("{to} is before `from` ({from})"),
        ));
    }
    Ok(Grant {
        programme,
        from,
        to,
    })
}

impl fmt::Display for CaseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> CaseError {
        parse_case(text).unwrap_err()
    }

    #[test]
    fn parses_a_full_case() {
        let case = parse_case(
            r#"{"person":{"id":"p1","birth_date":"1995-02-28","highest_degree":"master",
                "hukou_shenzhen_since":null,"works_in_ai":true},
               "enterprise":{"uscc":"91440300708461136T","district":"nanshan","size":"micro"},
               "granted":[{"programme":"x","from":"2026-01-01","to":null}]}"#,
        )
        .unwrap();
        assert_eq!(case.person.id.as_deref(), Some("p1"));
        assert_eq!(case.person.highest_degree, Some(Degree::Master));
        assert_eq!(case.person.hukou_shenzhen_since, Some(Hukou::NotShenzhen));
        assert_eq!(case.person.is_founder, None);
        let enterprise = case.enterprise.unwrap();
        assert_eq!(enterprise.district, Some(District::Nanshan));
        assert_eq!(case.granted[0].to, None);
    }

    #[test]
    fn absent_hukou_is_missing_not_null() {
        let case = parse_case(r#"{"person":{}}"#).unwrap();
        assert_eq!(case.person.hukou_shenzhen_since, None);
        let case = parse_case(r#"{"person":{"hukou_shenzhen_since":"2026-01-01"}}"#).unwrap();
        assert_eq!(
            case.person.hukou_shenzhen_since,
            Some(Hukou::ShenzhenSince(
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
            ))
        );
    }

    #[test]
    fn reports_each_kind_of_bad_input_with_its_field() {
        let cases = [
            (
                r#"{"person":{"nickname":"x"}}"#,
                "person.nickname",
                CaseErrorKind::UnknownField,
            ),
            (r#"{"colour":1}"#, "colour", CaseErrorKind::UnknownField),
            (
                r#"{"person":{"works_in_ai":"yes"}}"#,
                "person.works_in_ai",
                CaseErrorKind::WrongType,
            ),
            (
                r#"{"person":{"highest_degree":"phd"}}"#,
                "person.highest_degree",
                CaseErrorKind::InvalidValue,
            ),
            (
                r#"{"person":{"birth_date":"1990-02-30"}}"#,
                "person.birth_date",
                CaseErrorKind::InvalidDate,
            ),
            (
                r#"{"enterprise":{"uscc":"91440300708461136U"}}"#,
                "enterprise.uscc",
                CaseErrorKind::InvalidUscc,
            ),
            (
                r#"{"granted":[{"programme":"x"}]}"#,
                "granted[0].from",
                CaseErrorKind::BadGrant,
            ),
            (
                r#"{"granted":[{"from":"2026-01-01"}]}"#,
                "granted[0].programme",
                CaseErrorKind::BadGrant,
            ),
            (
                r#"{"granted":[{"programme":"x","from":"2026-01-02","to":"2026-01-01"}]}"#,
                "granted[0].to",
                CaseErrorKind::BadGrant,
            ),
            (
                r#"{"granted":[{"programme":"x","from":"2026-01-01","until":null}]}"#,
                "granted[0].until",
                CaseErrorKind::UnknownField,
            ),
            ("[1, 2", "case", CaseErrorKind::NotJson),
            ("42", "case", CaseErrorKind::WrongType),
            ("[{}]", "case", CaseErrorKind::WrongType),
            (r#"{"person": 1}"#, "person", CaseErrorKind::WrongType),
        ];
        for (text, field, kind) in cases {
            let e = err(text);
            assert_eq!((e.field.as_str(), e.kind), (field, kind), "{text}: {e}");
            // Inside a batch a position only helps when the text is not JSON.
            let positioned = e.problem.contains(" at line ");
            assert_eq!(positioned, kind == CaseErrorKind::NotJson, "{}", e.problem);
        }
    }

    #[test]
    fn grant_activity_includes_the_last_day() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let grant = Grant {
            programme: "x".into(),
            from: d("2026-01-01"),
            to: Some(d("2026-06-30")),
        };
        assert!(grant.active_on(d("2026-06-30")));
        assert!(!grant.active_on(d("2026-07-01")));
        assert!(Grant { to: None, ..grant }.active_on(d("2030-01-01")));
    }

    #[test]
    fn error_serializes_to_the_spec_shape() {
        let e = err(r#"{"person":{"birth_date":"x"}}"#);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["field"], "person.birth_date");
        assert_eq!(json.as_object().unwrap().len(), 2);
    }
}
