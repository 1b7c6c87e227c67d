//! The YAML shapes of a pack's files, exactly as written; `load` turns them
//! into the checked, compiled model.

use super::model::{Beneficiary, DecidedBy, Delivery, EvidenceKind, Kind, Support, Text};
use crate::case::Case;
use crate::date::IsoDate;
use crate::eval::Status;
use crate::expr::Unit;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub id: String,
    pub version: String,
    pub title: Text,
    /// The place the rules are for, as a chooser shows it ("Shenzhen ·
    /// Longgang"); the title when left out.
    #[serde(default)]
    pub region: Option<Text>,
    /// Where the rules come from (document title and address).
    pub source: String,
    pub effective: WindowFile,
    /// The id of the pack this one builds on (a province's for a city's,
    /// a city's for a district's): its parameters and programmes are this
    /// pack's too, unless overridden.
    #[serde(default)]
    pub extends: Option<String>,
    /// What this pack replaces of its ancestors', by name. Redefining
    /// anything not listed here is a load error.
    #[serde(default)]
    pub overrides: OverridesFile,
    /// Conditions every programme of a beneficiary type must meet; an
    /// ancestor's apply to this pack's programmes too.
    #[serde(default)]
    pub common_conditions: CommonConditions,
    /// Programme ids in the order results are reported: for a pack that
    /// extends another, only the programmes it adds, which come before its
    /// ancestors' (an overriding programme keeps its ancestor's place).
    #[serde(default)]
    pub catalogue: Vec<String>,
    /// Exceptions to the amount rules of programmes, its own or inherited.
    #[serde(default)]
    pub exceptions: Vec<ExceptionFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridesFile {
    #[serde(default)]
    pub parameters: Vec<String>,
    #[serde(default)]
    pub programmes: Vec<String>,
}

/// In the manner of Catala's exceptions: when `when` holds, the
/// programme's figure follows `amount` instead of its own rule. A more
/// specific pack's exception takes precedence over an ancestor's; two in
/// one pack for the same programme are a conflict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionFile {
    pub name: String,
    pub programme: String,
    pub when: String,
    pub citation: String,
    pub amount: AmountFile,
}

/// A figure on top of another programme's: at most `up_to`, and with the
/// other programme's figure at most `combined_cap` (both parameters, fen).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopUpFile {
    pub programme: String,
    pub up_to: String,
    pub combined_cap: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    pub from: IsoDate,
    pub to: IsoDate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonConditions {
    #[serde(default)]
    pub person: Vec<ConditionFile>,
    #[serde(default)]
    pub enterprise: Vec<ConditionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionFile {
    pub name: String,
    pub when: String,
    /// Defaults to the programme's measure.
    #[serde(default)]
    pub citation: Option<String>,
}

/// A parameters file maps parameter names to their definitions.
pub type ParametersFile = BTreeMap<String, ParameterFile>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterFile {
    pub description: Text,
    pub unit: Unit,
    pub reference: String,
    /// Why the figures are not confirmed from a primary text (a press
    /// report, a draft for comment); results that use them say so.
    #[serde(default)]
    pub flagged: Option<String>,
    /// Date the value takes effect → value; `null` = deliberately unset.
    pub values: BTreeMap<IsoDate, Option<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeFile {
    pub id: String,
    pub title: Text,
    pub description: Text,
    pub measure: u8,
    pub citation: String,
    pub beneficiary: Beneficiary,
    pub kind: Kind,
    /// How an approval is delivered; implied by `kind` except for in-kind
    /// benefits (`space` or `housing`).
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// A selection that confers a title; `selective` programmes always do.
    #[serde(default)]
    pub confers_title: bool,
    /// The support attached to the title.
    #[serde(default)]
    pub support: Vec<Support>,
    /// Defaults to the pack's window.
    #[serde(default)]
    pub effective: Option<WindowFile>,
    #[serde(default)]
    pub conditions: Vec<ConditionFile>,
    #[serde(default)]
    pub amount: Option<AmountFile>,
    /// A top-up of another programme's figure, instead of `amount`; the
    /// top-up holds only where that programme's conditions do.
    #[serde(default)]
    pub tops_up: Option<TopUpFile>,
    /// Parameter (months) giving `months` for benefits without a monthly amount.
    #[serde(default)]
    pub duration: Option<String>,
    #[serde(default)]
    pub one_time: bool,
    #[serde(default)]
    pub exclusion_groups: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<EvidenceFile>,
    /// How reviewers score an application, criterion by criterion.
    #[serde(default)]
    pub rubric: Vec<CriterionFile>,
    pub decided_by: DecidedBy,
    #[serde(default)]
    pub second_review_above_fen: Option<i64>,
    /// Parameter (fen): the most one beneficiary may hold of the
    /// programme in total, across districts and paths.
    #[serde(default)]
    pub beneficiary_cap: Option<String>,
    /// The service standard: calendar days from submission to a decision.
    #[serde(default)]
    pub service_days: Option<u16>,
    /// Space and housing: calendar days of notice before a confirmed lapse
    /// ends the allocation.
    #[serde(default)]
    pub notice_days: Option<u16>,
}

/// Amount rules: exactly one key is given; every operand names a parameter.
/// (A map of optional keys rather than an enum: YAML enums would need
/// `!tags`, which pack authors should not have to know.)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountFile {
    /// A fixed entitlement: `amount_fen`.
    #[serde(default)]
    pub fixed: Option<String>,
    /// An "up to" figure: `ceiling_fen`.
    #[serde(default)]
    pub ceiling: Option<String>,
    #[serde(default)]
    pub tiered: Option<TieredFile>,
    #[serde(default)]
    pub monthly: Option<MonthlyFile>,
    #[serde(default)]
    pub contract_share: Option<ContractShareFile>,
}

/// One parameter per value of an enum fact (degree, district, size).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TieredFile {
    pub by: String,
    pub figure: Figure,
    pub tiers: BTreeMap<String, String>,
}

/// `monthly_fen` × `months` = `amount_fen`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthlyFile {
    pub monthly: String,
    pub months: String,
}

/// A share of a contract the engine does not see, up to `cap`
/// (`ceiling_fen`); the shares are reported in the note.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractShareFile {
    pub share: String,
    #[serde(default)]
    pub startup_share: Option<String>,
    pub cap: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Amount,
    Ceiling,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    pub id: String,
    pub title: Text,
    pub kind: EvidenceKind,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionFile {
    pub id: String,
    pub title: Text,
    /// The most points a reviewer may give (1–100).
    pub max: i32,
}

/// A tests file is a list of tests.
pub type TestsFile = Vec<TestFile>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    pub name: String,
    pub as_of: IsoDate,
    pub case: Case,
    /// Programme id → expected result.
    pub expect: BTreeMap<String, Expectation>,
}

/// Figures left out are expected to be null.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub status: Status,
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default)]
    pub ceiling_fen: Option<i64>,
    #[serde(default)]
    pub monthly_fen: Option<i64>,
    #[serde(default)]
    pub months: Option<i64>,
    /// Checked only when given.
    #[serde(default)]
    pub missing_facts: Option<Vec<String>>,
}
