//! Applications, review, budgets and disbursements.

use super::ApiPath;
use super::export::{ExportFormat, Report};
use super::{ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use opcity_services::ServiceError;
use opcity_services::applications::budgets::{BudgetInput, BudgetView};
use opcity_services::applications::disbursements::{PaymentLine, payments_csv, payments_xlsx};
use opcity_services::applications::{
    ApplicationDetail, ApplicationView, DecisionLetter, DocumentView, FlagDecision, FlagView,
    MessageView, NewApplication, ReviewInput,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/applications",
            get(list_applications).post(create_application),
        )
        .route("/api/v1/applications/{id}", get(get_application))
        .route(
            "/api/v1/applications/{id}/form",
            axum::routing::patch(update_form),
        )
        .route(
            "/api/v1/applications/{id}/documents/{document}",
            get(download_document),
        )
        .route("/api/v1/applications/{id}/submit", post(submit_application))
        .route("/api/v1/applications/{id}/review", post(review_application))
        .route("/api/v1/applications/{id}/accept", post(accept_offer))
        .route(
            "/api/v1/applications/{id}/withdraw",
            post(withdraw_application),
        )
        .route("/api/v1/applications/{id}/letters", get(decision_letters))
        .route("/api/v1/applications/{id}/appeal", post(appeal_application))
        .route(
            "/api/v1/applications/{id}/appeal-decision",
            post(decide_appeal),
        )
        .route("/api/v1/applications/{id}/claw-back", post(claw_back))
        .route("/api/v1/applications/{id}/flag-decision", post(decide_flag))
        .route(
            "/api/v1/applications/{id}/flag-response",
            post(respond_to_flag),
        )
        .route("/api/v1/applications/{id}/questions", post(ask_applicant))
        .route("/api/v1/applications/{id}/answers", post(answer_reviewer))
        .route("/api/v1/budgets", get(list_budgets).post(create_budget))
        .route("/api/v1/budgets/{id}/fund", post(fund_budget))
        .route("/api/v1/disbursements", get(export_disbursements))
}

/// Starts an application (a draft). Send an `Idempotency-Key` header (or the
/// `idempotency_key` field): a retried request returns the first application.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = NewApplication,
    responses((status = 201, body = ApplicationView), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_application(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<NewApplication>,
) -> Result<impl IntoResponse, WebError> {
    if input.idempotency_key.is_none() {
        input.idempotency_key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
    }
    let view = state.services.create_application(&actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/applications/{}", view.id),
        )],
        Json(view),
    ))
}

/// The signed-in applicant's applications, newest first.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", responses((status = 200, body = Vec<ApplicationView>)))]
pub async fn list_applications(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ApplicationView>>, WebError> {
    Ok(Json(state.services.my_applications(&actor).await?))
}

/// One application with its history and instalments.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    responses((status = 200, body = ApplicationDetail), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_application(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationDetail>, WebError> {
    Ok(Json(state.services.get_application(&actor, id).await?))
}

/// Sets form fields of a draft or returned application (the programme's
/// evidence items of kind `field`); an empty string clears a field. Returns
/// the whole form.
#[utoipa::path(patch, path = "/api/v1/applications/{id}/form", tag = "applications",
    request_body(content = Object, description = "evidence id → text"),
    responses((status = 200, body = Object), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_form(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<serde_json::Value>, WebError> {
    Ok(Json(
        state.services.update_form(&actor, id, &changes).await?,
    ))
}

/// The upload route, with a body limit of its own: the document size limit
/// plus room for the form's other parts.
pub fn upload_routes(body_limit: usize) -> Router<AppState> {
    Router::new().route(
        "/api/v1/applications/{id}/documents",
        post(upload_document).layer(axum::extract::DefaultBodyLimit::max(body_limit)),
    )
}

/// The multipart body of a document upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body for OpenAPI only
pub struct DocumentUpload {
    /// The programme's evidence item (kind `document`), e.g. `identity_card`.
    evidence: String,
    /// PDF, PNG or JPEG, as read from the content; at most the configured size.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
}

/// Uploads a document for one of the programme's evidence items, to a draft
/// or returned application. Refused before anything is stored when the item,
/// the size or the type (read from the content) is wrong.
#[utoipa::path(post, path = "/api/v1/applications/{id}/documents", tag = "applications",
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = DocumentView), (status = 403, body = ProblemDoc), (status = 413, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn upload_document(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    crate::upload::MultipartBody(multipart): crate::upload::MultipartBody,
) -> Result<impl IntoResponse, WebError> {
    let limit = state.services.document_limit();
    let upload = crate::upload::read_upload(multipart, limit)
        .await?
        .into_upload()?;
    let view = state.services.upload_document(&actor, id, &upload).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/applications/{id}/documents/{}", view.id),
        )],
        Json(view),
    ))
}

/// A document's content, checked against its SHA-256 (sent as
/// `Repr-Digest`), as an attachment.
#[utoipa::path(get, path = "/api/v1/applications/{id}/documents/{document}", tag = "applications",
    responses((status = 200, description = "The document as uploaded: a PDF, PNG or JPEG file",
        content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"))),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn download_document(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((id, document)): ApiPath<(i64, i64)>,
) -> Result<impl IntoResponse, WebError> {
    let (view, content) = state
        .services
        .document_content(&actor, id, document)
        .await?;
    Ok(crate::upload::document_response(&view, content))
}

/// Submits (or resubmits) an application; the policy engine pre-checks it.
#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "applications",
    responses((status = 200, body = ApplicationView), (status = 422, body = ProblemDoc)))]
pub async fn submit_application(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(state.services.submit_application(&actor, id).await?))
}

/// A reviewer's decision: approve (reserves the budget), reject, return or forward.
#[utoipa::path(post, path = "/api/v1/applications/{id}/review", tag = "applications", request_body = ReviewInput,
    responses((status = 200, body = ApplicationView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn review_application(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(
        state
            .services
            .review_application(&actor, id, &input)
            .await?,
    ))
}

/// The applicant accepts an approved offer; instalments are scheduled.
#[utoipa::path(post, path = "/api/v1/applications/{id}/accept", tag = "applications", responses((status = 200, body = ApplicationView), (status = 422, body = ProblemDoc)))]
pub async fn accept_offer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(state.services.accept_offer(&actor, id).await?))
}

/// The applicant withdraws (or declines an offer); held money is released.
#[utoipa::path(post, path = "/api/v1/applications/{id}/withdraw", tag = "applications", responses((status = 200, body = ApplicationView), (status = 422, body = ProblemDoc)))]
pub async fn withdraw_application(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(state.services.withdraw_application(&actor, id).await?))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    comment: Option<String>,
}

/// The applicant appeals a rejection.
#[utoipa::path(post, path = "/api/v1/applications/{id}/appeal", tag = "applications", request_body = CommentInput,
    responses((status = 200, body = ApplicationView), (status = 422, body = ProblemDoc)))]
pub async fn appeal_application(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CommentInput>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(
        state
            .services
            .appeal_application(&actor, id, input.comment.as_deref())
            .await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecision {
    /// `true` sends the case back to district review; `false` dismisses the appeal.
    reopen: bool,
    comment: Option<String>,
}

/// A municipal administrator decides an appeal.
#[utoipa::path(post, path = "/api/v1/applications/{id}/appeal-decision", tag = "applications", request_body = AppealDecision,
    responses((status = 200, body = ApplicationView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn decide_appeal(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AppealDecision>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(
        state
            .services
            .decide_appeal(&actor, id, input.reopen, input.comment.as_deref())
            .await?,
    ))
}

/// Claws back a benefit: remaining instalments cancelled, reservation released.
#[utoipa::path(post, path = "/api/v1/applications/{id}/claw-back", tag = "applications", request_body = CommentInput,
    responses((status = 200, body = ApplicationView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn claw_back(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CommentInput>,
) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(
        state
            .services
            .claw_back(&actor, id, input.comment.as_deref())
            .await?,
    ))
}

/// The reviewer decides the application's open eligibility flag:
/// `confirm` (the benefit ends), `confirm_and_claw_back`, or `lift`
/// (payments resume).
#[utoipa::path(post, path = "/api/v1/applications/{id}/flag-decision", tag = "applications", request_body = FlagDecision,
    responses((status = 200, body = FlagView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn decide_flag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FlagDecision>,
) -> Result<Json<FlagView>, WebError> {
    Ok(Json(state.services.decide_flag(&actor, id, &input).await?))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagResponse {
    /// The applicant's answer to the reviewer (at most 2,000 characters).
    #[schema(example = "My registration moved back to Nanshan on 1 December.")]
    response: String,
}

/// The application's decision letters, oldest first: one per approval or
/// rejection, with its reference number (`/applications/{id}/letters/{n}`
/// in the portal prints it; `…/{n}/pdf` is the PDF).
#[utoipa::path(get, path = "/api/v1/applications/{id}/letters", tag = "applications",
    responses((status = 200, body = Vec<DecisionLetter>), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn decision_letters(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<DecisionLetter>>, WebError> {
    Ok(Json(state.services.decision_letters(&actor, id).await?))
}

/// The applicant answers the application's open eligibility flag.
#[utoipa::path(post, path = "/api/v1/applications/{id}/flag-response", tag = "applications", request_body = FlagResponse,
    responses((status = 200, body = FlagView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn respond_to_flag(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FlagResponse>,
) -> Result<Json<FlagView>, WebError> {
    Ok(Json(
        state
            .services
            .respond_to_flag(&actor, id, &input.response)
            .await?,
    ))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// The question or the answer (at most 2,000 characters).
    #[schema(example = "Please send the lease of your office; the one uploaded has no signature.")]
    body: String,
}

/// A reviewer asks the applicant for information: the question joins the
/// application's thread (`messages` of the application) and stays open
/// until the applicant answers; the applicant is notified.
#[utoipa::path(post, path = "/api/v1/applications/{id}/questions", tag = "applications", request_body = MessageInput,
    responses((status = 201, body = MessageView), (status = 403, body = ProblemDoc, description = "not allowed, or the reviewer is tied to the applicant (`conflict_of_interest`)"),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "the case is decided (`thread_closed`)"), (status = 422, body = ProblemDoc)))]
pub async fn ask_applicant(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MessageInput>,
) -> Result<(StatusCode, Json<MessageView>), WebError> {
    let asked = state
        .services
        .ask_applicant(&actor, id, &input.body)
        .await?;
    Ok((StatusCode::CREATED, Json(asked)))
}

/// The applicant answers every open question of the application's thread;
/// with none open the answer is refused (409 `nothing_to_answer`).
#[utoipa::path(post, path = "/api/v1/applications/{id}/answers", tag = "applications", request_body = MessageInput,
    responses((status = 201, body = MessageView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn answer_reviewer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MessageInput>,
) -> Result<(StatusCode, Json<MessageView>), WebError> {
    let answered = state
        .services
        .answer_reviewer(&actor, id, &input.body)
        .await?;
    Ok((StatusCode::CREATED, Json(answered)))
}

#[utoipa::path(get, path = "/api/v1/budgets", tag = "applications", responses((status = 200, body = Vec<BudgetView>), (status = 403, body = ProblemDoc)))]
pub async fn list_budgets(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<BudgetView>>, WebError> {
    Ok(Json(state.services.list_budgets(&actor).await?))
}

/// Creates a budget pool (municipal administrators).
#[utoipa::path(post, path = "/api/v1/budgets", tag = "applications", request_body = BudgetInput,
    responses((status = 201, body = BudgetView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_budget(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<BudgetInput>,
) -> Result<impl IntoResponse, WebError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_budget(&actor, &input).await?),
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundInput {
    amount_fen: i64,
}

/// Adds money to a budget (a new movement; figures are never edited).
#[utoipa::path(post, path = "/api/v1/budgets/{id}/fund", tag = "applications", request_body = FundInput,
    responses((status = 200, body = BudgetView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn fund_budget(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FundInput>,
) -> Result<Json<BudgetView>, WebError> {
    Ok(Json(
        state
            .services
            .fund_budget(&actor, id, input.amount_fen)
            .await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// First due date, YYYY-MM-DD.
    from: String,
    /// Last due date, YYYY-MM-DD.
    to: String,
    /// `csv` (UTF-8 with BOM, default), `xlsx` or `json`.
    format: Option<ExportFormat>,
}

/// Instalments due in a period, for the treasury.
#[utoipa::path(get, path = "/api/v1/disbursements", tag = "applications", params(ExportParams),
    responses((status = 200, description = "CSV, XLSX or JSON by `format`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Vec<PaymentLine> = "application/json"))),
        (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn export_disbursements(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<axum::response::Response, WebError> {
    let date = |text: &str, field: &str| {
        text.parse::<NaiveDate>()
            .map_err(|_| WebError::invalid_query(field))
    };
    let (from, to) = (date(&params.from, "from")?, date(&params.to, "to")?);
    if to < from {
        return Err(ServiceError::invalid("to", "before_from").into());
    }
    let lines: Vec<PaymentLine> = state.services.payment_lines(&actor, from, to).await?;
    Report {
        name: format!("disbursements-{from}-{to}"),
        json: &lines,
        csv: || payments_csv(&lines),
        xlsx: || payments_xlsx(&lines).map_err(|e| ServiceError::Internal(Box::new(e))),
    }
    .respond(params.format.unwrap_or(ExportFormat::Csv))
}
