//! Redeeming vouchers: an approved provider places a hold on an enterprise's
//! wallet for a contract or invoice, captures it (fully or partly: the rest
//! is released) or voids it; holds expire on their own. Every request carries
//! a client-supplied `transfer_id`, so replays return the first answer. The
//! enterprise confirms or disputes each capture.

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
use opcity_domain::{District, Fen};
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
    /// The most a contract may draw from a training voucher: its share (60%
    /// for startups, per the pack) of the contract amount.
    async fn contract_limit(
        &self,
        tx: &DatabaseTransaction,
        spec: &KindSpec,
        enterprise_id: i64,
        contract_fen: i64,
        today: NaiveDate,
    ) -> Result<i64> {
        let pack = self.pack();
        let e = enterprise::Entity::find_by_id(enterprise_id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "enterprise",
            })?;
        let startup = match (e.registered_date, param(&pack, STARTUP_YEARS_PARAM, today)) {
            (Some(registered), Some(years)) => {
                opcity_domain::add_years(registered, years as i32).is_some_and(|d| d >= today)
            }
            _ => false,
        };
        let percent = spec
            .share_percent(&pack, startup, today)
            .ok_or(ServiceError::Conflict {
                code: ErrorCode::ContractShareUnset,
                field: Some("kind"),
            })?;
        Fen(contract_fen)
            .share(percent, 100)
            .map(|f| f.0)
            .ok_or_else(|| ServiceError::invalid("contract_amount_fen", "amount_too_large"))
    }

    /// Places a hold on an enterprise's voucher for a contract or invoice.
    pub async fn place_hold(&self, actor: &Actor, input: &HoldInput) -> Result<TransferView> {
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let p = self.acting_provider(&tx, actor).await?;
            let view = self.place_hold_in(&tx, actor, &p, input).await?;
            tx.commit().await?;
            Ok::<_, Retry>(view)
        })
        .await
    }

    async fn place_hold_in(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        p: &provider::Model,
        input: &HoldInput,
    ) -> std::result::Result<TransferView, Retry> {
        let (t, _) = self.prepare_hold(tx, p, input, &HashMap::new()).await?;
        let t = match t {
            Prepared::Replay(v) => return Ok(v),
            Prepared::New(t) => t,
        };
        let outcome = ledger::create(tx, &t).await?;
        if !outcome.created {
            return Err(Retry::Again);
        }
        let view = transfer_view(tx, &outcome.transfer, false).await?;
        record_change(
            tx,
            t.at,
            &actor.audit_label(),
            "voucher.hold",
            input.enterprise_id,
            None,
            Some(&view),
        )
        .await?;
        Ok(view)
    }

    /// Checks a hold and builds its transfer. `drawn_in_batch` is what
    /// earlier holds of the same batch draw, by (wallet, receivable, contract).
    async fn prepare_hold(
        &self,
        tx: &DatabaseTransaction,
        p: &provider::Model,
        input: &HoldInput,
        drawn_in_batch: &HashMap<(i64, i64, String), i64>,
    ) -> std::result::Result<(Prepared, Option<(i64, i64, String)>), Retry> {
        let now = self.now();
        let today = opcity_domain::today_in_shanghai(now);
        let spec = super::kind_spec(&input.kind);
        let mut errors = hold_errors(input, spec);
        if spec.is_none() {
            errors.push(FieldError::new("kind", "unknown_voucher_kind").with("value", &input.kind));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors).into());
        }
        let spec = spec.expect("checked");
        let body_hash = ledger::hash_body(&("hold", p.id, input));
        // A replay gets the first answer, even after the provider's approval
        // for the kind ended.
        if let Some(v) = replay_of(tx, &input.transfer_id, &body_hash).await? {
            return Ok((Prepared::Replay(v), None));
        }
        check_approved(p, spec.id)?;
        let wallet = usable_wallet(tx, input.enterprise_id, spec.id, today).await?;
        let receivable = provider_account(tx, p, spec.id, now).await?;
        let reference = input.reference.trim().to_owned();
        if let Some(contract) = input
            .contract_amount_fen
            .filter(|_| spec.has_contract_share())
        {
            // The wallet's row lock orders concurrent holds on it, so what is
            // read next includes every hold committed before this one.
            ledger::lock_account(tx, wallet.id).await?;
            if let Some(v) = replay_of(tx, &input.transfer_id, &body_hash).await? {
                return Ok((Prepared::Replay(v), None));
            }
            let limit = self
                .contract_limit(tx, spec, input.enterprise_id, contract, today)
                .await?;
            let drawn = drawn_for_contract(tx, wallet.id, receivable.id, &reference, now).await?
                + drawn_in_batch
                    .get(&(wallet.id, receivable.id, reference.clone()))
                    .copied()
                    .unwrap_or(0);
            if drawn + input.amount_fen > limit {
                return Err(ServiceError::Validation(vec![
                    FieldError::new("amount_fen", "exceeds_contract_share")
                        .with("limit", Fen(limit))
                        .with("drawn", Fen(drawn)),
                ])
                .into());
            }
        }
        let timeout = input.timeout_secs.unwrap_or(DEFAULT_HOLD_SECS);
        let key = (wallet.id, receivable.id, reference.clone());
        Ok((
            Prepared::New(NewTransfer {
                id: input.transfer_id.clone(),
                op: Op::Pending {
                    ledger: spec.id.to_owned(),
                    debit: wallet.id,
                    credit: receivable.id,
                    amount_fen: input.amount_fen,
                    expires_at: now + Duration::seconds(timeout),
                },
                kind: "hold".to_owned(),
                reference: Some(reference),
                contract_amount_fen: input.contract_amount_fen,
                use_kind: Some(input.use_kind.clone()),
                body_hash,
                actor: format!("provider:{}", p.id),
                at: now,
            }),
            Some(key),
        ))
    }

    /// Captures a hold, fully or partly (the rest is released), and spends the
    /// amount from the pool's budget.
    pub async fn capture_hold(&self, actor: &Actor, input: &CaptureInput) -> Result<TransferView> {
        self.resolve_hold(
            actor,
            &input.transfer_id,
            &input.hold_id,
            Some(input.amount_fen),
        )
        .await
    }

    /// Voids a hold: the whole amount goes back to the wallet.
    pub async fn void_hold(&self, actor: &Actor, input: &VoidInput) -> Result<TransferView> {
        self.resolve_hold(actor, &input.transfer_id, &input.hold_id, None)
            .await
    }

    /// `capture`: `Some(amount)` (itself `None` = all); `None`: void.
    async fn resolve_hold(
        &self,
        actor: &Actor,
        transfer_id: &str,
        hold_id: &str,
        capture: Option<Option<i64>>,
    ) -> Result<TransferView> {
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let p = self.acting_provider(&tx, actor).await?;
            let (t, budget_spend) = match self
                .prepare_resolution(&tx, &p, transfer_id, hold_id, capture)
                .await?
            {
                (Prepared::Replay(v), _) => return Ok(v),
                (Prepared::New(t), spend) => (t, spend),
            };
            let outcome = ledger::create(&tx, &t).await?;
            if !outcome.created {
                // A concurrent replay committed first; its answer is found
                // at the start of the next attempt.
                return Err(Retry::Again);
            }
            if let Some(budget_id) = budget_spend {
                self.spend(&tx, budget_id, outcome.transfer.amount_fen, &t.actor, t.at)
                    .await?;
            }
            let view = transfer_view(&tx, &outcome.transfer, false).await?;
            record_change(
                &tx,
                t.at,
                &actor.audit_label(),
                &format!("voucher.{}", t.kind),
                view.enterprise_id.unwrap_or_default(),
                None,
                Some(&view),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, Retry>(view)
        })
        .await
    }

    async fn spend(
        &self,
        tx: &DatabaseTransaction,
        budget_id: i64,
        amount: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let cause = Cause {
            actor,
            application_id: None,
            disbursement_id: None,
            at,
        };
        budget::apply(tx, budget_id, Movement::Spend, amount, cause)
            .await
            .map_err(budget_error)
    }

    /// Checks a capture or void and builds its transfer, with the budget a
    /// capture spends from.
    async fn prepare_resolution(
        &self,
        tx: &DatabaseTransaction,
        p: &provider::Model,
        transfer_id: &str,
        hold_id: &str,
        capture: Option<Option<i64>>,
    ) -> std::result::Result<(Prepared, Option<i64>), Retry> {
        let now = self.now();
        let mut errors: Vec<FieldError> = check_transfer_id("transfer_id", transfer_id)
            .into_iter()
            .collect();
        if let Some(Some(amount)) = capture {
            errors.extend(check_amount("amount_fen", amount));
        }
        if hold_id.is_empty() {
            errors.push(FieldError::new("hold_id", "required"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors).into());
        }
        let body_hash = ledger::hash_body(&(
            if capture.is_some() { "capture" } else { "void" },
            p.id,
            transfer_id,
            hold_id,
            capture.flatten(),
        ));
        if let Some(v) = replay_of(tx, transfer_id, &body_hash).await? {
            return Ok((Prepared::Replay(v), None));
        }
        // Someone else's hold reads as not found.
        let hold = ledger::find_transfer(tx, hold_id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "hold" })?;
        let receivable = ledger_account::Entity::find_by_id(hold.credit_account_id)
            .one(tx)
            .await?;
        if receivable.and_then(|a| a.provider_id) != Some(p.id) {
            return Err(ServiceError::NotFound { entity: "hold" }.into());
        }
        check_approved(p, &hold.ledger)?;
        let wallet = ledger_account::Entity::find_by_id(hold.debit_account_id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        if capture.is_some() {
            let today = opcity_domain::today_in_shanghai(now);
            usable_wallet(
                tx,
                wallet.enterprise_id.unwrap_or_default(),
                &hold.ledger,
                today,
            )
            .await?;
        }
        let (op, kind) = match capture {
            Some(amount_fen) => (
                Op::Post {
                    pending_id: hold.id.clone(),
                    amount_fen,
                },
                "capture",
            ),
            None => (
                Op::Void {
                    pending_id: hold.id.clone(),
                },
                "void",
            ),
        };
        Ok((
            Prepared::New(NewTransfer {
                id: transfer_id.to_owned(),
                op,
                kind: kind.to_owned(),
                reference: hold.reference.clone(),
                contract_amount_fen: None,
                use_kind: hold.use_kind.clone(),
                body_hash,
                actor: format!("provider:{}", p.id),
                at: now,
            }),
            capture.and(wallet.budget_id),
        ))
    }

    /// Many holds, captures and voids in one commit: all of them or none.
    /// Each is checked as if sent alone (in order; a capture may name a hold
    /// placed earlier in the same batch); replayed ids answer "not created".
    pub async fn provider_batch(
        &self,
        actor: &Actor,
        ops: &[ProviderOp],
    ) -> Result<Vec<BatchResult>> {
        if ops.is_empty() || ops.len() > 1_000 {
            return Err(ServiceError::Validation(vec![
                FieldError::new("ops", "out_of_range")
                    .with("min", 1)
                    .with("max", 1_000),
            ]));
        }
        let repeated = repeated_ids(ops);
        if !repeated.is_empty() {
            return Err(ServiceError::Validation(repeated));
        }
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let p = self.acting_provider(&tx, actor).await?;
            let out = self.batch_in(&tx, actor, &p, ops).await?;
            tx.commit().await?;
            Ok::<_, Retry>(out)
        })
        .await
    }

    async fn batch_in(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        p: &provider::Model,
        ops: &[ProviderOp],
    ) -> std::result::Result<Vec<BatchResult>, Retry> {
        let at_index = |i: usize| move |r: Retry| r.map_fail(|e| in_batch(i, e));
        let mut transfers = Vec::with_capacity(ops.len());
        // The op each transfer comes from (replays make no transfer).
        let mut op_of = Vec::with_capacity(ops.len());
        let mut replays: HashMap<String, BatchResult> = HashMap::new();
        let mut drawn: HashMap<(i64, i64, String), i64> = HashMap::new();
        // Holds of this batch, for captures and voids that name them.
        let mut batch_holds: HashMap<String, (i64, Option<i64>)> = HashMap::new();
        let mut spends: Vec<(String, Option<i64>, Option<i64>)> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let prepared = match op {
                ProviderOp::Hold(h) => {
                    let (prepared, key) = self
                        .prepare_hold(tx, p, h, &drawn)
                        .await
                        .map_err(at_index(i))?;
                    if let (Prepared::New(t), Some(key)) = (&prepared, key) {
                        *drawn.entry(key).or_default() += h.amount_fen;
                        if let Op::Pending { debit, .. } = &t.op {
                            let budget = ledger_account::Entity::find_by_id(*debit)
                                .one(tx)
                                .await?
                                .and_then(|w| w.budget_id);
                            batch_holds.insert(t.id.clone(), (h.amount_fen, budget));
                        }
                    }
                    prepared
                }
                ProviderOp::Capture(c) => self
                    .prepare_batch_resolution(
                        tx,
                        p,
                        &c.transfer_id,
                        &c.hold_id,
                        Some(c.amount_fen),
                        &batch_holds,
                        &mut spends,
                    )
                    .await
                    .map_err(at_index(i))?,
                ProviderOp::Void(v) => self
                    .prepare_batch_resolution(
                        tx,
                        p,
                        &v.transfer_id,
                        &v.hold_id,
                        None,
                        &batch_holds,
                        &mut spends,
                    )
                    .await
                    .map_err(at_index(i))?,
            };
            match prepared {
                Prepared::Replay(v) => {
                    replays.insert(
                        v.id.clone(),
                        BatchResult {
                            id: v.id,
                            created: false,
                        },
                    );
                }
                Prepared::New(t) => {
                    transfers.push(t);
                    op_of.push(i);
                }
            }
        }
        let items =
            ledger::create_batch(tx, &transfers)
                .await
                .map_err(|e| match (e.error, e.index) {
                    (LedgerError::Duplicate, _) => Retry::Again,
                    (other, Some(t)) => Retry::Fail(in_batch(op_of[t], ledger_error(other))),
                    (other, None) => Retry::Fail(ledger_error(other)),
                })?;
        let created: HashMap<String, bool> = items.into_iter().map(|i| (i.id, i.created)).collect();
        let label = actor.audit_label();
        for (id, budget_id, amount) in &spends {
            if let (Some(budget_id), Some(amount), Some(true)) =
                (budget_id, amount, created.get(id))
            {
                self.spend(tx, *budget_id, *amount, &label, self.now())
                    .await?;
            }
        }
        let results: Vec<BatchResult> = ops
            .iter()
            .map(|op| {
                let id = op.transfer_id();
                replays.get(id).cloned().unwrap_or_else(|| BatchResult {
                    id: id.to_owned(),
                    created: created.get(id).copied().unwrap_or(false),
                })
            })
            .collect();
        record_change(
            tx,
            self.now(),
            &label,
            "voucher.batch",
            p.id,
            None,
            Some(&results),
        )
        .await?;
        Ok(results)
    }

    /// A capture or void in a batch; the hold may be earlier in the batch.
    /// Records (id, budget, amount) of a capture for the budget spend.
    #[allow(clippy::too_many_arguments)]
    async fn prepare_batch_resolution(
        &self,
        tx: &DatabaseTransaction,
        p: &provider::Model,
        transfer_id: &str,
        hold_id: &str,
        capture: Option<Option<i64>>,
        batch_holds: &HashMap<String, (i64, Option<i64>)>,
        spends: &mut Vec<(String, Option<i64>, Option<i64>)>,
    ) -> std::result::Result<Prepared, Retry> {
        if let Some((held, budget)) = batch_holds.get(hold_id) {
            let mut errors: Vec<FieldError> = check_transfer_id("transfer_id", transfer_id)
                .into_iter()
                .collect();
            if let Some(Some(a)) = capture {
                errors.extend(check_amount("amount_fen", a));
            }
            if !errors.is_empty() {
                return Err(ServiceError::Validation(errors).into());
            }
            let (op, kind) = match capture {
                Some(amount_fen) => (
                    Op::Post {
                        pending_id: hold_id.to_owned(),
                        amount_fen,
                    },
                    "capture",
                ),
                None => (
                    Op::Void {
                        pending_id: hold_id.to_owned(),
                    },
                    "void",
                ),
            };
            if let Some(amount) = capture {
                spends.push((
                    transfer_id.to_owned(),
                    *budget,
                    Some(amount.unwrap_or(*held)),
                ));
            }
            let now = self.now();
            return Ok(Prepared::New(NewTransfer {
                id: transfer_id.to_owned(),
                op,
                kind: kind.to_owned(),
                reference: None,
                contract_amount_fen: None,
                use_kind: None,
                body_hash: ledger::hash_body(&(
                    kind,
                    p.id,
                    transfer_id,
                    hold_id,
                    capture.flatten(),
                )),
                actor: format!("provider:{}", p.id),
                at: now,
            }));
        }
        let (prepared, budget) = self
            .prepare_resolution(tx, p, transfer_id, hold_id, capture)
            .await?;
        if let (Prepared::New(_), Some(amount)) = (&prepared, capture) {
            let held = ledger::find_transfer(tx, hold_id)
                .await?
                .map_or(0, |h| h.amount_fen);
            spends.push((transfer_id.to_owned(), budget, Some(amount.unwrap_or(held))));
        }
        Ok(prepared)
    }

    /// The enterprise confirms or disputes one capture of its voucher, once.
    pub async fn review_use(
        &self,
        actor: &Actor,
        transfer_id: &str,
        input: &UseReviewInput,
    ) -> Result<UseReviewView> {
        if !["confirmed", "disputed"].contains(&input.decision.as_str()) {
            return Err(ServiceError::Validation(vec![
                FieldError::new("decision", "not_one_of").with("allowed", "confirmed, disputed"),
            ]));
        }
        let comment = input
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        if comment.as_ref().is_some_and(|c| c.chars().count() > 1_000) {
            return Err(ServiceError::Validation(vec![
                FieldError::new("comment", "too_long").with("max", 1_000),
            ]));
        }
        if input.decision == "disputed" && comment.is_none() {
            return Err(ServiceError::invalid("comment", "required"));
        }
        let now = self.now();
        let tx = self.store().begin().await?;
        let capture = ledger::find_transfer(&tx, transfer_id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "transfer" })?;
        let wallet = ledger_account::Entity::find_by_id(capture.debit_account_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        let enterprise_id = wallet.enterprise_id.ok_or(ServiceError::Conflict {
            code: ErrorCode::NotACapture,
            field: None,
        })?;
        let e = enterprise::Entity::find_by_id(enterprise_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "enterprise",
            })?;
        let district: District = e
            .district
            .parse()
            .map_err(|_| ServiceError::Internal("stored district unknown".into()))?;
        authorize(
            actor,
            Action::Update,
            Resource::VoucherWallet {
                enterprise_id,
                district,
                municipal: super::kind_spec(&capture.ledger)
                    .is_some_and(|k| k.is_municipal(&self.pack())),
            },
        )?;
        if capture.phase != "post" {
            return Err(ServiceError::Conflict {
                code: ErrorCode::NotACapture,
                field: None,
            });
        }
        if voucher_use_review::Entity::find_by_id(transfer_id.to_owned())
            .one(&tx)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict {
                code: ErrorCode::UseAlreadyReviewed,
                field: None,
            });
        }
        let review = vouchers::NewUseReview {
            transfer_id: transfer_id.to_owned(),
            enterprise_id,
            decision: input.decision.clone(),
            comment,
            account_id: actor.account_id,
            at: now,
        };
        let saved = vouchers::insert_use_review(&tx, review)
            .await
            .map_err(|e| match e {
                opcity_store::StoreError::Unique(_) => ServiceError::Conflict {
                    code: ErrorCode::UseAlreadyReviewed,
                    field: None,
                },
                other => other.into(),
            })?;
        let view = UseReviewView {
            transfer_id: saved.transfer_id,
            enterprise_id,
            decision: saved.decision,
            comment: saved.comment,
            at: saved.at,
        };
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "voucher.review_use",
            enterprise_id,
            None,
            Some(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }
}

/// A request checked and ready, or the first answer to its id.
pub(crate) enum Prepared {
    Replay(TransferView),
    New(NewTransfer),
}
