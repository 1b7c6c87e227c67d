//! Policy consultation: a question answered from the pack's clauses
//! (`opcity_consult`), and, for a signed-in founder, the engine's results
//! for the programmes the answer cites. The engine decides eligibility; the
//! text never does. Questions reach the log only masked
//! ([`opcity_consult::question::masked`]).
//!
//! The clause index follows the pack: [`Services::with_consultation`] sets
//! it, and a pack reload rebuilds it from the same directory (a clause set
//! that no longer loads switches consultation off rather than leaving clauses
//! of the old pack in force).

use crate::Services;
use crate::authz::Actor;
use crate::error::{ErrorCode, Result, ServiceError};
use chrono::NaiveDate;
pub use opcity_consult::{Citation, Lang};
use opcity_consult::{Library, QuestionError};
use opcity_domain::Role;
use opcity_packs::PackSource;
use opcity_policy::{Detail, Pack, ResultRecord};
use std::sync::{Arc, RwLock};

/// The clause index in force, shared by every clone of [`Services`].
#[derive(Debug, Clone, Default)]
pub(crate) struct LibraryHandle(Arc<RwLock<Option<Arc<Library>>>>);

impl LibraryHandle {
    fn current(&self) -> Option<Arc<Library>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, library: Option<Arc<Library>>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = library;
    }
}

/// The engine's results for the cited programmes, for one of the founder's
/// subjects: the person with one of their enterprises, or alone.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConsultEligibility {
    /// The enterprise the case includes (`null`: the person alone).
    pub enterprise_id: Option<i64>,
    pub as_of: NaiveDate,
    /// One per cited programme, with the engine's reasons: the objects
    /// `POST /api/v1/eligibility` returns.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<ResultRecord>,
}

/// A consultation's answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConsultView {
    /// True when the clauses do not answer the question: `answer` then
    /// points to a human adviser and nothing is cited.
    pub abstained: bool,
    /// Built from the quoted clauses only.
    pub answer: String,
    pub citations: Vec<Citation>,
    /// The pack's programmes the cited clauses provide for.
    pub programmes: Vec<String>,
    pub next_steps: Vec<String>,
    /// For a signed-in founder: the engine's results for `programmes` (left
    /// out otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub eligibility: Vec<ConsultEligibility>,
}

impl ConsultView {
    /// The answer for a region whose texts are not held here: an
    /// abstention that says so, rather than quoting the wrong city's rules.
    fn elsewhere(here: &Pack, there: &Pack, lang: Lang) -> ConsultView {
        let (here, there) = (here.region(), there.region());
        let (answer, step) = match lang {
            Lang::Zh => (
                format!(
                    "此处的政策咨询只依据{}的政策原文作答，{}的政策不在其中，因此不作推测。",
                    here.zh, there.zh
                ),
                format!(
                    "{}各项目的资格可在自查中按该地区的规则查看；具体问题请咨询当地政务服务窗口。",
                    there.zh
                ),
            ),
            Lang::En => (
                format!(
                    "Consultation here answers only from {}'s policy texts; {}'s are not among them, so no answer is given.",
                    here.en, there.en
                ),
                format!(
                    "The self-check shows {}'s programmes under its own rules; for anything else ask its government service centre.",
                    there.en
                ),
            ),
        };
        ConsultView {
            abstained: true,
            answer,
            citations: Vec::new(),
            programmes: Vec::new(),
            next_steps: vec![step],
            eligibility: Vec::new(),
        }
    }
}

/// The error code of a refused question.
pub fn question_code(e: QuestionError) -> ErrorCode {
    match e {
        QuestionError::Empty => ErrorCode::QuestionEmpty,
        QuestionError::TooLong => ErrorCode::QuestionTooLong,
        QuestionError::NotText => ErrorCode::QuestionNotText,
        QuestionError::Markup => ErrorCode::QuestionMarkup,
    }
}

impl Services {
    /// Consultation over `library` (without it, [`Services::consult`]
    /// answers `unavailable`).
    pub fn with_consultation(self, library: Arc<Library>) -> Services {
        self.library.replace(Some(library));
        self
    }

    /// Rebuilds the clause index from `source` for the pack now in force,
    /// when consultation is on; a clause set that does not load (or is gone)
    /// switches it off.
    pub(crate) fn reload_consultation(&self, source: &PackSource) {
        if self.library.current().is_none() {
            return;
        }
        let pack = self.pack();
        match source.library(&pack) {
            Some(Ok(library)) => self.library.replace(Some(Arc::new(library))),
            None => {
                tracing::error!(pack = %source, "the pack has no clauses/; consultation is off until it does");
                self.library.replace(None);
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "the clauses do not load; consultation is off until they do");
                self.library.replace(None);
            }
        }
    }

    /// Answers `question` in `lang` from the clauses (public); a founder
    /// signed in also gets the engine's results for the cited programmes
    /// on `today`. The clauses are the pack in force's: for another
    /// `region` the answer abstains and says where to ask.
    pub async fn consult(
        &self,
        actor: Option<&Actor>,
        question: &str,
        lang: Lang,
        today: NaiveDate,
        region: Option<&str>,
    ) -> Result<ConsultView> {
        let question =
            opcity_consult::question::check(question).map_err(|e| ServiceError::Refused {
                code: question_code(e),
                field: "q",
            })?;
        let chosen = self.region_pack(region)?;
        let current = self.pack();
        if chosen.id() != current.id() {
            return Ok(ConsultView::elsewhere(&current, &chosen, lang));
        }
        let library = self
            .library
            .current()
            .ok_or_else(|| ServiceError::Unavailable("consultation is off".into()))?;
        let answer = library
            .consult(question, lang)
            .map_err(|e| ServiceError::Internal(Box::new(e)))?;
        tracing::info!(
            question = %opcity_consult::question::masked(question),
            abstained = answer.abstained,
            citations = answer.citations.len(),
            "consultation"
        );
        let eligibility = match actor {
            Some(actor) if actor.role == Role::Founder && !answer.programmes.is_empty() => {
                self.founder_results(actor, &answer.programmes, today)
                    .await?
            }
            _ => Vec::new(),
        };
        Ok(ConsultView {
            abstained: answer.abstained,
            answer: answer.answer,
            citations: answer.citations,
            programmes: answer.programmes,
            next_steps: answer.next_steps,
            eligibility,
        })
    }

    /// The engine's results for `programmes` on the founder's own cases (as
    /// `my_entitlements`, it reads only the actor's own records): their
    /// person with each of their enterprises, or alone.
    async fn founder_results(
        &self,
        actor: &Actor,
        programmes: &[String],
        today: NaiveDate,
    ) -> Result<Vec<ConsultEligibility>> {
        let Some(person_id) = actor.person_id else {
            return Ok(Vec::new());
        };
        let mut subjects: Vec<Option<i64>> =
            actor.enterprise_ids.iter().copied().map(Some).collect();
        if subjects.is_empty() {
            subjects.push(None);
        }
        let pack = self.pack();
        let mut out = Vec::new();
        for enterprise_id in subjects {
            let case = self
                .case_for(self.store().db(), Some(person_id), enterprise_id, None)
                .await?;
            let evaluation = pack.at(today).evaluate(&case, Detail::Full);
            out.push(ConsultEligibility {
                enterprise_id,
                as_of: today,
                results: evaluation
                    .results
                    .iter()
                    .filter(|r| programmes.iter().any(|p| p == r.programme))
                    .map(ResultRecord::from)
                    .collect(),
            });
        }
        Ok(out)
    }
}
