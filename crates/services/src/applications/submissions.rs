//! Group commit for submissions, as the voucher ledger does for transfers
//! (`opcity_store::ledger::submit`). A request only queues. The submissions
//! that arrive while one group is at work are taken together by the next:
//! their applications, documents and cases are read with one query per
//! table for all of them, each is authorized, checked and pre-checked by the
//! engine in memory, and the writes of all of them go in one transaction
//! (one guarded UPDATE of all their applications, then the history, the
//! notifications and the audit entries in one INSERT per table). Each
//! submission is still answered on its own: a refusal (not found, not
//! allowed, an illegal move, missing evidence, an application changed
//! meanwhile: `state_changed`) answers that one only and leaves nothing of
//! it.
//!
//! Two committers (`crate::groups`): while one group writes, the next
//! reads. When a group fails as a whole, each submission is handled alone,
//! the same way.

use super::evidence::{missing_error, missing_evidence};
use super::moves::{
    Moved, Step, party, record_moves, requested, resource, state_changed, states_through,
};
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::Result;
use crate::groups::{GroupWork, merge};
use chrono::{DateTime, Utc};
use opcity_domain::application::{Event, Party, State};
use opcity_policy::{Case, Explanation, Status};
use opcity_store::applications::{self as store, Move, SubmittedMove};
use opcity_store::entity::{application, application_document};
use opcity_store::{Store, WriteTx};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many submissions share one group.
const MAX_GROUP: usize = 256;
const COMMITTERS: usize = 2;

/// A submission as its request leaves it.
#[derive(Debug, Clone)]
pub(crate) struct SubmitRequest {
    pub actor: Actor,
    pub application_id: i64,
    pub at: DateTime<Utc>,
}

/// A submission authorized, checked and pre-checked: what its move writes.
struct Decided<'a> {
    app: &'a application::Model,
    /// `submit`, or `resubmit` after a return.
    event: Event,
    party: Party,
    actor: String,
    at: DateTime<Utc>,
    precheck: Event,
    explanation: Explanation,
    states: Vec<State>,
}

const PRECHECK_ACTOR: &str = "system:precheck";

impl Decided<'_> {
    fn steps(&self) -> [Step<'_>; 2] {
        let failed = self.precheck == Event::PrecheckFailed;
        [
            Step {
                event: self.event,
                party: self.party,
                actor: &self.actor,
                comment: None,
            },
            Step {
                event: self.precheck,
                party: Party::System,
                actor: PRECHECK_ACTOR,
                comment: failed.then_some("policy pre-check: ineligible"),
            },
        ]
    }
}

/// Submits application `id`: queued for the next group (see the module
/// docs), answered with the application as moved.
pub(super) async fn submit_application(
    s: &Services,
    actor: &Actor,
    id: i64,
) -> Result<super::views::ApplicationView> {
    let request = SubmitRequest {
        actor: actor.clone(),
        application_id: id,
        at: s.now(),
    };
    let after = s.in_group(request).await?;
    Ok(super::views::view(&after, after.updated_at, false))
}

impl GroupWork for SubmitRequest {
    type Answer = application::Model;
    const COMMITTERS: usize = COMMITTERS;
    const MAX_GROUP: usize = MAX_GROUP;

    async fn work(
        services: &Services,
        group: &[Self],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<application::Model>>> {
        services.submit_group(group, pass_turn).await
    }
}

impl Services {
    /// One group: reads for all, checks each, writes all that pass in one
    /// transaction. The outer error means the group failed as a whole.
    async fn submit_group(
        &self,
        requests: &[SubmitRequest],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<application::Model>>> {
        let db = self.store().db();
        let ids = || requests.iter().map(|r| r.application_id);
        let (apps, by_application) =
            tokio::try_join!(store::find_many(db, ids()), store::documents_of(db, ids()),)?;
        let decided = self.decide(requests, &apps, &by_application).await?;
        let ready: Vec<&Decided<'_>> = decided.iter().filter_map(|d| d.as_ref().ok()).collect();
        let written = write_group(self.store(), &ready, pass_turn).await?;
        Ok(merge(decided, written))
    }

    /// Authorizes each submission, then checks its evidence and pre-checks
    /// it with the engine, on its documents and its case (read for the
    /// whole group at once).
    async fn decide<'a>(
        &self,
        requests: &[SubmitRequest],
        apps: &'a BTreeMap<i64, application::Model>,
        documents: &BTreeMap<i64, Vec<application_document::Model>>,
    ) -> Result<Vec<Result<Decided<'a>>>> {
        let cases = self.cases_of_applications(apps).await?;
        Ok(requests
            .iter()
            .map(|request| {
                let app = requested(apps, request.application_id)?;
                let docs = documents.get(&app.id).map_or(&[][..], Vec::as_slice);
                self.decide_one(request, app, docs, &cases[&app.id])
            })
            .collect())
    }

    fn decide_one<'a>(
        &self,
        request: &SubmitRequest,
        app: &'a application::Model,
        documents: &[application_document::Model],
        case: &Case,
    ) -> Result<Decided<'a>> {
        let actor = &request.actor;
        authorize(actor, Action::Update, resource(app))?;
        let event = if app.state == State::Returned.id() {
            Event::Resubmit
        } else {
            Event::Submit
        };
        let party = party(actor, app);
        // An illegal move is refused before the evidence is looked at.
        let actor_label = actor.audit_label();
        let submitting = Step {
            event,
            party,
            actor: &actor_label,
            comment: None,
        };
        states_through(app, &[submitting])?;
        if let Some(programme) = self.pack().programme(&app.programme) {
            let form: serde_json::Value = serde_json::from_str(&app.form_data).unwrap_or_default();
            let missing = missing_evidence(programme, &form, documents);
            if !missing.is_empty() {
                return Err(missing_error(&missing));
            }
        }
        let explanation = self.explanation(case, &app.programme)?;
        let precheck = if explanation.result.status == Status::Ineligible {
            Event::PrecheckFailed
        } else {
            Event::PrecheckPassed
        };
        let mut decided = Decided {
            app,
            event,
            party,
            actor: actor_label.clone(),
            at: request.at,
            precheck,
            explanation,
            states: Vec::new(),
        };
        decided.states = states_through(app, &decided.steps())?;
        Ok(decided)
    }
}

/// One transaction for the decided submissions: one guarded UPDATE of all
/// their applications (a refusal answers that submission only), then what
/// the moves leave behind in one INSERT per table.
async fn write_group(
    store: &Store,
    decided: &[&Decided<'_>],
    pass_turn: impl FnOnce() + Send,
) -> Result<Vec<Result<application::Model>>> {
    if decided.is_empty() {
        return Ok(Vec::new());
    }
    // The same application twice in a group: the first submission moves it
    // and the others find it moved, as if they had come after.
    let mut seen = BTreeSet::new();
    let first: Vec<bool> = decided.iter().map(|d| seen.insert(d.app.id)).collect();
    let tx = store.begin().await?;
    let firsts: Vec<&Decided<'_>> = decided
        .iter()
        .zip(&first)
        .filter_map(|(d, first)| first.then_some(*d))
        .collect();
    let mut moved = update_submitted(&tx, &firsts).await?;
    let answers: Vec<Result<application::Model>> = decided
        .iter()
        .zip(first)
        .map(|(d, first)| {
            first
                .then(|| moved.remove(&d.app.id))
                .flatten()
                .ok_or_else(state_changed)
        })
        .collect();
    let steps: Vec<[Step<'_>; 2]> = decided.iter().map(|d| d.steps()).collect();
    let moves: Vec<Moved<'_>> = decided
        .iter()
        .zip(&answers)
        .zip(&steps)
        .filter_map(|((d, answer), steps)| {
            Some(Moved {
                before: d.app,
                after: answer.as_ref().ok()?,
                steps,
                states: &d.states,
                at: d.at,
            })
        })
        .collect();
    record_moves(&tx, &moves).await?;
    // A resubmission answers what the return asked (`messages`): its
    // questions are no longer waited for.
    let resubmitted = moves
        .iter()
        .filter(|m| m.steps.first().is_some_and(|s| s.event == Event::Resubmit))
        .map(|m| (m.before.id, m.at));
    for (id, at) in resubmitted {
        opcity_store::applications::messages::close_questions(&tx, id, at).await?;
    }
    pass_turn();
    tx.commit().await?;
    Ok(answers)
}

/// Moves every application of `decided` (each at most once) with one
/// UPDATE, each guarded by the state and the form it was decided on, and
/// returns the rows it moved, by id.
async fn update_submitted(
    tx: &WriteTx,
    decided: &[&Decided<'_>],
) -> Result<BTreeMap<i64, application::Model>> {
    let moves: Vec<SubmittedMove<'_>> = decided
        .iter()
        .map(|d| SubmittedMove {
            mv: Move {
                app: d.app,
                to: *d.states.last().expect("a move has states"),
                at: d.at,
            },
            explanation: d.explanation.to_json(),
            pack_version: Some(d.explanation.pack.version.clone()),
        })
        .collect();
    Ok(store::move_submitted(tx, &moves).await?)
}
