//! Requests for information as a thread with the applicant: a reviewer
//! asks (the question stays open), the applicant answers (closing every
//! open question), each side is told in the inbox (and by e-mail when they
//! opted in). A return's request becomes the thread's question too, so the
//! applicant answers it where it was asked.
//!
//! A message locks the application's row, so a decision or a withdrawal
//! racing it either comes first (and the thread is closed) or waits.
//!
//! The thread is what the applicant and the reviewers share; a reviewer's
//! internal note stays on the review (`ReviewInput::comment`). The thread
//! is open while the case is with reviewers or returned; the store guards
//! that an answer answers an open question (`opcity_store::applications::
//! messages`).

use super::moves::{self, party, resource};
use super::review::check_conflict_of_interest;
use crate::Services;
use crate::authz::{Action, Actor, authorize, permits};
use crate::error::{Result, ServiceError};
use crate::registry::Checker;
use chrono::{DateTime, Utc};
use opcity_domain::Role;
use opcity_domain::application::{Party, State};
use opcity_store::applications::messages::{self as store, NewMessage};
use opcity_store::entity::{account, application, application_message};
use opcity_store::notifications::{self, NewNotification};

/// The longest message, in characters.
const MAX_CHARS: usize = 2_000;

/// One message of an application's thread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// The applicant's answer (true) or a reviewer's question.
    pub from_applicant: bool,
    /// The author's name where the viewer may know it: an applicant reads
    /// their own name, not a reviewer's.
    pub author: Option<String>,
    pub body: String,
    pub at: DateTime<Utc>,
    /// For a question: when the applicant answered it (open while empty).
    pub answered_at: Option<DateTime<Utc>>,
}

/// What a viewer may add to the thread now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageAction {
    /// A reviewer asks the applicant.
    Ask,
    /// The applicant answers the open questions.
    Answer,
}

/// Whether the thread takes messages in `app`'s state: while reviewers
/// have the case, or it is returned to the applicant.
fn thread_open(app: &application::Model) -> bool {
    app.state
        .parse::<State>()
        .is_ok_and(|s| s.awaits_review() || s == State::Returned)
}

/// What `actor` may add to `app`'s thread, given whether a question is open.
pub(super) fn action(actor: &Actor, app: &application::Model, open: bool) -> Option<MessageAction> {
    if !thread_open(app) || !permits(actor, Action::Update, resource(app)) {
        return None;
    }
    match party(actor, app) {
        Party::Applicant => open.then_some(MessageAction::Answer),
        _ => check_conflict_of_interest(actor, app, true)
            .is_ok()
            .then_some(MessageAction::Ask),
    }
}

/// The thread of `app` as `viewer` reads it.
pub(super) async fn thread_of<C: opcity_store::sea_orm::ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    app: &application::Model,
) -> Result<Vec<MessageView>> {
    let rows = store::thread(db, app.id).await?;
    let shown = |m: &application_message::Model| {
        viewer.role != Role::Founder || m.author_id == viewer.account_id
    };
    let names = crate::rows_by_id::<account::Entity, _>(
        db,
        account::Column::Id,
        rows.iter().filter(|m| shown(m)).map(|m| m.author_id),
        |a| a.id,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|m| MessageView {
            author: names.get(&m.author_id).map(|a| a.display_name.clone()),
            ..message_view(m)
        })
        .collect())
}

fn message_view(m: application_message::Model) -> MessageView {
    MessageView {
        id: m.id,
        from_applicant: m.from_applicant,
        author: None,
        body: m.body,
        at: m.at,
        answered_at: m.answered_at,
    }
}

/// The message as typed, or why it is refused.
fn checked_body(body: &str) -> Result<String> {
    let mut c = Checker::default();
    let body = c.required_text("body", body, MAX_CHARS);
    c.finish()?;
    Ok(body)
}

/// A reviewer asks the applicant of application `id`.
pub(super) async fn ask(s: &Services, actor: &Actor, id: i64, body: &str) -> Result<MessageView> {
    let tx = s.store().begin().await?;
    let app = moves::lock(&tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    if party(actor, &app) == Party::Applicant {
        return Err(ServiceError::Forbidden);
    }
    check_conflict_of_interest(actor, &app, true)?;
    let body = checked_body(body)?;
    if !thread_open(&app) {
        return Err(thread_closed());
    }
    let asked = post_question(s, &tx, actor, &app, &body).await?;
    notify(s, &tx, &app, [app.created_by], "information_requested").await?;
    crate::commit_change(
        tx,
        s.now(),
        &actor.audit_label(),
        "application.ask",
        id,
        None,
        own_view(actor, asked),
    )
    .await
}

/// Writes a reviewer's question on `app` (also a return's request, whose
/// notice is the return's own).
pub(super) async fn post_question(
    s: &Services,
    tx: &opcity_store::WriteTx,
    actor: &Actor,
    app: &application::Model,
    body: &str,
) -> Result<application_message::Model> {
    let new = NewMessage {
        application_id: app.id,
        author_id: actor.account_id,
        body,
        at: s.now(),
    };
    Ok(store::ask(tx, new).await?)
}

/// The applicant answers the open questions of application `id`.
pub(super) async fn answer(
    s: &Services,
    actor: &Actor,
    id: i64,
    body: &str,
) -> Result<MessageView> {
    let tx = s.store().begin().await?;
    let app = moves::lock(&tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    if party(actor, &app) != Party::Applicant {
        return Err(ServiceError::Forbidden);
    }
    let body = checked_body(body)?;
    if !thread_open(&app) {
        return Err(thread_closed());
    }
    let new = NewMessage {
        application_id: id,
        author_id: actor.account_id,
        body: &body,
        at: s.now(),
    };
    let (answered, askers) = store::answer(&tx, new)
        .await?
        .ok_or_else(nothing_to_answer)?;
    notify(s, &tx, &app, askers, "information_answered").await?;
    crate::commit_change(
        tx,
        s.now(),
        &actor.audit_label(),
        "application.answer",
        id,
        None,
        own_view(actor, answered),
    )
    .await
}

async fn notify(
    s: &Services,
    tx: &opcity_store::WriteTx,
    app: &application::Model,
    to: impl IntoIterator<Item = i64>,
    kind: &'static str,
) -> Result<()> {
    let subject = format!("application:{}", app.id);
    let notices: Vec<NewNotification> = to
        .into_iter()
        .map(|account_id| NewNotification {
            account_id,
            kind,
            programme: Some(&app.programme),
            subject: Some(&subject),
            at: s.now(),
        })
        .collect();
    notifications::insert_all(tx, &notices).await?;
    Ok(())
}

/// The case is no longer with reviewers (nor returned): a state of the
/// case, not of what was typed.
fn thread_closed() -> ServiceError {
    ServiceError::Conflict {
        code: crate::ErrorCode::ThreadClosed,
        field: Some("body"),
    }
}

/// The message as its author reads it back: with their own name.
fn own_view(actor: &Actor, m: application_message::Model) -> MessageView {
    MessageView {
        author: Some(actor.display_name.clone()),
        ..message_view(m)
    }
}

fn nothing_to_answer() -> ServiceError {
    ServiceError::Conflict {
        code: crate::ErrorCode::NothingToAnswer,
        field: Some("body"),
    }
}
