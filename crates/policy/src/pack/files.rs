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
    /// Where the rules come from (document title and address).
    pub source: String,
    pub effective: WindowFile,
    /// Conditions every programme of a beneficiary type must meet.
    #[serde(default)]
    pub common_conditions: CommonConditions,
    /// Programme ids in the order results are reported.
    pub catalogue: Vec<String>,
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
