//! The engine's answer for one programme, owned and typed: what an
//! application keeps as its explanation (stored as JSON, read back with
//! [`Explanation::parse`]) and what a single evaluation returns to the
//! services and pages.
//!
//! [`ProgrammeResult`] borrows from the pack and the case, so it cannot
//! outlive an evaluation; [`ResultRecord`] is its owned twin with the same
//! JSON. It is built by destructuring a [`ProgrammeResult`] whole, so a field
//! added to or renamed in the engine's result is a compile error here, not a
//! silently missing key where a stored explanation is read back; a test
//! keeps the two JSON forms equal.
//!
//! Stored explanations carry a `schema` number. Rows written before it
//! existed read as schema 1, the shape they have; a newer schema than this
//! build knows is refused rather than half read.

use crate::eval::{ParamUse, ProgrammeResult, Reason, ResultJson, Status};
use crate::expr::Unit;
use crate::pack::model::{Kind, Pack};
use chrono::NaiveDate;
use opcity_domain::Fen;
use serde::{Deserialize, Serialize, Serializer};

/// The schema of explanations this build writes and reads.
pub const EXPLANATION_SCHEMA: u32 = 1;

/// Which pack answered: every policy response and stored explanation
/// names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackRef {
    pub id: String,
    pub version: String,
}

impl From<&Pack> for PackRef {
    fn from(pack: &Pack) -> PackRef {
        PackRef {
            id: pack.id().to_owned(),
            version: pack.version().to_owned(),
        }
    }
}

/// One programme's result for one case on one date, with the pack it came
/// from: what an application keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    #[serde(default = "first_schema")]
    pub schema: u32,
    pub pack: PackRef,
    pub as_of: NaiveDate,
    pub result: ResultRecord,
}

fn first_schema() -> u32 {
    1
}

/// Why a stored explanation could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExplanationError {
    #[error("explanation schema {found} is newer than this build's {EXPLANATION_SCHEMA}")]
    NewerSchema { found: u32 },
    #[error("not an explanation: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl Explanation {
    pub fn new(pack: &Pack, as_of: NaiveDate, result: &ProgrammeResult<'_>) -> Explanation {
        Explanation {
            schema: EXPLANATION_SCHEMA,
            pack: PackRef::from(pack),
            as_of,
            result: ResultRecord::from(result),
        }
    }

    /// Reads a stored explanation back.
    pub fn parse(json: &str) -> Result<Explanation, ExplanationError> {
        let explanation: Explanation = serde_json::from_str(json)?;
        if explanation.schema > EXPLANATION_SCHEMA {
            return Err(ExplanationError::NewerSchema {
                found: explanation.schema,
            });
        }
        Ok(explanation)
    }

    /// The JSON stored for it.
    pub fn to_json(&self) -> String {
        // Every field is a plain value with a derived or infallible
        // serializer, so this cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A [`ProgrammeResult`] that owns its data; the same JSON.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResultRecord {
    pub programme: String,
    pub status: Status,
    pub kind: Kind,
    pub amount_fen: Option<Fen>,
    pub ceiling_fen: Option<Fen>,
    pub monthly_fen: Option<Fen>,
    pub months: Option<i64>,
    /// `None`: a brief result.
    #[serde(default)]
    pub reasons: Option<Vec<ReasonRecord>>,
    pub missing_facts: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// `None`: a brief result.
    #[serde(default)]
    pub parameters: Option<Vec<ParamRecord>>,
    /// The pack whose rule this is; `None`: a brief result, or one
    /// recorded before results named it.
    #[serde(default)]
    pub pack: Option<String>,
}

impl ResultRecord {
    pub fn is_eligible(&self) -> bool {
        self.status == Status::Eligible
    }

    /// The conditions that were evaluated and do not hold.
    pub fn failed_conditions(&self) -> impl Iterator<Item = &str> {
        self.reasons()
            .iter()
            .filter(|r| r.holds == Some(false))
            .map(|r| r.condition.as_str())
    }

    /// The reasons, none for a brief result.
    pub fn reasons(&self) -> &[ReasonRecord] {
        self.reasons.as_deref().unwrap_or_default()
    }

    /// The most an approval may grant: the amount, else the ceiling.
    pub fn cap(&self) -> Option<Fen> {
        self.amount_fen.or(self.ceiling_fen)
    }
}

impl From<&ProgrammeResult<'_>> for ResultRecord {
    fn from(r: &ProgrammeResult<'_>) -> ResultRecord {
        // Destructured whole: a new field in the engine's result must be
        // carried here too.
        let ProgrammeResult {
            programme,
            status,
            kind,
            amount_fen,
            ceiling_fen,
            monthly_fen,
            months,
            reasons,
            missing_facts,
            note,
            parameters,
            pack,
        } = r;
        ResultRecord {
            programme: (*programme).to_owned(),
            status: *status,
            kind: *kind,
            amount_fen: *amount_fen,
            ceiling_fen: *ceiling_fen,
            monthly_fen: *monthly_fen,
            months: *months,
            reasons: reasons
                .as_ref()
                .map(|rs| rs.iter().map(ReasonRecord::from).collect()),
            missing_facts: missing_facts.iter().map(|f| f.name().to_owned()).collect(),
            note: note.clone(),
            parameters: parameters
                .as_ref()
                .map(|ps| ps.iter().map(ParamRecord::from).collect()),
            pack: pack.map(str::to_owned),
        }
    }
}

impl Serialize for ResultRecord {
    /// As [`ProgrammeResult`] serializes.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ResultJson {
            programme: &self.programme,
            status: self.status,
            kind: self.kind,
            figures: [self.amount_fen, self.ceiling_fen, self.monthly_fen],
            months: self.months,
            reasons: self.reasons.as_deref(),
            missing_facts: &self.missing_facts,
            note: self.note.as_deref(),
            parameters: self.parameters.as_deref(),
            pack: self.pack.as_deref(),
        }
        .serialize(s)
    }
}

/// A [`Reason`] that owns its data. The facts a condition read stay a JSON
/// object keyed by fact name (a fact's value is a boolean, a date, null or
/// an enum name; `granted` lists grants), as explanations show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonRecord {
    pub condition: String,
    /// `None`: unknown, because facts are missing.
    pub holds: Option<bool>,
    pub facts: serde_json::Map<String, serde_json::Value>,
    pub citation: String,
    pub parameters: Vec<ParamRecord>,
}

impl From<&Reason<'_>> for ReasonRecord {
    fn from(r: &Reason<'_>) -> ReasonRecord {
        let Reason {
            condition,
            holds,
            facts,
            citation,
            parameters,
        } = r;
        let facts = match serde_json::to_value(facts) {
            Ok(serde_json::Value::Object(map)) => map,
            // ReasonFacts always serializes as a map.
            _ => serde_json::Map::new(),
        };
        ReasonRecord {
            condition: (*condition).to_owned(),
            holds: *holds,
            facts,
            citation: (*citation).to_owned(),
            parameters: parameters.iter().map(ParamRecord::from).collect(),
        }
    }
}

/// A [`ParamUse`] that owns its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamRecord {
    pub name: String,
    pub value: Option<i64>,
    pub unit: Unit,
    pub since: Option<NaiveDate>,
    /// The pack the value comes from; `None` in results recorded before
    /// results named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
}

impl From<&ParamUse<'_>> for ParamRecord {
    fn from(p: &ParamUse<'_>) -> ParamRecord {
        let ParamUse {
            name,
            value,
            unit,
            since,
            pack,
        } = p;
        ParamRecord {
            name: (*name).to_owned(),
            value: *value,
            unit: *unit,
            since: *since,
            pack: Some((*pack).to_owned()),
        }
    }
}

/// Every programme's result for one case: what a single evaluation returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvaluation {
    pub pack: PackRef,
    /// The case's person id, when the case names one.
    pub id: Option<String>,
    pub as_of: NaiveDate,
    pub results: Vec<ResultRecord>,
}

impl CaseEvaluation {
    /// How many results have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

#[cfg(test)]
mod tests;
