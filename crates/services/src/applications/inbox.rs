//! The inbox: every notification an account received, newest first, each
//! with what it is about — for an application's move, the step that caused
//! it: a decision with its amount and what the benefit becomes, the reason
//! written for the applicant, what a return asks for and by when, the
//! conditions a flagged benefit no longer meets — and the decision letter,
//! where there is one; for whoever manages premises, the space or flat that
//! ends because its benefit lapsed, and when.
//!
//! Notifications are the account's own; what they point at is shown only
//! where `authz` lets the account read the application.

use super::letters::{failing, is_decision, reference};
use super::moves::resource;
use crate::Services;
use crate::authz::{Action, Actor, permits};
use crate::error::Result;
use crate::spaces::Ending;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use opcity_domain::application::State;
use opcity_policy::{Explanation, Pack};
use opcity_store::entity::{
    application, application_event, application_message, eligibility_flag, notification,
};
use opcity_store::{applications, flags, notifications};
use std::collections::BTreeMap;

/// One notification, with what it is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub id: i64,
    /// `application_{state}` (the application moved to the state),
    /// `may_qualify`, a request for information `information_requested`
    /// and its answer `information_answered` (with the message), a flag's `benefit_flagged`, `flag_to_review`,
    /// `flag_answered`, `flag_lifted`, `benefit_ended`, or for whoever
    /// manages the premises `space_ends`, `lease_ends`; about a space
    /// request, `space_change_proposed` (to its holder), `space_change_accepted`
    /// and `space_change_declined` (to the operator who proposed it).
    pub kind: String,
    pub programme: Option<String>,
    pub at: DateTime<Utc>,
    pub read: bool,
    /// The application it is about.
    pub application_id: Option<i64>,
    /// The application's state now.
    pub state: Option<String>,
    /// What the applicant was told with the step: a rejection's reason,
    /// what a return asks for, a note with an approval; a reviewer's
    /// question or the applicant's answer.
    pub message: Option<String>,
    /// An approval's amount.
    pub approved_fen: Option<i64>,
    /// A return's date more information is due.
    pub due_on: Option<NaiveDate>,
    /// What an approval becomes once accepted (`cash`, `voucher`, …).
    pub delivery: Option<String>,
    /// The conditions a flagged benefit, or a submission the pre-check
    /// rejected, did not meet.
    pub unmet_conditions: Vec<String>,
    /// The decision letter's reference, for an approval or a rejection.
    pub letter: Option<String>,
    /// Its number among the application's letters, from 1.
    pub letter_number: Option<usize>,
    /// For a manager's `space_ends` or `lease_ends`: the unit's code.
    pub unit: Option<String>,
    /// For a manager's `space_ends` or `lease_ends`: the last day the space
    /// or flat is held, the benefit behind it having lapsed.
    pub ends_on: Option<NaiveDate>,
}

/// The applications the notices point at, with their histories and flags.
struct Subjects {
    applications: BTreeMap<i64, application::Model>,
    events: BTreeMap<i64, Vec<application_event::Model>>,
    flags: BTreeMap<i64, Vec<eligibility_flag::Model>>,
    /// The agreements and leases that end, by notice subject.
    endings: BTreeMap<String, Ending>,
    /// The threads of applications with a request for information or its
    /// answer among the notices.
    messages: BTreeMap<i64, Vec<application_message::Model>>,
}

/// The actor's notifications, newest first, at most `limit`, each with
/// what it is about.
pub(super) async fn inbox(s: &Services, actor: &Actor, limit: u64) -> Result<Vec<InboxItem>> {
    let db = s.store().db();
    let rows = notifications::of_account(db, actor.account_id, limit).await?;
    let ids: Vec<i64> = rows.iter().filter_map(application_of).collect();
    let applications: BTreeMap<i64, application::Model> = applications::find_many(db, ids)
        .await?
        .into_iter()
        .filter(|(_, a)| permits(actor, Action::Read, resource(a)))
        .collect();
    let mut events: BTreeMap<i64, Vec<application_event::Model>> = BTreeMap::new();
    for e in applications::histories(db, applications.keys().copied()).await? {
        events.entry(e.application_id).or_default().push(e);
    }
    let flagged = rows
        .iter()
        .filter(|n| is_about_a_flag(&n.kind))
        .filter_map(application_of)
        .filter(|a| applications.contains_key(a));
    let mut flags: BTreeMap<i64, Vec<eligibility_flag::Model>> = BTreeMap::new();
    for f in flags::of_applications(db, flagged).await? {
        flags.entry(f.application_id).or_default().push(f);
    }
    let ending: Vec<&str> = rows
        .iter()
        .filter(|n| is_an_ending(&n.kind))
        .filter_map(|n| n.subject.as_deref())
        .collect();
    let asked = rows
        .iter()
        .filter(|n| is_about_a_message(&n.kind))
        .filter_map(application_of)
        .filter(|a| applications.contains_key(a));
    let mut messages: BTreeMap<i64, Vec<application_message::Model>> = BTreeMap::new();
    for m in applications::messages::threads(db, asked).await? {
        messages.entry(m.application_id).or_default().push(m);
    }
    let subjects = Subjects {
        endings: crate::spaces::endings(db, &ending).await?,
        messages,
        applications,
        events,
        flags,
    };
    let pack = s.pack();
    Ok(rows
        .into_iter()
        .map(|n| item(n, &subjects, &pack))
        .collect())
}

fn is_about_a_flag(kind: &str) -> bool {
    matches!(
        kind,
        "benefit_flagged" | "flag_to_review" | "flag_answered" | "flag_lifted" | "benefit_ended"
    )
}

/// A request for information, or its answer (`messages`).
fn is_about_a_message(kind: &str) -> bool {
    matches!(kind, "information_requested" | "information_answered")
}

/// A manager's notice that a space or flat ends early (its benefit lapsed).
fn is_an_ending(kind: &str) -> bool {
    matches!(kind, "space_ends" | "lease_ends")
}

/// The application a notification's subject (`application:{id}`) names.
fn application_of(n: &notification::Model) -> Option<i64> {
    n.subject
        .as_deref()?
        .strip_prefix("application:")?
        .parse()
        .ok()
}

fn item(n: notification::Model, subjects: &Subjects, pack: &Pack) -> InboxItem {
    let mut item = InboxItem {
        id: n.id,
        kind: n.kind.clone(),
        programme: n.programme.clone(),
        at: n.created_at,
        read: n.read_at.is_some(),
        application_id: None,
        state: None,
        message: None,
        approved_fen: None,
        due_on: None,
        delivery: None,
        unmet_conditions: Vec::new(),
        letter: None,
        letter_number: None,
        unit: None,
        ends_on: None,
    };
    if let Some(ending) = n.subject.as_deref().and_then(|s| subjects.endings.get(s)) {
        item.unit = Some(ending.unit_code.clone());
        item.ends_on = Some(ending.last_day);
        return item;
    }
    let Some(app) = application_of(&n).and_then(|id| subjects.applications.get(&id)) else {
        return item;
    };
    item.application_id = Some(app.id);
    item.state = Some(app.state.clone());
    let history = subjects
        .events
        .get(&app.id)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if let Some(to) = n.kind.strip_prefix("application_") {
        describe_move(&mut item, app, history, to, n.created_at);
        if to == State::Approved.id() {
            item.delivery = pack
                .programme(&app.programme)
                .map(|p| p.delivery.name().to_owned());
        }
    } else if is_about_a_message(&n.kind) {
        // The message the notice was written with, at the same instant.
        let from_applicant = n.kind == "information_answered";
        item.message = subjects
            .messages
            .get(&app.id)
            .and_then(|thread| {
                thread
                    .iter()
                    .rev()
                    .find(|m| m.from_applicant == from_applicant && m.at <= n.created_at)
            })
            .map(|m| m.body.clone());
    } else if let Some(flag) = subjects
        .flags
        .get(&app.id)
        .and_then(|f| f.iter().rev().find(|f| f.created_at <= n.created_at))
    {
        item.unmet_conditions = Explanation::parse(&flag.explanation)
            .map(|e| failing(&e))
            .unwrap_or_default();
        item.message = flag
            .decision_note
            .clone()
            .filter(|_| n.kind != "benefit_flagged");
    }
    item
}

/// Fills in the step that moved `app` to `to` at `at` (the notice is
/// written with its step, at the same instant).
fn describe_move(
    item: &mut InboxItem,
    app: &application::Model,
    history: &[application_event::Model],
    to: &str,
    at: DateTime<Utc>,
) {
    let Some(step) = history
        .iter()
        .rev()
        .find(|e| e.to_state == to && e.at <= at)
    else {
        return;
    };
    item.message = step.comment.clone();
    if to == State::Approved.id() {
        item.approved_fen = app.approved_fen;
    }
    if to == State::Returned.id() {
        item.due_on = app.return_deadline;
    }
    if to == State::Rejected.id() && step.event == "precheck_failed" {
        item.unmet_conditions = app
            .explanation
            .as_deref()
            .and_then(|e| Explanation::parse(e).ok())
            .map(|e| failing(&e))
            .unwrap_or_default();
    }
    let decisions = history
        .iter()
        .take_while(|e| e.id <= step.id)
        .filter(|e| is_decision(e))
        .count();
    if is_decision(step) {
        let year = opcity_domain::today_in_shanghai(step.at).year();
        item.letter = Some(reference(year, app.id, decisions));
        item.letter_number = Some(decisions);
    }
}
