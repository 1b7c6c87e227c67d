//! The batch path's JSON writer: case outputs written straight into a byte
//! buffer, with static keys, `itoa` for numbers and a fixed-width date
//! formatter, instead of serde's generic machinery and chrono's `strftime`.
//!
//! The bytes are exactly what `serde_json` writes for the same structs (their
//! `Serialize` impls, compact): same keys, order, escaping and number and
//! date formats. Strings are copied as they are when they need no escaping
//! (programme ids, condition names, fact names, dates: all of them in
//! practice) and go through `serde_json` otherwise, so escaping cannot
//! differ. `tests/fast_output.rs` checks the equality on generated cases.
//!
//! The fragments that never change (programme heads, condition names and
//! citations) are escaped once, when the pack loads, and kept in the pack
//! ([`PackJson`]).

use crate::case::Grant;
use crate::eval::{ParamUse, ProgrammeResult, Reason, ReasonFacts, Status};
use crate::facts::{Fact, FactSet, FactValue};
use crate::pack::model::{Pack, Programme};
use chrono::{Datelike, NaiveDate};
use std::fmt;

const INFALLIBLE: &str = "serializing into a Vec cannot fail";

/// The JSON fragments of a pack's results that never change, escaped once
/// when the pack loads: programme ids, kinds, condition names, citations.
#[derive(Clone, Default)]
pub(crate) struct PackJson {
    /// Per programme, per [`Status`] (as index):
    /// `{"programme":ID,"status":"S","kind":"K","amount_fen":`.
    heads: Vec<[Box<[u8]>; 3]>,
    /// Per programme, per [`Status`]: the whole of a brief result without
    /// figures, note or missing facts (most results of a batch).
    plain: Vec<[Box<[u8]>; 3]>,
    /// Per programme, per condition.
    conditions: Vec<Vec<ConditionJson>>,
}

/// A condition's fixed fragments.
#[derive(Clone)]
struct ConditionJson {
    /// `{"condition":NAME,"holds":`
    head: Box<[u8]>,
    /// `,"citation":CITATION,"parameters":`
    citation: Box<[u8]>,
}

impl fmt::Debug for PackJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackJson").finish_non_exhaustive()
    }
}

impl PackJson {
    pub(crate) fn new(programmes: &[Programme]) -> Self {
        let head = |p: &Programme, status: Status| {
            let mut out = b"{\"programme\":".to_vec();
            string(&mut out, &p.id);
            head_rest(&mut out, status, p.kind);
            out.into_boxed_slice()
        };
        const STATUSES: [Status; 3] = [Status::Eligible, Status::Ineligible, Status::Undetermined];
        PackJson {
            heads: programmes
                .iter()
                .map(|p| STATUSES.map(|status| head(p, status)))
                .collect(),
            plain: programmes
                .iter()
                .map(|p| {
                    STATUSES.map(|status| {
                        let mut out = head(p, status).into_vec();
                        out.extend_from_slice(NULL_FIGURES);
                        out.extend_from_slice(b",\"missing_facts\":[]}");
                        out.into_boxed_slice()
                    })
                })
                .collect(),
            conditions: programmes
                .iter()
                .map(|p| {
                    p.conditions
                        .iter()
                        .map(|c| {
                            let mut name = b"{\"condition\":".to_vec();
                            string(&mut name, &c.name);
                            name.extend_from_slice(b",\"holds\":");
                            let mut citation = b",\"citation\":".to_vec();
                            string(&mut citation, &c.citation);
                            citation.extend_from_slice(b",\"parameters\":");
                            ConditionJson {
                                head: name.into_boxed_slice(),
                                citation: citation.into_boxed_slice(),
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// `,"status":"S","kind":"K","amount_fen":` after the programme id.
fn head_rest(out: &mut Vec<u8>, status: Status, kind: crate::Kind) {
    out.extend_from_slice(b",\"status\":\"");
    out.extend_from_slice(status.name().as_bytes());
    out.extend_from_slice(b"\",\"kind\":\"");
    out.extend_from_slice(kind.name().as_bytes());
    out.extend_from_slice(b"\",\"amount_fen\":");
}

const NULL_FIGURES: &[u8] = b"null,\"ceiling_fen\":null,\"monthly_fen\":null,\"months\":null";

/// `{"id":…,"as_of":…,"results":[`: the start of a case output, as
/// `serde_json` writes the batch's `CaseOutput`; each result follows through
/// [`case_result`], then [`case_end`].
pub(crate) fn case_start(out: &mut Vec<u8>, id: Option<&str>, as_of: NaiveDate) {
    out.push(b'{');
    case_fields(out, id, as_of);
}

/// A single evaluation's start: `CaseEvaluation`'s `pack` before the case's
/// own fields.
pub(crate) fn evaluation_start(out: &mut Vec<u8>, pack: &Pack, id: Option<&str>, as_of: NaiveDate) {
    out.extend_from_slice(b"{\"pack\":{\"id\":");
    string(out, &pack.id);
    out.extend_from_slice(b",\"version\":");
    string(out, &pack.version);
    out.extend_from_slice(b"},");
    case_fields(out, id, as_of);
}

/// `"id":…,"as_of":…,"results":[`
fn case_fields(out: &mut Vec<u8>, id: Option<&str>, as_of: NaiveDate) {
    out.extend_from_slice(b"\"id\":");
    match id {
        Some(id) => string(out, id),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"as_of\":");
    date(out, as_of);
    out.extend_from_slice(b",\"results\":[");
}

/// The `i`th result of a case; `r` is `pack`'s `i`th programme's (anything
/// else is written without the precomputed parts).
pub(crate) fn case_result(out: &mut Vec<u8>, pack: &Pack, i: usize, r: &ProgrammeResult) {
    if i > 0 {
        out.push(b',');
    }
    let Some(programme) = pack
        .programmes
        .get(i)
        .filter(|p| std::ptr::eq(p.id.as_str(), r.programme))
    else {
        return result(out, r, None);
    };
    let status = r.status as usize;
    if r.reasons.is_none()
        && r.parameters.is_none()
        && r.pack.is_none()
        && r.note.is_none()
        && r.missing_facts == FactSet::EMPTY
        && no_figures(r)
    {
        return out.extend_from_slice(&pack.json.plain[i][status]);
    }
    let parts = Parts {
        programme,
        head: &pack.json.heads[i][status],
        conditions: &pack.json.conditions[i],
    };
    result(out, r, Some(parts));
}

/// `]}`: the end of a case output.
pub(crate) fn case_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"]}");
}

fn no_figures(r: &ProgrammeResult) -> bool {
    r.amount_fen.is_none()
        && r.ceiling_fen.is_none()
        && r.monthly_fen.is_none()
        && r.months.is_none()
}

/// The precomputed fragments of one programme's result.
struct Parts<'a> {
    programme: &'a Programme,
    head: &'a [u8],
    conditions: &'a [ConditionJson],
}

/// One programme's result; see [`ProgrammeResult`]'s `Serialize` for the
/// fields a brief result leaves out.
fn result(out: &mut Vec<u8>, r: &ProgrammeResult, parts: Option<Parts>) {
    match &parts {
        Some(parts) => out.extend_from_slice(parts.head),
        None => {
            out.extend_from_slice(b"{\"programme\":");
            string(out, r.programme);
            head_rest(out, r.status, r.kind);
        }
    }
    if no_figures(r) {
        out.extend_from_slice(NULL_FIGURES);
    } else {
        opt_int(out, r.amount_fen.map(|f| f.0));
        out.extend_from_slice(b",\"ceiling_fen\":");
        opt_int(out, r.ceiling_fen.map(|f| f.0));
        out.extend_from_slice(b",\"monthly_fen\":");
        opt_int(out, r.monthly_fen.map(|f| f.0));
        out.extend_from_slice(b",\"months\":");
        opt_int(out, r.months);
    }
    if let Some(reasons) = &r.reasons {
        out.extend_from_slice(b",\"reasons\":[");
        for (j, reason) in reasons.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            let condition = parts.as_ref().and_then(|parts| {
                let c = parts.programme.conditions.get(j)?;
                std::ptr::eq(c.name.as_str(), reason.condition).then(|| &parts.conditions[j])
            });
            self::reason(out, reason, condition);
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"missing_facts\":");
    fact_set(out, r.missing_facts);
    match (&r.note, &r.parameters) {
        (Some(note), _) => {
            out.extend_from_slice(b",\"note\":");
            string(out, note);
        }
        (None, Some(_)) => out.extend_from_slice(b",\"note\":null"),
        (None, None) => {}
    }
    if let Some(parameters) = &r.parameters {
        out.extend_from_slice(b",\"parameters\":");
        params(out, parameters);
    }
    if let Some(pack) = r.pack {
        out.extend_from_slice(b",\"pack\":");
        string(out, pack);
    }
    out.push(b'}');
}

/// One reason; `parts` are its condition's precomputed name and citation.
fn reason(out: &mut Vec<u8>, r: &Reason, parts: Option<&ConditionJson>) {
    match parts {
        Some(parts) => out.extend_from_slice(&parts.head),
        None => {
            out.extend_from_slice(b"{\"condition\":");
            string(out, r.condition);
            out.extend_from_slice(b",\"holds\":");
        }
    }
    out.extend_from_slice(match r.holds {
        Some(true) => b"true,\"facts\":",
        Some(false) => b"false,\"facts\":",
        None => b"null,\"facts\":",
    });
    facts(out, &r.facts);
    match parts {
        Some(parts) => out.extend_from_slice(&parts.citation),
        None => {
            out.extend_from_slice(b",\"citation\":");
            string(out, r.citation);
            out.extend_from_slice(b",\"parameters\":");
        }
    }
    params(out, &r.parameters);
    out.push(b'}');
}

fn facts(out: &mut Vec<u8>, facts: &ReasonFacts) {
    out.push(b'{');
    for (i, (fact, value)) in facts.values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        fact_name(out, *fact);
        out.push(b':');
        fact_value(out, *value);
    }
    if let Some(grants) = &facts.granted {
        if !facts.values.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"granted\":[");
        for (i, g) in grants.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            grant(out, g);
        }
        out.push(b']');
    }
    out.push(b'}');
}

fn fact_value(out: &mut Vec<u8>, value: FactValue) {
    match value {
        FactValue::Bool(true) => out.extend_from_slice(b"true"),
        FactValue::Bool(false) => out.extend_from_slice(b"false"),
        FactValue::Date(d) => date(out, d),
        FactValue::NoDate => out.extend_from_slice(b"null"),
        FactValue::Enum(t, i) => quoted(out, t.names()[usize::from(i)]),
    }
}

fn grant(out: &mut Vec<u8>, g: &Grant) {
    out.extend_from_slice(b"{\"programme\":");
    string(out, &g.programme);
    out.extend_from_slice(b",\"from\":");
    date(out, g.from);
    out.extend_from_slice(b",\"to\":");
    opt_date(out, g.to);
    out.push(b'}');
}

fn params(out: &mut Vec<u8>, params: &[ParamUse]) {
    out.push(b'[');
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        string(out, p.name);
        out.extend_from_slice(b",\"value\":");
        opt_int(out, p.value);
        out.extend_from_slice(b",\"unit\":\"");
        out.extend_from_slice(p.unit.name().as_bytes());
        out.extend_from_slice(b"\",\"since\":");
        opt_date(out, p.since);
        out.extend_from_slice(b",\"pack\":");
        string(out, p.pack);
        out.push(b'}');
    }
    out.push(b']');
}

fn fact_set(out: &mut Vec<u8>, set: FactSet) {
    if set == FactSet::EMPTY {
        out.extend_from_slice(b"[]");
        return;
    }
    out.push(b'[');
    for (i, fact) in set.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        fact_name(out, fact);
    }
    out.push(b']');
}

/// Fact names and enum words are fixed identifiers that need no escaping
/// (a test checks).
fn fact_name(out: &mut Vec<u8>, fact: Fact) {
    quoted(out, fact.name());
}

fn quoted(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// A JSON string: copied between quotes when nothing in it needs escaping
/// (what `serde_json` escapes: `"`, `\` and control characters), else
/// written by `serde_json` itself.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        quoted(out, s);
    } else {
        serde_json::to_writer(out, s).expect(INFALLIBLE);
    }
}

fn opt_int(out: &mut Vec<u8>, value: Option<i64>) {
    match value {
        Some(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

fn opt_date(out: &mut Vec<u8>, value: Option<NaiveDate>) {
    match value {
        Some(d) => date(out, d),
        None => out.extend_from_slice(b"null"),
    }
}

/// `"YYYY-MM-DD"`, as chrono serializes a date with a four-digit year; other
/// years (signed, wider) go through chrono.
pub(crate) fn date(out: &mut Vec<u8>, d: NaiveDate) {
    let year = d.year();
    if !(0..=9999).contains(&year) {
        serde_json::to_writer(out, &d).expect(INFALLIBLE);
        return;
    }
    let (y, m, day) = (year as u32, d.month(), d.day());
    let digit = |n: u32| b'0' + (n % 10) as u8;
    out.extend_from_slice(&[
        b'"',
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
        b'"',
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::EnumType;

    fn via_serde<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for s in [
            "",
            "sz.housing.subsidy",
            "quote \" and backslash \\",
            "control \u{1} \u{8} \u{c} \n \r \t \u{1f} del \u{7f}",
            "深圳 émoji 🦀 \u{2028}",
        ] {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(out, via_serde(s), "{s:?}");
        }
    }

    #[test]
    fn fact_names_and_enum_words_need_no_escaping() {
        let enums = [EnumType::Degree, EnumType::District, EnumType::Size];
        let words = enums.iter().flat_map(|t| t.names().iter().copied());
        for s in Fact::ALL.iter().map(|f| f.name()).chain(words) {
            let mut out = Vec::new();
            quoted(&mut out, s);
            assert_eq!(out, via_serde(s), "{s:?}");
        }
    }

    #[test]
    fn dates_are_formatted_like_chrono() {
        for (y, m, d) in [
            (2026, 6, 1),
            (0, 1, 1),
            (9, 12, 31),
            (999, 2, 3),
            (2024, 2, 29),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 1, 1),
            (-12345, 6, 7),
            (262_142, 12, 31),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut out = Vec::new();
            self::date(&mut out, date);
            assert_eq!(out, via_serde(&date), "{date:?}");
        }
    }

    #[test]
    fn integers_are_formatted_like_serde_json() {
        for v in [0, 1, -1, 125_000, 3_000_000_000, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            opt_int(&mut out, Some(v));
            assert_eq!(out, via_serde(&v));
        }
    }
}
