//! Operations endpoints: liveness, readiness and metrics.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use opcity_services::ServiceError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Ready when the database answers. Otherwise 503 with `Retry-After` and
/// why: the database did not answer within the store's acquire timeout
/// (`database unavailable`), or answered with an error (`database error`);
/// the cause itself goes to the log.
async fn readyz(State(state): State<AppState>) -> Response {
    let reason = match state.services.ping().await {
        Ok(()) => return (StatusCode::OK, "ready").into_response(),
        Err(ServiceError::Unavailable(cause)) => {
            tracing::warn!(error = %cause, "database unavailable");
            "not ready: database unavailable (no connection within the acquire timeout)"
        }
        Err(err) => {
            tracing::warn!(error = %err, "database not ready");
            "not ready: database error"
        }
    };
    let retry = HeaderValue::from(crate::error::RETRY_AFTER_UNAVAILABLE_SECS);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, retry)],
        reason,
    )
        .into_response()
}

/// Prometheus metrics, for a scraper that sends the configured bearer token:
/// 404 when none is configured, 401 without the right one.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !sent.is_some_and(|s| crate::extract::constant_time_eq(s.trim(), token)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
