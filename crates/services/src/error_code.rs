//! Every stable error code of the API, in one table with the HTTP status
//! each answers with. The compiler checks that every code has a status; the
//! web crate maps [`ErrorStatus`] to its `StatusCode` with an exhaustive
//! match, so no code falls through to a default.

/// The HTTP status a code answers with. The services know no HTTP crate;
/// [`ErrorStatus::as_u16`] is the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorStatus {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnprocessableEntity,
    TooManyRequests,
    Internal,
    ServiceUnavailable,
}

impl ErrorStatus {
    pub const fn as_u16(self) -> u16 {
        match self {
            ErrorStatus::BadRequest => 400,
            ErrorStatus::Unauthorized => 401,
            ErrorStatus::Forbidden => 403,
            ErrorStatus::NotFound => 404,
            ErrorStatus::Conflict => 409,
            ErrorStatus::PayloadTooLarge => 413,
            ErrorStatus::UnsupportedMediaType => 415,
            ErrorStatus::UnprocessableEntity => 422,
            ErrorStatus::TooManyRequests => 429,
            ErrorStatus::Internal => 500,
            ErrorStatus::ServiceUnavailable => 503,
        }
    }
}

/// Declares [`ErrorCode`] from one table: variant, snake_case code, status.
macro_rules! error_codes {
    ($($variant:ident = $code:literal => $status:ident;)*) => {
        /// A stable error code: the `code` of a problem document, and the
        /// status it answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The snake_case code clients see.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status this code answers with.
            pub const fn status(self) -> ErrorStatus {
                match self {
                    $(ErrorCode::$variant => ErrorStatus::$status,)*
                }
            }
        }
    };
}

error_codes! {
    // Requests the web crate refuses before any service runs.
    MalformedJson = "malformed_json" => BadRequest;
    InvalidPath = "invalid_path" => BadRequest;
    InvalidBody = "invalid_body" => UnprocessableEntity;
    InvalidQuery = "invalid_query" => UnprocessableEntity;
    UnsupportedMediaType = "unsupported_media_type" => UnsupportedMediaType;
    PayloadTooLarge = "payload_too_large" => PayloadTooLarge;
    LineTooLong = "line_too_long" => PayloadTooLarge;
    CsrfFailed = "csrf_failed" => Forbidden;
    // Consultation questions refused for what they hold.
    QuestionEmpty = "question_empty" => BadRequest;
    QuestionTooLong = "question_too_long" => BadRequest;
    QuestionNotText = "question_not_text" => BadRequest;
    QuestionMarkup = "question_markup" => BadRequest;
    // The services' own refusals.
    ValidationFailed = "validation_failed" => UnprocessableEntity;
    Unauthenticated = "unauthenticated" => Unauthorized;
    BadCredentials = "bad_credentials" => Unauthorized;
    AwaitingEmail = "awaiting_email" => Forbidden;
    AwaitingConfirmation = "awaiting_confirmation" => Forbidden;
    MailOff = "mail_off" => ServiceUnavailable;
    SsoFailed = "sso_failed" => Unauthorized;
    Forbidden = "forbidden" => Forbidden;
    ConflictOfInterest = "conflict_of_interest" => Forbidden;
    NotFound = "not_found" => NotFound;
    TooManyAttempts = "too_many_attempts" => TooManyRequests;
    Unavailable = "unavailable" => ServiceUnavailable;
    Internal = "internal" => Internal;
    // Conflicts of accounts, the registry, applications and the database.
    UsernameTaken = "username_taken" => Conflict;
    UsccTaken = "uscc_taken" => Conflict;
    AccountHasPerson = "account_has_person" => Conflict;
    ResidentIdTaken = "resident_id_taken" => Conflict;
    FileImported = "file_imported" => Conflict;
    DatabaseNotEmpty = "database_not_empty" => Conflict;
    IdempotencyKeyReused = "idempotency_key_reused" => Conflict;
    StateChanged = "state_changed" => Conflict;
    AssignmentChanged = "assignment_changed" => Conflict;
    AccountChanged = "account_changed" => Conflict;
    Contention = "contention" => Conflict;
    BudgetExists = "budget_exists" => Conflict;
    FlagDecided = "flag_decided" => Conflict;
    NothingToAnswer = "nothing_to_answer" => Conflict;
    ThreadClosed = "thread_closed" => Conflict;
    AlreadyDeclared = "already_declared" => Conflict;
    // Policy drafts: edited since read, withdrawn, empty, made for another pack.
    DraftChanged = "draft_changed" => Conflict;
    DraftClosed = "draft_closed" => Conflict;
    DraftEmpty = "draft_empty" => Conflict;
    DraftOtherPack = "draft_other_pack" => Conflict;
    AlreadyInDraft = "already_in_draft" => Conflict;
    DraftNotSimulated = "draft_not_simulated" => Conflict;
    OwnDraft = "own_draft" => Conflict;
    VersionOrder = "version_order" => Conflict;
    // Vouchers: the request is valid but the ledger's state refuses it.
    TransferIdReused = "transfer_id_reused" => Conflict;
    LedgerMismatch = "ledger_mismatch" => Conflict;
    InsufficientVoucherBalance = "insufficient_voucher_balance" => Conflict;
    VoucherCeilingExceeded = "voucher_ceiling_exceeded" => Conflict;
    VoucherCeilingUnset = "voucher_ceiling_unset" => Conflict;
    VoucherExpired = "voucher_expired" => Conflict;
    NoVoucher = "no_voucher" => Conflict;
    NotAHold = "not_a_hold" => Conflict;
    HoldAlreadyResolved = "hold_already_resolved" => Conflict;
    HoldExpired = "hold_expired" => Conflict;
    CaptureExceedsHold = "capture_exceeds_hold" => Conflict;
    VoucherPoolExhausted = "voucher_pool_exhausted" => Conflict;
    VoucherPoolNotFunded = "voucher_pool_not_funded" => Conflict;
    NotEntitledToVoucher = "not_entitled_to_voucher" => Conflict;
    WalletFundedFromOtherYear = "wallet_funded_from_other_year" => Conflict;
    ProviderNotApproved = "provider_not_approved" => Conflict;
    ProviderNotApprovedForKind = "provider_not_approved_for_kind" => Conflict;
    ProviderAlreadyRegistered = "provider_already_registered" => Conflict;
    ContractShareUnset = "contract_share_unset" => Conflict;
    NotACapture = "not_a_capture" => Conflict;
    UseAlreadyReviewed = "use_already_reviewed" => Conflict;
    UseNotDisputed = "use_not_disputed" => Conflict;
    DisputeAlreadyResolved = "dispute_already_resolved" => Conflict;
    NotAProvider = "not_a_provider" => Forbidden;
    // Spaces, housing and instruments: a held interval, a waitlist's order, a record in the wrong state for the step asked.
    SpaceUnitTaken = "space_unit_taken" => Conflict;
    HousingUnitTaken = "housing_unit_taken" => Conflict;
    InstrumentSlotTaken = "instrument_slot_taken" => Conflict;
    IntervalOverlap = "interval_overlap" => Conflict;
    AlreadyWaiting = "already_waiting" => Conflict;
    WaitlistOrder = "waitlist_order" => Conflict;
    WaitlistEmpty = "waitlist_empty" => Conflict;
    RequestNotWaiting = "request_not_waiting" => Conflict;
    NotOffered = "not_offered" => Conflict;
    NotActive = "not_active" => Conflict;
    NotReserved = "not_reserved" => Conflict;
    LeaseNotCurrent = "lease_not_current" => Conflict;
    NotPending = "not_pending" => Conflict;
    NotCancellable = "not_cancellable" => Conflict;
    AlreadyStarted = "already_started" => Conflict;
    NotConfirmed = "not_confirmed" => Conflict;
    CheckInClosed = "check_in_closed" => Conflict;
    UnitCodeTaken = "unit_code_taken" => Conflict;
    HousingCodeTaken = "housing_code_taken" => Conflict;
    FloorExists = "floor_exists" => Conflict;
    AmendmentOpen = "amendment_open" => Conflict;
    AmendmentAnswered = "amendment_answered" => Conflict;
}

impl ErrorCode {
    /// The code named `code`, if there is one.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ErrorCode> for &'static str {
    fn from(code: ErrorCode) -> &'static str {
        code.as_str()
    }
}

impl From<ErrorCode> for String {
    fn from(code: ErrorCode) -> String {
        code.as_str().to_owned()
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_names_of_their_variants() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            let camel: String = name
                .split('_')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect();
            assert_eq!(format!("{code:?}"), camel, "{name}");
            assert_eq!(ErrorCode::parse(name), Some(*code));
        }
    }
}
