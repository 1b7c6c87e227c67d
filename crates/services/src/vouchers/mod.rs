//! Vouchers (measure 6): the policy vouchers for training compute, models,
//! data corpora and the districts' smart vouchers, kept in a double-entry
//! ledger (`opcity_store::ledger`).
//!
//! Accounts, one ledger per voucher kind:
//! - `pool:{budget}` — the programme pool of one budget (kind, year,
//!   authority); debited when vouchers are issued, credited when unused
//!   money comes back;
//! - `wallet:{enterprise}:{kind}` — an enterprise's voucher wallet (may never
//!   spend or hold more than it was given; `credits_posted` is capped by the
//!   per-enterprise ceiling from the pack);
//! - `provider:{provider}:{kind}` — a provider's receivable;
//! - `expired:{kind}`, `clawed_back:{kind}` — where expired and clawed-back
//!   balances pass on their way back to the pool (their posted figures are
//!   the totals).
//!
//! Money and the budget move together: issuing reserves budget
//! (`Movement::Reserve`), a capture spends it (`Spend`), expiry and claw-back
//! release it (`Release`), a capture reversed after a dispute refunds it
//! (`Refund`: spent back to reserved), each in the same transaction as its
//! transfers.
//!
//! [`permissions`] answers what a viewer may do, as the writes ask it, for
//! pages that offer only the forms that will be allowed.

pub mod disputes;
pub mod issue;
pub mod jobs;
pub mod permissions;
pub mod providers;
pub mod redeem;
pub mod settlement;
pub mod wallet;

use crate::ErrorCode;
use crate::Services;
use crate::error::{FieldError, Result, ServiceError, above_max_amount, budget_total_too_large};
use chrono::NaiveDate;
use opcity_domain::District;
use opcity_policy::Pack;
use opcity_store::entity::enterprise;
use opcity_store::ledger::LedgerError;
use opcity_store::sea_orm::{ConnectionTrait, EntityTrait};

/// What a voucher may pay for (measure 6: "model training, intelligent agent
/// construction, and API usage").
pub const USES: [&str; 3] = ["model_training", "agent_building", "api_usage"];

/// Kinds of vendor that redeem vouchers.
pub const CATEGORIES: [&str; 3] = ["compute", "model_api", "data"];

/// How a voucher kind's per-enterprise ceiling is found in the pack.
#[derive(Debug, Clone, Copy)]
enum Ceiling {
    /// One parameter for every enterprise.
    Param(&'static str),
    /// One parameter per district: `smart_voucher_ceiling_{district}_fen`.
    ByDistrict,
}

/// One voucher kind: a voucher programme of the pack and the names of its
/// figures there. The figures themselves are always read from the pack in
/// force, on the date they apply.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// The programme id, also the ledger's name.
    pub id: &'static str,
    ceiling: Ceiling,
    /// Yearly pool parameter; `None`: the authority funds the pool itself.
    pool: Option<&'static str>,
    /// Contract-share parameters (percent; startup percent).
    share: Option<(&'static str, &'static str)>,
    pub uses: &'static [&'static str],
    /// Provider categories that may be approved for it.
    pub categories: &'static [&'static str],
}

pub const KINDS: [KindSpec; 4] = [
    KindSpec {
        id: "sz.voucher.training",
        ceiling: Ceiling::Param("training_voucher_ceiling_fen"),
        pool: Some("training_voucher_pool_yearly_fen"),
        share: Some((
            "training_voucher_contract_percent",
            "training_voucher_startup_contract_percent",
        )),
        uses: &["model_training"],
        categories: &["compute"],
    },
    KindSpec {
        id: "sz.voucher.model",
        ceiling: Ceiling::Param("model_voucher_ceiling_fen"),
        pool: Some("model_voucher_pool_yearly_fen"),
        share: None,
        uses: &["model_training", "agent_building", "api_usage"],
        categories: &["model_api", "compute"],
    },
    KindSpec {
        id: "sz.voucher.data",
        ceiling: Ceiling::Param("data_voucher_ceiling_fen"),
        pool: Some("data_voucher_pool_yearly_fen"),
        share: None,
        uses: &["model_training", "agent_building"],
        categories: &["data"],
    },
    KindSpec {
        id: "sz.voucher.smart",
        ceiling: Ceiling::ByDistrict,
        pool: None,
        share: None,
        uses: &["model_training", "agent_building", "api_usage"],
        categories: &["compute", "model_api", "data"],
    },
];

/// Years an enterprise counts as a startup for the training voucher's share.
const STARTUP_YEARS_PARAM: &str = "training_voucher_startup_max_years";

pub fn kind_spec(id: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.id == id)
}

/// The kind named in a request, or a validation error on `field`.
pub(crate) fn known_kind(field: &str, id: &str) -> Result<&'static KindSpec> {
    kind_spec(id).ok_or_else(|| {
        ServiceError::Validation(vec![
            FieldError::new(field, "unknown_voucher_kind").with("value", id),
        ])
    })
}

/// A parameter's value on a date (`None`: unset or not defined).
pub(crate) fn param(pack: &Pack, name: &str, on: NaiveDate) -> Option<i64> {
    pack.parameter(name)?.value_at(on)?.value
}

impl KindSpec {
    /// The per-enterprise ceiling on `on` for an enterprise in `district`.
    pub fn ceiling_fen(&self, pack: &Pack, district: District, on: NaiveDate) -> Option<i64> {
        match self.ceiling {
            Ceiling::Param(name) => param(pack, name, on),
            Ceiling::ByDistrict => param(
                pack,
                &format!("smart_voucher_ceiling_{}_fen", district.id()),
                on,
            ),
        }
    }

    /// The yearly pool on `on`, for kinds the city funds from the pack.
    pub fn pool_fen(&self, pack: &Pack, on: NaiveDate) -> Option<i64> {
        self.pool.and_then(|p| param(pack, p, on))
    }

    /// The share of a contract (percent) the voucher may cover, for a startup
    /// or not; `None` for kinds without a contract-share rule.
    pub fn share_percent(&self, pack: &Pack, startup: bool, on: NaiveDate) -> Option<i64> {
        let (normal, startup_share) = self.share?;
        param(pack, if startup { startup_share } else { normal }, on)
    }

    pub fn has_contract_share(&self) -> bool {
        self.share.is_some()
    }

    /// Whether the city (not the district) issues it, per the pack.
    pub fn is_municipal(&self, pack: &Pack) -> bool {
        pack.programme(self.id)
            .is_some_and(|p| p.decided_by == opcity_policy::DecidedBy::Municipal)
    }

    /// The programme's window from the pack.
    pub fn window(&self, pack: &Pack) -> Option<(NaiveDate, NaiveDate)> {
        pack.programme(self.id)
            .map(|p| (p.effective.from, p.effective.to))
    }
}

/// A voucher kind as the API and pages show it, with its figures on a date.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct VoucherKindView {
    pub id: String,
    pub title: crate::policy::Bilingual,
    pub municipal: bool,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Per-enterprise ceiling; `null` when it depends on the district or is unset.
    pub ceiling_fen: Option<i64>,
    pub yearly_pool_fen: Option<i64>,
    pub contract_percent: Option<i64>,
    pub startup_contract_percent: Option<i64>,
    pub uses: Vec<String>,
    pub provider_categories: Vec<String>,
    pub as_of: NaiveDate,
}

impl Services {
    /// The voucher kinds with their figures from the pack in force on `on`.
    pub fn voucher_kinds(&self, on: NaiveDate) -> Vec<VoucherKindView> {
        let pack = self.pack();
        KINDS
            .iter()
            .map(|k| {
                let programme = pack.programme(k.id);
                VoucherKindView {
                    id: k.id.to_owned(),
                    title: programme.map_or_else(
                        || crate::policy::Bilingual {
                            zh: k.id.to_owned(),
                            en: k.id.to_owned(),
                        },
                        |p| crate::policy::Bilingual {
                            zh: p.title.zh.clone(),
                            en: p.title.en.clone(),
                        },
                    ),
                    municipal: k.is_municipal(&pack),
                    valid_from: k.window(&pack).map(|w| w.0),
                    valid_to: k.window(&pack).map(|w| w.1),
                    ceiling_fen: match k.ceiling {
                        Ceiling::Param(name) => param(&pack, name, on),
                        Ceiling::ByDistrict => None,
                    },
                    yearly_pool_fen: k.pool_fen(&pack, on),
                    contract_percent: k.share_percent(&pack, false, on),
                    startup_contract_percent: k.share_percent(&pack, true, on),
                    uses: k.uses.iter().map(|u| (*u).to_owned()).collect(),
                    provider_categories: k.categories.iter().map(|c| (*c).to_owned()).collect(),
                    as_of: on,
                }
            })
            .collect()
    }
}

/// The account codes of the voucher ledger.
pub(crate) mod codes {
    pub fn pool(budget_id: i64) -> String {
        format!("pool:{budget_id}")
    }
    pub fn wallet(enterprise_id: i64, kind: &str) -> String {
        format!("wallet:{enterprise_id}:{kind}")
    }
    pub fn provider(provider_id: i64, kind: &str) -> String {
        format!("provider:{provider_id}:{kind}")
    }
    pub fn expired(kind: &str) -> String {
        format!("expired:{kind}")
    }
    pub fn clawed_back(kind: &str) -> String {
        format!("clawed_back:{kind}")
    }
}

/// A ledger refusal as the error users see: a stable code and the field it
/// concerns.
pub(crate) fn ledger_error(e: LedgerError) -> ServiceError {
    let conflict = |code, field| ServiceError::Conflict { code, field };
    match e {
        LedgerError::IdConflict { .. } => {
            conflict(ErrorCode::TransferIdReused, Some("transfer_id"))
        }
        LedgerError::AccountNotFound(_) => ServiceError::NotFound {
            entity: "ledger_account",
        },
        LedgerError::LedgerMismatch(_) | LedgerError::SameAccount => {
            conflict(ErrorCode::LedgerMismatch, None)
        }
        LedgerError::Insufficient { .. } => {
            conflict(ErrorCode::InsufficientVoucherBalance, Some("amount_fen"))
        }
        LedgerError::CreditLimit { .. } => {
            conflict(ErrorCode::VoucherCeilingExceeded, Some("amount_fen"))
        }
        LedgerError::AccountClosed(_) => conflict(ErrorCode::VoucherExpired, None),
        LedgerError::PendingNotFound(_) => ServiceError::NotFound { entity: "hold" },
        LedgerError::NotPending(_) => conflict(ErrorCode::NotAHold, Some("hold_id")),
        LedgerError::AlreadyResolved { .. } => {
            conflict(ErrorCode::HoldAlreadyResolved, Some("hold_id"))
        }
        LedgerError::PendingExpired(_) => conflict(ErrorCode::HoldExpired, Some("hold_id")),
        LedgerError::ExceedsPending { .. } => {
            conflict(ErrorCode::CaptureExceedsHold, Some("amount_fen"))
        }
        LedgerError::Duplicate => ServiceError::Internal("concurrent duplicate not retried".into()),
        LedgerError::Store(s) => s.into(),
    }
}

/// A budget refusal as the error users see.
pub(crate) fn budget_error(e: opcity_store::budget::BudgetError) -> ServiceError {
    use opcity_store::budget::BudgetError;
    match e {
        BudgetError::Insufficient { .. } => ServiceError::Conflict {
            code: ErrorCode::VoucherPoolExhausted,
            field: Some("amount_fen"),
        },
        BudgetError::NotFound(_) => ServiceError::Conflict {
            code: ErrorCode::VoucherPoolNotFunded,
            field: None,
        },
        BudgetError::NotReserved { .. } => {
            ServiceError::Internal("voucher budget has less reserved than its wallets".into())
        }
        BudgetError::NotSpent { .. } => {
            ServiceError::Internal("voucher budget has less spent than its captures".into())
        }
        BudgetError::TotalTooLarge { .. } => budget_total_too_large(),
        BudgetError::Store(s) => s.into(),
    }
}

/// Client-supplied transfer ids: 1–64 characters of `A-Z a-z 0-9 . _ : -`.
pub(crate) fn check_transfer_id(field: &str, id: &str) -> Option<FieldError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    (!ok).then(|| FieldError::new(field, "invalid_transfer_id"))
}

/// Amounts must be positive whole fen, at most [`Fen::MAX_AMOUNT`].
pub(crate) fn check_amount(field: &str, amount: i64) -> Option<FieldError> {
    if amount <= 0 {
        Some(FieldError::new(field, "amount_not_positive"))
    } else {
        above_max_amount(field, amount)
    }
}

/// Retries a ledger use case once after a concurrent duplicate (the
/// transaction was rolled back), so that concurrent replays all get the first
/// answer.
pub(crate) async fn with_retry<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, Retry>>,
{
    for _ in 0..4 {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(Retry::Again) => continue,
            Err(Retry::Fail(e)) => return Err(e),
        }
    }
    // Concurrent duplicates kept winning: nothing of this request was
    // written, and the client may safely send it again.
    tracing::warn!("ledger request kept colliding with concurrent duplicates");
    Err(ServiceError::Conflict {
        code: ErrorCode::Contention,
        field: None,
    })
}

/// The outcome of one attempt of a ledger use case.
#[derive(Debug)]
pub(crate) enum Retry {
    Again,
    Fail(ServiceError),
}

impl Retry {
    /// The same attempt with its refusal changed by `f`.
    pub(crate) fn map_fail(self, f: impl FnOnce(ServiceError) -> ServiceError) -> Retry {
        match self {
            Retry::Again => Retry::Again,
            Retry::Fail(e) => Retry::Fail(f(e)),
        }
    }
}

impl From<ServiceError> for Retry {
    fn from(e: ServiceError) -> Self {
        Retry::Fail(e)
    }
}

impl From<LedgerError> for Retry {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Duplicate => Retry::Again,
            other => Retry::Fail(ledger_error(other)),
        }
    }
}

impl From<opcity_store::StoreError> for Retry {
    fn from(e: opcity_store::StoreError) -> Self {
        match e {
            opcity_store::StoreError::Unique(_) => Retry::Again,
            other => Retry::Fail(other.into()),
        }
    }
}

impl From<opcity_store::sea_orm::DbErr> for Retry {
    fn from(e: opcity_store::sea_orm::DbErr) -> Self {
        opcity_store::StoreError::from(e).into()
    }
}

/// Enterprise `id` with its district, which decides who may act on its
/// vouchers.
pub(crate) async fn enterprise_in_district<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<(enterprise::Model, District)> {
    let e = enterprise::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound {
            entity: "enterprise",
        })?;
    let district = e
        .district
        .parse()
        .map_err(|_| ServiceError::Internal("stored district unknown".into()))?;
    Ok((e, district))
}
