//! The evaluation set: answerable questions with the clauses they must
//! cite, and questions the sources do not answer. `opcity consult eval`
//! and the crate's tests run it.
//!
//! - recall@3: the share of answerable questions whose citations (at most
//!   three) include every clause the question must cite;
//! - abstention: the share of out-of-scope questions answered with an
//!   abstention;
//! - wrong citations: the share of citations given to answerable questions
//!   that are off-topic: from a measure none of the required clauses belongs
//!   to, and not listed as acceptable (`also`).

use crate::clauses::Lang;
use crate::index::Library;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSet {
    pub answerable: Vec<Answerable>,
    pub out_of_scope: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answerable {
    pub q: String,
    /// The clause ids that must be cited.
    pub cite: Vec<String>,
    /// Clauses of other measures that are acceptable to cite too.
    #[serde(default)]
    pub also: Vec<String>,
}

/// A question the set expected otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub question: String,
    pub expected: Vec<String>,
    pub cited: Vec<String>,
    pub abstained: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub answerable: usize,
    pub out_of_scope: usize,
    pub recall_at_3: f64,
    pub abstention_rate: f64,
    pub wrong_citation_rate: f64,
    /// Answerable questions that abstained (counted in recall too).
    pub false_abstentions: usize,
    pub misses: Vec<Miss>,
    pub answered_out_of_scope: Vec<Miss>,
    pub wrong_citations: Vec<Miss>,
}

impl EvalReport {
    /// recall@3 ≥ 95 %, abstention ≥ 95 %, no wrong citation.
    pub fn meets_targets(&self) -> bool {
        self.recall_at_3 >= 0.95 && self.abstention_rate >= 0.95 && self.wrong_citation_rate == 0.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}: {1}")]
    Read(String, String),
    #[error("{path}: `{clause}` is not a clause of the pack")]
    UnknownClause { path: String, clause: String },
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
}

impl EvalSet {
    pub fn load(path: &Path) -> Result<EvalSet, EvalError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| EvalError::Read(shown.clone(), e.to_string()))?;
        serde_norway::from_str(&text).map_err(|e| EvalError::Read(shown, e.to_string()))
    }

    /// Runs every question against `library`; the language of each answer is
    /// the question's.
    pub fn run(&self, library: &Library, path: &str) -> Result<EvalReport, EvalError> {
        let lang_of = |q: &str| match crate::analysis::Script::of(q) {
            crate::analysis::Script::Han => Lang::Zh,
            crate::analysis::Script::Latin => Lang::En,
        };
        let mut found = 0;
        let mut citations = 0;
        let mut false_abstentions = 0;
        let (mut misses, mut wrong) = (Vec::new(), Vec::new());
        for a in &self.answerable {
            for id in a.cite.iter().chain(&a.also) {
                if library.entry(id).is_none() {
                    return Err(EvalError::UnknownClause {
                        path: path.to_owned(),
                        clause: id.clone(),
                    });
                }
            }
            let c = library.consult(&a.q, lang_of(&a.q))?;
            let cited: Vec<String> = c.citations.iter().map(|c| c.clause_id.clone()).collect();
            let miss = Miss {
                question: a.q.clone(),
                expected: a.cite.clone(),
                cited: cited.clone(),
                abstained: c.abstained,
            };
            false_abstentions += usize::from(c.abstained);
            if a.cite.iter().all(|id| cited.contains(id)) {
                found += 1;
            } else {
                misses.push(miss.clone());
            }
            let measures: Vec<u8> = a
                .cite
                .iter()
                .filter_map(|id| library.entry(id))
                .map(|e| e.clause.measure)
                .collect();
            citations += c.citations.len();
            let off_topic = c
                .citations
                .iter()
                .filter(|c| !measures.contains(&c.measure) && !a.also.contains(&c.clause_id))
                .count();
            for _ in 0..off_topic {
                wrong.push(miss.clone());
            }
        }
        let mut abstained = 0;
        let mut answered = Vec::new();
        for q in &self.out_of_scope {
            let c = library.consult(q, lang_of(q))?;
            if c.abstained {
                abstained += 1;
            } else {
                answered.push(Miss {
                    question: q.clone(),
                    expected: Vec::new(),
                    cited: c.citations.iter().map(|c| c.clause_id.clone()).collect(),
                    abstained: false,
                });
            }
        }
        let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
        Ok(EvalReport {
            answerable: self.answerable.len(),
            out_of_scope: self.out_of_scope.len(),
            recall_at_3: share(found, self.answerable.len()),
            abstention_rate: share(abstained, self.out_of_scope.len()),
            wrong_citation_rate: share(wrong.len(), citations),
            false_abstentions,
            misses,
            answered_out_of_scope: answered,
            wrong_citations: wrong,
        })
    }
}
