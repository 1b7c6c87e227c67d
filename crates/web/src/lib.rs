//! opcity's HTTP surface: the JSON API under `/api/v1` (documented by an
//! OpenAPI 3.1 document) and the server-rendered bilingual portal.
//!
//! Architecture invariants:
//! - This is the only crate that knows HTTP. Handlers parse and authenticate,
//!   call one service function, and render its typed result; they never decide
//!   access (the services' `authz` module does).
//! - Every error leaves through [`error::WebError`], whose codes are
//!   [`opcity_services::ErrorCode`]s; their one table gives each its status
//!   ([`error::status_of`]).
//! - Pages work without JavaScript; no page loads anything from another host.

pub mod api;
pub mod error;
pub mod extract;
mod headers;
pub mod i18n;
pub mod input;
mod metrics_layer;
mod ops;
pub mod pages;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::PrometheusHandle;
use opcity_services::Services;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when the platform is served over TLS).
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Whether the platform sends e-mail (SMTP configured); the settings
    /// page says so when it does not.
    pub mail_enabled: bool,
    /// Take the client's address from the right-most `X-Forwarded-For`
    /// entry (set only behind a reverse proxy that adds it).
    pub trust_forwarded_for: bool,
    /// The bearer token `/metrics` asks for; without one it is not served
    /// (it names routes and their traffic).
    pub metrics_token: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            body_limit: 1024 * 1024,
            mail_enabled: false,
            trust_forwarded_for: false,
            metrics_token: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<WebConfig>,
    metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(services: Services, config: WebConfig) -> AppState {
        AppState {
            services,
            config: Arc::new(config),
            metrics: metrics_layer::handle(),
        }
    }
}

/// The whole application: API, portal and operations endpoints.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let upload_limit = upload::body_limit(state.services.document_limit());
    Router::new()
        .merge(api::routes())
        .merge(api::applications::upload_routes(upload_limit))
        .merge(pages::applications::upload_routes(upload_limit))
        .merge(pages::routes())
        .merge(ops::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            input::guard,
        ))
        .layer(axum::middleware::from_fn(error::render_problems))
        .layer(axum::middleware::from_fn(headers::secure))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

/// No route: a problem document under `/api/`, the portal's "not found"
/// page elsewhere.
async fn not_found(
    uri: axum::http::Uri,
    viewer: Result<extract::Viewer, error::WebError>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let missing = opcity_services::ServiceError::NotFound { entity: "route" };
    match viewer {
        Ok(viewer) if !uri.path().starts_with("/api/") => viewer.fail(missing).into_response(),
        _ => error::WebError::from(missing).into_response(),
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets
/// requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Peers' addresses reach handlers for sign-in throttling (`ClientAddress`).
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
