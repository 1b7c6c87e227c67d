//! What the applications workflow answers: an application, its history,
//! instalments and reviews as callers see them. Built from the stored rows
//! only, so any use case (and the audit snapshots of a move) shows an
//! application the same way.

use super::evidence::{DocumentView, MissingEvidence};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::application::{Event, State};
use opcity_policy::Explanation;
use opcity_store::entity::{application, application_event, disbursement, review};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    pub programme: String,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub district: String,
    pub state: String,
    pub requested_fen: Option<i64>,
    pub approved_fen: Option<i64>,
    pub budget_id: Option<i64>,
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// The engine's result for the programme at submission, with the pack
    /// version; `null` before submission.
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<Explanation>,
    pub pack_version: Option<String>,
    pub return_deadline: Option<NaiveDate>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Whole days since submission while waiting for a decision (the SLA clock).
    pub waiting_days: Option<i64>,
    /// An approval above the programme's threshold waits for a second reviewer.
    pub awaiting_second_review: bool,
    /// Who applied: the enterprise's name, or the person's; filled in for
    /// the review queue and the case page.
    pub applicant: Option<String>,
    /// While a decision is awaited, the date the programme's service
    /// standard promises it by; filled in for the review queue.
    pub due_on: Option<NaiveDate>,
    /// Who works the case, for staff (the queue and the case page).
    pub assignee: Option<Assignee>,
    /// Questions to the applicant not answered yet; filled in for the
    /// review queue.
    pub open_questions: usize,
}

impl crate::Party for ApplicationView {
    fn party(&self) -> (Option<i64>, Option<i64>) {
        (self.enterprise_id, self.person_id)
    }

    fn set_party_name(&mut self, name: Option<String>) {
        self.applicant = name;
    }
}

/// A member of staff a case is (or may be) given to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Assignee {
    pub id: i64,
    /// Their display name.
    pub name: String,
}

impl From<&opcity_store::entity::account::Model> for Assignee {
    fn from(a: &opcity_store::entity::account::Model) -> Assignee {
        Assignee {
            id: a.id,
            name: a.display_name.clone(),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub from_state: Option<String>,
    pub to_state: String,
    pub event: String,
    pub actor: String,
    /// Who acted, by name, where the viewer may know it: staff see every
    /// account's name, an applicant only their own (a reviewer stays "a
    /// reviewer"); `None` for the platform's own steps (`system:…`).
    pub actor_name: Option<String>,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DisbursementView {
    pub seq: i32,
    pub due_on: NaiveDate,
    pub amount_fen: i64,
    pub status: String,
    pub paid_at: Option<DateTime<Utc>>,
}

/// A reviewer's decision as other reviewers see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub reviewer_id: i64,
    /// The reviewer's display name.
    pub reviewer: String,
    pub decision: String,
    pub amount_fen: Option<i64>,
    /// The total of `scores`.
    pub score: Option<i32>,
    #[schema(value_type = Object)]
    pub scores: serde_json::Value,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationDetail {
    pub application: ApplicationView,
    pub history: Vec<EventView>,
    pub disbursements: Vec<DisbursementView>,
    /// Uploaded documents, oldest first; a later upload for an item replaces
    /// the earlier one.
    pub documents: Vec<DocumentView>,
    /// Evidence the programme asks for that is not supplied yet.
    pub missing: Vec<MissingEvidence>,
    /// Reviews, for reviewers and auditors only (empty for the applicant).
    pub reviews: Vec<ReviewView>,
    /// What the viewer may do with it now: the events the state machine
    /// allows the viewer's party from its state, when `authz` lets the
    /// viewer act on it at all (pages offer exactly these).
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Event>,
    /// What the accepted approval became; absent before acceptance.
    pub delivery: Option<DeliveryView>,
    /// Eligibility flags raised on the benefit, oldest first.
    pub flags: Vec<super::FlagView>,
    /// What the viewer may do about the open flag, if any.
    pub flag_action: Option<FlagAction>,
    /// While a decision is awaited: the date the programme's service
    /// standard promises it by.
    pub expected_decision_on: Option<NaiveDate>,
    /// A letter for each decision, oldest first.
    pub letters: Vec<super::DecisionLetter>,
    /// For reviewers and auditors, while a second reviewer must approve
    /// (four eyes): the approval already given.
    pub pending_approval: Option<PendingApproval>,
    /// Requests for information and their answers, oldest first.
    pub messages: Vec<super::MessageView>,
    /// What the viewer may add to the thread now, if anything.
    pub message_action: Option<super::MessageAction>,
}

/// An approval given and waiting for a second reviewer's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PendingApproval {
    pub reviewer_id: i64,
    /// The reviewer's display name.
    pub reviewer: String,
    pub amount_fen: Option<i64>,
    pub at: DateTime<Utc>,
}

/// What a viewer may do about an open eligibility flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagAction {
    /// The applicant answers it.
    Respond,
    /// A reviewer confirms the lapse or lifts the flag.
    Decide,
}

/// What an accepted approval became, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// `cash`, `voucher`, `space`, `housing`, `title` or `referral`.
    pub delivery: String,
    /// Where it stands: `paying`/`paid` (cash), `issued` (voucher),
    /// `waiting`/`offered`/`fulfilled`/`allocated`/`withdrawn` (requests),
    /// `held`/`ended` (title), `open`/`in_progress`/`closed` (referral).
    pub status: String,
    pub amount_fen: Option<i64>,
    /// The last day it is held or valid, if it ends.
    pub until: Option<NaiveDate>,
    /// The request, its community, or the referral's partner.
    pub request_id: Option<i64>,
    pub community_id: Option<i64>,
    pub partner: Option<String>,
    /// The support attached to a title.
    pub support: Vec<String>,
}

pub(super) fn view(
    a: &application::Model,
    now: DateTime<Utc>,
    awaiting_second_review: bool,
) -> ApplicationView {
    let state: State = a.state.parse().unwrap_or(State::Draft);
    ApplicationView {
        id: a.id,
        programme: a.programme.clone(),
        person_id: a.person_id,
        enterprise_id: a.enterprise_id,
        district: a.district.clone(),
        state: a.state.clone(),
        requested_fen: a.requested_fen,
        approved_fen: a.approved_fen,
        budget_id: a.budget_id,
        form: serde_json::from_str(&a.form_data).unwrap_or_default(),
        explanation: readable_explanation(a),
        pack_version: a.pack_version.clone(),
        return_deadline: a.return_deadline,
        submitted_at: a.submitted_at,
        decided_at: a.decided_at,
        created_at: a.created_at,
        waiting_days: a
            .submitted_at
            .filter(|_| state.awaits_review())
            .map(|s| (now - s).num_days()),
        awaiting_second_review,
        applicant: None,
        due_on: None,
        assignee: None,
        open_questions: 0,
    }
}

pub(super) fn event_view(e: application_event::Model, actor_name: Option<String>) -> EventView {
    EventView {
        from_state: e.from_state,
        to_state: e.to_state,
        event: e.event,
        actor: e.actor,
        actor_name,
        comment: e.comment,
        at: e.at,
    }
}

pub(super) fn disbursement_view(d: disbursement::Model) -> DisbursementView {
    DisbursementView {
        seq: d.seq,
        due_on: d.due_on,
        amount_fen: d.amount_fen,
        status: d.status,
        paid_at: d.paid_at,
    }
}

pub(super) fn review_view(r: review::Model, reviewer: String) -> ReviewView {
    ReviewView {
        reviewer_id: r.reviewer_id,
        reviewer,
        decision: r.decision,
        amount_fen: r.amount_fen,
        score: r.score,
        scores: r
            .scores
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| serde_json::json!({})),
        comment: r.comment,
        at: r.at,
    }
}

/// The stored explanation for a view. One that does not read (a newer
/// schema, a damaged row) is logged and left out of the view, so the
/// application can still be read and acted on; the use cases that depend
/// on it refuse instead (see `engine::stored_explanation`).
fn readable_explanation(a: &application::Model) -> Option<Explanation> {
    let stored = a.explanation.as_deref()?;
    Explanation::parse(stored)
        .inspect_err(|e| tracing::error!(application = a.id, error = %e, "unreadable explanation"))
        .ok()
}
