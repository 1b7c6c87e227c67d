//! What differs between two packs on a date (`opcity policy diff A B`):
//! programmes and parameters only one pack has, and for those both have,
//! each field that differs with its two values. Rules are compared as
//! written (condition texts, the parameters an amount reads), parameters
//! by their values on the date.

use crate::explanation::PackRef;
use crate::facts::FactType;
use crate::pack::model::{Amount, Pack, Parameter, Programme, Test};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The differences between pack `a` and pack `b` on `as_of`.
#[derive(Debug, Serialize)]
pub struct PackDiff {
    pub as_of: NaiveDate,
    /// Each pack's chain, root first.
    pub a: Vec<PackRef>,
    pub b: Vec<PackRef>,
    pub programmes: Changes,
    pub parameters: Changes,
}

/// What differs in one kind of thing, by id (programmes) or name
/// (parameters), each list sorted.
#[derive(Debug, Default, Serialize)]
pub struct Changes {
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    pub changed: Vec<Changed>,
}

/// One thing both packs have, and how it differs.
#[derive(Debug, Serialize)]
pub struct Changed {
    pub id: String,
    /// Field → `[value in a, value in b]`, for the fields that differ.
    pub fields: BTreeMap<&'static str, [Value; 2]>,
}

type Fields = BTreeMap<&'static str, Value>;

impl PackDiff {
    pub fn between(a: &Pack, b: &Pack, as_of: NaiveDate) -> PackDiff {
        let programmes = |pack: &Pack| -> BTreeMap<String, Fields> {
            pack.programmes()
                .iter()
                .map(|p| (p.id.clone(), programme_fields(pack, p)))
                .collect()
        };
        let parameters = |pack: &Pack| -> BTreeMap<String, Fields> {
            pack.parameters()
                .iter()
                .map(|p| (p.name.clone(), parameter_fields(p, as_of)))
                .collect()
        };
        PackDiff {
            as_of,
            a: a.lineage().to_vec(),
            b: b.lineage().to_vec(),
            programmes: changes(programmes(a), programmes(b)),
            parameters: changes(parameters(a), parameters(b)),
        }
    }

    /// Whether the packs agree on every programme and parameter.
    pub fn is_empty(&self) -> bool {
        [&self.programmes, &self.parameters]
            .iter()
            .all(|c| c.only_in_a.is_empty() && c.only_in_b.is_empty() && c.changed.is_empty())
    }
}

fn changes(mut a: BTreeMap<String, Fields>, b: BTreeMap<String, Fields>) -> Changes {
    let mut out = Changes::default();
    for (id, b_fields) in b {
        let Some(mut a_fields) = a.remove(&id) else {
            out.only_in_b.push(id);
            continue;
        };
        let mut fields = BTreeMap::new();
        for (key, b_value) in b_fields {
            let a_value = a_fields.remove(key).unwrap_or(Value::Null);
            if a_value != b_value {
                fields.insert(key, [a_value, b_value]);
            }
        }
        if !fields.is_empty() {
            out.changed.push(Changed { id, fields });
        }
    }
    out.only_in_a = a.into_keys().collect();
    out
}

fn programme_fields(pack: &Pack, p: &Programme) -> Fields {
    let conditions: Vec<Value> = p
        .conditions
        .iter()
        .map(|c| json!({"name": c.name, "when": condition_text(&c.test), "citation": c.citation}))
        .collect();
    let exceptions: Vec<Value> = p
        .exceptions
        .iter()
        .map(|e| json!({"name": e.name, "pack": e.pack, "when": e.when.source, "amount": amount_text(pack, &e.amount)}))
        .collect();
    let duration = p.duration.map(|i| pack.parameters[i].name.clone());
    let evidence: Vec<&str> = p.evidence.iter().map(|e| e.id.as_str()).collect();
    let rubric: Vec<Value> = p.rubric.iter().map(|c| json!([c.id, c.max])).collect();
    BTreeMap::from([
        ("pack", json!(p.pack)),
        ("title", json!(p.title)),
        ("measure", json!(p.measure)),
        ("citation", json!(p.citation)),
        ("beneficiary", json!(p.beneficiary)),
        ("kind", json!(p.kind)),
        ("delivery", json!(p.delivery)),
        ("effective", json!([p.effective.from, p.effective.to])),
        ("conditions", json!(conditions)),
        ("amount", json!(amount_text(pack, &p.amount))),
        ("exceptions", json!(exceptions)),
        ("duration", json!(duration)),
        ("one_time", json!(p.one_time)),
        ("exclusion_groups", json!(p.exclusion_groups)),
        ("beneficiary_cap", json!(p.beneficiary_cap)),
        ("decided_by", json!(p.decided_by)),
        ("second_review_above_fen", json!(p.second_review_above)),
        ("service_days", json!(p.service_days)),
        ("notice_days", json!(p.notice_days)),
        ("evidence", json!(evidence)),
        ("rubric", json!(rubric)),
    ])
}

fn parameter_fields(p: &Parameter, as_of: NaiveDate) -> Fields {
    let at = p.value_at(as_of);
    BTreeMap::from([
        ("pack", json!(p.pack)),
        ("unit", json!(p.unit)),
        ("value", json!(at.and_then(|v| v.value))),
        ("since", json!(at.map(|v| v.since))),
        ("reference", json!(p.reference)),
        ("flagged", json!(p.flagged)),
    ])
}

/// A condition as the pack writes it; built-in conditions have no text.
fn condition_text(test: &Test) -> Option<&str> {
    match test {
        Test::Expr(compiled) => Some(&compiled.source),
        _ => None,
    }
}

/// An amount rule as the pack writes it, by parameter name.
fn amount_text(pack: &Pack, amount: &Amount) -> String {
    let name = |i: usize| pack.parameters[i].name.as_str();
    match amount {
        Amount::None => "none".to_owned(),
        Amount::Fixed(i) => format!("fixed {}", name(*i)),
        Amount::Ceiling(i) => format!("ceiling {}", name(*i)),
        Amount::Tiered {
            fact,
            figure,
            tiers,
        } => {
            let names = match fact.fact_type() {
                FactType::Enum(t) => t.names(),
                _ => &[],
            };
            let tiers: Vec<String> = tiers
                .iter()
                .enumerate()
                .filter_map(|(i, p)| Some(format!("{}: {}", names.get(i)?, name((*p)?))))
                .collect();
            format!("{figure:?} by {}: {}", fact.name(), tiers.join(", ")).to_lowercase()
        }
        Amount::Monthly { monthly, months } => {
            format!("monthly {} for {}", name(*monthly), name(*months))
        }
        Amount::ContractShare {
            share,
            startup_share,
            cap,
        } => match startup_share {
            Some(s) => format!(
                "contract share {} ({} for a startup) up to {}",
                name(*share),
                name(*s),
                name(*cap)
            ),
            None => format!("contract share {} up to {}", name(*share), name(*cap)),
        },
        Amount::TopUp {
            base,
            up_to,
            combined_cap,
        } => format!(
            "top-up of {} by up to {}, within {} combined",
            pack.programmes[*base].id,
            name(*up_to),
            name(*combined_cap)
        ),
    }
}
