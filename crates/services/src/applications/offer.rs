//! After approval: the applicant accepts the offer (the benefit is
//! delivered as its programme says, `delivery`, and recorded through the
//! same guard as every grant) or declines it; an applicant may
//! withdraw earlier; an administrator may claw a benefit back. Whatever the
//! application still holds in its budget is released in the same
//! transaction as the move that ends it.

use super::budgets::budget_error;
use super::engine::stored_explanation;
use super::moves::{self, party, resource};
use super::views::{ApplicationView, view};
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::{Result, ServiceError};
use chrono::NaiveDate;
use opcity_domain::application::{Event, Party, State};
use opcity_store::WriteTx;
use opcity_store::applications as store;
use opcity_store::budget::Cause;
use opcity_store::entity::application;

pub(super) async fn accept_offer(s: &Services, actor: &Actor, id: i64) -> Result<ApplicationView> {
    let tx = s.store().begin().await?;
    let app = moves::load(&tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    if party(actor, &app) != Party::Applicant {
        return Err(ServiceError::Forbidden);
    }
    let label = actor.audit_label();
    let accepted = moves::move_application(
        s,
        &tx,
        &app,
        Event::AcceptOffer,
        Party::Applicant,
        &label,
        None,
    )
    .await?;
    super::delivery::deliver(s, &tx, &accepted, actor).await?;
    let disbursing = moves::move_application(
        s,
        &tx,
        &accepted,
        Event::StartDisbursing,
        Party::System,
        "system:delivery",
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&disbursing, s.now(), false))
}

/// Writes the instalments: monthly when the approved amount is the
/// programme's monthly schedule in full, else one lump sum due today.
/// Returns the schedule's length in months, if monthly.
pub(super) async fn schedule(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
) -> Result<Option<i64>> {
    let Some(amount) = app.approved_fen else {
        return Ok(None);
    };
    let explained = stored_explanation(app)?;
    let monthly = explained
        .as_ref()
        .and_then(|e| e.result.monthly_fen)
        .map(|m| m.0);
    let months = explained.as_ref().and_then(|e| e.result.months);
    let today = opcity_domain::today_in_shanghai(s.now());
    let plan: Vec<(NaiveDate, i64)> = match (monthly, months) {
        (Some(m), Some(n)) if m > 0 && n > 0 && m.checked_mul(n) == Some(amount) => (0..n)
            .map(|i| {
                (
                    today
                        .checked_add_months(chrono::Months::new(i as u32))
                        .unwrap_or(today),
                    m,
                )
            })
            .collect(),
        _ => vec![(today, amount)],
    };
    assert_eq!(
        plan.iter().map(|(_, a)| a).sum::<i64>(),
        amount,
        "a schedule pays exactly the approved amount"
    );
    store::schedule(tx, app.id, &plan).await?;
    Ok(months.filter(|_| plan.len() > 1))
}

pub(super) async fn withdraw_application(
    s: &Services,
    actor: &Actor,
    id: i64,
) -> Result<ApplicationView> {
    let tx = s.store().begin().await?;
    let app = moves::load(&tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    if party(actor, &app) != Party::Applicant {
        return Err(ServiceError::Forbidden);
    }
    let event = if app.state == State::Approved.id() {
        Event::DeclineOffer
    } else {
        Event::Withdraw
    };
    let label = actor.audit_label();
    let after =
        moves::move_application(s, &tx, &app, event, Party::Applicant, &label, None).await?;
    release_reservation(s, &tx, &app, &label).await?;
    tx.commit().await?;
    Ok(view(&after, s.now(), false))
}

/// Releases what an application still holds in its budget: the approved
/// amount less what was paid.
async fn release_reservation(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    actor: &str,
) -> Result<()> {
    store::release_held(tx, app, cause(s, app, actor))
        .await
        .map_err(budget_error)
}

fn cause<'a>(s: &Services, app: &application::Model, actor: &'a str) -> Cause<'a> {
    Cause {
        actor,
        application_id: Some(app.id),
        disbursement_id: None,
        at: s.now(),
    }
}

pub(super) async fn claw_back(
    s: &Services,
    actor: &Actor,
    id: i64,
    comment: Option<&str>,
) -> Result<ApplicationView> {
    let tx = s.store().begin().await?;
    let app = moves::load(&tx, id).await?;
    let after = claw_back_in(s, &tx, actor, &app, comment).await?;
    tx.commit().await?;
    Ok(view(&after, s.now(), false))
}

/// Claws `app` back inside `tx`: the move, then its instalments stopped
/// and what its delivery left unused taken back.
pub(super) async fn claw_back_in(
    s: &Services,
    tx: &WriteTx,
    actor: &Actor,
    app: &application::Model,
    comment: Option<&str>,
) -> Result<application::Model> {
    authorize(actor, Action::Update, resource(app))?;
    let label = actor.audit_label();
    let after = moves::move_application(
        s,
        tx,
        app,
        Event::ClawBack,
        party(actor, app),
        &label,
        comment,
    )
    .await?;
    let today = opcity_domain::today_in_shanghai(s.now());
    stop_payments(s, tx, app, &label, today).await?;
    super::delivery::undo(s, tx, app, actor).await?;
    Ok(after)
}

/// Cancels scheduled instalments, releases the rest of the reservation and
/// ends the grant on `ends_on` (claw-back, or eligibility lapsed).
pub(super) async fn stop_payments(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    actor: &str,
    ends_on: NaiveDate,
) -> Result<()> {
    store::stop_payments(tx, app, cause(s, app, actor), ends_on)
        .await
        .map_err(budget_error)
}
