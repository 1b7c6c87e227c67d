//! Applications from "apply" to "paid": the lifecycle (one state machine in
//! `opcity_domain::application`), review, budgets that are never overspent,
//! and disbursement schedules paid by an idempotent job.
//!
//! Every change of state goes through [`Services::move_application`], which
//! checks the state machine, updates the row only if it is still in the state
//! read (so two reviewers cannot both act on one application), records the
//! history, audits and notifies the applicant — all in the caller's
//! transaction.

pub(crate) mod approvals;
pub mod budgets;
pub mod disbursements;
pub mod evidence;
pub mod lifecycle;
pub(crate) mod submissions;

pub use evidence::{DocumentStore, DocumentView, MissingEvidence, Upload};
pub use lifecycle::{
    ApplicationDetail, ApplicationView, Decision, NewApplication, QueueFilter, ReviewInput,
};
