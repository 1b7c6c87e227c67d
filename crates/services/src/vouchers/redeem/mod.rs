//! Redeeming vouchers: an approved provider places a hold on an enterprise's
//! wallet for a contract or invoice, captures it (fully or partly: the rest
//! is released) or voids it; holds expire on their own. Every request carries
//! a client-supplied `transfer_id`, so replays return the first answer. The
//! enterprise confirms or disputes each capture.
//!
//! This module holds the types and the façade; each use case lives in its
//! own module.

mod batch;
mod hold;
mod resolve;
mod review;
mod till;

use super::providers::check_approved;
use super::{
    KindSpec, Retry, STARTUP_YEARS_PARAM, USES, budget_error, check_amount, check_transfer_id,
    codes, ledger_error, param, with_retry,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::{Services, record_change};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use opcity_domain::Fen;
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::{
    enterprise, ledger_account, ledger_transfer, provider, voucher_use_review,
};
use opcity_store::ledger::{self, LedgerError, NewAccount, NewTransfer, Op};
use opcity_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use opcity_store::vouchers;
use std::collections::HashMap;

/// Holds last at most this long; a provider sets a shorter timeout.
pub const MAX_HOLD_SECS: i64 = 30 * 24 * 3600;
/// The timeout of a hold when the provider gives none.
pub const DEFAULT_HOLD_SECS: i64 = 7 * 24 * 3600;
const MIN_HOLD_SECS: i64 = 60;

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    /// Client-supplied id (1–64 of `A-Za-z0-9._:-`); replays return the first answer.
    pub transfer_id: String,
    pub enterprise_id: i64,
    /// The voucher kind to draw on.
    pub kind: String,
    pub amount_fen: i64,
    /// `model_training`, `agent_building` or `api_usage`.
    #[serde(rename = "use")]
    pub use_kind: String,
    /// The contract or invoice number.
    pub reference: String,
    /// The contract's whole amount (required for training vouchers, which
    /// cover only a share of it).
    pub contract_amount_fen: Option<i64>,
    /// Seconds until the hold expires on its own (60 to 30 days; default 7 days).
    pub timeout_secs: Option<i64>,
}

pub use till::TillHold;

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureInput {
    pub transfer_id: String,
    /// The hold's `transfer_id`.
    pub hold_id: String,
    /// At most the held amount; absent: all of it. The rest is released.
    pub amount_fen: Option<i64>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInput {
    pub transfer_id: String,
    pub hold_id: String,
}

/// One operation of a batch.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderOp {
    Hold(HoldInput),
    Capture(CaptureInput),
    Void(VoidInput),
}

impl ProviderOp {
    fn transfer_id(&self) -> &str {
        match self {
            ProviderOp::Hold(h) => &h.transfer_id,
            ProviderOp::Capture(c) => &c.transfer_id,
            ProviderOp::Void(v) => &v.transfer_id,
        }
    }
}

/// A transfer as providers and enterprises see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub id: String,
    /// issue, hold, capture, void, hold_expiry, voucher_expiry, expire, return, clawback.
    pub kind: String,
    /// posted, pending, post or void.
    pub phase: String,
    pub voucher_kind: String,
    pub enterprise_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub amount_fen: i64,
    /// The hold this capture or void resolves.
    pub hold_id: Option<String>,
    pub reference: Option<String>,
    #[serde(rename = "use")]
    pub use_kind: Option<String>,
    pub contract_amount_fen: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// `true` when this answers a replay of an earlier request.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub id: String,
    pub created: bool,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseReviewInput {
    /// `confirmed` or `disputed`.
    pub decision: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct UseReviewView {
    pub transfer_id: String,
    pub enterprise_id: i64,
    pub decision: String,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// The view of a transfer, with the enterprise and provider it concerns.
pub(crate) async fn transfer_view<C: ConnectionTrait>(
    db: &C,
    t: &ledger_transfer::Model,
    replayed: bool,
) -> Result<TransferView> {
    let ids = [t.debit_account_id, t.credit_account_id];
    let accounts = ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(view_with(t, &accounts, replayed))
}

pub(crate) fn view_with(
    t: &ledger_transfer::Model,
    accounts: &[ledger_account::Model],
    replayed: bool,
) -> TransferView {
    let of = |id: i64| accounts.iter().find(|a| a.id == id);
    let both = [of(t.debit_account_id), of(t.credit_account_id)];
    TransferView {
        id: t.id.clone(),
        kind: t.kind.clone(),
        phase: t.phase.clone(),
        voucher_kind: t.ledger.clone(),
        enterprise_id: both.iter().flatten().find_map(|a| a.enterprise_id),
        provider_id: both.iter().flatten().find_map(|a| a.provider_id),
        amount_fen: t.amount_fen,
        hold_id: t.pending_id.clone(),
        reference: t.reference.clone(),
        use_kind: t.use_kind.clone(),
        contract_amount_fen: t.contract_amount_fen,
        expires_at: t.expires_at,
        created_at: t.created_at,
        replayed,
    }
}

/// The first answer to a request id, or a conflict when the body differs.
async fn replay_of(
    tx: &DatabaseTransaction,
    id: &str,
    body_hash: &str,
) -> std::result::Result<Option<TransferView>, Retry> {
    match ledger::find_transfer(tx, id).await? {
        Some(first) if first.body_hash == body_hash => {
            Ok(Some(transfer_view(tx, &first, true).await?))
        }
        Some(first) => Err(LedgerError::IdConflict { id: first.id }.into()),
        None => Ok(None),
    }
}

/// `error` of the batch's op `i`: its fields become `ops[i].field`, any
/// other refusal names the op; an internal error stays as it is.
fn in_batch(i: usize, error: ServiceError) -> ServiceError {
    match error {
        ServiceError::Validation(errors) => ServiceError::Validation(
            errors
                .into_iter()
                .map(|mut e| {
                    e.field = format!("ops[{i}].{}", e.field);
                    e
                })
                .collect(),
        ),
        internal @ ServiceError::Internal(_) => internal,
        refusal => ServiceError::InBatch {
            index: i,
            error: Box::new(refusal),
        },
    }
}

/// Transfer ids a batch lists more than once: one commit cannot make a
/// transfer twice, and its answers would not say which op made it.
fn repeated_ids(ops: &[ProviderOp]) -> Vec<FieldError> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    ops.iter()
        .enumerate()
        .filter_map(|(i, op)| match first.get(op.transfer_id()) {
            Some(earlier) => Some(
                FieldError::new(format!("ops[{i}].transfer_id"), "duplicate_in_batch")
                    .with("first", format!("ops[{earlier}]")),
            ),
            None => {
                first.insert(op.transfer_id(), i);
                None
            }
        })
        .collect()
}

fn hold_errors(input: &HoldInput, spec: Option<&KindSpec>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = [
        check_transfer_id("transfer_id", &input.transfer_id),
        check_amount("amount_fen", input.amount_fen),
    ]
    .into_iter()
    .flatten()
    .collect();
    let reference = input.reference.trim();
    if reference.is_empty() {
        errors.push(FieldError::new("reference", "required"));
    } else if reference.chars().count() > 100 {
        errors.push(FieldError::new("reference", "too_long").with("max", 100));
    }
    if !USES.contains(&input.use_kind.as_str()) {
        errors.push(FieldError::new("use", "not_one_of").with("allowed", USES.join(", ")));
    } else if let Some(spec) = spec
        && !spec.uses.contains(&input.use_kind.as_str())
    {
        errors
            .push(FieldError::new("use", "use_not_eligible").with("allowed", spec.uses.join(", ")));
    }
    if let Some(secs) = input.timeout_secs
        && !(MIN_HOLD_SECS..=MAX_HOLD_SECS).contains(&secs)
    {
        errors.push(
            FieldError::new("timeout_secs", "out_of_range")
                .with("min", MIN_HOLD_SECS)
                .with("max", MAX_HOLD_SECS),
        );
    }
    match (
        spec.is_some_and(KindSpec::has_contract_share),
        input.contract_amount_fen,
    ) {
        (true, None) => errors.push(FieldError::new("contract_amount_fen", "required")),
        (_, Some(c)) => errors.extend(check_amount("contract_amount_fen", c)),
        _ => {}
    }
    errors
}

/// A wallet that can be drawn on today, or a clear refusal.
async fn usable_wallet(
    tx: &DatabaseTransaction,
    enterprise_id: i64,
    kind: &str,
    today: NaiveDate,
) -> Result<ledger_account::Model> {
    let wallet = ledger::account_by_code(tx, &codes::wallet(enterprise_id, kind))
        .await?
        .ok_or(ServiceError::Conflict {
            code: ErrorCode::NoVoucher,
            field: Some("enterprise_id"),
        })?;
    if wallet.closed_at.is_some() || wallet.valid_until.is_none_or(|v| v < today) {
        return Err(ServiceError::Conflict {
            code: ErrorCode::VoucherExpired,
            field: Some("kind"),
        });
    }
    Ok(wallet)
}

async fn provider_account(
    tx: &DatabaseTransaction,
    p: &provider::Model,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<ledger_account::Model> {
    Ok(ledger::open_account(
        tx,
        NewAccount {
            provider_id: Some(p.id),
            ..super::issue::account(codes::provider(p.id, kind), kind, "provider", true, at)
        },
    )
    .await?)
}

/// What a contract already draws from a wallet: held (unexpired, unresolved)
/// plus captured.
async fn drawn_for_contract(
    tx: &DatabaseTransaction,
    wallet: i64,
    provider_account: i64,
    reference: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let holds = ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::DebitAccountId.eq(wallet))
        .filter(ledger_transfer::Column::CreditAccountId.eq(provider_account))
        .filter(ledger_transfer::Column::Reference.eq(reference))
        .filter(ledger_transfer::Column::Phase.eq("pending"))
        .all(tx)
        .await?;
    let ids: Vec<String> = holds.iter().map(|h| h.id.clone()).collect();
    let resolutions: HashMap<String, ledger_transfer::Model> = ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::PendingId.is_in(ids))
        .all(tx)
        .await?
        .into_iter()
        .filter_map(|r| r.pending_id.clone().map(|p| (p, r)))
        .collect();
    Ok(holds
        .iter()
        .map(|h| match resolutions.get(&h.id) {
            Some(r) if r.phase == "post" => r.amount_fen,
            Some(_) => 0,
            None if h.expires_at.is_some_and(|e| e <= now) => 0,
            None => h.amount_fen,
        })
        .sum())
}

impl Services {
    /// Places a hold on an enterprise's voucher for a contract or invoice.
    pub async fn place_hold(&self, actor: &Actor, input: &HoldInput) -> Result<TransferView> {
        hold::place_hold(self, actor, input).await
    }

    /// Places a hold at the provider's counter, the customer named by the
    /// credit code they give (see [`till`]).
    pub async fn place_hold_at_till(
        &self,
        actor: &Actor,
        input: &TillHold,
    ) -> Result<TransferView> {
        till::place_hold_at_till(self, actor, input).await
    }

    /// Captures a hold, fully or partly (the rest is released), spending from the pool.
    pub async fn capture_hold(&self, actor: &Actor, input: &CaptureInput) -> Result<TransferView> {
        resolve::capture_hold(self, actor, input).await
    }

    /// Voids a hold: the whole amount goes back to the wallet.
    pub async fn void_hold(&self, actor: &Actor, input: &VoidInput) -> Result<TransferView> {
        resolve::void_hold(self, actor, input).await
    }

    /// Many holds, captures and voids in one commit: all of them or none.
    pub async fn provider_batch(
        &self,
        actor: &Actor,
        ops: &[ProviderOp],
    ) -> Result<Vec<BatchResult>> {
        batch::provider_batch(self, actor, ops).await
    }

    /// The enterprise confirms or disputes one capture of its voucher, once.
    pub async fn review_use(
        &self,
        actor: &Actor,
        transfer_id: &str,
        input: &UseReviewInput,
    ) -> Result<UseReviewView> {
        review::review_use(self, actor, transfer_id, input).await
    }
}

/// A request checked and ready, or the first answer to its id.
pub(crate) enum Prepared {
    Replay(TransferView),
    New(NewTransfer),
}
