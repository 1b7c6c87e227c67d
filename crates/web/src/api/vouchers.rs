//! Voucher endpoints: kinds, issuing, pools, reconciliation, jobs and the
//! resolution of disputes for administrators; wallets and use reviews for
//! enterprises; registration,
//! redemption (holds, captures, voids, batches) and settlement for service
//! providers. Providers authenticate with API tokens (`Authorization: Bearer`).
//! Every redemption carries a client-supplied `transfer_id`: `201` when it
//! was created, `200` with the same body when it is a replay.

use super::ApiPath;
use super::export::{ExportFormat, Report};
use super::{ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use opcity_services::vouchers::VoucherKindView;
use opcity_services::vouchers::disputes::{DisputeView, ResolutionView, ResolveDispute};
use opcity_services::vouchers::issue::{
    Clawback, FundPool, IssueVoucher, PoolView, VoucherIssued, WalletBalance,
};
use opcity_services::vouchers::jobs::{JobReport, LedgerReport};
use opcity_services::vouchers::providers::{ProviderDecision, ProviderInput, ProviderView};
use opcity_services::vouchers::redeem::{
    BatchResult, CaptureInput, HoldInput, ProviderOp, TransferView, UseReviewInput, UseReviewView,
    VoidInput,
};
use opcity_services::vouchers::settlement::SettlementReport;
use opcity_services::vouchers::wallet::{ProviderConsole, WalletView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/vouchers/kinds", get(voucher_kinds))
        .route("/api/v1/vouchers/issue", post(issue_voucher))
        .route("/api/v1/vouchers/pools", get(list_pools).post(fund_pool))
        .route("/api/v1/vouchers/clawbacks", post(claw_back))
        .route("/api/v1/vouchers/reconciliation", get(reconciliation))
        .route("/api/v1/vouchers/jobs/expire", post(run_jobs))
        .route(
            "/api/v1/vouchers/uses/{transfer_id}/review",
            post(review_use),
        )
        .route("/api/v1/vouchers/disputes", get(list_disputes))
        .route(
            "/api/v1/vouchers/uses/{transfer_id}/resolution",
            post(resolve_dispute),
        )
        .route("/api/v1/enterprises/{id}/wallet", get(wallet))
        .route(
            "/api/v1/providers",
            get(list_providers).post(register_provider),
        )
        .route("/api/v1/providers/{id}", get(get_provider))
        .route("/api/v1/providers/{id}/decision", post(decide_provider))
        .route("/api/v1/providers/{id}/settlement", get(settlement))
        .route("/api/v1/provider/console", get(provider_console))
        .route("/api/v1/provider/holds", post(place_hold))
        .route("/api/v1/provider/captures", post(capture_hold))
        .route("/api/v1/provider/voids", post(void_hold))
        .route("/api/v1/provider/batch", post(provider_batch))
}

/// `201 Created` for a new transfer, `200 OK` for a replay.
fn transfer_response<T: serde::Serialize>(replayed: bool, body: T) -> Response {
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(body)).into_response()
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfParams {
    /// The date the figures apply on (default: today in Shanghai).
    as_of: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/vouchers/kinds", tag = "vouchers", params(AsOfParams),
    responses((status = 200, body = Vec<VoucherKindView>), (status = 422, body = ProblemDoc)))]
pub async fn voucher_kinds(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AsOfParams>,
) -> Json<Vec<VoucherKindView>> {
    let on = params
        .as_of
        .unwrap_or_else(|| opcity_domain::today_in_shanghai(state.services.now()));
    Json(state.services.voucher_kinds(on))
}

#[utoipa::path(post, path = "/api/v1/vouchers/issue", tag = "vouchers", request_body = IssueVoucher,
    responses((status = 201, body = VoucherIssued), (status = 200, description = "replay of an earlier request", body = VoucherIssued),
        (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn issue_voucher(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<IssueVoucher>,
) -> Result<Response, WebError> {
    let issued = state.services.issue_voucher(&actor, &input).await?;
    Ok(transfer_response(issued.replayed, issued))
}

#[utoipa::path(get, path = "/api/v1/vouchers/pools", tag = "vouchers",
    responses((status = 200, body = Vec<PoolView>), (status = 403, body = ProblemDoc)))]
pub async fn list_pools(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<PoolView>>, WebError> {
    Ok(Json(state.services.voucher_pools(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/vouchers/pools", tag = "vouchers", request_body = FundPool,
    responses((status = 200, body = PoolView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn fund_pool(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<FundPool>,
) -> Result<Json<PoolView>, WebError> {
    Ok(Json(
        state.services.fund_voucher_pool(&actor, &input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/vouchers/clawbacks", operation_id = "claw_back_voucher", tag = "vouchers", request_body = Clawback,
    responses((status = 200, body = WalletBalance), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn claw_back(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<Clawback>,
) -> Result<Json<WalletBalance>, WebError> {
    Ok(Json(
        state.services.claw_back_voucher(&actor, &input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/vouchers/reconciliation", tag = "vouchers",
    responses((status = 200, description = "every balance rebuilt from the transfers; `clean` is false on any difference", body = LedgerReport),
        (status = 403, body = ProblemDoc)))]
pub async fn reconciliation(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<LedgerReport>, WebError> {
    Ok(Json(state.services.reconcile_vouchers(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/vouchers/jobs/expire", tag = "vouchers",
    responses((status = 200, description = "expired holds voided; expired vouchers returned to their pools", body = JobReport),
        (status = 403, body = ProblemDoc)))]
pub async fn run_jobs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<JobReport>, WebError> {
    Ok(Json(state.services.run_voucher_jobs_for(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/vouchers/uses/{transfer_id}/review", tag = "vouchers", request_body = UseReviewInput,
    responses((status = 200, body = UseReviewView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn review_use(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(transfer_id): ApiPath<String>,
    ApiJson(input): ApiJson<UseReviewInput>,
) -> Result<Json<UseReviewView>, WebError> {
    Ok(Json(
        state
            .services
            .review_use(&actor, &transfer_id, &input)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/vouchers/disputes", tag = "vouchers",
    responses((status = 200, description = "disputed captures, newest first, with their resolutions", body = Vec<DisputeView>),
        (status = 403, body = ProblemDoc)))]
pub async fn list_disputes(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<DisputeView>>, WebError> {
    Ok(Json(state.services.voucher_disputes(&actor).await?))
}

/// Resolves a disputed capture once: `upheld` (payable) or `reversed` (a
/// compensating transfer pays the amount back to the enterprise's voucher).
#[utoipa::path(post, path = "/api/v1/vouchers/uses/{transfer_id}/resolution", tag = "vouchers", request_body = ResolveDispute,
    params(("transfer_id" = String, Path, description = "the disputed capture")),
    responses((status = 201, body = ResolutionView), (status = 200, description = "replay of the same resolution", body = ResolutionView),
        (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, description = "`use_not_disputed`, `dispute_already_resolved`, `transfer_id_reused`", body = ProblemDoc),
        (status = 422, body = ProblemDoc)))]
pub async fn resolve_dispute(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(transfer_id): ApiPath<String>,
    ApiJson(input): ApiJson<ResolveDispute>,
) -> Result<Response, WebError> {
    let view = state
        .services
        .resolve_dispute(&actor, &transfer_id, &input)
        .await?;
    Ok(transfer_response(view.replayed, view))
}

#[utoipa::path(get, path = "/api/v1/enterprises/{id}/wallet", tag = "vouchers",
    responses((status = 200, body = WalletView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn wallet(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WalletView>, WebError> {
    Ok(Json(state.services.wallet(&actor, id).await?))
}

#[utoipa::path(get, path = "/api/v1/providers", tag = "vouchers",
    responses((status = 200, body = Vec<ProviderView>), (status = 401, body = ProblemDoc)))]
pub async fn list_providers(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ProviderView>>, WebError> {
    Ok(Json(state.services.list_providers(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/providers", tag = "vouchers", request_body = ProviderInput,
    responses((status = 201, body = ProviderView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn register_provider(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.register_provider(&actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/providers/{}", view.id))],
        Json(view),
    ))
}

#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "vouchers",
    responses((status = 200, body = ProviderView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_provider(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderView>, WebError> {
    Ok(Json(state.services.get_provider(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/providers/{id}/decision", tag = "vouchers", request_body = ProviderDecision,
    responses((status = 200, body = ProviderView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn decide_provider(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ProviderDecision>,
) -> Result<Json<ProviderView>, WebError> {
    Ok(Json(
        state.services.decide_provider(&actor, id, &input).await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SettlementParams {
    /// First civil day of the period (Asia/Shanghai).
    from: NaiveDate,
    /// Last civil day of the period.
    to: NaiveDate,
    /// `json` (default), `csv` (UTF-8 with BOM) or `xlsx`.
    format: Option<ExportFormat>,
}

#[utoipa::path(get, path = "/api/v1/providers/{id}/settlement", tag = "vouchers", params(SettlementParams),
    responses((status = 200, description = "JSON, CSV or XLSX by `format`",
            content((SettlementReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn settlement(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<SettlementParams>,
) -> Result<Response, WebError> {
    let report = state
        .services
        .settlement(&actor, id, params.from, params.to)
        .await?;
    settlement_response(&report, params.format.unwrap_or(ExportFormat::Json))
}

/// The report in the asked format, as a download for CSV and XLSX.
pub fn settlement_response(
    report: &SettlementReport,
    format: ExportFormat,
) -> Result<Response, WebError> {
    Report {
        name: format!(
            "settlement-{}-{}-{}",
            report.provider_id, report.from, report.to
        ),
        json: report,
        csv: || report.to_csv(),
        xlsx: || report.to_xlsx(),
    }
    .respond(format)
}

#[utoipa::path(get, path = "/api/v1/provider/console", tag = "vouchers",
    responses((status = 200, body = ProviderConsole), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn provider_console(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<ProviderConsole>, WebError> {
    Ok(Json(state.services.provider_console(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/provider/holds", tag = "vouchers", request_body = HoldInput,
    responses((status = 201, body = TransferView), (status = 200, description = "replay of an earlier request", body = TransferView),
        (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn place_hold(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<HoldInput>,
) -> Result<Response, WebError> {
    let view = state.services.place_hold(&actor, &input).await?;
    Ok(transfer_response(view.replayed, view))
}

#[utoipa::path(post, path = "/api/v1/provider/captures", tag = "vouchers", request_body = CaptureInput,
    responses((status = 201, body = TransferView), (status = 200, description = "replay of an earlier request", body = TransferView),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn capture_hold(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<CaptureInput>,
) -> Result<Response, WebError> {
    let view = state.services.capture_hold(&actor, &input).await?;
    Ok(transfer_response(view.replayed, view))
}

#[utoipa::path(post, path = "/api/v1/provider/voids", tag = "vouchers", request_body = VoidInput,
    responses((status = 201, body = TransferView), (status = 200, description = "replay of an earlier request", body = TransferView),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn void_hold(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<VoidInput>,
) -> Result<Response, WebError> {
    let view = state.services.void_hold(&actor, &input).await?;
    Ok(transfer_response(view.replayed, view))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// 1 to 1,000 operations, applied in order, all or none. Each transfer
    /// id at most once; a refusal names its operation (`ops[i]` in `errors`).
    ops: Vec<ProviderOp>,
}

#[utoipa::path(post, path = "/api/v1/provider/batch", tag = "vouchers", request_body = BatchBody,
    responses((status = 200, description = "every operation applied in one commit", body = Vec<BatchResult>),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn provider_batch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<Json<Vec<BatchResult>>, WebError> {
    Ok(Json(
        state.services.provider_batch(&actor, &body.ops).await?,
    ))
}
