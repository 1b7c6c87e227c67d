//! Reading applications: one in full (history, instalments, documents,
//! missing evidence, and reviews for everyone but the applicant), the
//! applicant's own, and a reviewer's queue within the scope `authz` gives
//! them (`application_scope`).

use super::evidence::{self, missing_evidence};
use super::moves::{self, party, resource};
use super::views::{
    ApplicationDetail, ApplicationView, EventView, PendingApproval, ReviewView, disbursement_view,
    event_view, review_view, view,
};
use crate::Services;
use crate::authz::{Action, Actor, authorize, permits};
use crate::error::Result;
use chrono::{Days, NaiveDate};
use opcity_domain::Role;
use opcity_domain::application::{Event, State, events_for};
use opcity_store::applications as store;
use opcity_store::entity::{account, application, application_event};

pub(super) async fn get_application(
    s: &Services,
    actor: &Actor,
    id: i64,
) -> Result<ApplicationDetail> {
    let db = s.store().db();
    let app = moves::read(s, id).await?;
    authorize(actor, Action::Read, resource(&app))?;
    let events = store::history(db, id).await?;
    let letters = super::letters::letters_of(s, &app, &events).await?;
    let expected_decision_on = expected_decision_on(s, &app, &events);
    let history = history_named(db, actor, events).await?;
    let disbursements = store::instalments(db, id)
        .await?
        .into_iter()
        .map(disbursement_view)
        .collect();
    let documents = store::documents(db, id).await?;
    let pack = s.pack();
    let missing = pack
        .programme(&app.programme)
        .map(|p| {
            let form: serde_json::Value = serde_json::from_str(&app.form_data).unwrap_or_default();
            missing_evidence(p, &form, &documents)
        })
        .unwrap_or_default();
    let reviews = if actor.role == Role::Founder {
        Vec::new()
    } else {
        reviews_named(db, id).await?
    };
    let pending_approval = pending_approval(&app, &reviews);
    let delivery = super::delivery::view_of(s, db, &app).await?;
    let flags: Vec<super::FlagView> = opcity_store::flags::list(db, None, None, Some(app.id))
        .await?
        .iter()
        .map(super::recheck::flag_view)
        .collect();
    let flag_action = flags
        .iter()
        .any(|f| f.status == "open")
        .then(|| flag_action(actor, &app))
        .flatten();
    let mut application = [view(&app, s.now(), pending_approval.is_some())];
    name_applicants(db, &mut application).await?;
    if actor.role != Role::Founder {
        application[0].assignee = super::workbench::assignee_of(db, app.id).await?;
    }
    application[0].due_on = expected_decision_on;
    let [application] = application;
    let messages = super::messages::thread_of(db, actor, &app).await?;
    let open_question = messages
        .iter()
        .any(|m| !m.from_applicant && m.answered_at.is_none());
    Ok(ApplicationDetail {
        message_action: super::messages::action(actor, &app, open_question),
        messages,
        application,
        history,
        disbursements,
        documents: evidence::document_views(&documents),
        missing,
        reviews,
        actions: actions(actor, &app),
        delivery,
        flags,
        flag_action,
        expected_decision_on,
        letters,
        pending_approval,
    })
}

/// The events `actor` may take on `app` now (see `ApplicationDetail::actions`).
fn actions(actor: &Actor, app: &opcity_store::entity::application::Model) -> Vec<Event> {
    let Ok(state) = app.state.parse::<State>() else {
        return Vec::new();
    };
    if !permits(actor, Action::Update, resource(app)) {
        return Vec::new();
    }
    events_for(state, party(actor, app)).collect()
}

/// What `actor` may do about an open flag of `app`: the applicant answers
/// it, a reviewer decides it (see `recheck`).
fn flag_action(
    actor: &Actor,
    app: &opcity_store::entity::application::Model,
) -> Option<super::FlagAction> {
    if !permits(actor, Action::Update, resource(app)) {
        return None;
    }
    Some(match party(actor, app) {
        opcity_domain::application::Party::Applicant => super::FlagAction::Respond,
        _ => super::FlagAction::Decide,
    })
}

/// The applications the actor started, newest first, each with the date
/// its decision is due while one is awaited.
pub(super) async fn my_applications(s: &Services, actor: &Actor) -> Result<Vec<ApplicationView>> {
    let db = s.store().db();
    let rows = store::of_creator(db, actor.account_id).await?;
    let starts = store::workbench::clock_starts(db, rows.iter().map(|a| a.id)).await?;
    let now = s.now();
    Ok(rows
        .iter()
        .map(|a| ApplicationView {
            due_on: decision_due(s, a, starts.get(&a.id).copied()),
            ..view(a, now, false)
        })
        .collect())
}

/// Fills in each application's applicant: the enterprise's name, or the
/// person's (two queries for any number).
pub(super) async fn name_applicants<C: opcity_store::sea_orm::ConnectionTrait>(
    db: &C,
    views: &mut [ApplicationView],
) -> Result<()> {
    crate::name_parties(db, views.iter_mut()).await
}

/// When a decision is due by the programme's service standard
/// (`service_days` in the pack), while the application waits for one: the
/// clock starts at its latest submission or appeal (a return stops it; a
/// resubmission starts it again).
pub(super) fn expected_decision_on(
    s: &Services,
    app: &application::Model,
    history: &[application_event::Model],
) -> Option<NaiveDate> {
    let started = history
        .iter()
        .rev()
        .find(|e| e.to_state == State::Submitted.id() || e.to_state == State::Appealed.id())?;
    decision_due(s, app, Some(started.at))
}

/// [`expected_decision_on`] given when the clock `started` (see
/// `opcity_store::applications::workbench::clock_starts`).
pub(super) fn decision_due(
    s: &Services,
    app: &application::Model,
    started: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<NaiveDate> {
    let state: State = app.state.parse().ok()?;
    if !(state == State::Submitted || state.awaits_review()) {
        return None;
    }
    let days = s.pack().programme(&app.programme)?.service_days?;
    opcity_domain::today_in_shanghai(started?).checked_add_days(Days::new(u64::from(days)))
}

/// The reviews of application `id`, oldest first, each with its
/// reviewer's name.
async fn reviews_named<C: opcity_store::sea_orm::ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Vec<ReviewView>> {
    let rows = store::reviews(db, id).await?;
    let names = crate::rows_by_id::<account::Entity, _>(
        db,
        account::Column::Id,
        rows.iter().map(|r| r.reviewer_id),
        |a| a.id,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let name = names
                .get(&r.reviewer_id)
                .map(|a| a.display_name.clone())
                .unwrap_or_default();
            review_view(r, name)
        })
        .collect())
}

/// The approval given since `app` was last submitted, while it still
/// awaits review: what a second reviewer is waited for (four eyes).
fn pending_approval(app: &application::Model, reviews: &[ReviewView]) -> Option<PendingApproval> {
    let state: State = app.state.parse().ok()?;
    if !state.awaits_review() {
        return None;
    }
    let since = app.submitted_at.unwrap_or(app.created_at);
    reviews
        .iter()
        .rev()
        .find(|r| r.decision == "approve" && r.at >= since)
        .map(|r| PendingApproval {
            reviewer_id: r.reviewer_id,
            reviewer: r.reviewer.clone(),
            amount_fen: r.amount_fen,
            at: r.at,
        })
}

/// The history with each actor's name where `viewer` may know it (see
/// `EventView::actor_name`).
async fn history_named<C: opcity_store::sea_orm::ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    events: Vec<application_event::Model>,
) -> Result<Vec<EventView>> {
    let account_of = crate::authz::account_in_label;
    let shown = |id: i64| viewer.role != Role::Founder || id == viewer.account_id;
    let names = crate::rows_by_id::<account::Entity, _>(
        db,
        account::Column::Id,
        events
            .iter()
            .filter_map(|e| account_of(&e.actor))
            .filter(|&id| shown(id)),
        |a| a.id,
    )
    .await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let name = account_of(&e.actor)
                .and_then(|id| names.get(&id))
                .map(|a| a.display_name.clone());
            event_view(e, name)
        })
        .collect())
}
