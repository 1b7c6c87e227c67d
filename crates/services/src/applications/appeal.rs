//! Appeals: an applicant appeals a rejection; a municipal administrator
//! reopens it (back to district review) or dismisses it. A move with no
//! effect beyond itself, so the state machine decides who may do what.

use super::moves::{self, party, resource};
use super::views::{ApplicationView, view};
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::Result;
use opcity_domain::application::Event;

pub(super) async fn appeal_application(
    s: &Services,
    actor: &Actor,
    id: i64,
    comment: Option<&str>,
) -> Result<ApplicationView> {
    act_on(s, actor, id, Event::Appeal, comment).await
}

pub(super) async fn decide_appeal(
    s: &Services,
    actor: &Actor,
    id: i64,
    reopen: bool,
    comment: Option<&str>,
) -> Result<ApplicationView> {
    let event = if reopen {
        Event::ReopenAppeal
    } else {
        Event::DismissAppeal
    };
    act_on(s, actor, id, event, comment).await
}

/// A transition with no side effect beyond the move itself.
async fn act_on(
    s: &Services,
    actor: &Actor,
    id: i64,
    event: Event,
    comment: Option<&str>,
) -> Result<ApplicationView> {
    let tx = s.store().begin().await?;
    let app = moves::load(&tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    let label = actor.audit_label();
    let after =
        moves::move_application(s, &tx, &app, event, party(actor, &app), &label, comment).await?;
    tx.commit().await?;
    Ok(view(&after, s.now(), false))
}
