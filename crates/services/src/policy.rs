//! The policy pack in force, the programme catalogue, parameters and
//! one-case evaluation for the API and the self-check page.
//!
//! The pack is held behind a lock so that an operator can reload it: a pack
//! that fails to load never replaces the one in force.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use chrono::NaiveDate;
use opcity_packs::PackSource;
use opcity_policy::{
    BatchError, BatchSummary, CaseEvaluation, Detail, LoadError, Pack, ResultRecord,
};
use std::sync::{Arc, RwLock};

/// The pack in force, shared by every clone of [`Services`]: the pack as
/// its source holds it (the base), with the versions published over it
/// that are in force (`policy_drafts::versions`).
#[derive(Debug, Clone)]
pub struct PackHandle {
    current: Arc<RwLock<Arc<Pack>>>,
    base: Arc<RwLock<Arc<Pack>>>,
}

fn read(slot: &RwLock<Arc<Pack>>) -> Arc<Pack> {
    slot.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

fn write(slot: &RwLock<Arc<Pack>>, pack: Arc<Pack>) {
    *slot
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = pack;
}

impl PackHandle {
    pub fn new(pack: Pack) -> PackHandle {
        let pack = Arc::new(pack);
        PackHandle {
            current: Arc::new(RwLock::new(pack.clone())),
            base: Arc::new(RwLock::new(pack)),
        }
    }

    pub fn current(&self) -> Arc<Pack> {
        read(&self.current)
    }

    /// The pack as its source holds it, before any published version.
    pub(crate) fn base(&self) -> Arc<Pack> {
        read(&self.base)
    }

    /// A new base (the source reloaded); in force until versions apply.
    fn replace(&self, pack: Pack) {
        let pack = Arc::new(pack);
        write(&self.base, pack.clone());
        write(&self.current, pack);
    }

    /// `pack` (the base with versions applied) in force.
    pub(crate) fn set_current(&self, pack: Pack) {
        write(&self.current, Arc::new(pack));
    }
}

pub use opcity_policy::PackRef;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EvidenceInfo {
    pub id: String,
    pub title: Bilingual,
    /// `document` or `field`.
    pub kind: String,
}

/// One criterion of a programme's review rubric.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CriterionInfo {
    pub id: String,
    pub title: Bilingual,
    /// Reviewers give 0 to `max` points.
    pub max: i32,
}

/// A programme as the catalogue shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProgrammeInfo {
    pub id: String,
    /// The pack that defines it: the pack in force or one it extends.
    pub pack: String,
    pub title: Bilingual,
    pub description: Bilingual,
    pub measure: u8,
    pub citation: String,
    /// `person` or `enterprise`.
    pub beneficiary: String,
    /// cash, ceiling, loan, voucher, in_kind, selective or referral.
    pub kind: String,
    pub effective_from: NaiveDate,
    pub effective_to: NaiveDate,
    pub one_time: bool,
    pub exclusion_groups: Vec<String>,
    pub evidence: Vec<EvidenceInfo>,
    /// The review rubric; empty when reviewers decide without scores.
    pub rubric: Vec<CriterionInfo>,
    /// `district` or `municipal`.
    pub decided_by: String,
    pub second_review_above_fen: Option<i64>,
    pub conditions: Vec<String>,
    /// The facts its rules read (`person.birth_date`, …): what a form
    /// needs to ask for it.
    pub facts: Vec<String>,
    /// What an accepted approval becomes: cash, voucher, space, housing,
    /// title or referral.
    pub delivery: String,
    /// An approval also confers a title, held to `effective_to`.
    pub confers_title: bool,
    /// The support attached to the title.
    pub support: Vec<String>,
    /// The service standard: calendar days from submission to a decision.
    pub service_days: Option<u16>,
    /// Space and housing: days of notice before a confirmed lapse ends the
    /// allocation.
    pub notice_days: Option<u16>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    pub pack: PackRef,
    pub programmes: Vec<ProgrammeInfo>,
}

/// A parameter's value on a date, with where it comes from.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ParameterInfo {
    pub pack: PackRef,
    pub name: String,
    pub description: Bilingual,
    /// fen, months, years, percent or count.
    pub unit: String,
    pub at: NaiveDate,
    /// `null`: unset on that date (the authority has not fixed it).
    pub value: Option<i64>,
    /// The date the value took effect; `null` before the first value.
    pub since: Option<NaiveDate>,
    pub reference: String,
    /// Why the figures are not confirmed from a primary text, if they are
    /// not (a press report, a draft for comment).
    pub flagged: Option<String>,
    /// The pack that defines the parameter: `pack` or one it extends.
    pub defined_by: String,
    /// Every dated value: `[date, value]`, ascending.
    pub history: Vec<(NaiveDate, Option<i64>)>,
}

pub(crate) fn text(t: &opcity_policy::Text) -> Bilingual {
    Bilingual {
        zh: t.zh.clone(),
        en: t.en.clone(),
    }
}

fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn programme_info(p: &opcity_policy::Programme) -> ProgrammeInfo {
    ProgrammeInfo {
        id: p.id.clone(),
        pack: p.pack.clone(),
        title: text(&p.title),
        description: text(&p.description),
        measure: p.measure,
        citation: p.citation.clone(),
        beneficiary: word(&p.beneficiary),
        kind: word(&p.kind),
        effective_from: p.effective.from,
        effective_to: p.effective.to,
        one_time: p.one_time,
        exclusion_groups: p.exclusion_groups.clone(),
        evidence: p
            .evidence
            .iter()
            .map(|e| EvidenceInfo {
                id: e.id.clone(),
                title: text(&e.title),
                kind: word(&e.kind),
            })
            .collect(),
        rubric: p
            .rubric
            .iter()
            .map(|c| CriterionInfo {
                id: c.id.clone(),
                title: text(&c.title),
                max: c.max,
            })
            .collect(),
        decided_by: word(&p.decided_by),
        second_review_above_fen: p.second_review_above.map(|f| f.0),
        delivery: p.delivery.name().to_owned(),
        confers_title: p.confers_title,
        support: p.support.iter().map(|s| s.name().to_owned()).collect(),
        service_days: p.service_days,
        notice_days: p.notice_days,
        conditions: p.condition_names().map(str::to_owned).collect(),
        facts: p.facts().iter().map(|f| f.name().to_owned()).collect(),
    }
}

fn catalogue_of(pack: &Pack) -> Catalogue {
    Catalogue {
        pack: PackRef::from(pack),
        programmes: pack.programmes().iter().map(programme_info).collect(),
    }
}

/// A case read and checked against `pack`, its error as a field error.
fn parse_case(pack: &Pack, case_json: &str) -> Result<opcity_policy::Case> {
    pack.parse_case(case_json)
        .map_err(|e| ServiceError::Validation(vec![case_field_error(&e)]))
}

/// A case error as a field error: dates get the same code as everywhere else
/// (so the message is localised); other problems carry the engine's reason.
fn case_field_error(e: &opcity_policy::CaseError) -> FieldError {
    if e.kind.code() == "invalid_date" {
        let value = e.problem.split('`').nth(1).unwrap_or_default();
        return FieldError::new(e.field.clone(), "invalid_date").with("value", value);
    }
    FieldError::new(e.field.clone(), "invalid_case").with("reason", &e.problem)
}

impl Services {
    pub fn pack(&self) -> Arc<Pack> {
        self.pack_handle().current()
    }

    /// Replaces the pack in force with the one `source` holds now; when it
    /// does not load, the old pack stays and the errors are returned.
    pub fn reload_pack(&self, source: &PackSource) -> std::result::Result<PackRef, Vec<LoadError>> {
        let pack = source.load()?;
        let reference = PackRef::from(&pack);
        self.pack_handle().replace(pack);
        self.reload_consultation(source);
        Ok(reference)
    }

    /// The catalogue of the pack in force.
    pub fn catalogue(&self) -> Catalogue {
        catalogue_of(&self.pack())
    }

    /// The catalogue of region `region` ([`Services::region_pack`]).
    pub fn region_catalogue(&self, region: Option<&str>) -> Result<Catalogue> {
        Ok(catalogue_of(self.region_pack(region)?.as_ref()))
    }

    /// Programme `id` of the pack in force.
    pub fn programme(&self, id: &str) -> Result<(PackRef, ProgrammeInfo)> {
        self.region_programme(None, id)
    }

    /// Programme `id` of region `region` (the pack in force for `None`).
    pub fn region_programme(
        &self,
        region: Option<&str>,
        id: &str,
    ) -> Result<(PackRef, ProgrammeInfo)> {
        let pack = self.region_pack(region)?;
        let programme = pack.programme(id).ok_or(ServiceError::NotFound {
            entity: "programme",
        })?;
        Ok((PackRef::from(pack.as_ref()), programme_info(programme)))
    }

    /// Parameter `name` of region `region` (the pack in force for `None`)
    /// on `at`.
    pub fn parameter(
        &self,
        region: Option<&str>,
        name: &str,
        at: NaiveDate,
    ) -> Result<ParameterInfo> {
        let pack = self.region_pack(region)?;
        let p = pack.parameter(name).ok_or(ServiceError::NotFound {
            entity: "parameter",
        })?;
        let value = p.value_at(at);
        Ok(ParameterInfo {
            pack: PackRef::from(pack.as_ref()),
            name: p.name.clone(),
            description: text(&p.description),
            unit: p.unit.name().to_owned(),
            at,
            value: value.and_then(|v| v.value),
            since: value.map(|v| v.since),
            reference: p.reference.clone(),
            flagged: p.flagged.clone(),
            defined_by: p.pack.clone(),
            history: p.history().to_vec(),
        })
    }

    /// Evaluates one case (the spec's JSON) on `as_of` against the pack of
    /// `region` (the pack in force for `None`), read once: the answer names
    /// the pack that gave it. A bad case is a validation error naming the
    /// field; an unknown region is not found.
    pub fn evaluate_case(
        &self,
        region: Option<&str>,
        case_json: &str,
        as_of: NaiveDate,
        detail: Detail,
    ) -> Result<CaseEvaluation> {
        let pack = self.region_pack(region)?;
        let case = parse_case(&pack, case_json)?;
        let evaluation = pack.at(as_of).evaluate(&case, detail);
        Ok(CaseEvaluation {
            pack: PackRef::from(pack.as_ref()),
            id: case.person.id.clone(),
            as_of,
            results: evaluation.results.iter().map(ResultRecord::from).collect(),
        })
    }

    /// [`Services::evaluate_case`]'s answer written straight as JSON (the
    /// same document, by the batch path's writer), with the pack that
    /// answered: the one-case API at wire speed.
    pub fn evaluate_case_json(
        &self,
        region: Option<&str>,
        case_json: &str,
        as_of: NaiveDate,
        detail: Detail,
    ) -> Result<(PackRef, Vec<u8>)> {
        let pack = self.region_pack(region)?;
        let case = parse_case(&pack, case_json)?;
        // Room for a whole answer of the Shenzhen pack (about 16.5 KB in
        // full, 3.7 KB brief), so that it is not copied to grow.
        let mut out = Vec::with_capacity(match detail {
            Detail::Full => 32 * 1024,
            Detail::Brief => 8 * 1024,
        });
        opcity_policy::write_evaluation(&pack.at(as_of), &case, detail, &mut out);
        Ok((PackRef::from(pack.as_ref()), out))
    }

    /// A batch evaluation for `actor` against the pack of `region` (the
    /// pack in force now for `None`), which it keeps for the whole batch (a
    /// reload meanwhile does not change its answers).
    pub fn batch_evaluation(&self, actor: &Actor, region: Option<&str>) -> Result<BatchEvaluation> {
        authorize(actor, Action::Read, Resource::BatchEvaluation)?;
        Ok(BatchEvaluation {
            pack: self.region_pack(region)?,
        })
    }
}

/// Many cases evaluated against one pack, streamed (see
/// [`Services::batch_evaluation`]).
#[derive(Debug)]
pub struct BatchEvaluation {
    pack: Arc<Pack>,
}

impl BatchEvaluation {
    /// The pack every answer of the batch comes from.
    pub fn pack(&self) -> PackRef {
        PackRef::from(self.pack.as_ref())
    }

    /// Evaluates JSON Lines cases from `input` to `output` on `as_of`, in
    /// input order, with bounded memory. Blocking: run it off the async
    /// runtime.
    pub fn run(
        &self,
        as_of: NaiveDate,
        detail: Detail,
        input: impl std::io::BufRead + Send,
        output: impl std::io::Write + Send,
    ) -> std::result::Result<BatchSummary, BatchError> {
        opcity_policy::evaluate_jsonl(&self.pack.at(as_of), detail, input, output, |_| {}, |_| {})
    }
}
