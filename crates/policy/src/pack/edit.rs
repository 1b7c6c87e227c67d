//! A pack with some programmes' conditions rewritten: the scenario of a
//! what-if that changes a rule rather than a figure. The new text is
//! compiled as a pack's own condition is, against the same facts and
//! parameters, so a scenario meets no name the engine does not know.

use super::load::flagged_in_conditions;
use super::model::{Pack, Test};
use crate::expr::{ParamInfo, compile};

/// One condition of one programme, to be decided by `when` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionChange {
    pub programme: String,
    pub condition: String,
    pub when: String,
}

/// Why a condition change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionChangeError {
    #[error("`{0}` is not PROGRAMME:CONDITION=EXPRESSION")]
    Malformed(String),
    #[error("`{programme}` is not a programme of pack {pack}")]
    UnknownProgramme { programme: String, pack: String },
    #[error("programme {programme} has no condition `{condition}` written in its pack")]
    UnknownCondition {
        programme: String,
        condition: String,
    },
    #[error("`{when}`: {message} (at character {position})")]
    Expression {
        when: String,
        message: String,
        position: usize,
    },
    #[error("condition `{condition}` of {programme} is changed twice")]
    Twice {
        programme: String,
        condition: String,
    },
}

impl ConditionChange {
    /// Reads `PROGRAMME:CONDITION=EXPRESSION` (the expression may hold `=`
    /// itself: the first one ends the name).
    pub fn parse(text: &str) -> Result<ConditionChange, ConditionChangeError> {
        let malformed = || ConditionChangeError::Malformed(text.to_owned());
        let (name, when) = text.split_once('=').ok_or_else(malformed)?;
        let (programme, condition) = name.split_once(':').ok_or_else(malformed)?;
        let (programme, condition, when) = (programme.trim(), condition.trim(), when.trim());
        if programme.is_empty() || condition.is_empty() || when.is_empty() {
            return Err(malformed());
        }
        Ok(ConditionChange {
            programme: programme.to_owned(),
            condition: condition.to_owned(),
            when: when.to_owned(),
        })
    }
}

/// The built-in condition every enterprise programme has; it is not the
/// pack's to change.
pub(super) const BUILT_IN: &str = "enterprise_present";

impl Pack {
    /// This pack with each change's condition decided by its new text. Only
    /// conditions written as expressions (a programme's own and the common
    /// ones it carries) may change; one-time rules, exclusions and windows
    /// stay as the pack says.
    pub fn with_conditions(
        &self,
        changes: &[ConditionChange],
    ) -> Result<Pack, ConditionChangeError> {
        let mut pack = self.clone();
        let lookup = |name: &str| {
            let index = *self.parameter_index.get(name)?;
            Some(ParamInfo {
                index,
                unit: self.parameters[index].unit,
            })
        };
        for (n, change) in changes.iter().enumerate() {
            if changes[..n]
                .iter()
                .any(|c| c.programme == change.programme && c.condition == change.condition)
            {
                return Err(ConditionChangeError::Twice {
                    programme: change.programme.clone(),
                    condition: change.condition.clone(),
                });
            }
            let index = *self.programme_index.get(&change.programme).ok_or_else(|| {
                ConditionChangeError::UnknownProgramme {
                    programme: change.programme.clone(),
                    pack: self.id.clone(),
                }
            })?;
            let programme = &mut pack.programmes[index];
            let condition = programme
                .conditions
                .iter_mut()
                .find(|c| c.name == change.condition && c.name != BUILT_IN)
                .filter(|c| matches!(c.test, Test::Expr(_)))
                .ok_or_else(|| ConditionChangeError::UnknownCondition {
                    programme: change.programme.clone(),
                    condition: change.condition.clone(),
                })?;
            let compiled =
                compile(&change.when, &lookup).map_err(|e| ConditionChangeError::Expression {
                    when: change.when.clone(),
                    message: e.message,
                    position: e.pos + 1,
                })?;
            condition.test = Test::Expr(compiled);
            programme.flagged_in_conditions = flagged_in_conditions(programme, &pack.parameters);
        }
        Ok(pack)
    }
}

/// A parameter's value from a date on, as a published revision of a pack
/// adds it (`None` unsets the parameter from that date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedValue {
    pub parameter: String,
    pub from: chrono::NaiveDate,
    pub value: Option<i64>,
}

/// Why a revision of a pack was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    #[error("{0}")]
    Value(crate::SettingError),
    #[error("{0}")]
    Condition(ConditionChangeError),
}

impl Pack {
    /// This pack as a new version: each dated value added to its
    /// parameter's history (replacing a value of the same date), each
    /// condition rewritten. The values keep their dates, so a revision
    /// published today changes results only from each value's date on.
    pub fn revised(
        &self,
        version: &str,
        values: &[DatedValue],
        conditions: &[ConditionChange],
    ) -> Result<Pack, RevisionError> {
        let mut pack = self
            .with_conditions(conditions)
            .map_err(RevisionError::Condition)?;
        for v in values {
            let text = format!(
                "{}={}",
                v.parameter,
                v.value.map_or("null".to_owned(), |n| n.to_string())
            );
            crate::Setting::parse(self, &text).map_err(RevisionError::Value)?;
            let index = self.parameter_index[&v.parameter];
            let history = &mut pack.parameters[index].values;
            match history.binary_search_by_key(&v.from, |(date, _)| *date) {
                Ok(at) => history[at].1 = v.value,
                Err(at) => history.insert(at, (v.from, v.value)),
            }
        }
        pack.version = version.to_owned();
        if let Some(top) = pack.lineage.last_mut() {
            top.version = version.to_owned();
        }
        Ok(pack)
    }
}
