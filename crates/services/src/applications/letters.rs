//! Decision letters: one for each decision an application received (an
//! approval, a rejection by a reviewer or by the engine's pre-check, a
//! dismissed appeal), built from its history, so a letter reads the same
//! every time it is asked for. Each has a reference number,
//! `OPC-{year}-{application:06}-{n}`, `n` counting the application's
//! decisions from 1: it names one decision, stably, without a counter
//! that two decisions could race for.
//!
//! A letter says only what the applicant may read: the reason written for
//! them (never a reviewer's internal note) and, for a pre-check rejection,
//! the conditions the engine found unmet. The web layer renders it as a
//! printable page and as PDF.

use super::engine;
use super::moves::{self, resource};
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use opcity_domain::application::State;
use opcity_policy::Explanation;
use opcity_store::applications as store;
use opcity_store::entity::{application, application_event};

/// One decision, as its letter states it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DecisionLetter {
    /// `OPC-{year}-{application:06}-{n}`.
    pub reference: String,
    /// The decision's place among the application's decisions, from 1.
    pub number: usize,
    pub application_id: i64,
    pub programme: String,
    /// `approved` or `rejected`.
    pub decision: String,
    pub decided_at: DateTime<Utc>,
    /// The date of the decision in Shanghai: the letter's date.
    pub issued_on: NaiveDate,
    /// Who decided: the district's id, or `municipal`.
    pub authority: String,
    /// The applicant: the enterprise's name, or the person's.
    pub applicant: String,
    /// The amount approved (approvals of programmes with money).
    pub approved_fen: Option<i64>,
    /// What the approval becomes once accepted (`cash`, `voucher`, …).
    pub delivery: Option<String>,
    /// The reason written for the applicant, or the note with an approval.
    pub reason: Option<String>,
    /// For a rejection by the pre-check: the conditions that did not hold.
    pub unmet_conditions: Vec<String>,
    /// Whether this decision is the one standing now (a later decision,
    /// after an appeal, replaces it).
    pub current: bool,
}

/// The application's decision letters, oldest first.
pub(super) async fn decision_letters(
    s: &Services,
    actor: &Actor,
    id: i64,
) -> Result<Vec<DecisionLetter>> {
    let app = moves::read(s, id).await?;
    authorize(actor, Action::Read, resource(&app))?;
    let history = store::history(s.store().db(), id).await?;
    letters_of(s, &app, &history).await
}

/// The letters of `app`'s decisions in `history` (its whole history,
/// oldest first).
pub(super) async fn letters_of(
    s: &Services,
    app: &application::Model,
    history: &[application_event::Model],
) -> Result<Vec<DecisionLetter>> {
    let decisions: Vec<&application_event::Model> =
        history.iter().filter(|e| is_decision(e)).collect();
    if decisions.is_empty() {
        return Ok(Vec::new());
    }
    let applicant = applicant_name(s, app).await?;
    let delivery = s
        .pack()
        .programme(&app.programme)
        .map(|p| p.delivery.name().to_owned());
    let unmet = unmet_conditions(app);
    let last = decisions.len();
    Ok(decisions
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let approved = e.to_state == State::Approved.id();
            let issued_on = opcity_domain::today_in_shanghai(e.at);
            DecisionLetter {
                reference: reference(issued_on.year(), app.id, i + 1),
                number: i + 1,
                application_id: app.id,
                programme: app.programme.clone(),
                decision: e.to_state.clone(),
                decided_at: e.at,
                issued_on,
                authority: authority(app, e),
                applicant: applicant.clone(),
                approved_fen: app.approved_fen.filter(|_| approved),
                delivery: delivery.clone().filter(|_| approved),
                reason: e.comment.clone(),
                unmet_conditions: if e.event == "precheck_failed" {
                    unmet.clone()
                } else {
                    Vec::new()
                },
                current: i + 1 == last,
            }
        })
        .collect())
}

/// A step that decided the application: an approval or a rejection.
pub(super) fn is_decision(e: &application_event::Model) -> bool {
    e.to_state == State::Approved.id() || e.to_state == State::Rejected.id()
}

/// The reference number of the application's `n`th decision.
pub(super) fn reference(year: i32, application_id: i64, n: usize) -> String {
    format!("OPC-{year}-{application_id:06}-{n}")
}

/// Who decided: a municipal reviewer, deciding on a forwarded application
/// or an appeal, speaks for the city; a district reviewer, and the
/// engine's pre-check on a filing, for the district it was filed in.
fn authority(app: &application::Model, e: &application_event::Model) -> String {
    let municipal = [State::MunicipalReview.id(), State::Appealed.id()];
    if e.from_state
        .as_deref()
        .is_some_and(|f| municipal.contains(&f))
    {
        "municipal".to_owned()
    } else {
        app.district.clone()
    }
}

async fn applicant_name(s: &Services, app: &application::Model) -> Result<String> {
    let db = s.store().db();
    if let Some(id) = app.enterprise_id
        && let Some(e) = store::enterprise(db, id).await?
    {
        return Ok(e.name);
    }
    if let Some(id) = app.person_id
        && let Some(p) = store::person(db, id).await?
    {
        return Ok(p.full_name);
    }
    Ok(String::new())
}

/// The conditions the submission's pre-check found unmet, by name.
fn unmet_conditions(app: &application::Model) -> Vec<String> {
    let Ok(Some(explanation)) = engine::stored_explanation(app) else {
        return Vec::new();
    };
    failing(&explanation)
}

pub(super) fn failing(explanation: &Explanation) -> Vec<String> {
    explanation
        .result
        .reasons()
        .iter()
        .filter(|r| r.holds == Some(false))
        .map(|r| r.condition.clone())
        .collect()
}
