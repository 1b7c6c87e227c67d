//! Voucher pages (measure 6), one page per role at `/vouchers`: the
//! enterprise's wallet (balances, open holds, history, confirm or dispute
//! each use), the provider console (registration, receivables, open holds
//! with capture and void, settlement downloads) and the administrators' view
//! of pools, providers, disputes and reconciliation with the forms to issue
//! vouchers, fund pools, run the expiry jobs and resolve disputes (uphold or
//! reverse). Every form carries the CSRF token and,
//! where it moves money, a transfer id drawn when the page was rendered, so a
//! double submission applies once.
//!
//! One module a role's view with its forms' handlers (`enterprise`,
//! `provider`, `admin`); `page` is the page they make up and how a handler
//! answers; `shared` holds what the views have in common.

mod admin;
mod enterprise;
mod page;
mod provider;
mod shared;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// One line per entry point.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vouchers", get(page::show))
        .route("/vouchers/issue", post(admin::issue))
        .route("/vouchers/fund", post(admin::fund))
        .route("/vouchers/jobs", post(admin::run_jobs))
        .route("/vouchers/uses/{id}/review", post(enterprise::review))
        .route("/vouchers/uses/{id}/resolution", post(admin::resolve))
        .route("/vouchers/settlement", get(provider::settlement))
        .route("/providers/register", post(provider::register))
        .route("/providers/{id}/decision", post(admin::decide))
        .route("/provider/holds", post(provider::hold))
        .route("/provider/holds/{id}/capture", post(provider::capture))
        .route("/provider/holds/{id}/void", post(provider::void))
}
