//! `/api/v1`: JSON over HTTP, documented by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json` and browsable at `/api/v1/docs` (Swagger UI served
//! from this binary, so it works offline).

mod accounts;
pub(crate) mod applications;
mod policy;
mod registry;
mod reports;
mod spaces;
pub mod vouchers;

use crate::AppState;
use crate::error::WebError;
use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::routing::get;
use opcity_services::registry::{ListFilter, Paging};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "opcity API", version = "1", description = "Shenzhen AI OPC programme platform. Errors are RFC 9457 problem details with a stable `code`; send `Accept-Language: en` for English messages (default Chinese). Authenticate with `Authorization: Bearer <token>` (tokens are created at /api/v1/tokens or in the portal), or with the session cookie plus the `X-CSRF-Token` header on changes."),
    paths(
        accounts::create_session, accounts::delete_session, accounts::me, accounts::update_me,
        accounts::my_entitlements, accounts::my_notifications, accounts::read_notifications,
        accounts::list_tokens, accounts::create_token, accounts::revoke_token,
        accounts::list_accounts, accounts::create_account,
        registry::list_communities, registry::get_community, registry::create_community, registry::update_community,
        registry::list_persons, registry::get_person, registry::create_person, registry::update_person,
        registry::list_enterprises, registry::get_enterprise, registry::create_enterprise, registry::update_enterprise,
        reports::districts, reports::dashboard, reports::audit_log, reports::audit_verify,
        applications::create_application, applications::list_applications, applications::review_queue, applications::get_application,
        applications::update_form, applications::upload_document, applications::download_document,
        applications::submit_application, applications::review_application, applications::accept_offer, applications::withdraw_application,
        applications::appeal_application, applications::decide_appeal, applications::claw_back,
        applications::list_budgets, applications::create_budget, applications::fund_budget, applications::export_disbursements,
        policy::list_programmes, policy::get_programme, policy::get_parameter, policy::eligibility, policy::eligibility_batch,
        vouchers::voucher_kinds, vouchers::issue_voucher, vouchers::list_pools, vouchers::fund_pool, vouchers::claw_back,
        vouchers::reconciliation, vouchers::run_jobs, vouchers::review_use, vouchers::list_disputes, vouchers::resolve_dispute, vouchers::wallet,
        vouchers::list_providers, vouchers::register_provider, vouchers::get_provider, vouchers::decide_provider, vouchers::settlement,
        vouchers::provider_console, vouchers::place_hold, vouchers::capture_hold, vouchers::void_hold, vouchers::provider_batch,
        spaces::create_building, spaces::create_floor, spaces::create_unit, spaces::get_unit, spaces::update_unit, spaces::inventory,
        spaces::list_requests, spaces::request_space, spaces::withdraw_request, spaces::offer_space, spaces::serve_waitlist,
        spaces::list_agreements, spaces::get_agreement, spaces::accept_offer, spaces::decline_offer, spaces::withdraw_offer,
        spaces::end_agreement, spaces::move_agreement,
        spaces::list_housing_units, spaces::create_housing_unit, spaces::update_housing_unit, spaces::list_leases,
        spaces::allocate_housing, spaces::get_lease, spaces::move_in, spaces::renew_lease, spaces::move_out, spaces::occupancy,
        spaces::list_instruments, spaces::create_instrument, spaces::get_instrument, spaces::update_instrument,
        spaces::instrument_day, spaces::instrument_calendar, spaces::my_calendar, spaces::list_bookings, spaces::book_instrument,
        spaces::get_booking, spaces::approve_booking, spaces::reject_booking, spaces::cancel_booking, spaces::check_in,
        spaces::list_grants, spaces::record_grant,
    ),
    components(schemas(ProblemDoc, ProblemFieldDoc)),
    tags(
        (name = "accounts", description = "Sessions, API tokens and accounts"),
        (name = "registry", description = "Communities, persons and enterprises"),
        (name = "reports", description = "Plan dashboard, districts and the audit log"),
        (name = "applications", description = "Applications, review, budgets and disbursements"),
        (name = "policy", description = "Programmes, dated parameters and eligibility (the policy engine)"),
        (name = "vouchers", description = "Measure 6 vouchers: a double-entry ledger of pools, enterprise wallets and provider receivables; issuing, holds, captures, voids, disputes and their resolution, settlement, expiry and reconciliation. Redemptions carry a client-supplied `transfer_id`: replays return the first answer."),
        (name = "spaces", description = "Workspace inventory, waitlists, offers, agreements and the growth path desk → office → floor"),
        (name = "housing", description = "Transitional housing, leases within the pack's limits, occupancy, granted benefits"),
        (name = "instruments", description = "Shared instruments, bookings by the slot, approval, cancellation, no-show release, iCalendar"),
    )
)]
pub struct ApiDoc;

/// An RFC 9457 problem (documentation schema for every error response).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProblemDoc {
    /// `/problems/{code}`.
    r#type: String,
    title: String,
    status: u16,
    detail: String,
    /// Stable snake_case code, e.g. `validation_failed`, `uscc_taken`, `forbidden`.
    code: String,
    errors: Vec<ProblemFieldDoc>,
}

/// One offending field.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProblemFieldDoc {
    /// Path of the field in the request body, e.g. `uscc` or `inner.size`.
    field: String,
    code: String,
    /// Localised message.
    message: String,
    params: std::collections::BTreeMap<String, String>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .merge(registry::routes())
        .merge(reports::routes())
        .merge(policy::routes())
        .merge(applications::routes())
        .merge(vouchers::routes())
        .merge(spaces::routes())
        .route(
            "/api/v1/openapi.json",
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        )
        .merge(SwaggerUi::new("/api/v1/docs"))
}

/// A query string parsed into `T`; a malformed one is an `invalid_query` problem.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let field = text.split('`').nth(1).unwrap_or("query").to_owned();
                Err(WebError::InvalidQuery { field })
            }
        }
    }
}

/// Paging and filters of a registry list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// 1-based page number.
    page: Option<u64>,
    /// Items per page, at most 100 (default 20).
    per_page: Option<u64>,
    /// Only records in this district (id, e.g. `nanshan`).
    district: Option<String>,
    /// Case-insensitive search in names.
    q: Option<String>,
}

impl ListParams {
    pub fn into_parts(self) -> Result<(ListFilter, Paging), WebError> {
        let district = match self.district.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => Some(d.parse().map_err(|_| WebError::InvalidQuery {
                field: "district".into(),
            })?),
            None => None,
        };
        Ok((
            ListFilter {
                district,
                q: self.q,
            },
            crate::extract::paging(self.page, self.per_page),
        ))
    }
}
