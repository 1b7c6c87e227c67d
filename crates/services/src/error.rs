//! The services' error type. Each variant has a stable [`ErrorCode`], whose
//! table gives its HTTP status; the web crate localises the messages.
//! Causes of internal errors go to the log, never to the user.

pub use crate::error_code::{ErrorCode, ErrorStatus};
use opcity_domain::Fen;
use opcity_store::StoreError;
use std::collections::BTreeMap;

/// One invalid field: which field, a stable code for what is wrong, and the
/// values the localised message needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<&'static str, String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> FieldError {
        FieldError {
            field: field.into(),
            code,
            params: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl ToString) -> FieldError {
        self.params.insert(key, value.to_string());
        self
    }
}

/// A refusal of an amount above [`Fen::MAX_AMOUNT`], which no input may
/// carry (it keeps every sum of amounts inside `i64`).
pub(crate) fn above_max_amount(field: &str, amount: i64) -> Option<FieldError> {
    (amount > Fen::MAX_AMOUNT.0)
        .then(|| FieldError::new(field, "amount_above_maximum").with("max", Fen::MAX_AMOUNT))
}

/// Funding that would take a budget's total past [`Fen::MAX_TOTAL`].
pub(crate) fn budget_total_too_large() -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("amount_fen", "budget_total_too_large").with("max", Fen::MAX_TOTAL),
    ])
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("sign-in required")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed sign-ins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("not allowed")]
    Forbidden,
    #[error("conflict: {code}")]
    Conflict {
        code: ErrorCode,
        field: Option<&'static str>,
    },
    /// The half-open interval asked for overlaps one that already holds the
    /// same unit, apartment or instrument.
    #[error("{code}: held by #{held_id} from {held_from} until {held_until}")]
    Taken {
        code: ErrorCode,
        field: &'static str,
        held_id: i64,
        held_from: chrono::DateTime<chrono::Utc>,
        held_until: chrono::DateTime<chrono::Utc>,
    },
    /// The request is refused for what one field holds (a question empty,
    /// too long, not text or carrying markup): its own code, a 400.
    #[error("{field}: {code}")]
    Refused {
        code: ErrorCode,
        field: &'static str,
    },
    /// One operation of a batch was refused; nothing of the batch was written.
    #[error("operation {index} of the batch: {error}")]
    InBatch {
        index: usize,
        error: Box<ServiceError>,
    },
    /// The database could not be reached in time; nothing was written and
    /// the request may be tried again shortly. The cause is for the log.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// The stable code clients rely on; its status is [`ErrorCode::status`].
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Validation(_) => ErrorCode::ValidationFailed,
            ServiceError::NotFound { .. } => ErrorCode::NotFound,
            ServiceError::Unauthenticated => ErrorCode::Unauthenticated,
            ServiceError::BadCredentials => ErrorCode::BadCredentials,
            ServiceError::Throttled { .. } => ErrorCode::TooManyAttempts,
            ServiceError::Forbidden => ErrorCode::Forbidden,
            ServiceError::Conflict { code, .. } => *code,
            ServiceError::Taken { code, .. } => *code,
            ServiceError::Refused { code, .. } => *code,
            ServiceError::InBatch { error, .. } => error.code(),
            ServiceError::Unavailable(_) => ErrorCode::Unavailable,
            ServiceError::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn invalid(field: impl Into<String>, code: &'static str) -> ServiceError {
        ServiceError::Validation(vec![FieldError::new(field, code)])
    }

    /// The same refusal with the field `from` called `to`, for a page whose
    /// control has another name than the service's input.
    pub fn renamed(self, from: &str, to: &str) -> ServiceError {
        match self {
            ServiceError::Validation(errors) => ServiceError::Validation(
                errors
                    .into_iter()
                    .map(|mut e| {
                        if e.field == from {
                            e.field = to.to_owned();
                        }
                        e
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ServiceError::NotFound { entity: "record" },
            // Two holdings of one resource would overlap: the spaces services
            // name the holder (`spaces::hold`); elsewhere it is a plain conflict.
            StoreError::Overlap(_) => ServiceError::Conflict {
                code: ErrorCode::IntervalOverlap,
                field: None,
            },
            // A transaction chosen to fail for a concurrent one: nothing
            // was written and the client may try again (holding writers
            // name the winner instead when there is one: `spaces::hold`).
            StoreError::Contention(_) => ServiceError::Conflict {
                code: ErrorCode::Contention,
                field: None,
            },
            StoreError::Unavailable(cause) => ServiceError::Unavailable(cause),
            other => ServiceError::Internal(Box::new(other)),
        }
    }
}

impl From<opcity_store::sea_orm::DbErr> for ServiceError {
    fn from(err: opcity_store::sea_orm::DbErr) -> Self {
        StoreError::from(err).into()
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
