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
//!
//! What is where:
//! - `api/`: `/api/v1` JSON, one module per area, and the OpenAPI document
//!   (`api/doc.rs`, Swagger UI served from the binary). Its `Conformance`
//!   modifier declares what every operation shares (path parameters, 401/403
//!   unless in `PUBLIC_OPERATIONS`, 400/404/413/422 by what it takes, 503
//!   with `Retry-After`); `tests/openapi_document.rs` checks the whole
//!   document, `tests/access_matrix.rs` calls every operation as every role,
//!   and CI runs schemathesis against it.
//! - `pages/`: the portal (maud), Chinese by default and English: landing
//!   page, public self-check, sign-in, workspace and settings, registry,
//!   dashboard with server-drawn SVG charts, audit log, applications with
//!   evidence uploads and reviews, vouchers (wallet, provider console,
//!   pools, disputes), spaces, housing and instruments. Forms and results
//!   carry stable element ids for the browser tests.
//! - `extract`: the actor (`ApiActor` for the API, by bearer token or
//!   session cookie, `Viewer` for pages) and `ApiJson` bodies. Unknown fields
//!   are refused and the offending field named (`serde_path_to_error`, with
//!   a translated code from `error::body_field_error`); query strings and
//!   paths that do not parse are `invalid_query` (naming the parameter) and
//!   `invalid_path` problems like any other.
//! - `input`: the [`input::guard`] middleware, the rules every input meets.
//! - `error`: problem details in the request's language
//!   (`render_problems`); causes of internal errors go to the log only.
//! - `upload`: multipart uploads read in chunks, refused at the size limit
//!   before the file is held whole; downloads are attachments with `nosniff`
//!   and a `Repr-Digest` (SHA-256). Uploads and the streamed batch endpoint
//!   carry their own body limits (`DefaultBodyLimit`).
//! - `i18n`: interface text from `locales/{zh-CN,en}/AREA.toml`, listed in
//!   `i18n::CATALOGUES`; a test keeps both catalogues' keys identical.
//! - `headers`, `metrics_layer`, `ops`: security headers, request metrics,
//!   `/healthz`, `/readyz` and `/metrics`.
//!
//! Cookies are HttpOnly and SameSite (Secure behind TLS); cookie-signed-in
//! changes need the CSRF token (a header for the API, a hidden field for
//! forms; sign-in uses a double-submit cookie).

pub mod api;
pub mod error;
pub mod extract;
mod headers;
pub mod i18n;
pub mod input;
mod letter_pdf;
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
            trust_forwarded_for: false,
            metrics_token: None,
        }
    }
}

/// What every handler and middleware reaches: the services and the web
/// configuration. One `Arc`, because axum clones the state for each
/// extractor and middleware of every request, and cloning `Services` field
/// by field (a dozen reference counts shared by both cores) was 18 % of the
/// CPU samples of one-case eligibility under load (BENCHMARKS.md,
/// "Eligibility API at wire speed").
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub services: Services,
    pub config: WebConfig,
    metrics: PrometheusHandle,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(services: Services, config: WebConfig) -> AppState {
        AppState(Arc::new(Shared {
            services,
            config,
            metrics: metrics_layer::handle(),
        }))
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics_layer::track,
        ))
        // Spans name the path, never the query string: a consultation's
        // question (or any other query) may hold personal data.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    version = ?request.version(),
                )
            }),
        )
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
