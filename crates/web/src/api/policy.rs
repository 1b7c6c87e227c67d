//! The policy engine over HTTP: the regions one may check against, the
//! programme catalogue, dated parameters, one-case eligibility and streamed
//! batch eligibility. Every response names the pack (in the body, and in
//! the `X-Opcity-Pack` header). Each takes `region` (a pack id from
//! `/api/v1/regions`; default: the pack in force).

use super::ApiPath;
use super::{ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::ApiActor;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use opcity_policy::{BatchError, Detail};
use opcity_services::policy::{BatchEvaluation, Catalogue, PackRef, ParameterInfo, ProgrammeInfo};
use opcity_services::regions::RegionInfo;
use std::io::{BufReader, BufWriter, Write};
use tokio_util::io::{StreamReader, SyncIoBridge};

/// Batch bodies may be large: they are streamed, never held whole.
const BATCH_BODY_LIMIT: usize = 1024 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions", get(list_regions))
        .route("/api/v1/programmes", get(list_programmes))
        .route("/api/v1/programmes/{id}", get(get_programme))
        .route("/api/v1/parameters/{name}", get(get_parameter))
        .route("/api/v1/eligibility", post(eligibility))
        .route(
            "/api/v1/eligibility/batch",
            post(eligibility_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        )
}

fn pack_header(pack: &PackRef) -> [(header::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("{}@{}", pack.id, pack.version))
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
    [(header::HeaderName::from_static("x-opcity-pack"), value)]
}

/// The regions one may check against (public): the pack in force first,
/// then every other pack built in that has programmes.
#[utoipa::path(get, path = "/api/v1/regions", tag = "policy", responses((status = 200, body = Vec<RegionInfo>)))]
pub async fn list_regions(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.services.regions())
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegionParams {
    /// A region's pack id from `/api/v1/regions` (default: the pack in
    /// force).
    region: Option<String>,
}

/// The programme catalogue of a region (public; default: the pack in force).
#[utoipa::path(get, path = "/api/v1/programmes", tag = "policy", params(RegionParams),
    responses((status = 200, body = Catalogue), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_programmes(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<RegionParams>,
) -> Result<impl IntoResponse, WebError> {
    let catalogue = state.services.region_catalogue(params.region.as_deref())?;
    Ok((pack_header(&catalogue.pack), Json(catalogue)))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProgrammeDoc {
    pack: PackRef,
    programme: ProgrammeInfo,
}

/// One programme of a region (public; default: the pack in force).
#[utoipa::path(get, path = "/api/v1/programmes/{id}", tag = "policy", params(RegionParams),
    responses((status = 200, body = ProgrammeDoc), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_programme(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<RegionParams>,
) -> Result<impl IntoResponse, WebError> {
    let (pack, programme) = state
        .services
        .region_programme(params.region.as_deref(), &id)?;
    Ok((pack_header(&pack), Json(ProgrammeDoc { pack, programme })))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AtParams {
    /// The date, YYYY-MM-DD (default: today in Shanghai).
    at: Option<String>,
    /// A region's pack id from `/api/v1/regions` (default: the pack in
    /// force).
    region: Option<String>,
}

fn date_param(value: Option<&str>, field: &str) -> Result<NaiveDate, WebError> {
    match value {
        None => Ok(opcity_domain::today_in_shanghai(chrono::Utc::now())),
        Some(text) => opcity_policy::parse_date(text).map_err(|_| WebError::invalid_query(field)),
    }
}

/// A parameter's value on a date, with its reference and history (public).
#[utoipa::path(get, path = "/api/v1/parameters/{name}", tag = "policy", params(AtParams),
    responses((status = 200, body = ParameterInfo), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn get_parameter(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<AtParams>,
) -> Result<impl IntoResponse, WebError> {
    let at = date_param(params.at.as_deref(), "at")?;
    let info = state
        .services
        .parameter(params.region.as_deref(), &name, at)?;
    Ok((pack_header(&info.pack), Json(info)))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvalParams {
    /// The evaluation date, YYYY-MM-DD (default: today in Shanghai).
    as_of: Option<String>,
    /// `full` (default) or `brief` (no `reasons`, nor the explanation-only
    /// `parameters` and null `note`).
    detail: Option<String>,
    /// A region's pack id from `/api/v1/regions` (default: the pack in
    /// force).
    region: Option<String>,
}

impl EvalParams {
    fn parse(&self) -> Result<(NaiveDate, Detail), WebError> {
        let as_of = date_param(self.as_of.as_deref(), "as_of")?;
        let detail = match self.detail.as_deref() {
            None | Some("full") => Detail::Full,
            Some("brief") => Detail::Brief,
            Some(_) => {
                return Err(WebError::invalid_query("detail"));
            }
        };
        Ok((as_of, detail))
    }
}

/// Evaluates one case (the spec's case object) against every programme of
/// a region (public: the self-check uses it). The body is
/// `{ "person": {...}, "enterprise": {...}, "granted": [...] }`.
#[utoipa::path(post, path = "/api/v1/eligibility", tag = "policy", params(EvalParams),
    request_body(content = Object, description = "One case in the spec's format"),
    responses((status = 200, body = Object, description = "`{ pack, id, as_of, results }`"), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn eligibility(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<EvalParams>,
    body: Bytes,
) -> Result<impl IntoResponse, WebError> {
    let (as_of, detail) = params.parse()?;
    let text = std::str::from_utf8(&body).map_err(|_| WebError::InvalidBody {
        field: "case".into(),
        problem: "not UTF-8".into(),
    })?;
    let region = params.region.as_deref();
    let (pack, json) = state
        .services
        .evaluate_case_json(region, text, as_of, detail)?;
    Ok((
        pack_header(&pack),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    ))
}

/// What the batch engine sends towards the response: output bytes, or why
/// it stopped.
enum Piece {
    Data(Bytes),
    Failed(BatchError),
}

/// Sends written bytes to the response body as they are produced.
struct ChannelWriter(tokio::sync::mpsc::Sender<Piece>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Piece::Data(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Evaluates NDJSON cases (one a line) and streams NDJSON results in input
/// order; a bad case gets `{ "id", "error": { "field", "problem" } }` in its
/// place. Memory stays bounded whatever the size (signed-in clients only): a
/// line may be at most 64 KiB; a longer one stops the batch, with a 413
/// `line_too_long` problem naming the line when nothing was sent yet, else
/// with an error line ending the stream.
#[utoipa::path(post, path = "/api/v1/eligibility/batch", tag = "policy", params(EvalParams),
    request_body(content = String, content_type = "application/x-ndjson", description = "One case a line"),
    responses((status = 200, content_type = "application/x-ndjson", body = String, description = "One result a line"),
        (status = 401, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 413, body = ProblemDoc)))]
pub async fn eligibility_batch(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<EvalParams>,
    request: Request,
) -> Result<Response, WebError> {
    let (as_of, detail) = params.parse()?;
    let batch = state
        .services
        .batch_evaluation(&actor, params.region.as_deref())?;
    let reference = batch.pack();
    let input = StreamReader::new(
        request
            .into_body()
            .into_data_stream()
            .map_err(std::io::Error::other),
    );
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::task::spawn_blocking(move || {
        run_batch(&batch, as_of, detail, SyncIoBridge::new(input), tx)
    });
    let mut rx = rx;
    // The first piece decides the status: a batch refused before any output
    // is a problem; later failures can only end the stream.
    let first = match rx.recv().await {
        Some(Piece::Failed(BatchError::LineTooLong { line, max })) => {
            return Err(WebError::LineTooLong { line, max });
        }
        first => first,
    };
    let pieces = futures::stream::unfold((first, rx), |(next, mut rx)| async move {
        let piece = match next {
            Some(piece) => piece,
            None => rx.recv().await?,
        };
        Some((piece, (None, rx)))
    });
    let stream = pieces.flat_map(|piece| {
        futures::stream::iter(match piece {
            Piece::Data(bytes) => vec![Ok(bytes)],
            // The status line is gone; end the stream with an error line
            // the client can read, then fail the body.
            Piece::Failed(err) => {
                let line = serde_json::json!({
                    "error": { "code": err.code(), "problem": err.to_string() }
                });
                vec![
                    Ok(Bytes::from(format!("{line}\n"))),
                    Err(std::io::Error::other(err.to_string())),
                ]
            }
        })
    });
    let mut response = Body::from_stream(stream).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response.headers_mut().extend(pack_header(&reference));
    Ok(response)
}

fn run_batch(
    batch: &BatchEvaluation,
    as_of: NaiveDate,
    detail: Detail,
    input: impl std::io::Read + Send,
    tx: tokio::sync::mpsc::Sender<Piece>,
) {
    let errors = tx.clone();
    let writer = BufWriter::with_capacity(64 * 1024, ChannelWriter(tx));
    let outcome = batch.run(as_of, detail, BufReader::new(input), writer);
    // The writer was dropped, so what was evaluated before is sent first.
    if let Err(err) = outcome {
        tracing::warn!(error = %err, "batch evaluation stopped");
        let _ = errors.blocking_send(Piece::Failed(err));
    }
}
