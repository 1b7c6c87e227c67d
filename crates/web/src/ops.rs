//! Operations endpoints: liveness, readiness and metrics.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
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

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
