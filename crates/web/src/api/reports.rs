//! Districts and their settings, the plan dashboard and the audit log.

use super::{ApiPath, ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use opcity_domain::District;
use opcity_services::audit::{AuditPage, Verification};
use opcity_services::dashboard::Dashboard;
use opcity_services::districts::{DistrictSettings, DistrictSettingsInput};
use opcity_services::integrity::IntegrityReport;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/districts", get(districts))
        .route("/api/v1/district-settings", get(district_settings))
        .route(
            "/api/v1/district-settings/{district}",
            put(set_district_settings),
        )
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route("/api/v1/integrity", get(integrity))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictInfo {
    id: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    first_wave: bool,
}

/// Shenzhen's ten districts (public).
#[utoipa::path(get, path = "/api/v1/districts", tag = "reports", responses((status = 200, body = Vec<DistrictInfo>)))]
pub async fn districts() -> Json<Vec<DistrictInfo>> {
    Json(
        District::ALL
            .into_iter()
            .map(|d| DistrictInfo {
                id: d.id(),
                name_zh: d.name_zh(),
                name_en: d.name_en(),
                first_wave: d.is_first_wave(),
            })
            .collect(),
    )
}

/// Every district's settings: who allocates its housing in OPC communities.
#[utoipa::path(get, path = "/api/v1/district-settings", tag = "reports",
    responses((status = 200, body = Vec<DistrictSettings>), (status = 401, body = ProblemDoc)))]
pub async fn district_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<DistrictSettings>>, WebError> {
    Ok(Json(state.services.district_settings(&actor).await?))
}

/// Sets a district's settings (the city's administrators); audited.
#[utoipa::path(put, path = "/api/v1/district-settings/{district}", tag = "reports", request_body = DistrictSettingsInput,
    params(("district" = String, Path, description = "The district's id, such as `nanshan`")),
    responses((status = 200, body = DistrictSettings), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 422, body = ProblemDoc)))]
pub async fn set_district_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(district): ApiPath<String>,
    ApiJson(input): ApiJson<DistrictSettingsInput>,
) -> Result<Json<DistrictSettings>, WebError> {
    Ok(Json(
        state
            .services
            .set_district_settings(&actor, &district, &input)
            .await?,
    ))
}

/// The plan's targets against live data, citywide and per district.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "reports", responses((status = 200, body = Dashboard), (status = 401, body = ProblemDoc)))]
pub async fn dashboard(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Dashboard>, WebError> {
    Ok(Json(state.services.dashboard(&actor).await?))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// 1-based page, newest entries first.
    #[param(minimum = 1)]
    page: Option<u64>,
    /// Entries per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u64>,
}

/// Audit entries, newest first (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/audit", tag = "reports", params(AuditParams),
    responses((status = 200, body = Object), (status = 403, body = ProblemDoc)))]
pub async fn audit_log(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, WebError> {
    let paging = crate::extract::paging(params.page, params.per_page)?;
    let offset = (paging.page - 1) * paging.per_page;
    Ok(Json(
        state
            .services
            .audit_entries(&actor, offset, paging.per_page)
            .await?,
    ))
}

/// Recomputes the hash chain and names any altered or deleted entry.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "reports",
    responses((status = 200, body = Object), (status = 403, body = ProblemDoc)))]
pub async fn audit_verify(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Verification>, WebError> {
    Ok(Json(state.services.verify_audit_log_for(&actor).await?))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IntegrityParams {
    /// The date (`YYYY-MM-DD`); today in Shanghai when absent.
    as_of: Option<chrono::NaiveDate>,
}

/// The integrity view (administrators and auditors): subjects holding one
/// programme twice, through different paths or districts, and persons
/// behind several enterprises holding the same per-enterprise programme.
#[utoipa::path(get, path = "/api/v1/integrity", tag = "reports", params(IntegrityParams),
    responses((status = 200, body = IntegrityReport), (status = 403, body = ProblemDoc)))]
pub async fn integrity(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<IntegrityParams>,
) -> Result<Json<IntegrityReport>, WebError> {
    let as_of = params
        .as_of
        .unwrap_or_else(|| opcity_domain::today_in_shanghai(state.services.now()));
    Ok(Json(state.services.integrity_report(&actor, as_of).await?))
}
