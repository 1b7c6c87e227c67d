//! Applications from "apply" to "paid": the lifecycle (one state machine in
//! `opcity_domain::application`), review, budgets that are never overspent,
//! and disbursement schedules paid by an idempotent job.
//!
//! This module decides; `opcity_store::applications` guards and persists.
//! Every change of state goes through `moves` (or, for submissions and
//! approvals written in groups, the same store guard for many rows at
//! once), which checks the state machine, has the store update the row
//! only if it is still as read (so two reviewers cannot both act on one
//! application), records the history, audits and notifies the applicant —
//! all in the caller's transaction.
//!
//! The `impl Services` below is the façade: one line per entry point,
//! delegating to the module of its use case —
//! - `create`: starting a draft (idempotent retries);
//! - `submissions`: submitting, with the engine's pre-check, in groups;
//! - `review`, `approvals`: reviewers' decisions; approvals in groups that
//!   reserve their budgets;
//! - `offer`: accepting or declining an offer, withdrawing, clawing back;
//! - `recheck`: continuous eligibility — benefits re-evaluated on a date,
//!   lapses flagged to their reviewer, instalments paused until decided;
//! - `delivery`: what an accepted approval becomes, by the programme's
//!   delivery (instalments, a voucher, a space or housing request, a title,
//!   a referral);
//! - `appeal`: appeals and their decision;
//! - `messages`: requests for information, a thread of reviewers'
//!   questions and the applicant's answers;
//! - `inbox`: an account's notifications, each with the step it reports;
//! - `letters`: a decision letter for each decision, and the date the
//!   service standard promises one by;
//! - `evidence`: the form and uploaded documents;
//! - `queries`, `views`: reading applications and what callers see;
//! - `workbench`: the reviewers' queue (filters, search, pages, saved
//!   views, export) and who works each case;
//! - `budgets`, `disbursements`: programme budgets and paying instalments;
//! - `moves`, `engine`: the shared machinery (guarded moves, and what the
//!   policy engine says about an application).
//!
//! Dependencies point one way: `submissions` and `approvals` implement
//! `crate::groups::GroupWork`, which names no request type.

mod appeal;
pub(crate) mod approvals;
pub mod budgets;
mod caps;
mod create;
mod delivery;
pub mod disbursements;
mod engine;
pub mod evidence;
mod inbox;
mod letters;
mod messages;
mod moves;
mod offer;
mod queries;
mod recheck;
mod review;
pub(crate) mod submissions;
mod views;
pub mod workbench;

pub use create::NewApplication;
pub use evidence::{DocumentStore, DocumentView, MissingEvidence, Upload};
pub use inbox::InboxItem;
pub use letters::DecisionLetter;
pub use messages::{MessageAction, MessageView};
pub use recheck::{FlagDecision, FlagView, RecheckRun};
pub use review::{Decision, ReviewInput};
pub use views::{
    ApplicationDetail, ApplicationView, Assignee, DeliveryView, DisbursementView, EventView,
    FlagAction, PendingApproval, ReviewView,
};
pub use workbench::{AssignInput, QueueFilter, QueuePage, SavedView};

use crate::Services;
use crate::authz::Actor;
use crate::error::Result;
use budgets::{BudgetInput, BudgetView};
use bytes::Bytes;
use chrono::NaiveDate;
use disbursements::{PaymentLine, PaymentRun};

impl Services {
    /// Whether `actor` may apply for themself: they have a person record
    /// and `authz` lets them start an application on it (pages ask before
    /// they offer "Apply"; staff acting for others start from the case).
    pub fn may_apply_for_self(&self, actor: &Actor) -> bool {
        use crate::authz::{Action, Resource, permits};
        actor.person_id.is_some_and(|person_id| {
            opcity_domain::District::ALL.into_iter().any(|district| {
                permits(
                    actor,
                    Action::Create,
                    Resource::Application {
                        district,
                        person_id: Some(person_id),
                        enterprise_id: None,
                        draft: true,
                    },
                )
            })
        })
    }

    /// Starts a draft; a retry with the same idempotency key answers the first.
    pub async fn create_application(
        &self,
        actor: &Actor,
        input: &NewApplication,
    ) -> Result<ApplicationView> {
        create::create_application(self, actor, input).await
    }

    /// Submits a draft or a returned application, pre-checked by the engine at once.
    pub async fn submit_application(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        submissions::submit_application(self, actor, id).await
    }

    /// A reviewer's decision; an approval reserves its amount in the deciding authority's budget.
    pub async fn review_application(
        &self,
        actor: &Actor,
        id: i64,
        input: &ReviewInput,
    ) -> Result<ApplicationView> {
        review::review_application(self, actor, id, input).await
    }

    /// The applicant accepts the offer: instalments scheduled, benefit granted, disbursement started.
    pub async fn accept_offer(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        offer::accept_offer(self, actor, id).await
    }

    /// The applicant declines an offer or withdraws; a held reservation is released.
    pub async fn withdraw_application(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        offer::withdraw_application(self, actor, id).await
    }

    /// Claws a benefit back: instalments cancelled, the reservation released, the grant ended today.
    pub async fn claw_back(
        &self,
        actor: &Actor,
        id: i64,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        offer::claw_back(self, actor, id, comment).await
    }

    /// Re-evaluates every benefit being delivered on `as_of`; lapses are flagged to their reviewer.
    pub async fn recheck_entitlements(&self, as_of: NaiveDate) -> Result<RecheckRun> {
        recheck::recheck(self, as_of).await
    }

    /// The eligibility flags of an application, oldest first.
    pub async fn application_flags(&self, actor: &Actor, id: i64) -> Result<Vec<FlagView>> {
        recheck::flags_of(self, actor, id).await
    }

    /// The reviewer decides an application's open flag: the lapse confirmed (the benefit ends) or lifted.
    pub async fn decide_flag(
        &self,
        actor: &Actor,
        id: i64,
        input: &FlagDecision,
    ) -> Result<FlagView> {
        recheck::decide_flag(self, actor, id, input).await
    }

    /// The founder answers an application's open flag.
    pub async fn respond_to_flag(
        &self,
        actor: &Actor,
        id: i64,
        response: &str,
    ) -> Result<FlagView> {
        recheck::respond_to_flag(self, actor, id, response).await
    }

    /// A reviewer asks the applicant for information; the question stays open until answered.
    pub async fn ask_applicant(&self, actor: &Actor, id: i64, body: &str) -> Result<MessageView> {
        messages::ask(self, actor, id, body).await
    }

    /// The applicant answers the open questions of their application.
    pub async fn answer_reviewer(&self, actor: &Actor, id: i64, body: &str) -> Result<MessageView> {
        messages::answer(self, actor, id, body).await
    }

    /// The applicant appeals a rejection.
    pub async fn appeal_application(
        &self,
        actor: &Actor,
        id: i64,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        appeal::appeal_application(self, actor, id, comment).await
    }

    /// A municipal administrator reopens an appealed application or dismisses the appeal.
    pub async fn decide_appeal(
        &self,
        actor: &Actor,
        id: i64,
        reopen: bool,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        appeal::decide_appeal(self, actor, id, reopen, comment).await
    }

    /// The actor's notifications, newest first, with what each is about.
    pub async fn inbox(&self, actor: &Actor, limit: u64) -> Result<Vec<InboxItem>> {
        inbox::inbox(self, actor, limit).await
    }

    /// The application's decision letters, oldest first.
    pub async fn decision_letters(&self, actor: &Actor, id: i64) -> Result<Vec<DecisionLetter>> {
        letters::decision_letters(self, actor, id).await
    }

    /// One application with its history, instalments, documents, missing evidence and reviews.
    pub async fn get_application(&self, actor: &Actor, id: i64) -> Result<ApplicationDetail> {
        queries::get_application(self, actor, id).await
    }

    /// The founder's own applications, newest first.
    pub async fn my_applications(&self, actor: &Actor) -> Result<Vec<ApplicationView>> {
        queries::my_applications(self, actor).await
    }

    /// A page of a reviewer's queue in their scope, filtered and sorted.
    pub async fn review_queue(&self, actor: &Actor, filter: &QueueFilter) -> Result<QueuePage> {
        workbench::review_queue(self, actor, filter).await
    }

    /// Every application of the queue the filters select, for a file (audited).
    pub async fn export_queue(
        &self,
        actor: &Actor,
        filter: &QueueFilter,
    ) -> Result<Vec<ApplicationView>> {
        workbench::export_queue(self, actor, filter).await
    }

    /// Gives a case to someone, or to nobody, if it is still with whom the caller saw.
    pub async fn assign_case(
        &self,
        actor: &Actor,
        id: i64,
        input: &AssignInput,
    ) -> Result<Option<Assignee>> {
        workbench::assign(self, actor, id, input).await
    }

    /// Who the actor may give a case to, by name (empty if they may not assign it).
    pub async fn case_workers(&self, actor: &Actor, id: i64) -> Result<Vec<Assignee>> {
        workbench::case_workers(self, actor, id).await
    }

    /// The actor's saved queue views, by name.
    pub async fn saved_views(&self, actor: &Actor) -> Result<Vec<SavedView>> {
        workbench::saved_views(self, actor).await
    }

    /// Saves a queue's filters (a query string) under a name, replacing one of that name.
    pub async fn save_view(
        &self,
        actor: &Actor,
        name: &str,
        query: &str,
    ) -> Result<Vec<SavedView>> {
        workbench::save_view(self, actor, name, query).await
    }

    /// Deletes one of the actor's saved views.
    pub async fn delete_saved_view(&self, actor: &Actor, id: i64) -> Result<()> {
        workbench::delete_view(self, actor, id).await
    }

    /// Replaces form fields of a draft or returned application; an empty value clears one.
    pub async fn update_form(
        &self,
        actor: &Actor,
        application_id: i64,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value> {
        evidence::update_form(self, actor, application_id, changes).await
    }

    /// Uploads a document for one of the programme's evidence items, checked before it is stored.
    pub async fn upload_document(
        &self,
        actor: &Actor,
        application_id: i64,
        upload: &Upload,
    ) -> Result<DocumentView> {
        evidence::upload_document(self, actor, application_id, upload).await
    }

    /// A document's record and content, checked against its SHA-256.
    pub async fn document_content(
        &self,
        actor: &Actor,
        application_id: i64,
        document_id: i64,
    ) -> Result<(DocumentView, Bytes)> {
        evidence::document_content(self, actor, application_id, document_id).await
    }

    /// Creates a programme's budget for an authority and a year, funded by its total.
    pub async fn create_budget(&self, actor: &Actor, input: &BudgetInput) -> Result<BudgetView> {
        budgets::create_budget(self, actor, input).await
    }

    /// Adds money to a budget (a new movement; figures are never edited).
    pub async fn fund_budget(&self, actor: &Actor, id: i64, amount_fen: i64) -> Result<BudgetView> {
        budgets::fund_budget(self, actor, id, amount_fen).await
    }

    /// Every budget, by programme and year.
    pub async fn list_budgets(&self, actor: &Actor) -> Result<Vec<BudgetView>> {
        budgets::list_budgets(self, actor).await
    }

    /// Pays every scheduled instalment due by `as_of` (idempotent; stops lapsed eligibility).
    pub async fn pay_due(&self, as_of: NaiveDate) -> Result<PaymentRun> {
        disbursements::pay_due(self, as_of).await
    }

    /// Instalments due in `[from, to]` for the treasury, or of a reviewer's district.
    pub async fn payment_lines(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PaymentLine>> {
        disbursements::payment_lines(self, actor, from, to).await
    }
}
