//! Request extractors: JSON bodies with precise errors, query strings, and
//! the signed-in actor for the API and for pages.

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Locale;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use opcity_services::ErrorCode;
use opcity_services::registry::Paging;
use opcity_services::{Actor, ServiceError};
use serde::de::DeserializeOwned;

/// The highest page number a list reads: far beyond any real list, and low
/// enough that the row offset (at most [`Paging::MAX_PER_PAGE`] a page) stays
/// within the databases' signed 64-bit `OFFSET`. A larger number asks for a
/// page past the end, which is empty, like this one.
pub const MAX_PAGE: u64 = 1_000_000_000;

/// [`Paging`] from query parameters. Page 0 or a page size outside
/// 1..=[`Paging::MAX_PER_PAGE`] is refused, naming the parameter and its
/// range, rather than quietly replaced by another size; a page past the end
/// is an empty page.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<Paging, WebError> {
    let refuse = |field: &str, max: u64| WebError::InvalidField {
        code: ErrorCode::InvalidQuery,
        error: opcity_services::FieldError::new(field, "out_of_range")
            .with("min", 1)
            .with("max", max),
    };
    if page == Some(0) {
        return Err(refuse("page", MAX_PAGE));
    }
    if per_page.is_some_and(|n| !(1..=Paging::MAX_PER_PAGE).contains(&n)) {
        return Err(refuse("per_page", Paging::MAX_PER_PAGE));
    }
    Ok(Paging::new(page.map(|p| p.min(MAX_PAGE)), per_page))
}

pub const SESSION_COOKIE: &str = "opcity_session";
pub const LANG_COOKIE: &str = "opcity_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body. Not JSON → `malformed_json` with line and column; unknown,
/// missing or mistyped fields → `invalid_body` naming the field path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(WebError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::PayloadTooLarge)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialises JSON, naming the path of the first bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return WebError::MalformedJson {
                line: inner.line(),
                column: inner.column(),
            };
        }
        let message = inner.to_string();
        let field = field_of_error(path, &message);
        let problem = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        WebError::InvalidBody { field, problem }
    })?;
    de.end().map_err(|e| WebError::MalformedJson {
        line: e.line(),
        column: e.column(),
    })?;
    Ok(value)
}

/// The field a serde error is about, from `serde_path_to_error`'s path:
/// that path already ends with an unknown field's name, but reports a
/// missing field at its parent.
pub fn field_of_error(path: String, message: &str) -> String {
    match unknown_field_name(message) {
        Some(name) if path == "." => name.to_owned(),
        Some(name) if !path.ends_with(name) => format!("{path}.{name}"),
        _ => path,
    }
}

/// The field named by serde's "unknown field" and "missing field" messages.
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next()
}

/// The client's address, for sign-in throttling: the peer of the TCP
/// connection, or, behind a reverse proxy the deployment trusts
/// (`trust_forwarded_for`), the right-most `X-Forwarded-For` entry, the one
/// that proxy added. `None` when neither is known (a router driven without
/// a listener).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state.config.trust_forwarded_for.then(|| {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .next_back()
                .and_then(|last| last.trim().parse().ok())
        });
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddress(forwarded.flatten().or(peer)))
    }
}

/// The actor of an API request: a bearer token, or a session cookie plus the
/// `X-CSRF-Token` header on requests that change state.
#[derive(Debug, Clone)]
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let secret = auth
                .strip_prefix("Bearer ")
                .ok_or(ServiceError::Unauthenticated)?;
            return Ok(ApiActor(state.services.token_actor(secret.trim()).await?));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .ok_or(ServiceError::Unauthenticated)?;
        let (actor, csrf) = state.services.session_actor(token.value()).await?;
        if !is_safe(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !sent.is_some_and(|s| constant_time_eq(s, &csrf)) {
                return Err(WebError::CsrfFailed);
            }
        }
        Ok(ApiActor(actor))
    }
}

impl OptionalFromRequestParts<AppState> for ApiActor {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match <ApiActor as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(actor) => Ok(Some(actor)),
            Err(WebError::Service(ServiceError::Unauthenticated)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Compares secrets without revealing, through timing, where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who is looking at a page, in which language, with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Option<Actor>,
    pub csrf: Option<String>,
    pub locale: Locale,
    pub path: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let session = match jar.get(SESSION_COOKIE) {
            Some(cookie) => match state.services.session_actor(cookie.value()).await {
                Ok(found) => Some(found),
                Err(ServiceError::Unauthenticated) => None,
                Err(other) => return Err(other.into()),
            },
            None => None,
        };
        let locale = jar
            .get(LANG_COOKIE)
            .and_then(|c| Locale::from_tag(c.value()))
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Locale::from_accept_language)
            })
            .unwrap_or_default();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let (actor, csrf) = session.map_or((None, None), |(a, c)| (Some(a), Some(c)));
        Ok(Viewer {
            actor,
            csrf,
            locale,
            path,
        })
    }
}

/// The session cookie: HttpOnly, SameSite=Lax (so links from other sites
/// still arrive signed in, while their forms cannot post with it), Secure when
/// served over TLS.
pub fn session_cookie(
    token: String,
    max_age_secs: i64,
    secure: bool,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(secure)
        .max_age(time_duration(max_age_secs))
        .build()
}

fn time_duration(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

/// A cookie that removes the session cookie.
pub fn expired_session_cookie(secure: bool) -> axum_extra::extract::cookie::Cookie<'static> {
    session_cookie(String::new(), 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        size: i64,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Body>(json.as_bytes()).unwrap_err() {
            WebError::InvalidBody { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_offending_field() {
        assert_eq!(field_of(r#"{"name":"x","colour":1}"#), "colour");
        assert_eq!(
            field_of(r#"{"name":"x","inner":{"size":"big"}}"#),
            "inner.size"
        );
        assert_eq!(
            field_of(r#"{"name":"x","inner":{"size":1,"extra":2}}"#),
            "inner.extra"
        );
        assert_eq!(field_of(r#"{"inner":null}"#), "name");
    }

    #[test]
    fn reports_line_and_column_of_malformed_json() {
        match parse_json::<Body>(b"{\n  \"name\": \"x\",\n  oops\n}").unwrap_err() {
            WebError::MalformedJson { line, column } => assert_eq!((line, column), (3, 3)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Body>(b"{\"name\":\"x\"} trailing"),
            Err(WebError::MalformedJson { .. })
        ));
    }

    #[test]
    fn compares_in_constant_time_shape() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
