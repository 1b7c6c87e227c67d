//! The OpenAPI 3.1 document of `/api/v1`, and the modifiers that make it
//! say what the server does: every error as `application/problem+json`,
//! every path parameter declared, the statuses every operation can answer
//! (sign-in, access, a bad path, query or body, an outage) and which
//! operations need a signed-in caller. A route added to [`ApiDoc`] gets all
//! of this without repeating it; `tests/openapi_document.rs` checks the document.

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Header, RefOr, Required, ResponseBuilder};

#[derive(OpenApi)]
#[openapi(
    info(title = "opcity API", version = "1", description = "Shenzhen AI OPC programme platform. Errors are RFC 9457 problem details with a stable `code`; send `Accept-Language: en` for English messages (default Chinese). Authenticate with `Authorization: Bearer <token>` (tokens are created at /api/v1/tokens or in the portal), or with the session cookie plus the `X-CSRF-Token` header on changes."),
    paths(
        super::accounts::create_session, super::accounts::delete_session, super::accounts::me, super::accounts::update_me,
        super::accounts::my_entitlements, super::accounts::my_notifications, super::accounts::read_notifications, super::accounts::my_inbox,
        super::accounts::list_tokens, super::accounts::create_token, super::accounts::revoke_token,
        super::accounts::list_accounts, super::accounts::create_account,
        super::registry::list_communities, super::registry::get_community, super::registry::create_community, super::registry::update_community,
        super::registry::list_persons, super::registry::get_person, super::registry::create_person, super::registry::update_person, super::registry::reveal_resident_id,
        super::registry::list_enterprises, super::registry::get_enterprise, super::registry::create_enterprise, super::registry::update_enterprise,
        super::reports::districts, super::reports::district_settings, super::reports::set_district_settings, super::reports::dashboard, super::reports::audit_log, super::reports::audit_verify, super::reports::integrity,
        super::applications::create_application, super::applications::list_applications, super::workbench::review_queue, super::workbench::export_queue, super::workbench::assign_case, super::workbench::case_workers,
        super::workbench::saved_views, super::workbench::save_view, super::workbench::delete_view, super::applications::get_application,
        super::applications::update_form, super::applications::upload_document, super::applications::download_document,
        super::applications::submit_application, super::applications::review_application, super::applications::accept_offer, super::applications::withdraw_application,
        super::applications::appeal_application, super::applications::decide_appeal, super::applications::claw_back,
        super::applications::decide_flag, super::applications::respond_to_flag, super::applications::decision_letters,
        super::applications::ask_applicant, super::applications::answer_reviewer,
        super::applications::list_budgets, super::applications::create_budget, super::applications::fund_budget, super::applications::export_disbursements,
        super::policy::list_regions, super::policy::list_programmes, super::policy::get_programme, super::policy::get_parameter, super::policy::eligibility, super::policy::eligibility_batch,
        super::policy_drafts::list_policy_drafts, super::policy_drafts::create_policy_draft, super::policy_drafts::get_policy_draft,
        super::policy_drafts::update_policy_draft, super::policy_drafts::add_policy_draft_change, super::policy_drafts::remove_policy_draft_change,
        super::policy_drafts::withdraw_policy_draft, super::policy_drafts::simulate_policy_draft,
        super::policy_drafts::submit_policy_draft, super::policy_drafts::send_back_policy_draft, super::policy_drafts::publish_policy_draft,
        super::consult::consult,
        super::vouchers::voucher_kinds, super::vouchers::issue_voucher, super::vouchers::list_pools, super::vouchers::fund_pool, super::vouchers::claw_back,
        super::vouchers::reconciliation, super::vouchers::run_jobs, super::vouchers::review_use, super::vouchers::list_disputes, super::vouchers::resolve_dispute, super::vouchers::wallet,
        super::vouchers::list_providers, super::vouchers::register_provider, super::vouchers::get_provider, super::vouchers::decide_provider, super::vouchers::settlement,
        super::vouchers::provider_console, super::vouchers::place_hold, super::vouchers::capture_hold, super::vouchers::void_hold, super::vouchers::provider_batch,
        super::spaces::create_building, super::spaces::create_floor, super::spaces::create_unit, super::spaces::get_unit, super::spaces::update_unit, super::spaces::inventory,
        super::spaces::list_requests, super::spaces::request_space, super::spaces::withdraw_request, super::spaces::offer_space, super::spaces::serve_waitlist,
        super::spaces::propose_space_change, super::spaces::accept_space_change, super::spaces::decline_space_change, super::spaces::withdraw_space_change,
        super::spaces::list_agreements, super::spaces::get_agreement, super::spaces::accept_offer, super::spaces::decline_offer, super::spaces::withdraw_offer,
        super::spaces::end_agreement, super::spaces::move_agreement,
        super::spaces::list_housing_units, super::spaces::create_housing_unit, super::spaces::update_housing_unit, super::spaces::list_leases,
        super::spaces::list_housing_requests,
        super::spaces::allocate_housing, super::spaces::get_lease, super::spaces::move_in, super::spaces::renew_lease, super::spaces::move_out, super::spaces::occupancy,
        super::spaces::list_instruments, super::spaces::create_instrument, super::spaces::get_instrument, super::spaces::update_instrument,
        super::spaces::instrument_day, super::spaces::instrument_calendar, super::spaces::my_calendar, super::spaces::list_bookings, super::spaces::book_instrument,
        super::spaces::get_booking, super::spaces::approve_booking, super::spaces::reject_booking, super::spaces::cancel_booking, super::spaces::check_in,
        super::spaces::list_grants, super::spaces::record_grant,
    ),
    components(schemas(ProblemDoc, ProblemFieldDoc, super::export::ExportFormat)),
    modifiers(&ProblemContentType, &Conformance, &ErrorCodes),
    tags(
        (name = "accounts", description = "Sessions, API tokens and accounts"),
        (name = "registry", description = "Communities, persons and enterprises"),
        (name = "reports", description = "Plan dashboard, districts and the audit log"),
        (name = "applications", description = "Applications, review, budgets and disbursements"),
        (name = "policy", description = "Programmes, dated parameters and eligibility (the policy engine)"),
        (name = "consult", description = "Policy consultation: answers that quote and cite the plan's clauses, or abstain"),
        (name = "vouchers", description = "Measure 6 vouchers: a double-entry ledger of pools, enterprise wallets and provider receivables; issuing, holds, captures, voids, disputes and their resolution, settlement, expiry and reconciliation. Redemptions carry a client-supplied `transfer_id`: replays return the first answer."),
        (name = "spaces", description = "Workspace inventory, waitlists, offers, agreements and the growth path desk → office → floor"),
        (name = "housing", description = "Transitional housing, leases within the pack's limits, occupancy, granted benefits"),
        (name = "instruments", description = "Shared instruments, bookings by the slot, approval, cancellation, no-show release, iCalendar"),
    )
)]
pub struct ApiDoc;

/// Appends to the document's description the table of every problem `code`
/// with its HTTP status and English title, generated from
/// [`opcity_services::ErrorCode`], so clients see the whole list.
struct ErrorCodes;

impl utoipa::Modify for ErrorCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use crate::i18n::{Locale, t};
        use std::fmt::Write as _;
        let mut table = String::from(
            "\n\n## Error codes\n\nEvery problem's `code`, the status it answers with and its title:\n\n| code | status | title |\n|---|---|---|\n",
        );
        for code in opcity_services::ErrorCode::ALL {
            let status = crate::error::status_of(*code);
            let title = t(Locale::En, &format!("problem.{code}"));
            let _ = writeln!(table, "| `{code}` | {} | {title} |", status.as_u16());
        }
        let description = openapi.info.description.get_or_insert_with(String::new);
        description.push_str(&table);
    }
}

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

/// Operations anyone may call without signing in; every other one answers
/// 401 to an anonymous caller and is documented with its security schemes.
pub const PUBLIC_OPERATIONS: [&str; 10] = [
    "create_session",
    "delete_session",
    "list_regions",
    "list_programmes",
    "get_programme",
    "get_parameter",
    "eligibility",
    "consult",
    "districts",
    "voucher_kinds",
];

/// The schema and description of a path parameter, by path and name.
/// Record ids are positive integers; programme ids, parameter names and
/// transfer ids are text.
fn path_parameter(path: &str, name: &str) -> Option<(Type, &'static str)> {
    Some(match name {
        "id" if path.starts_with("/api/v1/programmes/") => {
            (Type::String, "The programme's id, e.g. `sz.voucher.model`")
        }
        "id" => (Type::Integer, "The record's id"),
        "document" => (Type::Integer, "The document's id"),
        "name" => (Type::String, "The parameter's name"),
        "transfer_id" => (Type::String, "The capture's client-supplied transfer id"),
        _ => return None,
    })
}

/// The names in a path template: `/a/{id}/b/{document}` → `id`, `document`.
pub fn template_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// Declares the template's parameters an operation does not declare itself.
fn declare_path_parameters(path: &str, operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for name in template_parameters(path) {
        let declared = parameters
            .iter()
            .any(|p| p.name == name && p.parameter_in == ParameterIn::Path);
        if declared {
            continue;
        }
        let Some((kind, description)) = path_parameter(path, name) else {
            continue;
        };
        let schema = match kind {
            Type::Integer => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1)),
            _ => ObjectBuilder::new().schema_type(kind).min_length(Some(1)),
        };
        let parameter: Parameter = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(schema))
            .build();
        parameters.push(parameter);
    }
}

/// Adds the statuses an operation can answer whatever it does, unless the
/// operation documents them itself with its own words.
struct Conformance;

impl utoipa::Modify for Conformance {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::extract::SESSION_COOKIE,
            ))),
        );
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                declare_path_parameters(path, operation);
                add_common_responses(path, operation);
            }
        }
    }
}

fn add_common_responses(path: &str, operation: &mut Operation) {
    let public = operation
        .operation_id
        .as_deref()
        .is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let has_body = operation.request_body.is_some();
    let has_path = template_parameters(path).next().is_some();
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    };
    if !public {
        add("401", "unauthenticated: sign in, or send a valid API token");
        add(
            "403",
            "forbidden: the caller may not do this (or csrf_failed: a change by session without its CSRF token)",
        );
    }
    if has_path {
        add("400", "invalid_path: a path parameter does not parse");
    }
    if has_path || has_body {
        // A body names records too (a unit, a request, an enterprise).
        add(
            "404",
            "not_found: no such record, or none the caller may see",
        );
    }
    if has_query || has_body {
        add(
            "422",
            "invalid_query, invalid_body or validation_failed: the fields named are wrong",
        );
    }
    if has_body {
        add("413", "payload_too_large: the body is larger than accepted");
    }
    operation
        .responses
        .responses
        .entry("503".to_owned())
        .or_insert_with(unavailable_response);
    if !public {
        operation.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// 503 with the seconds to wait in `Retry-After`.
fn unavailable_response() -> RefOr<utoipa::openapi::Response> {
    let seconds = ObjectBuilder::new().schema_type(Type::Integer);
    RefOr::T(
        ResponseBuilder::new()
            .description("unavailable: the database cannot be reached; try again later")
            .header("Retry-After", Header::new(seconds))
            .content(
                "application/problem+json",
                utoipa::openapi::content::Content::new(Some(
                    utoipa::openapi::Ref::from_schema_name("ProblemDoc"),
                )),
            )
            .build(),
    )
}
