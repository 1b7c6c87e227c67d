//! Changes of state. Every move checks the state machine
//! (`opcity_domain::application::transition`), then has the store move the
//! row only if it is still as read (`opcity_store::applications::move_one`
//! and its group forms), and leaves the history, one notification of the
//! final state and the audit entries — all in the caller's transaction. A
//! row changed since read answers `state_changed` and writes nothing.
//!
//! Also here: who an application is to authorization (`resource`,
//! `party`), and reading or locking it for a use case.

use super::views::view;
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Actor, Resource};
use crate::error::{FieldError, Result, ServiceError};
use chrono::{DateTime, Utc};
use opcity_domain::Role;
use opcity_domain::application::{Event, Party, State, TransitionError, transition};
use opcity_store::WriteTx;
use opcity_store::applications::{self as store, HistoryRow, Move, MoveSets, Notice};
use opcity_store::audit;
use opcity_store::entity::application;
use std::collections::BTreeMap;

/// One step of a move: the event, the party taking it, who (for the
/// history and the audit log), and why.
pub(crate) struct Step<'a> {
    pub event: Event,
    pub party: Party,
    pub actor: &'a str,
    pub comment: Option<&'a str>,
}

/// One application moved: as it was, as it is, and how.
pub(super) struct Moved<'a> {
    pub before: &'a application::Model,
    pub after: &'a application::Model,
    pub steps: &'a [Step<'a>],
    /// `before`'s state, then the state after each step.
    pub states: &'a [State],
    pub at: DateTime<Utc>,
}

/// The refusal of a move whose row changed since it was read.
pub(super) fn state_changed() -> ServiceError {
    ServiceError::Conflict {
        code: ErrorCode::StateChanged,
        field: Some("state"),
    }
}

fn not_found() -> ServiceError {
    ServiceError::NotFound {
        entity: "application",
    }
}

/// The application `id`, read in `tx`.
pub(super) async fn load(tx: &WriteTx, id: i64) -> Result<application::Model> {
    store::find(tx, id).await?.ok_or_else(not_found)
}

/// The application `id`, read outside a transaction.
pub(super) async fn read(s: &Services, id: i64) -> Result<application::Model> {
    store::find(s.store().db(), id).await?.ok_or_else(not_found)
}

/// The application about to change outside a guarded move (its form, its
/// documents), its row locked until the transaction ends
/// (`opcity_store::rows`): a submission racing the change either moves it
/// first, and the change then reads it submitted, or waits for it.
pub(super) async fn lock(tx: &WriteTx, id: i64) -> Result<application::Model> {
    store::lock(tx, id).await?.ok_or_else(not_found)
}

/// The application a request of a group names, among those the group read.
pub(super) fn requested(
    apps: &BTreeMap<i64, application::Model>,
    id: i64,
) -> Result<&application::Model> {
    apps.get(&id).ok_or_else(not_found)
}

pub(super) fn resource(a: &application::Model) -> Resource {
    Resource::Application {
        district: a
            .district
            .parse()
            .expect("district ids are constrained by a foreign key"),
        person_id: a.person_id,
        enterprise_id: a.enterprise_id,
        draft: a.state == State::Draft.id(),
    }
}

/// The applicant's side of `a` (its form and documents).
pub(super) fn evidence_resource(a: &application::Model) -> Resource {
    Resource::ApplicationEvidence {
        person_id: a.person_id,
        enterprise_id: a.enterprise_id,
    }
}

/// The party an actor plays for an application.
pub(super) fn party(actor: &Actor, a: &application::Model) -> Party {
    match actor.role {
        Role::DistrictReviewer => Party::DistrictReviewer,
        Role::MunicipalAdmin if a.created_by != actor.account_id => Party::MunicipalReviewer,
        _ => Party::Applicant,
    }
}

/// The event's stable name, as the history stores it.
fn event_id(event: Event) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The states an application passes through by `steps`, its own first.
pub(super) fn states_through(app: &application::Model, steps: &[Step<'_>]) -> Result<Vec<State>> {
    let from: State = app
        .state
        .parse()
        .map_err(|e: String| ServiceError::Internal(e.into()))?;
    let mut states = vec![from];
    for step in steps {
        let at = *states.last().expect("starts with `from`");
        let next = transition(at, step.event, step.party).map_err(|e| state_error(e, at.id()))?;
        states.push(next);
    }
    Ok(states)
}

/// A refused move: forbidden when the caller's party may never take the
/// event, else the state named as the reason.
fn state_error(err: TransitionError, current: &str) -> ServiceError {
    if let TransitionError::WrongParty { .. } = err {
        return ServiceError::Forbidden;
    }
    ServiceError::Validation(vec![
        FieldError::new("state", "illegal_transition")
            .with("state", current)
            .with("reason", err),
    ])
}

/// Moves an application by `event` inside `tx` (see the module docs).
pub(crate) async fn move_application(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    event: Event,
    party: Party,
    actor: &str,
    comment: Option<&str>,
) -> Result<application::Model> {
    let step = Step {
        event,
        party,
        actor,
        comment,
    };
    move_through(s, tx, app, &[step], MoveSets::Nothing).await
}

/// Moves an application through `steps` as one state change inside `tx`:
/// one guarded UPDATE of the row (with what `sets` adds), the history rows
/// in one INSERT, one notification of the final state, and one audit entry
/// per step in one INSERT. Refused, with nothing written, when a step is
/// illegal or the row changed (its state or its form) since `app` was read.
pub(super) async fn move_through(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    steps: &[Step<'_>],
    sets: MoveSets,
) -> Result<application::Model> {
    let states = states_through(app, steps)?;
    let now = s.now();
    let mv = Move {
        app,
        to: *states.last().expect("a move has states"),
        at: now,
    };
    let after = store::move_one(tx, mv, sets)
        .await?
        .ok_or_else(state_changed)?;
    let moved = Moved {
        before: app,
        after: &after,
        steps,
        states: &states,
        at: now,
    };
    record_moves(tx, &[moved]).await?;
    Ok(after)
}

/// What moves leave behind, for any number of them in one INSERT per
/// table: a history row and an audit entry (the application before and
/// after) per step, and one notification of each final state.
pub(super) async fn record_moves(tx: &WriteTx, moves: &[Moved<'_>]) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut history = Vec::new();
    let mut notices = Vec::new();
    let mut snapshots = Vec::new();
    for m in moves {
        for (step, pair) in m.steps.iter().zip(m.states.windows(2)) {
            history.push(HistoryRow {
                application_id: m.before.id,
                from_state: Some(pair[0].id()),
                to_state: pair[1].id(),
                event: event_id(step.event),
                actor: step.actor,
                comment: step.comment,
                at: m.at,
            });
        }
        notices.push(Notice {
            account_id: m.before.created_by,
            kind: format!("application_{}", m.after.state),
            programme: &m.before.programme,
            subject: format!("application:{}", m.before.id),
            at: m.at,
        });
        snapshots.push(step_snapshots(m));
    }
    // Collected before the await: a lazy iterator of borrowing closures
    // would make this future not `Send`.
    let entries: Vec<(DateTime<Utc>, audit::Change<'_>)> = moves
        .iter()
        .zip(&snapshots)
        .flat_map(|(m, snaps)| {
            m.steps.iter().zip(snaps.windows(2)).map(|(step, pair)| {
                let change = audit::Change {
                    actor: step.actor,
                    action: "application.transition",
                    entity: "application",
                    entity_id: m.before.id.to_string(),
                    before: Some(pair[0].clone()),
                    after: Some(pair[1].clone()),
                };
                (m.at, change)
            })
        })
        .collect();
    store::record_moves(tx, &history, &notices, entries).await?;
    Ok(())
}

/// The application's view before the move and after each of its steps:
/// only the state differs until the last, which is `after`.
fn step_snapshots(m: &Moved<'_>) -> Vec<serde_json::Value> {
    let json = |a: &application::Model| {
        serde_json::to_value(view(a, m.at, false)).expect("views serialise")
    };
    let mut snapshots = vec![json(m.before)];
    for state in &m.states[1..m.states.len() - 1] {
        let mut between = m.before.clone();
        between.state = state.id().to_owned();
        between.updated_at = m.at;
        snapshots.push(json(&between));
    }
    snapshots.push(json(m.after));
    snapshots
}
