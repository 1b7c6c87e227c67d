//! An answer built only from quoted clauses, or an abstention.
//!
//! The rule, over the question's content words weighted by their inverse
//! document frequency over the clauses (a word no clause holds weighs most):
//! - the question is answered only when the best-ranked clause (BM25) alone
//!   holds at least [`MIN_COVERAGE`] of its weight: words matched here and
//!   there by different clauses ("a subsidy for buying a flat") do not make
//!   an answer; nor when the second clause, from another measure, holds as
//!   much with nearly the same score ([`TIE_SCORE`]): the question is then
//!   ambiguous;
//! - up to [`MAX_CITATIONS`] in all, a lower-ranked clause is cited too when
//!   it scores at least [`RELATIVE_SCORE`] of the best, holds at least
//!   [`MIN_CLAUSE_COVERAGE`], and is of the same measure as the best or adds
//!   at least [`MIN_ADDED`] of the question's weight that the clauses cited
//!   before it do not hold (a second topic of the question).
//!
//! So a question about something the sources do not mention ("passport",
//! "divorce") abstains however well its other words match, and no raw score
//! threshold decides alone.

use crate::clauses::{Lang, Text};
use crate::index::{Hit, Library, Retrieval};
use serde::Serialize;
use std::collections::BTreeSet;

pub const MAX_CITATIONS: usize = 3;
pub const MIN_COVERAGE: f32 = 0.5;
pub const MIN_CLAUSE_COVERAGE: f32 = 0.34;
pub const RELATIVE_SCORE: f32 = 0.4;
pub const MIN_ADDED: f32 = 0.3;
pub const TIE_SCORE: f32 = 0.95;

/// A quoted clause.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Citation {
    pub clause_id: String,
    /// The plan's measure (1–10); 0 for its preamble and targets.
    pub measure: u8,
    pub title: String,
    pub quote: String,
}

/// What a consultation answers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Consultation {
    /// True when the sources do not answer the question: `answer` then
    /// points to a human adviser and nothing is cited.
    pub abstained: bool,
    pub answer: String,
    pub citations: Vec<Citation>,
    /// The pack's programmes the cited clauses provide for.
    pub programmes: Vec<String>,
    pub next_steps: Vec<String>,
}

/// The clauses to cite for a retrieval, or `None` to abstain.
pub fn cited(retrieval: &Retrieval) -> Option<Vec<&Hit>> {
    let best = retrieval.hits.first()?;
    if best.coverage < MIN_COVERAGE || ambiguous(retrieval) {
        return None;
    }
    let weight = |terms: &BTreeSet<usize>| -> f32 {
        let total: f32 = retrieval.terms.iter().map(|t| t.weight).sum();
        terms
            .iter()
            .map(|&i| retrieval.terms[i].weight)
            .sum::<f32>()
            / total
    };
    let mut chosen: Vec<&Hit> = vec![best];
    let mut held = best.covers.clone();
    for hit in &retrieval.hits[1..] {
        if chosen.len() == MAX_CITATIONS {
            break;
        }
        if hit.score < RELATIVE_SCORE * best.score || hit.coverage < MIN_CLAUSE_COVERAGE {
            continue;
        }
        let added: BTreeSet<usize> = hit.covers.difference(&held).copied().collect();
        if hit.measure == best.measure || weight(&added) >= MIN_ADDED {
            held.extend(added);
            chosen.push(hit);
        }
    }
    Some(chosen)
}

/// Whether the two best clauses, from different measures, answer the
/// question equally well (as much coverage, nearly the same score): then
/// the text alone cannot tell which the asker means.
fn ambiguous(retrieval: &Retrieval) -> bool {
    let [best, second, ..] = retrieval.hits.as_slice() else {
        return false;
    };
    best.measure != second.measure
        && second.coverage >= best.coverage
        && second.score >= TIE_SCORE * best.score
}

impl Library {
    /// Answers `question` (checked by [`crate::question::check`]) in `lang`.
    pub fn consult(
        &self,
        question: &str,
        lang: Lang,
    ) -> Result<Consultation, crate::index::IndexError> {
        let retrieval = self.retrieve(question)?;
        Ok(match cited(&retrieval) {
            Some(hits) => self.answer(&hits, lang),
            None => self.abstain(lang),
        })
    }

    fn adviser(&self) -> Option<&Text> {
        self.files().first().map(|f| &f.adviser)
    }

    fn abstain(&self, lang: Lang) -> Consultation {
        let adviser = self.adviser().map(|t| t.get(lang)).unwrap_or_default();
        let answer = match lang {
            Lang::Zh => {
                format!("现有政策原文中找不到能回答这个问题的条款，因此不作推测。{adviser}")
            }
            Lang::En => format!(
                "The policy texts held here do not answer this question, so no answer is given. {adviser}"
            ),
        };
        Consultation {
            abstained: true,
            answer,
            citations: Vec::new(),
            programmes: Vec::new(),
            next_steps: vec![adviser.to_owned()],
        }
    }

    fn answer(&self, hits: &[&Hit], lang: Lang) -> Consultation {
        let entries: Vec<_> = hits.iter().map(|h| &self.entries()[h.entry]).collect();
        let citations: Vec<Citation> = entries
            .iter()
            .map(|e| Citation {
                clause_id: e.clause.id.clone(),
                measure: e.clause.measure,
                title: e.clause.title.get(lang).to_owned(),
                quote: e.clause.text.get(lang).to_owned(),
            })
            .collect();
        let mut programmes: Vec<String> = Vec::new();
        let mut next_steps = Vec::new();
        for e in &entries {
            for (id, title) in e.clause.programmes.iter().zip(&e.programme_titles) {
                if programmes.contains(id) {
                    continue;
                }
                programmes.push(id.clone());
                next_steps.push(match lang {
                    Lang::Zh => format!(
                        "在自助核验页（/self-check）核对是否符合「{}」的条件。",
                        title.zh
                    ),
                    Lang::En => format!(
                        "Check whether you qualify for “{}” on the self-check page (/self-check).",
                        title.en
                    ),
                });
            }
        }
        let mut answer = match lang {
            Lang::Zh => String::from("据《行动计划》（深工信〔2026〕2号）："),
            Lang::En => String::from("From the action plan (notice 深工信〔2026〕2号):"),
        };
        for c in &citations {
            let measure = match (lang, c.measure) {
                (Lang::Zh, 0) => "总体部分".to_owned(),
                (Lang::Zh, m) => format!("第{m}项措施"),
                (Lang::En, 0) => "Preamble".to_owned(),
                (Lang::En, m) => format!("Measure ({m})"),
            };
            answer.push('\n');
            answer.push_str(&match lang {
                Lang::Zh => format!("{measure}「{}」：{}", c.title, c.quote),
                Lang::En => format!("{measure}, {}: {}", c.title, c.quote),
            });
        }
        answer.push('\n');
        answer.push_str(match lang {
            Lang::Zh => "以上摘自政策原文；您本人能否享受，以资格核验结果和主管部门审核为准。",
            Lang::En => "These are the policy's own terms; whether you qualify is decided by the eligibility check and the authority's review, not by this text.",
        });
        if let Some(adviser) = self.adviser() {
            next_steps.push(adviser.get(lang).to_owned());
        }
        Consultation {
            abstained: false,
            answer,
            citations,
            programmes,
            next_steps,
        }
    }
}
