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
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;
use axum::routing::get;
use opcity_services::registry::{ListFilter, Paging};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
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
        registry::list_persons, registry::get_person, registry::create_person, registry::update_person, registry::reveal_resident_id,
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
    modifiers(&ProblemContentType),
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

/// Documents every error response as `application/problem+json`, the
/// content type the server sends them with, and on every operation that
/// takes a JSON body the refusals the body extractor makes (400 malformed
/// JSON, 415 not JSON).
struct ProblemContentType;

/// A problem response described by `description`.
fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let schema = utoipa::openapi::Ref::from_schema_name("ProblemDoc");
    RefOr::T(
        utoipa::openapi::ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                utoipa::openapi::content::Content::new(Some(schema)),
            )
            .build(),
    )
}

impl utoipa::Modify for ProblemContentType {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.options,
                &mut item.head,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let takes_json = operation
                    .request_body
                    .as_ref()
                    .is_some_and(|body| body.content.contains_key("application/json"));
                if takes_json {
                    let responses = &mut operation.responses.responses;
                    responses.entry("400".to_owned()).or_insert_with(|| {
                        problem_response("malformed_json: the body is not JSON")
                    });
                    responses.entry("415".to_owned()).or_insert_with(|| {
                        problem_response(
                            "unsupported_media_type: the body must be application/json",
                        )
                    });
                }
                for (status, response) in &mut operation.responses.responses {
                    let is_error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(response)) = (is_error, response)
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert("application/problem+json".to_owned(), content);
                    }
                }
            }
        }
    }
}

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

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        // The path names the parameter even when serde's message does not
        // (a number that does not parse).
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let problem = err.into_inner().to_string();
                WebError::InvalidQuery {
                    field: crate::extract::field_of_error(path, &problem),
                    problem: Some(problem),
                }
            })
    }
}

/// Path parameters. One that does not parse is an `invalid_path` problem
/// naming the parameter, like every other error of the API (axum's own
/// rejection is plain text).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let names: Vec<String> = RawPathParams::from_request_parts(parts, state)
            .await
            .map(|raw| raw.iter().map(|(name, _)| name.to_owned()).collect())
            .unwrap_or_default();
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(invalid_path(rejection, &names)),
        }
    }
}

/// A path parameter the client got wrong names it; any other rejection is
/// a route declared wrongly, an internal error whose cause is logged.
fn invalid_path(rejection: PathRejection, names: &[String]) -> WebError {
    let name_at = |index: usize| names.get(index).cloned().unwrap_or_default();
    let (field, expected) = match &rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey {
                key, expected_type, ..
            } => (key.clone(), *expected_type),
            ErrorKind::ParseErrorAtIndex {
                index,
                expected_type,
                ..
            } => (name_at(*index), *expected_type),
            ErrorKind::ParseError { expected_type, .. } => (name_at(0), *expected_type),
            ErrorKind::InvalidUtf8InPathParam { key } => (key.clone(), ""),
            _ => return internal(rejection),
        },
        _ => return internal(rejection),
    };
    WebError::InvalidPath {
        field,
        expected: expected.to_owned(),
    }
}

fn internal(rejection: PathRejection) -> WebError {
    WebError::Service(opcity_services::ServiceError::Internal(
        rejection.body_text().into(),
    ))
}

/// Paging and filters of a registry list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
            Some(d) => Some(d.parse().map_err(|_| WebError::invalid_query("district"))?),
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
