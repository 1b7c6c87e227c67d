//! Lifecycle jobs: holds expire on their own (voided), vouchers expire after
//! their last valid day (open holds voided, the unused balance returned to
//! the pool by closing transfers, the budget released, the wallet closed),
//! and reconciliation rebuilds every balance from the transfers.
//!
//! `opcity vouchers expire` runs the jobs once; `serve` runs them every few
//! minutes. Each expiry has a fixed transfer id, so running a job twice, or
//! on two instances at once, expires each thing once.

use super::issue::pool_account;
use super::{Retry, budget_error, codes, with_retry};
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{Result, ServiceError};
use crate::{Services, record_change};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_store::applications::held_by_applications;
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::{budget as budget_entity, ledger_account, ledger_transfer};
use opcity_store::ledger::{self, LedgerError, NewTransfer, Op, Reconciliation};
use opcity_store::sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

const SYSTEM: &str = "system";
const PAGE: u64 = 200;

/// What one run of the jobs did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct JobReport {
    pub holds_expired: usize,
    pub vouchers_expired: usize,
    /// Unused money returned to the pools.
    pub returned_fen: i64,
}

/// A pool whose ledger position differs from its budget: (ledger, budget).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PoolMismatch {
    pub budget_id: i64,
    /// Issued minus returned, from the pool account.
    pub ledger_outstanding_fen: i64,
    /// Reserved plus spent, from the budget, less what approved applications
    /// not yet accepted hold in it.
    pub budget_committed_fen: i64,
}

/// Reconciliation of the voucher ledger.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LedgerReport {
    pub accounts: usize,
    pub transfers: usize,
    /// Accounts whose stored balances differ from their transfers.
    #[schema(value_type = Vec<Object>)]
    pub mismatches: Vec<ledger::AccountMismatch>,
    /// Ledgers whose debits and credits differ.
    #[schema(value_type = Vec<Object>)]
    pub unbalanced: Vec<ledger::Unbalanced>,
    pub pool_mismatches: Vec<PoolMismatch>,
    pub clean: bool,
}

fn expiry_transfer(id: String, op: Op, kind: &str, at: DateTime<Utc>) -> NewTransfer {
    NewTransfer {
        body_hash: ledger::hash_body(&(kind, &id)),
        id,
        op,
        kind: kind.to_owned(),
        reference: None,
        contract_amount_fen: None,
        use_kind: None,
        actor: SYSTEM.to_owned(),
        at,
    }
}

impl Services {
    /// Runs both expiry jobs as of `now`.
    pub async fn run_voucher_jobs(&self, now: DateTime<Utc>) -> Result<JobReport> {
        let holds = self.expire_holds(now).await?;
        let mut report = self
            .expire_vouchers(opcity_domain::today_in_shanghai(now), now)
            .await?;
        report.holds_expired += holds;
        Ok(report)
    }

    /// [`Services::run_voucher_jobs`] now, on behalf of an administrator.
    pub async fn run_voucher_jobs_for(&self, actor: &Actor) -> Result<JobReport> {
        authorize(
            actor,
            Action::Update,
            Resource::VoucherPool { district: None },
        )?;
        self.run_voucher_jobs(self.now()).await
    }

    /// Voids every hold whose timeout has passed. Returns how many.
    pub async fn expire_holds(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut done = 0;
        let mut after = 0i64;
        loop {
            let page =
                opcity_store::vouchers::expired_holds(self.store().db(), now, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for hold in &page {
                if self.expire_hold(hold, now).await? {
                    done += 1;
                }
            }
        }
        Ok(done)
    }

    async fn expire_hold(&self, hold: &ledger_transfer::Model, now: DateTime<Utc>) -> Result<bool> {
        let t = expiry_transfer(
            format!("hold_expiry:{}", hold.id),
            Op::Void {
                pending_id: hold.id.clone(),
            },
            "hold_expiry",
            now,
        );
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let created = match ledger::create(&tx, &t).await {
                Ok(o) => o.created,
                // Captured or voided meanwhile: nothing to expire.
                Err(LedgerError::AlreadyResolved { .. }) => false,
                Err(e) => return Err(e.into()),
            };
            if created {
                record_change(
                    &tx,
                    now,
                    SYSTEM,
                    "voucher.hold_expiry",
                    0,
                    None,
                    Some(&serde_json::json!({ "hold": hold.id, "amount_fen": hold.amount_fen })),
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, Retry>(created)
        })
        .await
    }

    /// Expires every open wallet whose last valid day is before `today`.
    pub async fn expire_vouchers(&self, today: NaiveDate, now: DateTime<Utc>) -> Result<JobReport> {
        let mut report = JobReport::default();
        let mut after = 0i64;
        loop {
            let page = ledger_account::Entity::find()
                .filter(ledger_account::Column::Kind.eq("wallet"))
                .filter(ledger_account::Column::ClosedAt.is_null())
                .filter(ledger_account::Column::ValidUntil.lt(today))
                .filter(ledger_account::Column::Id.gt(after))
                .order_by_asc(ledger_account::Column::Id)
                .limit(PAGE)
                .all(self.store().db())
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for wallet in &page {
                let (holds, returned) = with_retry(|| async {
                    let tx = self.store().begin().await?;
                    let done = self.expire_wallet(&tx, wallet.id, today, now).await?;
                    tx.commit().await?;
                    Ok::<_, Retry>(done)
                })
                .await?;
                if let Some(returned) = returned {
                    report.vouchers_expired += 1;
                    report.returned_fen += returned;
                }
                report.holds_expired += holds;
            }
        }
        Ok(report)
    }

    /// Expires one wallet: (holds voided, `Some(returned)` when it closed).
    async fn expire_wallet(
        &self,
        tx: &DatabaseTransaction,
        wallet_id: i64,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> std::result::Result<(usize, Option<i64>), Retry> {
        ledger::lock_account(tx, wallet_id).await?;
        let load = || async {
            ledger_account::Entity::find_by_id(wallet_id)
                .one(tx)
                .await?
                .ok_or(ServiceError::NotFound { entity: "wallet" })
        };
        let w = load().await?;
        let Some(until) = w
            .valid_until
            .filter(|v| *v < today && w.closed_at.is_none())
        else {
            return Ok((0, None));
        };
        let holds = opcity_store::vouchers::open_holds_debiting(tx, wallet_id).await?;
        for h in &holds {
            let void = Op::Void {
                pending_id: h.id.clone(),
            };
            ledger::create(
                tx,
                &expiry_transfer(
                    format!("voucher_expiry:{}", h.id),
                    void,
                    "voucher_expiry",
                    now,
                ),
            )
            .await?;
        }
        let remaining = load().await?.available();
        let kind = w.ledger.clone();
        if remaining > 0 {
            let b = budget_entity::Entity::find_by_id(w.budget_id.unwrap_or_default())
                .one(tx)
                .await?
                .ok_or(ServiceError::NotFound { entity: "budget" })?;
            let expired = ledger::open_account(
                tx,
                super::issue::account(codes::expired(&kind), &kind, "expired", true, now),
            )
            .await?;
            let pool = pool_account(tx, &b, now).await?;
            let posted = |debit, credit| Op::Posted {
                ledger: kind.clone(),
                debit,
                credit,
                amount_fen: remaining,
                credit_limit: None,
            };
            ledger::create(
                tx,
                &expiry_transfer(
                    format!("expire:{wallet_id}:{until}"),
                    posted(w.id, expired.id),
                    "expire",
                    now,
                ),
            )
            .await?;
            ledger::create(
                tx,
                &expiry_transfer(
                    format!("return:{wallet_id}:{until}"),
                    posted(expired.id, pool.id),
                    "return",
                    now,
                ),
            )
            .await?;
            let cause = Cause {
                actor: SYSTEM,
                application_id: None,
                disbursement_id: None,
                at: now,
            };
            budget::apply(tx, b.id, Movement::Release, remaining, cause)
                .await
                .map_err(budget_error)?;
        }
        ledger::close_account(tx, wallet_id, now).await?;
        record_change(
            tx,
            now,
            SYSTEM,
            "voucher.expire",
            w.enterprise_id.unwrap_or_default(),
            None,
            Some(&serde_json::json!({
                "kind": kind, "valid_until": until, "holds_voided": holds.len(), "returned_fen": remaining,
            })),
        )
        .await?;
        Ok((holds.len(), Some(remaining)))
    }

    /// Rebuilds every ledger balance from the transfers and checks each pool
    /// against its budget (administrators, auditors, reviewers).
    pub async fn reconcile_vouchers(&self, actor: &Actor) -> Result<LedgerReport> {
        authorize(
            actor,
            Action::Read,
            Resource::VoucherPool { district: None },
        )?;
        self.reconcile_vouchers_system().await
    }

    /// [`Services::reconcile_vouchers`] as the system (`opcity vouchers reconcile`).
    pub async fn reconcile_vouchers_system(&self) -> Result<LedgerReport> {
        let db = self.store().db();
        let Reconciliation {
            accounts,
            transfers,
            mismatches,
            unbalanced,
        } = ledger::reconcile(db).await?;
        let mut pool_mismatches = Vec::new();
        let budgets = budget_entity::Entity::find()
            .filter(budget_entity::Column::Programme.starts_with("sz.voucher."))
            .all(db)
            .await?;
        for b in budgets {
            let pool = ledger::account_by_code(db, &codes::pool(b.id)).await?;
            let outstanding = pool.map_or(0, |p| p.debits_posted - p.credits_posted);
            // Approved applications not yet accepted hold their amount in
            // the budget; the wallet takes it over on acceptance.
            let held: i64 = held_by_applications(db, b.id).await?.values().sum();
            let committed = b.reserved_fen + b.spent_fen - held;
            if outstanding != committed {
                pool_mismatches.push(PoolMismatch {
                    budget_id: b.id,
                    ledger_outstanding_fen: outstanding,
                    budget_committed_fen: committed,
                });
            }
        }
        let clean = mismatches.is_empty() && unbalanced.is_empty() && pool_mismatches.is_empty();
        Ok(LedgerReport {
            accounts,
            transfers,
            mismatches,
            unbalanced,
            pool_mismatches,
            clean,
        })
    }
}
