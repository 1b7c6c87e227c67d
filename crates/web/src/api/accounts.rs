//! Sessions, the current account, API tokens and account administration.

use super::ApiPath;
use super::ProblemDoc;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{
    ApiActor, ApiJson, ClientAddress, SESSION_COOKIE, expired_session_cookie, session_cookie,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use opcity_domain::Role;
use opcity_services::Actor;
use opcity_services::accounts::{
    AccountSettings, AccountView, NewAccount, SESSION_TTL, SettingsChange, TokenView,
};
use opcity_services::applications::InboxItem;
use opcity_services::matching::{Entitlement, Notification};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/session",
            post(create_session).delete(delete_session),
        )
        .route("/api/v1/me", get(me).patch(update_me))
        .route("/api/v1/me/entitlements", get(my_entitlements))
        .route("/api/v1/me/notifications", get(my_notifications))
        .route("/api/v1/me/notifications/read", post(read_notifications))
        .route("/api/v1/me/inbox", get(my_inbox))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionCreated {
    /// Send this as `X-CSRF-Token` on requests that change state.
    csrf_token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    account_id: i64,
}

/// Signs in and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = Credentials,
    responses((status = 200, body = SessionCreated), (status = 401, body = ProblemDoc), (status = 429, body = ProblemDoc)))]
pub async fn create_session(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    jar: CookieJar,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<impl IntoResponse, WebError> {
    let issued = state
        .services
        .sign_in(&credentials.username, &credentials.password, from)
        .await?;
    let cookie = session_cookie(
        issued.token,
        SESSION_TTL.num_seconds(),
        state.config.secure_cookies,
    );
    let body = SessionCreated {
        csrf_token: issued.csrf_token,
        expires_at: issued.expires_at,
        account_id: issued.actor.account_id,
    };
    Ok((jar.add(cookie), Json(body)))
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts", responses((status = 204)))]
pub async fn delete_session(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<impl IntoResponse, WebError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state.services.sign_out(cookie.value()).await?;
    }
    Ok((
        jar.add(expired_session_cookie(state.config.secure_cookies)),
        StatusCode::NO_CONTENT,
    ))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    account_id: i64,
    username: String,
    display_name: String,
    role: String,
    district: Option<String>,
    person_id: Option<i64>,
    enterprise_ids: Vec<i64>,
    community_ids: Vec<i64>,
    /// Where e-mail notifications go (none: no e-mail).
    email: Option<String>,
    /// Whether notifications are also sent by e-mail.
    email_notifications: bool,
    /// `zh-CN` or `en`: the language of the portal's e-mails.
    locale: String,
}

fn me_of(actor: Actor, settings: AccountSettings) -> Me {
    Me {
        account_id: actor.account_id,
        username: actor.username,
        display_name: actor.display_name,
        role: actor.role.id().to_owned(),
        district: actor.district.map(|d| d.id().to_owned()),
        person_id: actor.person_id,
        enterprise_ids: actor.enterprise_ids,
        community_ids: actor.community_ids,
        email: settings.email,
        email_notifications: settings.email_notifications,
        locale: settings.locale,
    }
}

/// The signed-in account, its settings and what it is linked to.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, body = ProblemDoc)))]
pub async fn me(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Me>, WebError> {
    let settings = state.services.account_settings(&actor).await?;
    Ok(Json(me_of(actor, settings)))
}

/// Reads a field that may be absent (leave as is), `null` or a value.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A change of the signed-in account's own settings; fields left out stay
/// as they are.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeChange {
    /// An e-mail address; `null` removes it (e-mail notifications must
    /// then be off). An empty text is refused (`invalid_email`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "founder@example.org")]
    email: Option<Option<String>>,
    /// Also send every notification by e-mail (needs an address).
    email_notifications: Option<bool>,
    /// `zh-CN` or `en`.
    locale: Option<String>,
}

/// Changes the signed-in account's e-mail address, e-mail notifications and
/// language. An invalid address is refused (`email: invalid_email`) and
/// nothing changes; every change is audited.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", request_body = MeChange,
    responses((status = 200, body = Me), (status = 401, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_me(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(change): ApiJson<MeChange>,
) -> Result<Json<Me>, WebError> {
    let settings = state
        .services
        .update_account_settings(
            &actor,
            SettingsChange {
                email: change.email,
                email_notifications: change.email_notifications,
                locale: change.locale,
            },
        )
        .await?;
    Ok(Json(me_of(actor, settings)))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<TokenView>>, WebError> {
    Ok(Json(state.services.list_api_tokens(&actor).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TokenCreated {
    token: TokenView,
    /// The secret, shown this once; only its hash is stored.
    secret: String,
}

/// Issues an API token for the signed-in account.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, body = TokenCreated), (status = 422, body = ProblemDoc)))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewToken>,
) -> Result<impl IntoResponse, WebError> {
    let (token, secret) = state.services.create_api_token(&actor, &input.name).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token, secret })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts",
    responses((status = 200, body = TokenView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TokenView>, WebError> {
    Ok(Json(state.services.revoke_api_token(&actor, id).await?))
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, body = Vec<AccountView>), (status = 403, body = ProblemDoc)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<AccountView>>, WebError> {
    Ok(Json(state.services.list_accounts(&actor).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    username: String,
    display_name: String,
    password: String,
    /// founder, community_operator, district_reviewer, municipal_admin, service_provider, investor, auditor.
    role: String,
    district: Option<String>,
    locale: Option<String>,
}

/// Creates an account (municipal administrators only).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = AccountInput,
    responses((status = 201, body = AccountView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_account(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<AccountInput>,
) -> Result<impl IntoResponse, WebError> {
    let role: Role = input
        .role
        .parse()
        .map_err(|_| opcity_services::ServiceError::invalid("role", "unknown_role"))?;
    let district =
        match input.district.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => Some(d.parse().map_err(|_| {
                opcity_services::ServiceError::invalid("district", "unknown_district")
            })?),
            None => None,
        };
    let view = state
        .services
        .create_account(
            Some(&actor),
            NewAccount {
                username: input.username,
                display_name: input.display_name,
                password: input.password,
                role,
                district,
                locale: input.locale.unwrap_or_else(|| "zh-CN".to_owned()),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The signed-in founder's current results for every programme, kept up to
/// date by proactive matching (their person and each of their enterprises).
#[utoipa::path(get, path = "/api/v1/me/entitlements", tag = "accounts",
    responses((status = 200, body = Vec<Entitlement>), (status = 401, body = ProblemDoc)))]
pub async fn my_entitlements(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Entitlement>>, WebError> {
    Ok(Json(state.services.my_entitlements(&actor).await?))
}

/// The signed-in account's notifications, newest first (at most 100).
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "accounts",
    responses((status = 200, body = Vec<Notification>), (status = 401, body = ProblemDoc)))]
pub async fn my_notifications(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Notification>>, WebError> {
    Ok(Json(state.services.notifications(&actor, 100).await?))
}

/// The signed-in account's inbox: its notifications, newest first (at most
/// 100), each with what it is about — a decision's amount, reason, what a
/// return asks for and by when, a flag's unmet conditions, the letter.
#[utoipa::path(get, path = "/api/v1/me/inbox", tag = "accounts",
    responses((status = 200, body = Vec<InboxItem>), (status = 401, body = ProblemDoc)))]
pub async fn my_inbox(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<InboxItem>>, WebError> {
    Ok(Json(state.services.inbox(&actor, 100).await?))
}

/// Marks every notification of the signed-in account read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "accounts", responses((status = 204)))]
pub async fn read_notifications(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<StatusCode, WebError> {
    state.services.mark_notifications_read(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
