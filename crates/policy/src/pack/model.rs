//! A loaded pack: programmes with compiled conditions, dated parameters and
//! the pack's own tests.

use super::files::Figure;
use crate::case::Case;
use crate::expr::{Compiled, Unit};
use crate::facts::Fact;
use chrono::NaiveDate;
use opcity_domain::Fen;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A text in both interface languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

/// An inclusive date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    pub fn contains(self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beneficiary {
    Person,
    Enterprise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cash,
    Ceiling,
    Loan,
    Voucher,
    InKind,
    Selective,
    Referral,
}

impl Kind {
    /// The name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cash => "cash",
            Kind::Ceiling => "ceiling",
            Kind::Loan => "loan",
            Kind::Voucher => "voucher",
            Kind::InKind => "in_kind",
            Kind::Selective => "selective",
            Kind::Referral => "referral",
        }
    }
}

/// How an approved benefit reaches its holder once the offer is accepted:
/// the pack's `delivery`, or what the programme's kind implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A schedule of instalments paid from the programme's budget.
    Cash,
    /// Issued into the enterprise's voucher wallet from the programme's pool.
    Voucher,
    /// A space request in the chosen community for its operator to offer.
    Space,
    /// A housing request for the district's housing allocator.
    Housing,
    /// A title (and the support attached to it), held for a period.
    Title,
    /// A referral to a partner (banks and guarantors, the national platform).
    Referral,
}

impl Delivery {
    /// The name in JSON and in stored records.
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Cash => "cash",
            Delivery::Voucher => "voucher",
            Delivery::Space => "space",
            Delivery::Housing => "housing",
            Delivery::Title => "title",
            Delivery::Referral => "referral",
        }
    }

    /// What a programme of `kind` delivers when its pack does not say;
    /// `None` for in-kind benefits, which must say (space or housing).
    pub fn implied_by(kind: Kind) -> Option<Delivery> {
        match kind {
            Kind::Cash | Kind::Ceiling => Some(Delivery::Cash),
            Kind::Voucher => Some(Delivery::Voucher),
            Kind::Selective => Some(Delivery::Title),
            Kind::Loan | Kind::Referral => Some(Delivery::Referral),
            Kind::InKind => None,
        }
    }
}

/// Support the plan attaches to a title (measure (2): "mentorship, investor
/// access, priority industrial space, innovation resources, … and city-level
/// scenario access"), held as entitlements the other modules check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    Mentorship,
    InvestorAccess,
    PriorityIndustrialSpace,
    InnovationResources,
    ScenarioAccess,
}

impl Support {
    pub const ALL: [Support; 5] = [
        Support::Mentorship,
        Support::InvestorAccess,
        Support::PriorityIndustrialSpace,
        Support::InnovationResources,
        Support::ScenarioAccess,
    ];

    /// The name in JSON and in stored records.
    pub fn name(self) -> &'static str {
        match self {
            Support::Mentorship => "mentorship",
            Support::InvestorAccess => "investor_access",
            Support::PriorityIndustrialSpace => "priority_industrial_space",
            Support::InnovationResources => "innovation_resources",
            Support::ScenarioAccess => "scenario_access",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    District,
    Municipal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Document,
    Field,
}

/// Something an applicant must supply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub id: String,
    pub title: Text,
    pub kind: EvidenceKind,
}

/// One criterion of a programme's review rubric: reviewers give it 0 to
/// `max` points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub id: String,
    pub title: Text,
    pub max: i32,
}

/// A programme's metadata, as services and the portal show it, and its
/// compiled rules.
#[derive(Debug, Clone)]
pub struct Programme {
    pub id: String,
    /// The pack that defines the programme (this pack or an ancestor).
    pub pack: String,
    pub title: Text,
    pub description: Text,
    pub measure: u8,
    pub citation: String,
    pub beneficiary: Beneficiary,
    pub kind: Kind,
    /// How an approval is delivered once accepted.
    pub delivery: Delivery,
    /// Whether an approval confers a title (a selection), held from the
    /// acceptance to the programme's end, with [`Programme::support`].
    pub confers_title: bool,
    /// The support attached to the title.
    pub support: Vec<Support>,
    pub effective: Window,
    pub one_time: bool,
    pub exclusion_groups: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// The review rubric (empty: reviewers decide without scores).
    pub rubric: Vec<Criterion>,
    pub decided_by: DecidedBy,
    /// Approvals above this amount need a second reviewer.
    pub second_review_above: Option<Fen>,
    /// Parameter (fen) capping what one beneficiary holds of the programme
    /// in total, across districts and paths ([`Pack::beneficiary_cap`]).
    pub beneficiary_cap: Option<String>,
    /// The service standard: calendar days from submission to a decision
    /// (none: the pack promises no date).
    pub service_days: Option<u16>,
    /// Space and housing: calendar days between a confirmed lapse and the
    /// end of the allocation (none: it ends on the day).
    pub notice_days: Option<u16>,
    /// The programme whose figure this one tops up, if it is a top-up.
    pub tops_up: Option<String>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) amount: Amount,
    /// Exceptions to `amount`, the most specific pack's first.
    pub(crate) exceptions: Vec<Exception>,
    /// Flagged parameters its conditions read: every result says so.
    pub(crate) flagged_in_conditions: Vec<usize>,
    /// Parameter index giving `months` for a duration-only benefit.
    pub(crate) duration: Option<usize>,
}

impl Programme {
    /// Whether the programme gives a figure (an amount or a ceiling): an
    /// approval of it is paid from, or issued from, a budget.
    pub fn has_amount(&self) -> bool {
        !matches!(self.amount, Amount::None)
    }

    /// Names of the conditions reported in `reasons`, in order.
    pub fn condition_names(&self) -> impl Iterator<Item = &str> {
        self.conditions.iter().map(|c| c.name.as_str())
    }

    /// The conditions written as expressions, by name with their text: the
    /// ones a what-if scenario may rewrite ([`Pack::with_conditions`]).
    pub fn written_conditions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.conditions.iter().filter_map(|c| match &c.test {
            Test::Expr(compiled) if c.name != super::edit::BUILT_IN => {
                Some((c.name.as_str(), compiled.source.as_str()))
            }
            _ => None,
        })
    }

    /// The facts its rules read: its conditions, its exceptions' and the
    /// fact its figure is tiered by (a top-up's base reads its own).
    pub fn facts(&self) -> crate::FactSet {
        let conditions = self.conditions.iter().filter_map(|c| match &c.test {
            Test::Expr(compiled) => Some(compiled.facts),
            _ => None,
        });
        let exceptions = self.exceptions.iter().map(|e| e.when.facts);
        let tier = match &self.amount {
            Amount::Tiered { fact, .. } => crate::FactSet::of(*fact),
            _ => crate::FactSet::EMPTY,
        };
        conditions
            .chain(exceptions)
            .fold(tier, crate::FactSet::union)
    }
}

/// An exception to a programme's amount rule, from the pack `pack`.
#[derive(Debug, Clone)]
pub(crate) struct Exception {
    pub name: String,
    pub pack: String,
    pub citation: String,
    pub when: Compiled,
    pub amount: Amount,
}

/// One named condition with the citation its reasons carry.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub name: String,
    pub citation: String,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// The evaluation date is inside the programme's window.
    InEffect,
    Expr(Compiled),
    /// One-time programme: no grant of it at all.
    NotGrantedBefore,
    /// No grant of it that has not ended by the evaluation date.
    NoActiveGrant,
    /// No grant of any programme sharing an exclusion group.
    NotExcludedByGrant(Vec<String>),
    /// Every condition of the programme at this index holds (a top-up's
    /// base).
    BaseEligible(usize),
}

/// A compiled amount rule; numbers are parameter indexes.
#[derive(Debug, Clone)]
pub(crate) enum Amount {
    None,
    Fixed(usize),
    Ceiling(usize),
    Tiered {
        fact: Fact,
        figure: Figure,
        /// By the fact's variant index.
        tiers: Vec<Option<usize>>,
    },
    Monthly {
        monthly: usize,
        months: usize,
    },
    ContractShare {
        share: usize,
        startup_share: Option<usize>,
        cap: usize,
    },
    /// On top of the figure of the programme at index `base`: at most
    /// `up_to`, and at most `combined_cap` together with it.
    TopUp {
        base: usize,
        up_to: usize,
        combined_cap: usize,
    },
}

/// A dated, cited figure (OpenFisca style).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    /// The pack that defines the parameter (or last overrides it).
    pub pack: String,
    pub description: Text,
    pub unit: Unit,
    pub reference: String,
    /// Why the figures are not confirmed from a primary text, if they are
    /// not.
    pub flagged: Option<String>,
    /// The note each result that reads a flagged figure carries, made once
    /// at load rather than per result.
    pub(crate) flag_note: Option<String>,
    /// Ascending by date; `None` = unset from that date on.
    pub(crate) values: Vec<(NaiveDate, Option<i64>)>,
}

/// A parameter's value on some date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterValue<'a> {
    /// `None`: deliberately unset by the pack.
    pub value: Option<i64>,
    /// The date this value took effect.
    pub since: NaiveDate,
    pub reference: &'a str,
}

impl Parameter {
    /// The value in effect on `date`; `None` before the first dated value.
    pub fn value_at(&self, date: NaiveDate) -> Option<ParameterValue<'_>> {
        let after = self.values.partition_point(|(since, _)| *since <= date);
        let (since, value) = *self.values.get(after.checked_sub(1)?)?;
        Some(ParameterValue {
            value,
            since,
            reference: &self.reference,
        })
    }

    /// Every dated value, ascending.
    pub fn history(&self) -> &[(NaiveDate, Option<i64>)] {
        &self.values
    }
}

/// One of the pack's own tests.
#[derive(Debug, Clone)]
pub struct PackTest {
    pub name: String,
    /// The tests file it comes from.
    pub file: String,
    pub as_of: NaiveDate,
    pub case: Case,
    /// Programme id → expected result, sorted by id.
    pub expect: Vec<(String, super::files::Expectation)>,
}

/// A loaded, checked pack. Immutable; share it freely between threads.
#[derive(Debug, Clone)]
pub struct Pack {
    pub(crate) id: String,
    pub(crate) version: String,
    /// The chain it was built from, root first, this pack last.
    pub(crate) lineage: Vec<crate::PackRef>,
    pub(crate) title: Text,
    pub(crate) region: Text,
    pub(crate) source: String,
    pub(crate) effective: Window,
    pub(crate) programmes: Vec<Programme>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) tests: Vec<PackTest>,
    pub(crate) programme_index: HashMap<String, usize>,
    pub(crate) parameter_index: HashMap<String, usize>,
    /// The results' fixed JSON fragments, for the batch writer.
    pub(crate) json: crate::write::PackJson,
}

impl Pack {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn title(&self) -> &Text {
        &self.title
    }

    /// The place the rules are for ("深圳市 · 龙岗区").
    pub fn region(&self) -> &Text {
        &self.region
    }

    /// The packs this one builds on, root first, then this pack.
    pub fn lineage(&self) -> &[crate::PackRef] {
        &self.lineage
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The pack's window; each programme has its own within it.
    pub fn effective(&self) -> Window {
        self.effective
    }

    /// Programmes in catalogue order.
    pub fn programmes(&self) -> &[Programme] {
        &self.programmes
    }

    pub fn programme(&self, id: &str) -> Option<&Programme> {
        self.programme_index.get(id).map(|&i| &self.programmes[i])
    }

    /// Parameters sorted by name.
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameter_index.get(name).map(|&i| &self.parameters[i])
    }

    /// The most one beneficiary may hold of `programme` in total on `on`
    /// (fen), if the programme has a cap and its parameter a value then.
    pub fn beneficiary_cap(&self, programme: &Programme, on: NaiveDate) -> Option<i64> {
        let name = programme.beneficiary_cap.as_deref()?;
        self.parameter(name)?.value_at(on)?.value
    }

    pub fn tests(&self) -> &[PackTest] {
        &self.tests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_at_picks_the_latest_value_not_after_the_date() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let p = Parameter {
            name: "x".into(),
            pack: "p".into(),
            flagged: None,
            flag_note: None,
            description: Text {
                zh: String::new(),
                en: String::new(),
            },
            unit: Unit::Fen,
            reference: "measure 2".into(),
            values: vec![(d("2026-01-01"), Some(5)), (d("2027-01-01"), None)],
        };
        assert_eq!(p.value_at(d("2025-12-31")), None);
        let v = p.value_at(d("2026-12-31")).unwrap();
        assert_eq!(
            (v.value, v.since, v.reference),
            (Some(5), d("2026-01-01"), "measure 2")
        );
        let v = p.value_at(d("2027-01-01")).unwrap();
        assert_eq!((v.value, v.since), (None, d("2027-01-01")));
    }
}
