//! Errors at the HTTP boundary: RFC 9457 problem details for the API, with a
//! stable code, a localised title and the offending fields.
//!
//! Every code is an [`ErrorCode`], whose table (in the services crate)
//! gives its status; [`status_of`] maps that to an HTTP status. A
//! handler's error becomes an empty response carrying a [`Problem`]
//! extension; the [`render_problems`] middleware, which knows the request's
//! language, writes the body. Causes of internal errors are logged, never sent.

use crate::i18n::{Locale, t, tf};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opcity_domain::District;
use opcity_domain::money::Fen;
use opcity_services::{ErrorCode, ErrorStatus, FieldError, ServiceError};
use std::borrow::Cow;

/// A problem waiting to be rendered in the request's language.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: ErrorCode,
    pub fields: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
}

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The body is not JSON at all.
    #[error("malformed JSON at line {line}, column {column}")]
    MalformedJson { line: usize, column: usize },
    /// The body is JSON but a field is unknown, missing or of the wrong type.
    #[error("invalid body at {field}: {problem}")]
    InvalidBody { field: String, problem: String },
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("missing or wrong CSRF token")]
    CsrfFailed,
    /// A query parameter is unknown or does not parse; `problem` is serde's
    /// message when serde found it.
    #[error("invalid query parameter {field}")]
    InvalidQuery {
        field: String,
        problem: Option<String>,
    },
    /// A query parameter, the path or a body field breaks a rule every
    /// input meets (`crate::input`); `code` is `invalid_query`,
    /// `invalid_path` or `invalid_body`.
    #[error("{code} at {}: {}", error.field, error.code)]
    InvalidField { code: ErrorCode, error: FieldError },
    /// Line `line` of a JSON Lines body is longer than `max` bytes.
    #[error("line {line} is longer than {max} bytes")]
    LineTooLong { line: usize, max: usize },
    /// A path parameter does not parse as `expected` (say, `i64`).
    #[error("invalid path parameter {field}: expected {expected}")]
    InvalidPath { field: String, expected: String },
}

impl WebError {
    /// A query parameter the handler itself could not accept.
    pub fn invalid_query(field: impl Into<String>) -> WebError {
        WebError::InvalidQuery {
            field: field.into(),
            problem: None,
        }
    }
}

/// The HTTP status of a code, from its [`ErrorStatus`] in the codes' table.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code.status() {
        ErrorStatus::BadRequest => StatusCode::BAD_REQUEST,
        ErrorStatus::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorStatus::Forbidden => StatusCode::FORBIDDEN,
        ErrorStatus::NotFound => StatusCode::NOT_FOUND,
        ErrorStatus::Conflict => StatusCode::CONFLICT,
        ErrorStatus::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorStatus::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorStatus::UnprocessableEntity => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorStatus::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorStatus::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorStatus::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl WebError {
    pub fn problem(&self) -> Problem {
        match self {
            WebError::Service(err) => service_problem(err),
            WebError::MalformedJson { line, column } => Problem {
                code: ErrorCode::MalformedJson,
                fields: vec![
                    FieldError::new("", "malformed_json")
                        .with("line", line)
                        .with("column", column),
                ],
                retry_after_secs: None,
            },
            WebError::InvalidBody { field, problem } => Problem {
                code: ErrorCode::InvalidBody,
                fields: vec![body_field_error(field, problem)],
                retry_after_secs: None,
            },
            WebError::InvalidQuery { field, problem } => Problem {
                code: ErrorCode::InvalidQuery,
                fields: vec![match problem {
                    Some(problem) => body_field_error(field, problem),
                    None => FieldError::new(field.clone(), "not_accepted"),
                }],
                retry_after_secs: None,
            },
            WebError::InvalidPath { field, expected } => Problem {
                code: ErrorCode::InvalidPath,
                fields: vec![FieldError::new(
                    field.clone(),
                    type_code(expected).unwrap_or("not_accepted"),
                )],
                retry_after_secs: None,
            },
            WebError::InvalidField { code, error } => Problem {
                code: *code,
                fields: vec![error.clone()],
                retry_after_secs: None,
            },
            WebError::LineTooLong { line, max } => Problem {
                code: ErrorCode::LineTooLong,
                fields: vec![
                    FieldError::new("body", "line_too_long")
                        .with("line", line)
                        .with("max", max),
                ],
                retry_after_secs: None,
            },
            WebError::UnsupportedMediaType => plain(ErrorCode::UnsupportedMediaType),
            WebError::PayloadTooLarge => plain(ErrorCode::PayloadTooLarge),
            WebError::CsrfFailed => plain(ErrorCode::CsrfFailed),
        }
    }
}

/// serde's message about one body field as a code the catalogues translate,
/// so the user reads it in their language; serde's own (English) words only
/// where no code fits.
fn body_field_error(field: &str, problem: &str) -> FieldError {
    // "… expected one of `a`, `b`" → "a, b".
    let listed = |rest: &str| {
        rest.split_once("expected one of ")
            .map(|(_, list)| list.replace('`', ""))
    };
    if problem.starts_with("missing field `") {
        return FieldError::new(field, "required");
    }
    if let Some(rest) = problem.strip_prefix("unknown field `") {
        let error = FieldError::new(field, "not_a_field");
        return match listed(rest) {
            Some(allowed) => error.with("allowed", allowed),
            None => error,
        };
    }
    if let Some(rest) = problem.strip_prefix("unknown variant `")
        && let Some(allowed) = listed(rest)
    {
        return FieldError::new(field, "not_one_of").with("allowed", allowed);
    }
    let expected = problem
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
        .map(|(_, expected)| expected);
    // A query string's number that does not parse says so in
    // `ParseIntError`'s words.
    let unparsed_integer = [
        "invalid digit found in string",
        "cannot parse integer from empty string",
        "number too large to fit in target type",
        "number too small to fit in target type",
    ]
    .contains(&problem);
    match expected.and_then(type_code) {
        Some(code) => FieldError::new(field, code),
        None if unparsed_integer => FieldError::new(field, "expected_integer"),
        None => FieldError::new(field, "invalid_value").with("reason", problem),
    }
}

/// The code for "give a value of this type", from serde's or axum's name of
/// the type expected.
fn type_code(expected: &str) -> Option<&'static str> {
    const INTEGERS: [&str; 10] = [
        "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64", "usize",
    ];
    Some(match expected {
        e if INTEGERS.contains(&e) => "expected_integer",
        "a string" => "expected_text",
        "a boolean" | "bool" => "expected_boolean",
        e if e.starts_with("a sequence") => "expected_list",
        e if e.starts_with("struct ") || e == "a map" => "expected_object",
        _ => return None,
    })
}

/// A problem with no fields.
fn plain(code: ErrorCode) -> Problem {
    Problem {
        code,
        fields: Vec::new(),
        retry_after_secs: None,
    }
}

fn service_problem(err: &ServiceError) -> Problem {
    match err {
        ServiceError::Validation(fields) => Problem {
            code: ErrorCode::ValidationFailed,
            fields: fields.clone(),
            retry_after_secs: None,
        },
        ServiceError::Conflict { code, field } => Problem {
            code: *code,
            fields: field
                .map(|f| FieldError::new(f, code.as_str()))
                .into_iter()
                .collect(),
            retry_after_secs: None,
        },
        ServiceError::Refused { code, field } => Problem {
            code: *code,
            fields: vec![FieldError::new(*field, code.as_str())],
            retry_after_secs: None,
        },
        // The interval held, in Shanghai time, so the client can say when.
        ServiceError::Taken {
            code,
            field,
            held_id,
            held_from,
            held_until,
        } => Problem {
            code: *code,
            fields: vec![
                FieldError::new(*field, code.as_str())
                    .with("held_id", held_id)
                    .with(
                        "held_from",
                        opcity_services::spaces::shanghai_rfc3339(*held_from),
                    )
                    .with(
                        "held_until",
                        opcity_services::spaces::shanghai_rfc3339(*held_until),
                    ),
            ],
            retry_after_secs: None,
        },
        ServiceError::Throttled { retry_after_secs } => Problem {
            code: ErrorCode::TooManyAttempts,
            fields: Vec::new(),
            retry_after_secs: Some(*retry_after_secs),
        },
        // The operation's place prefixes its fields, or is the field.
        ServiceError::InBatch { index, error } => {
            let mut problem = service_problem(error);
            let at = format!("ops[{index}]");
            if problem.fields.is_empty() {
                problem
                    .fields
                    .push(FieldError::new(at, problem.code.as_str()));
            } else {
                for f in &mut problem.fields {
                    f.field = format!("{at}.{}", f.field);
                }
            }
            problem
        }
        ServiceError::Unavailable(_) => Problem {
            code: ErrorCode::Unavailable,
            fields: Vec::new(),
            retry_after_secs: Some(RETRY_AFTER_UNAVAILABLE_SECS),
        },
        err => plain(err.code()),
    }
}

/// What a 503 asks the client to wait before trying again: a few acquire
/// timeouts, so a retry does not find the outage it just met.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::Service(ServiceError::Internal(cause)) => {
                tracing::error!(error = %cause, "internal error");
            }
            WebError::Service(ServiceError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
            }
            _ => {}
        }
        let problem = self.problem();
        let mut response = status_of(problem.code).into_response();
        response.extensions_mut().insert(problem);
        response
    }
}

/// The localised message for one field error. A `district` parameter (an id
/// such as `nanshan`) reads as the district's name in the message, and a
/// money parameter (`…_fen`) as yuan (`¥2,000,000.00`); the API's `params`
/// keep the id and the fen.
pub fn field_message(locale: Locale, error: &FieldError) -> String {
    let params: Vec<(&str, Cow<'_, str>)> = error
        .params
        .iter()
        .map(|(k, v)| {
            let shown: Cow<'_, str> = match (*k, v.parse::<District>()) {
                ("district", Ok(d)) => match locale {
                    Locale::Zh => d.name_zh().into(),
                    Locale::En => d.name_en().into(),
                },
                // An item named in both languages (`item`, `item_zh`).
                ("item", _) if locale == Locale::Zh => error
                    .params
                    .get("item_zh")
                    .map_or(v.as_str(), String::as_str)
                    .into(),
                (name, _) if name.ends_with("_fen") => match v.parse::<i64>() {
                    Ok(fen) => Fen(fen).to_string().into(),
                    Err(_) => v.as_str().into(),
                },
                _ => v.as_str().into(),
            };
            (*k, shown)
        })
        .collect();
    tf(
        locale,
        &format!("field.{}", error.code),
        params.iter().map(|(k, v)| (*k, v.as_ref())),
    )
}

fn problem_body(locale: Locale, status: StatusCode, problem: &Problem) -> serde_json::Value {
    let title_key = format!("problem.{}", problem.code);
    let title = if crate::i18n::has(locale, &title_key) {
        t(locale, &title_key)
    } else {
        t(locale, "problem.generic")
    };
    let errors: Vec<_> = problem
        .fields
        .iter()
        .map(|f| {
            serde_json::json!({
                "field": f.field,
                "code": f.code,
                "message": field_message(locale, f),
                "params": f.params,
            })
        })
        .collect();
    let detail = match problem.fields.first() {
        Some(first) if first.field.is_empty() => field_message(locale, first),
        Some(first) => format!("{}: {}", first.field, field_message(locale, first)),
        None => title.to_owned(),
    };
    serde_json::json!({
        "type": format!("/problems/{}", problem.code),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": problem.code,
        "errors": errors,
    })
}

/// The request's language for API responses: `Accept-Language`, else Chinese.
pub fn request_locale(request: &Request) -> Locale {
    request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or_default()
}

/// Writes problem bodies for responses that carry a [`Problem`], and turns
/// the framework's own 413 into one.
pub async fn render_problems(request: Request, next: Next) -> Response {
    let locale = request_locale(&request);
    let mut response = next.run(request).await;
    let problem = match response.extensions_mut().remove::<Problem>() {
        Some(p) => p,
        None if response.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            WebError::PayloadTooLarge.problem()
        }
        None => return response,
    };
    let status = response.status();
    let body = problem_body(locale, status, &problem);
    let mut out = (status, body.to_string()).into_response();
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(secs) = problem.retry_after_secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_messages_reads_as_yuan() {
        let cap = FieldError::new("amount_fen", "above_cap").with("cap_fen", 200_000_000);
        assert_eq!(
            field_message(Locale::En, &cap),
            "Above the programme's figure (¥2,000,000.00)."
        );
        assert_eq!(
            field_message(Locale::Zh, &cap),
            "超过该政策的金额上限（¥2,000,000.00）。"
        );
    }

    #[test]
    fn serde_messages_become_translated_codes() {
        let code = |problem: &str| {
            let e = body_field_error("f", problem);
            (e.code, e.params.get("allowed").cloned())
        };
        assert_eq!(code("missing field `name`"), ("required", None));
        assert_eq!(
            code("unknown field `colour`, expected one of `name`, `size`"),
            ("not_a_field", Some("name, size".to_owned()))
        );
        assert_eq!(
            code("unknown variant `hodl`, expected one of `hold`, `capture`, `void`"),
            ("not_one_of", Some("hold, capture, void".to_owned()))
        );
        let typed = [
            (
                "invalid type: floating point `1e20`, expected i64",
                "expected_integer",
            ),
            (
                "invalid type: string \"yes\", expected a boolean",
                "expected_boolean",
            ),
            (
                "invalid type: integer `5`, expected a string",
                "expected_text",
            ),
            (
                "invalid type: string \"x\", expected a sequence",
                "expected_list",
            ),
            (
                "invalid type: integer `1`, expected struct Inner",
                "expected_object",
            ),
        ];
        for (problem, expected) in typed {
            assert_eq!(code(problem).0, expected, "{problem}");
        }
        // Anything else keeps serde's words as the reason.
        let other = body_field_error("f", "invalid value: integer `-1`, expected u32");
        assert_eq!(other.code, "invalid_value");
        assert_eq!(
            other.params["reason"],
            "invalid value: integer `-1`, expected u32"
        );
    }

    #[test]
    fn every_service_code_has_a_status() {
        let errors = [
            ServiceError::Validation(vec![]),
            ServiceError::NotFound { entity: "x" },
            ServiceError::Unauthenticated,
            ServiceError::BadCredentials,
            ServiceError::Throttled {
                retry_after_secs: 1,
            },
            ServiceError::Forbidden,
            ServiceError::Refused {
                code: ErrorCode::QuestionMarkup,
                field: "q",
            },
            ServiceError::Conflict {
                code: ErrorCode::UsccTaken,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::UsernameTaken,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::AccountHasPerson,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::DatabaseNotEmpty,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::IdempotencyKeyReused,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::StateChanged,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::BudgetExists,
                field: None,
            },
            ServiceError::Conflict {
                code: ErrorCode::ConflictOfInterest,
                field: None,
            },
            ServiceError::Unavailable("pool timed out".into()),
            ServiceError::Taken {
                code: ErrorCode::InstrumentSlotTaken,
                field: "start",
                held_id: 1,
                held_from: chrono::DateTime::UNIX_EPOCH,
                held_until: chrono::DateTime::UNIX_EPOCH,
            },
        ];
        let voucher_codes = [
            "transfer_id_reused",
            "insufficient_voucher_balance",
            "voucher_ceiling_exceeded",
            "voucher_expired",
            "hold_already_resolved",
            "hold_expired",
            "capture_exceeds_hold",
            "provider_not_approved",
            "provider_not_approved_for_kind",
            "not_a_provider",
        ];
        let code = |name: &str| ErrorCode::parse(name).unwrap_or_else(|| panic!("{name}"));
        for name in voucher_codes {
            assert_ne!(
                status_of(code(name)),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{name}"
            );
        }
        for name in SPACES_CONFLICTS {
            assert_eq!(status_of(code(name)), StatusCode::CONFLICT, "{name}");
        }
        for e in errors {
            assert_ne!(
                status_of(e.code()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{}",
                e.code()
            );
        }
        assert_eq!(
            status_of(ErrorCode::Internal),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    /// Conflicts of spaces, housing and instruments: a held interval, a
    /// waitlist's order, a record in the wrong state for the step asked.
    const SPACES_CONFLICTS: &[&str] = &[
        "space_unit_taken",
        "housing_unit_taken",
        "instrument_slot_taken",
        "interval_overlap",
        "already_waiting",
        "waitlist_order",
        "waitlist_empty",
        "request_not_waiting",
        "not_offered",
        "not_active",
        "not_reserved",
        "lease_not_current",
        "not_pending",
        "not_cancellable",
        "already_started",
        "not_confirmed",
        "check_in_closed",
        "unit_code_taken",
        "housing_code_taken",
        "floor_exists",
        "amendment_open",
        "amendment_answered",
    ];

    /// The table of statuses before the codes were an enum: the API's
    /// contract, which [`ErrorCode`]'s table must keep.
    fn legacy_status_of(code: &str) -> StatusCode {
        match code {
            "validation_failed" | "invalid_body" | "invalid_query" => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            "malformed_json" | "invalid_path" => StatusCode::BAD_REQUEST,
            "question_empty" | "question_too_long" | "question_not_text" | "question_markup" => {
                StatusCode::BAD_REQUEST
            }
            "unsupported_media_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "payload_too_large" | "line_too_long" => StatusCode::PAYLOAD_TOO_LARGE,
            "unauthenticated" | "bad_credentials" | "sso_failed" => StatusCode::UNAUTHORIZED,
            "forbidden" | "csrf_failed" | "conflict_of_interest" => StatusCode::FORBIDDEN,
            "awaiting_email" | "awaiting_confirmation" => StatusCode::FORBIDDEN,
            "not_found" => StatusCode::NOT_FOUND,
            "too_many_attempts" => StatusCode::TOO_MANY_REQUESTS,
            "username_taken"
            | "uscc_taken"
            | "account_has_person"
            | "resident_id_taken"
            | "file_imported"
            | "database_not_empty"
            | "idempotency_key_reused"
            | "state_changed"
            | "assignment_changed"
            | "account_changed"
            | "contention"
            | "budget_exists"
            | "flag_decided"
            | "nothing_to_answer"
            | "thread_closed"
            | "already_declared"
            | "draft_changed"
            | "draft_closed"
            | "draft_empty"
            | "draft_other_pack"
            | "already_in_draft"
            | "draft_not_simulated"
            | "version_order"
            | "own_draft" => StatusCode::CONFLICT,
            // Vouchers: the request is valid but the ledger's state refuses it.
            "transfer_id_reused"
            | "ledger_mismatch"
            | "insufficient_voucher_balance"
            | "voucher_ceiling_exceeded"
            | "voucher_ceiling_unset"
            | "voucher_expired"
            | "no_voucher"
            | "not_a_hold"
            | "hold_already_resolved"
            | "hold_expired"
            | "capture_exceeds_hold"
            | "voucher_pool_exhausted"
            | "voucher_pool_not_funded"
            | "not_entitled_to_voucher"
            | "wallet_funded_from_other_year"
            | "provider_not_approved"
            | "provider_not_approved_for_kind"
            | "provider_already_registered"
            | "contract_share_unset"
            | "not_a_capture"
            | "use_already_reviewed"
            | "use_not_disputed"
            | "dispute_already_resolved" => StatusCode::CONFLICT,
            "not_a_provider" => StatusCode::FORBIDDEN,
            "unavailable" | "mail_off" => StatusCode::SERVICE_UNAVAILABLE,
            code if SPACES_CONFLICTS.contains(&code) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    #[test]
    fn every_code_keeps_the_status_the_old_table_gave_it() {
        for code in ErrorCode::ALL {
            assert_eq!(status_of(*code), legacy_status_of(code.as_str()), "{code}");
            assert_eq!(status_of(*code).as_u16(), code.status().as_u16(), "{code}");
        }
        // No code fell to the old table's default arm but `internal`.
        for code in ErrorCode::ALL {
            let internal = *code == ErrorCode::Internal;
            let fell_through = legacy_status_of(code.as_str()) == StatusCode::INTERNAL_SERVER_ERROR;
            assert_eq!(internal, fell_through, "{code}");
        }
    }

    #[test]
    fn every_code_has_a_title_in_both_catalogues() {
        let missing: Vec<String> = [Locale::Zh, Locale::En]
            .into_iter()
            .flat_map(|locale| {
                ErrorCode::ALL
                    .iter()
                    .map(move |code| (locale, format!("problem.{code}")))
            })
            .filter(|(locale, key)| !crate::i18n::has(*locale, key))
            .map(|(locale, key)| format!("{}: {key}", locale.tag()))
            .collect();
        assert!(missing.is_empty(), "titles missing: {missing:#?}");
    }
}
