//! `/api/v1`: JSON over HTTP, documented by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json` and browsable at `/api/v1/docs` (Swagger UI served
//! from this binary, so it works offline).

mod accounts;
pub(crate) mod applications;
pub(crate) mod consult;
mod doc;
pub(crate) mod export;
mod policy;
mod policy_drafts;
mod registry;
mod reports;
mod spaces;
pub mod vouchers;
mod workbench;

pub use doc::{ApiDoc, PUBLIC_OPERATIONS, ProblemDoc, template_parameters};

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
use utoipa_swagger_ui::SwaggerUi;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .merge(registry::routes())
        .merge(reports::routes())
        .merge(policy::routes())
        .merge(policy_drafts::routes())
        .merge(consult::routes())
        .merge(workbench::routes())
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
            ErrorKind::DeserializeError { key, .. } => (key.clone(), ""),
            // A value outside a parameter's set (an enum's variants): serde
            // names no key, so it is the route's parameter, or all of them.
            ErrorKind::Message(_) => (names.join("/"), ""),
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
    #[param(minimum = 1)]
    page: Option<u64>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
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
            crate::extract::paging(self.page, self.per_page)?,
        ))
    }
}
