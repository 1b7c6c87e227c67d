//! Disputes: the enterprise disputes a capture of its voucher
//! ([`Services::review_use`]); an administrator (or, for a district pool,
//! that district's reviewer) resolves the dispute once.
//!
//! - `upheld`: the provider keeps the money; the capture is payable again.
//! - `reversed`: a new, compensating transfer (never an edit) takes the
//!   captured amount from the provider's receivable back to the enterprise's
//!   wallet, and the budget turns that amount from spent back to reserved
//!   (`Movement::Refund`), so each pool's outstanding amount still equals
//!   its budget's reserved + spent. A wallet that has closed meanwhile, or
//!   now draws on another year's budget, cannot take it: the amount goes back
//!   to the capture's pool instead (refund, then release).
//!
//! The request carries a client-supplied transfer id for the reversal
//! (default `reversal:{capture}`): a replay of the same resolution (same
//! outcome, id and comment), concurrent or not, answers with the first one;
//! a different second resolution is refused (`dispute_already_resolved`).
//! Everything happens in one transaction with its audit entry and a
//! notification to the enterprise's founders.

use super::issue::{MUNICIPAL, pool_account};
use super::{Retry, budget_error, check_transfer_id, with_retry};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::{Services, record_change};
use chrono::{DateTime, Utc};
use opcity_domain::District;
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::{
    budget as budget_entity, enterprise, founder, ledger_account, ledger_transfer, person,
    provider, voucher_dispute_resolution as resolution, voucher_use_review,
};
use opcity_store::ledger::{self, NewTransfer, Op};
use opcity_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use opcity_store::vouchers;
use std::collections::HashMap;

/// The outcomes of a resolution.
pub const OUTCOMES: [&str; 2] = ["upheld", "reversed"];

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveDispute {
    /// `upheld` (the provider keeps the capture; payable) or `reversed` (a
    /// new transfer pays the amount back to the enterprise's voucher).
    pub outcome: String,
    /// For a reversal: the compensating transfer's id (1–64 of
    /// `A-Za-z0-9._:-`); default `reversal:{capture id}`. Ignored when upheld.
    pub transfer_id: Option<String>,
    pub comment: Option<String>,
}

/// A resolution as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ResolutionView {
    pub capture_id: String,
    pub enterprise_id: i64,
    /// `upheld` or `reversed`.
    pub outcome: String,
    pub amount_fen: i64,
    /// The compensating transfer of a reversal.
    pub reversal_id: Option<String>,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
    /// `true` when this answers a replay of an earlier request.
    pub replayed: bool,
}

/// A disputed capture and, once resolved, its resolution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DisputeView {
    pub capture_id: String,
    pub hold_id: Option<String>,
    pub kind: String,
    pub amount_fen: i64,
    pub reference: Option<String>,
    pub captured_at: DateTime<Utc>,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub provider_id: Option<i64>,
    pub provider_name: String,
    /// The enterprise's reason.
    pub dispute_comment: Option<String>,
    pub disputed_at: DateTime<Utc>,
    /// `null` while the dispute is open.
    pub resolution: Option<ResolutionView>,
    /// The district of the pool the capture spent (`None`: a municipal
    /// pool), which decides who may resolve it
    /// ([`Services::may_resolve_dispute`]); not part of the API's answer.
    #[serde(skip)]
    pub pool_district: Option<District>,
}

fn view(r: &resolution::Model, replayed: bool) -> ResolutionView {
    ResolutionView {
        capture_id: r.capture_id.clone(),
        enterprise_id: r.enterprise_id,
        outcome: r.outcome.clone(),
        amount_fen: r.amount_fen,
        reversal_id: r.reversal_id.clone(),
        comment: r.comment.clone(),
        at: r.at,
        replayed,
    }
}

fn conflict(code: ErrorCode) -> ServiceError {
    ServiceError::Conflict { code, field: None }
}

/// What the resolutions of `captures` decided, by capture id.
pub(crate) async fn outcomes_of<C: ConnectionTrait>(
    db: &C,
    captures: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>> {
    Ok(resolution::Entity::find()
        .filter(resolution::Column::CaptureId.is_in(captures))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.capture_id, r.outcome))
        .collect())
}

/// Reversals paid into a wallet: they count toward neither the ceiling nor
/// what was issued, so issuing adds them to the wallet's credit limit.
pub(crate) async fn reversed_into(tx: &DatabaseTransaction, wallet_id: i64) -> Result<i64> {
    Ok(ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::CreditAccountId.eq(wallet_id))
        .filter(ledger_transfer::Column::Kind.eq("reversal"))
        .all(tx)
        .await?
        .iter()
        .map(|t| t.amount_fen)
        .sum())
}

/// The budget a capture spent from: that of the last issue into the wallet
/// before it (a wallet moves to another budget only when issued into while
/// empty of money and holds).
async fn budget_of_capture<C: ConnectionTrait>(
    tx: &C,
    capture: &ledger_transfer::Model,
    wallet: &ledger_account::Model,
) -> Result<budget_entity::Model> {
    let issue = ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::CreditAccountId.eq(wallet.id))
        .filter(ledger_transfer::Column::Kind.eq("issue"))
        .filter(ledger_transfer::Column::Seq.lt(capture.seq))
        .order_by_desc(ledger_transfer::Column::Seq)
        .one(tx)
        .await?;
    let budget_id = match issue {
        Some(t) => ledger_account::Entity::find_by_id(t.debit_account_id)
            .one(tx)
            .await?
            .and_then(|pool| pool.budget_id),
        None => wallet.budget_id,
    };
    budget_entity::Entity::find_by_id(budget_id.unwrap_or_default())
        .one(tx)
        .await?
        .ok_or(ServiceError::NotFound { entity: "budget" })
}

/// The district whose pool a budget is (`None`: the city's).
fn pool_district(b: &budget_entity::Model) -> Option<District> {
    (b.authority != MUNICIPAL)
        .then(|| b.authority.parse::<District>().ok())
        .flatten()
}

/// The district of the pool a capture spent, as [`pool_district`] names it.
async fn capture_pool_district<C: ConnectionTrait>(
    db: &C,
    capture: &ledger_transfer::Model,
) -> Result<Option<District>> {
    let wallet = ledger_account::Entity::find_by_id(capture.debit_account_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "wallet" })?;
    Ok(pool_district(
        &budget_of_capture(db, capture, &wallet).await?,
    ))
}

impl Services {
    /// Every disputed capture, newest first, with its resolution once made
    /// (administrators, auditors, reviewers).
    pub async fn voucher_disputes(&self, actor: &Actor) -> Result<Vec<DisputeView>> {
        authorize(
            actor,
            Action::Read,
            Resource::VoucherPool { district: None },
        )?;
        let db = self.store().db();
        let reviews = voucher_use_review::Entity::find()
            .filter(voucher_use_review::Column::Decision.eq("disputed"))
            .order_by_desc(voucher_use_review::Column::At)
            .all(db)
            .await?;
        let ids: Vec<String> = reviews.iter().map(|r| r.transfer_id.clone()).collect();
        let captures: HashMap<String, ledger_transfer::Model> = ledger_transfer::Entity::find()
            .filter(ledger_transfer::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        let receivables: HashMap<i64, ledger_account::Model> = ledger_account::Entity::find()
            .filter(
                ledger_account::Column::Id.is_in(captures.values().map(|c| c.credit_account_id)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let providers: HashMap<i64, String> = provider::Entity::find()
            .filter(provider::Column::Id.is_in(receivables.values().filter_map(|a| a.provider_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let enterprises: HashMap<i64, String> = enterprise::Entity::find()
            .filter(enterprise::Column::Id.is_in(reviews.iter().map(|r| r.enterprise_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        let resolutions: HashMap<String, resolution::Model> = resolution::Entity::find()
            .filter(resolution::Column::CaptureId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.capture_id.clone(), r))
            .collect();
        let mut pools = HashMap::new();
        for c in captures.values() {
            pools.insert(c.id.clone(), capture_pool_district(db, c).await?);
        }
        Ok(reviews
            .iter()
            .filter_map(|r| {
                let c = captures.get(&r.transfer_id)?;
                let provider_id = receivables
                    .get(&c.credit_account_id)
                    .and_then(|a| a.provider_id);
                Some(DisputeView {
                    capture_id: c.id.clone(),
                    hold_id: c.pending_id.clone(),
                    kind: c.ledger.clone(),
                    amount_fen: c.amount_fen,
                    reference: c.reference.clone(),
                    captured_at: c.created_at,
                    enterprise_id: r.enterprise_id,
                    enterprise_name: enterprises
                        .get(&r.enterprise_id)
                        .cloned()
                        .unwrap_or_default(),
                    provider_id,
                    provider_name: provider_id
                        .and_then(|p| providers.get(&p).cloned())
                        .unwrap_or_default(),
                    dispute_comment: r.comment.clone(),
                    disputed_at: r.at,
                    resolution: resolutions.get(&r.transfer_id).map(|m| view(m, false)),
                    pool_district: pools.get(&c.id).copied().flatten(),
                })
            })
            .collect())
    }

    /// Resolves the enterprise's dispute of a capture: `upheld` or
    /// `reversed` (see the module's documentation).
    pub async fn resolve_dispute(
        &self,
        actor: &Actor,
        capture_id: &str,
        input: &ResolveDispute,
    ) -> Result<ResolutionView> {
        let mut c = crate::registry::Checker::default();
        if !OUTCOMES.contains(&input.outcome.as_str()) {
            c.push(FieldError::new("outcome", "not_one_of").with("allowed", OUTCOMES.join(", ")));
        }
        let comment = c.optional_text("comment", input.comment.as_deref(), 1_000);
        let reversal_id = (input.outcome == "reversed").then(|| {
            input
                .transfer_id
                .clone()
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("reversal:{capture_id}"))
        });
        if let Some(id) = input
            .transfer_id
            .as_deref()
            .filter(|_| reversal_id.is_some())
        {
            check_transfer_id("transfer_id", id)
                .into_iter()
                .for_each(|e| c.push(e));
        }
        c.finish()?;
        let body_hash = ledger::hash_body(&(
            "resolve_dispute",
            capture_id,
            &input.outcome,
            &reversal_id,
            &comment,
        ));
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let out = self
                .resolve_in(
                    &tx,
                    actor,
                    capture_id,
                    &input.outcome,
                    reversal_id.as_deref(),
                    comment.as_deref(),
                    &body_hash,
                )
                .await?;
            tx.commit().await?;
            Ok::<_, Retry>(out)
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn resolve_in(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        capture_id: &str,
        outcome: &str,
        reversal_id: Option<&str>,
        comment: Option<&str>,
        body_hash: &str,
    ) -> std::result::Result<ResolutionView, Retry> {
        let now = self.now();
        let capture = ledger::find_transfer(tx, capture_id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "transfer" })?;
        if capture.phase != "post" {
            return Err(conflict(ErrorCode::NotACapture).into());
        }
        let wallet = ledger_account::Entity::find_by_id(capture.debit_account_id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        let b = budget_of_capture(tx, &capture, &wallet).await?;
        let district = pool_district(&b);
        authorize(actor, Action::Update, Resource::VoucherPool { district })?;
        let review = voucher_use_review::Entity::find_by_id(capture_id.to_owned())
            .one(tx)
            .await?;
        if review.as_ref().is_none_or(|r| r.decision != "disputed") {
            return Err(conflict(ErrorCode::UseNotDisputed).into());
        }
        if let Some(first) = resolution::Entity::find_by_id(capture_id.to_owned())
            .one(tx)
            .await?
        {
            return if first.body_hash == body_hash {
                Ok(view(&first, true))
            } else {
                Err(conflict(ErrorCode::DisputeAlreadyResolved).into())
            };
        }
        let enterprise_id = wallet.enterprise_id.unwrap_or_default();
        let label = actor.audit_label();
        let amount = capture.amount_fen;
        if let Some(id) = reversal_id {
            // Back to the wallet while it is open on the capture's budget;
            // otherwise back to the capture's pool.
            let to_wallet = wallet.closed_at.is_none() && wallet.budget_id == Some(b.id);
            let credit = if to_wallet {
                wallet.id
            } else {
                pool_account(tx, &b, now).await?.id
            };
            let created = ledger::create(
                tx,
                &NewTransfer {
                    id: id.to_owned(),
                    op: Op::Posted {
                        ledger: capture.ledger.clone(),
                        debit: capture.credit_account_id,
                        credit,
                        amount_fen: amount,
                        credit_limit: None,
                    },
                    kind: "reversal".to_owned(),
                    reference: capture.reference.clone(),
                    contract_amount_fen: None,
                    use_kind: capture.use_kind.clone(),
                    body_hash: body_hash.to_owned(),
                    actor: label.clone(),
                    at: now,
                },
            )
            .await?;
            if !created.created {
                // A concurrent replay committed first: its resolution is
                // found at the start of the next attempt.
                return Err(Retry::Again);
            }
            let cause = Cause {
                actor: &label,
                application_id: None,
                disbursement_id: None,
                at: now,
            };
            budget::apply(tx, b.id, Movement::Refund, amount, cause)
                .await
                .map_err(budget_error)?;
            if !to_wallet {
                budget::apply(tx, b.id, Movement::Release, amount, cause)
                    .await
                    .map_err(budget_error)?;
            }
        }
        let new = vouchers::NewResolution {
            capture_id: capture_id.to_owned(),
            enterprise_id,
            outcome: outcome.to_owned(),
            reversal_id: reversal_id.map(str::to_owned),
            amount_fen: amount,
            comment: comment.map(str::to_owned),
            body_hash: body_hash.to_owned(),
            account_id: actor.account_id,
            at: now,
        };
        let saved = vouchers::insert_resolution(tx, new).await?;
        let resolved = view(&saved, false);
        self.notify_founders(tx, enterprise_id, &capture, outcome, now)
            .await?;
        record_change(
            tx,
            now,
            &label,
            "voucher.resolve_dispute",
            enterprise_id,
            None,
            Some(&resolved),
        )
        .await?;
        Ok(resolved)
    }

    /// Tells the enterprise's founders how their dispute was resolved.
    async fn notify_founders(
        &self,
        tx: &DatabaseTransaction,
        enterprise_id: i64,
        capture: &ledger_transfer::Model,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let persons: Vec<i64> = founder::Entity::find()
            .filter(founder::Column::EnterpriseId.eq(enterprise_id))
            .all(tx)
            .await?
            .iter()
            .map(|f| f.person_id)
            .collect();
        let accounts = person::Entity::find()
            .filter(person::Column::Id.is_in(persons))
            .all(tx)
            .await?
            .into_iter()
            .filter_map(|p| p.account_id);
        for account_id in accounts {
            vouchers::notify(
                tx,
                account_id,
                format!("voucher_dispute_{outcome}"),
                Some(capture.ledger.clone()),
                Some(format!("transfer:{}", capture.id)),
                now,
            )
            .await?;
        }
        Ok(())
    }
}
