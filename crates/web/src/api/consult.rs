//! Policy consultation over HTTP: a question answered by quoting the pack's
//! clauses, or an abstention pointing to a human adviser (public; a signed-in
//! founder also gets the engine's results for the cited programmes).

use super::{ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::ApiActor;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use opcity_services::consult::{ConsultView, Lang};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/consult", get(consult))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsultParams {
    /// The question, 1 to 500 characters of plain text.
    q: Option<String>,
    /// The answer's language: `zh` (default) or `en`.
    lang: Option<String>,
    /// A region's pack id from `/api/v1/regions` (default: the pack in
    /// force, the only one whose texts are held; another abstains).
    region: Option<String>,
}

/// The answer's language from the `lang` parameter.
pub fn lang_param(value: Option<&str>) -> Result<Lang, WebError> {
    match value {
        None => Ok(Lang::Zh),
        Some(code) => Lang::parse(code).ok_or_else(|| WebError::invalid_query("lang")),
    }
}

/// Answers a question from the policy texts, citing the clauses it quotes
/// (public). Weak or no retrieval gives `abstained: true` and a pointer to a
/// human adviser. An empty, overlong (over 500 characters), non-text or
/// markup-laden question is a 400 (`question_empty`, `question_too_long`,
/// `question_not_text`, `question_markup`).
#[utoipa::path(get, path = "/api/v1/consult", tag = "consult", params(ConsultParams),
    responses((status = 200, body = ConsultView), (status = 400, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn consult(
    State(state): State<AppState>,
    actor: Option<ApiActor>,
    ApiQuery(params): ApiQuery<ConsultParams>,
) -> Result<Json<ConsultView>, WebError> {
    let lang = lang_param(params.lang.as_deref())?;
    let today = opcity_domain::today_in_shanghai(chrono::Utc::now());
    let view = state
        .services
        .consult(
            actor.as_ref().map(|a| &a.0),
            params.q.as_deref().unwrap_or_default(),
            lang,
            today,
            params.region.as_deref(),
        )
        .await?;
    Ok(Json(view))
}
