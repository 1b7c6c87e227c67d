//! Issuing vouchers into enterprise wallets, funding pools, claw-backs and
//! the administrators' view of the pools.

use super::{
    KindSpec, Retry, budget_error, check_amount, check_transfer_id, codes, known_kind, with_retry,
};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::{Services, record_change};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use opcity_domain::District;
use opcity_policy::Pack;
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::{budget as budget_entity, entitlement, ledger_account};
use opcity_store::ledger::{self, NewAccount, NewTransfer, Op};
use opcity_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use opcity_store::vouchers;

/// A voucher to issue. The applications workflow calls
/// [`Services::issue_voucher`] with this once a voucher application is
/// approved, passing `transfer_id = "application:{id}"` so that a retried
/// approval issues the voucher once.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueVoucher {
    pub enterprise_id: i64,
    /// The voucher kind: `sz.voucher.training`, `.model`, `.data` or `.smart`.
    pub kind: String,
    pub amount_fen: i64,
    /// The last civil day (Asia/Shanghai) the voucher may be used.
    pub valid_until: NaiveDate,
    /// Idempotency key (1–64 of `A-Za-z0-9._:-`); generated when absent.
    pub transfer_id: Option<String>,
}

/// A wallet's figures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct WalletBalance {
    pub account_id: i64,
    pub enterprise_id: i64,
    pub kind: String,
    /// Issued into the wallet in all (capped by the ceiling), plus captures
    /// paid back after a dispute.
    pub credited_fen: i64,
    /// Captured by providers, expired or clawed back.
    pub debited_fen: i64,
    /// Held by providers, not yet captured or released.
    pub held_fen: i64,
    /// What can still be held or spent.
    pub available_fen: i64,
    pub valid_until: Option<NaiveDate>,
    pub closed: bool,
    pub budget_id: Option<i64>,
}

pub(crate) fn balance(a: &ledger_account::Model) -> WalletBalance {
    WalletBalance {
        account_id: a.id,
        enterprise_id: a.enterprise_id.unwrap_or_default(),
        kind: a.ledger.clone(),
        credited_fen: a.credits_posted,
        debited_fen: a.debits_posted,
        held_fen: a.debits_pending,
        available_fen: a.available(),
        valid_until: a.valid_until,
        closed: a.closed_at.is_some(),
        budget_id: a.budget_id,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct VoucherIssued {
    pub transfer_id: String,
    pub amount_fen: i64,
    pub wallet: WalletBalance,
    /// `true` when this answers a replay of an earlier request.
    pub replayed: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundPool {
    pub kind: String,
    pub year: i32,
    /// A district id for district pools (smart vouchers); absent for the city.
    pub district: Option<String>,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Clawback {
    pub transfer_id: String,
    pub enterprise_id: i64,
    pub kind: String,
    pub amount_fen: i64,
    pub reason: String,
}

/// One pool (a voucher budget) with its ledger figures.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PoolView {
    pub budget_id: i64,
    pub kind: String,
    pub year: i32,
    /// `municipal` or a district id.
    pub authority: String,
    pub total_fen: i64,
    /// Issued into wallets and not yet captured or returned.
    pub reserved_fen: i64,
    /// Captured by providers.
    pub spent_fen: i64,
    pub remaining_fen: i64,
    /// From the ledger: issued in all, and returned (expired or clawed back).
    pub issued_fen: i64,
    pub returned_fen: i64,
    pub wallets: u64,
}

pub(crate) const MUNICIPAL: &str = "municipal";

/// A voucher approved through an application, to issue on acceptance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApprovedVoucher<'a> {
    pub application_id: i64,
    pub enterprise_id: i64,
    /// The programme: a voucher kind.
    pub kind: &'a str,
    /// The budget the approval reserved the amount in.
    pub budget_id: i64,
    pub amount_fen: i64,
    pub valid_until: NaiveDate,
    pub label: &'a str,
}

/// One issue about to be posted.
struct Posting<'a> {
    enterprise_id: i64,
    spec: &'static KindSpec,
    budget: &'a budget_entity::Model,
    amount_fen: i64,
    valid_until: NaiveDate,
    ceiling_fen: i64,
    transfer_id: &'a str,
    body_hash: String,
    label: &'a str,
}

/// A ledger step of an application's voucher (its issue, its claw-back)
/// refused as a duplicate: another request for the same application did
/// it meanwhile, so the application's state moved.
fn once_per_application(retry: Retry) -> ServiceError {
    match retry {
        Retry::Fail(e) => e,
        Retry::Again => ServiceError::Conflict {
            code: ErrorCode::StateChanged,
            field: None,
        },
    }
}

/// The per-enterprise ceiling of a voucher kind on `today`.
fn ceiling_of(spec: &KindSpec, pack: &Pack, district: District, today: NaiveDate) -> Result<i64> {
    spec.ceiling_fen(pack, district, today)
        .ok_or(ServiceError::Conflict {
            code: ErrorCode::VoucherCeilingUnset,
            field: Some("kind"),
        })
}

/// The budget behind a pool, created and funded from the pack's yearly pool
/// on first use for kinds the city funds (`fund`); `None` for others, which
/// an administrator funds.
pub(crate) async fn ensure_budget(
    tx: &DatabaseTransaction,
    kind: &str,
    year: i32,
    authority: &str,
    fund: Option<i64>,
    cause: Cause<'_>,
) -> Result<budget_entity::Model> {
    if let Some(b) = find_budget(tx, kind, year, authority).await? {
        return Ok(b);
    }
    let Some(total) = fund.filter(|t| *t > 0) else {
        return Err(ServiceError::Conflict {
            code: ErrorCode::VoucherPoolNotFunded,
            field: None,
        });
    };
    let (b, inserted) = match vouchers::ensure_pool(tx, kind, year, authority, cause.at).await {
        Err(opcity_store::StoreError::NotFound) => {
            return Err(ServiceError::NotFound { entity: "budget" });
        }
        other => other?,
    };
    if inserted {
        budget::apply(tx, b.id, Movement::Fund, total, cause)
            .await
            .map_err(budget_error)?;
    }
    Ok(b)
}

async fn find_budget<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    year: i32,
    authority: &str,
) -> Result<Option<budget_entity::Model>> {
    Ok(vouchers::find_pool(db, kind, year, authority).await?)
}

pub(crate) fn account(
    code: String,
    ledger: &str,
    kind: &'static str,
    guarded: bool,
    at: DateTime<Utc>,
) -> NewAccount {
    NewAccount {
        code,
        ledger: ledger.to_owned(),
        kind,
        enterprise_id: None,
        provider_id: None,
        budget_id: None,
        valid_until: None,
        debits_must_not_exceed_credits: guarded,
        credits_must_not_exceed_debits: false,
        at,
    }
}

/// The pool account of a budget.
pub(crate) async fn pool_account(
    tx: &DatabaseTransaction,
    b: &budget_entity::Model,
    at: DateTime<Utc>,
) -> Result<ledger_account::Model> {
    Ok(ledger::open_account(
        tx,
        NewAccount {
            budget_id: Some(b.id),
            ..account(codes::pool(b.id), &b.programme, "pool", false, at)
        },
    )
    .await?)
}

fn authority_of(spec: &KindSpec, municipal: bool, district: District) -> String {
    let _ = spec;
    if municipal {
        MUNICIPAL.to_owned()
    } else {
        district.id().to_owned()
    }
}

impl Services {
    /// Issues a voucher of `input.kind` into the enterprise's wallet: checks
    /// the enterprise's stored entitlement (proactive matching keeps it
    /// current), the per-enterprise ceiling from the pack (as the wallet's
    /// credit limit, so concurrent issues cannot pass it), and reserves the
    /// amount in the pool's budget, all in one transaction.
    ///
    /// Who: administrators; district reviewers of the enterprise's district
    /// for district-decided kinds (smart vouchers).
    pub async fn issue_voucher(
        &self,
        actor: &Actor,
        input: &IssueVoucher,
    ) -> Result<VoucherIssued> {
        let transfer_id = input
            .transfer_id
            .clone()
            .unwrap_or_else(|| format!("issue:{}", crate::accounts::random_token(12)));
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let issued = self
                .issue_voucher_in(&tx, actor, input, &transfer_id)
                .await?;
            tx.commit().await?;
            Ok::<_, Retry>(issued)
        })
        .await
    }

    /// [`Services::issue_voucher`] inside the caller's transaction (for
    /// workflows that issue as part of a larger change). On
    /// [`Retry::Again`] the caller's transaction must be rolled back.
    pub(crate) async fn issue_voucher_in(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        input: &IssueVoucher,
        transfer_id: &str,
    ) -> std::result::Result<VoucherIssued, Retry> {
        let now = self.now();
        let today = opcity_domain::today_in_shanghai(now);
        let pack = self.pack();
        let spec = known_kind("kind", &input.kind)?;
        let mut errors: Vec<FieldError> = [
            check_amount("amount_fen", input.amount_fen),
            check_transfer_id("transfer_id", transfer_id),
        ]
        .into_iter()
        .flatten()
        .collect();
        if input.valid_until <= today {
            errors.push(FieldError::new("valid_until", "valid_until_past").with("today", today));
        } else if let Some((_, to)) = spec.window(&pack)
            && input.valid_until > to
        {
            errors
                .push(FieldError::new("valid_until", "valid_until_after_programme").with("to", to));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors).into());
        }
        let (e, district) = super::enterprise_in_district(tx, input.enterprise_id).await?;
        let municipal = spec.is_municipal(&pack);
        authorize(
            actor,
            Action::Create,
            Resource::VoucherWallet {
                enterprise_id: e.id,
                district,
                municipal,
            },
        )?;
        let body_hash = ledger::hash_body(&(
            "issue",
            input.enterprise_id,
            &input.kind,
            input.amount_fen,
            input.valid_until,
        ));
        if let Some(first) = ledger::find_transfer(tx, transfer_id).await? {
            if first.body_hash != body_hash {
                return Err(
                    super::ledger_error(ledger::LedgerError::IdConflict { id: first.id }).into(),
                );
            }
            return Ok(self.issued_view(tx, &first, true).await?);
        }
        self.check_entitled(tx, e.id, spec.id).await?;
        let ceiling = ceiling_of(spec, &pack, district, today)?;
        let label = actor.audit_label();
        let cause = Cause {
            actor: &label,
            application_id: None,
            disbursement_id: None,
            at: now,
        };
        let b = ensure_budget(
            tx,
            spec.id,
            today.year(),
            &authority_of(spec, municipal, district),
            municipal.then(|| spec.pool_fen(&pack, today)).flatten(),
            cause,
        )
        .await?;
        self.post_issue(
            tx,
            Posting {
                enterprise_id: e.id,
                spec,
                budget: &b,
                amount_fen: input.amount_fen,
                valid_until: input.valid_until,
                ceiling_fen: ceiling,
                transfer_id,
                body_hash,
                label: &label,
            },
        )
        .await
    }

    /// Issues a voucher approved through an application into the
    /// enterprise's wallet, from the budget the approval reserved in
    /// (`application:{id}` is the transfer's id): the application's hold
    /// becomes the wallet's, so the budget's commitment does not change
    /// and the pool's ledger matches it. The approval decided eligibility;
    /// the wallet's ceiling still holds.
    pub(crate) async fn issue_approved_voucher(
        &self,
        tx: &DatabaseTransaction,
        approved: ApprovedVoucher<'_>,
    ) -> Result<VoucherIssued> {
        let now = self.now();
        let pack = self.pack();
        let spec = known_kind("programme", approved.kind)?;
        let (e, district) = super::enterprise_in_district(tx, approved.enterprise_id).await?;
        let ceiling = ceiling_of(spec, &pack, district, opcity_domain::today_in_shanghai(now))?;
        let b = budget_entity::Entity::find_by_id(approved.budget_id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "budget" })?;
        let transfer_id = format!("application:{}", approved.application_id);
        let body_hash = ledger::hash_body(&(
            "issue",
            e.id,
            spec.id,
            approved.amount_fen,
            approved.valid_until,
        ));
        self.post_issue(
            tx,
            Posting {
                enterprise_id: e.id,
                spec,
                budget: &b,
                amount_fen: approved.amount_fen,
                valid_until: approved.valid_until,
                ceiling_fen: ceiling,
                transfer_id: &transfer_id,
                body_hash,
                label: approved.label,
            },
        )
        .await
        .map_err(once_per_application)
    }

    /// Reserves the amount in the pool's budget and posts the issue from the
    /// pool into the wallet (opened when new), capped by the ceiling.
    async fn post_issue(
        &self,
        tx: &DatabaseTransaction,
        p: Posting<'_>,
    ) -> std::result::Result<VoucherIssued, Retry> {
        let now = self.now();
        let cause = Cause {
            actor: p.label,
            application_id: None,
            disbursement_id: None,
            at: now,
        };
        budget::apply(tx, p.budget.id, Movement::Reserve, p.amount_fen, cause)
            .await
            .map_err(budget_error)?;
        let pool = pool_account(tx, p.budget, now).await?;
        let wallet = self
            .wallet_for_issue(
                tx,
                p.enterprise_id,
                p.spec.id,
                p.budget.id,
                p.valid_until,
                now,
            )
            .await?;
        // Money paid back after a dispute was issued once already.
        let reversed = super::disputes::reversed_into(tx, wallet.id).await?;
        let outcome = ledger::create(
            tx,
            &NewTransfer {
                id: p.transfer_id.to_owned(),
                op: Op::Posted {
                    ledger: p.spec.id.to_owned(),
                    debit: pool.id,
                    credit: wallet.id,
                    amount_fen: p.amount_fen,
                    credit_limit: Some(p.ceiling_fen + reversed),
                },
                kind: "issue".to_owned(),
                reference: None,
                contract_amount_fen: None,
                use_kind: None,
                body_hash: p.body_hash,
                actor: p.label.to_owned(),
                at: now,
            },
        )
        .await?;
        if !outcome.created {
            // A concurrent replay committed first: start again, so this
            // transaction's budget reservation is rolled back.
            return Err(Retry::Again);
        }
        let issued = self.issued_view(tx, &outcome.transfer, false).await?;
        record_change(
            tx,
            now,
            p.label,
            "voucher.issue",
            p.enterprise_id,
            None,
            Some(&issued),
        )
        .await?;
        Ok(issued)
    }

    async fn issued_view(
        &self,
        db: &DatabaseTransaction,
        t: &opcity_store::entity::ledger_transfer::Model,
        replayed: bool,
    ) -> Result<VoucherIssued> {
        let wallet = ledger_account::Entity::find_by_id(t.credit_account_id)
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        Ok(VoucherIssued {
            transfer_id: t.id.clone(),
            amount_fen: t.amount_fen,
            wallet: balance(&wallet),
            replayed,
        })
    }

    /// Refuses an enterprise that is not eligible for the programme now.
    async fn check_entitled(
        &self,
        tx: &DatabaseTransaction,
        enterprise_id: i64,
        kind: &str,
    ) -> Result<()> {
        let row = entitlement::Entity::find_by_id((
            format!("enterprise:{enterprise_id}"),
            kind.to_owned(),
        ))
        .one(tx)
        .await?;
        match row {
            Some(r) if r.status == opcity_policy::Status::Eligible.name() => Ok(()),
            _ => Err(ServiceError::Conflict {
                code: ErrorCode::NotEntitledToVoucher,
                field: Some("enterprise_id"),
            }),
        }
    }

    /// The enterprise's wallet of a kind, opened when new, locked, and pointed
    /// at `budget_id`. A wallet still holding money from another year's
    /// budget cannot take a voucher from this year's: each wallet's money
    /// comes from one budget at a time, so captures and expiry settle the
    /// right budget.
    async fn wallet_for_issue(
        &self,
        tx: &DatabaseTransaction,
        enterprise_id: i64,
        kind: &str,
        budget_id: i64,
        valid_until: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ledger_account::Model> {
        let opened = ledger::open_account(
            tx,
            NewAccount {
                enterprise_id: Some(enterprise_id),
                budget_id: Some(budget_id),
                valid_until: Some(valid_until),
                ..account(
                    codes::wallet(enterprise_id, kind),
                    kind,
                    "wallet",
                    true,
                    now,
                )
            },
        )
        .await?;
        ledger::lock_account(tx, opened.id).await?;
        let w = ledger_account::Entity::find_by_id(opened.id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        let empty = w.available() == 0 && w.debits_pending == 0;
        let same_budget = w.budget_id == Some(budget_id);
        if !same_budget && !empty && w.closed_at.is_none() {
            return Err(ServiceError::Conflict {
                code: ErrorCode::WalletFundedFromOtherYear,
                field: Some("enterprise_id"),
            });
        }
        let until = match (same_budget && w.closed_at.is_none(), w.valid_until) {
            (true, Some(existing)) => existing.max(valid_until),
            _ => valid_until,
        };
        ledger::reopen_account(tx, w.id, Some(budget_id), Some(until), now).await?;
        Ok(w)
    }

    /// Adds money to a voucher pool (administrators; district reviewers for
    /// their district's pools), creating the pool's budget when needed.
    pub async fn fund_voucher_pool(&self, actor: &Actor, input: &FundPool) -> Result<PoolView> {
        let spec = known_kind("kind", &input.kind)?;
        let mut errors: Vec<FieldError> = check_amount("amount_fen", input.amount_fen)
            .into_iter()
            .collect();
        let district: Option<District> = match input.district.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => match d.parse() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new("district", "unknown_district").with("value", d));
                    None
                }
            },
            None => None,
        };
        let municipal = spec.is_municipal(&self.pack());
        if municipal != district.is_none() && errors.is_empty() {
            errors.push(FieldError::new(
                "district",
                if municipal {
                    "municipal_pool_has_no_district"
                } else {
                    "required"
                },
            ));
        }
        if !(2000..=2100).contains(&input.year) {
            errors.push(
                FieldError::new("year", "out_of_range")
                    .with("min", 2000)
                    .with("max", 2100),
            );
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        authorize(actor, Action::Create, Resource::VoucherPool { district })?;
        let authority = district.map_or(MUNICIPAL.to_owned(), |d| d.id().to_owned());
        let now = self.now();
        let label = actor.audit_label();
        let cause = Cause {
            actor: &label,
            application_id: None,
            disbursement_id: None,
            at: now,
        };
        let tx = self.store().begin().await?;
        let b = match find_budget(&tx, spec.id, input.year, &authority).await? {
            Some(b) => {
                budget::apply(&tx, b.id, Movement::Fund, input.amount_fen, cause)
                    .await
                    .map_err(budget_error)?;
                b
            }
            None => {
                ensure_budget(
                    &tx,
                    spec.id,
                    input.year,
                    &authority,
                    Some(input.amount_fen),
                    cause,
                )
                .await?
            }
        };
        pool_account(&tx, &b, now).await?;
        let view = pool_view(&tx, b.id).await?;
        crate::commit_change(tx, now, &label, "voucher_pool.fund", b.id, None, view).await
    }

    /// Takes unused money back from a wallet into the pool (through the
    /// `clawed_back` account), releasing it in the budget.
    pub async fn claw_back_voucher(
        &self,
        actor: &Actor,
        input: &Clawback,
    ) -> Result<WalletBalance> {
        let spec = known_kind("kind", &input.kind)?;
        let mut errors: Vec<FieldError> = [
            check_amount("amount_fen", input.amount_fen),
            check_transfer_id("transfer_id", &input.transfer_id),
        ]
        .into_iter()
        .flatten()
        .collect();
        if input.reason.trim().is_empty() {
            errors.push(FieldError::new("reason", "required"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        with_retry(|| async {
            let tx = self.store().begin().await?;
            let w = self.claw_back_in(&tx, actor, spec, input).await?;
            tx.commit().await?;
            Ok::<_, Retry>(w)
        })
        .await
    }

    /// Takes back what is unused of a voucher issued through an application
    /// that is clawed back: the wallet's available money, up to the amount
    /// the application issued (what providers hold or captured stays with
    /// them). Nothing when the wallet is empty or was never opened.
    pub(crate) async fn claw_back_approved_voucher(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        approved: ApprovedVoucher<'_>,
    ) -> Result<()> {
        let spec = known_kind("programme", approved.kind)?;
        let code = codes::wallet(approved.enterprise_id, spec.id);
        let Some(wallet) = ledger::account_by_code(tx, &code).await? else {
            return Ok(());
        };
        let amount_fen = wallet.available().min(approved.amount_fen);
        if amount_fen <= 0 {
            return Ok(());
        }
        let input = Clawback {
            transfer_id: format!("application:{}:clawback", approved.application_id),
            enterprise_id: approved.enterprise_id,
            kind: spec.id.to_owned(),
            amount_fen,
            reason: format!("application {} clawed back", approved.application_id),
        };
        self.claw_back_in(tx, actor, spec, &input)
            .await
            .map(drop)
            .map_err(once_per_application)
    }

    async fn claw_back_in(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        spec: &KindSpec,
        input: &Clawback,
    ) -> std::result::Result<WalletBalance, Retry> {
        let now = self.now();
        let wallet = ledger::account_by_code(tx, &codes::wallet(input.enterprise_id, spec.id))
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        let b = budget_entity::Entity::find_by_id(wallet.budget_id.unwrap_or_default())
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "budget" })?;
        let district = (b.authority != MUNICIPAL)
            .then(|| b.authority.parse::<District>().ok())
            .flatten();
        authorize(actor, Action::Update, Resource::VoucherPool { district })?;
        // The budget's row first, as an issue takes it: a claw-back and an
        // issue into wallets of one pool then never wait for each other in
        // opposite orders (PostgreSQL would end one as a deadlock).
        budget::lock_remaining(tx, &[b.id].into()).await?;
        let body_hash = ledger::hash_body(&(
            "clawback",
            input.enterprise_id,
            &input.kind,
            input.amount_fen,
            &input.reason,
        ));
        if let Some(first) = ledger::find_transfer(tx, &input.transfer_id).await? {
            if first.body_hash != body_hash {
                return Err(
                    super::ledger_error(ledger::LedgerError::IdConflict { id: first.id }).into(),
                );
            }
            return Ok(balance(&wallet));
        }
        let label = actor.audit_label();
        let through = ledger::open_account(
            tx,
            account(
                codes::clawed_back(spec.id),
                spec.id,
                "clawed_back",
                true,
                now,
            ),
        )
        .await?;
        let pool = pool_account(tx, &b, now).await?;
        // The return's id is derived from the client's; its own body hash
        // makes a later request that names that id a conflict, not a replay.
        let return_hash = ledger::hash_body(&("clawback_return", &body_hash));
        let t = |id: String, debit: i64, credit: i64, kind: &str, body_hash: &str| NewTransfer {
            id,
            op: Op::Posted {
                ledger: spec.id.to_owned(),
                debit,
                credit,
                amount_fen: input.amount_fen,
                credit_limit: None,
            },
            kind: kind.to_owned(),
            reference: Some(input.reason.trim().chars().take(200).collect()),
            contract_amount_fen: None,
            use_kind: None,
            body_hash: body_hash.to_owned(),
            actor: label.clone(),
            at: now,
        };
        if !ledger::create(
            tx,
            &t(
                input.transfer_id.clone(),
                wallet.id,
                through.id,
                "clawback",
                &body_hash,
            ),
        )
        .await?
        .created
        {
            return Err(Retry::Again);
        }
        ledger::create(
            tx,
            &t(
                format!("{}:return", input.transfer_id),
                through.id,
                pool.id,
                "return",
                &return_hash,
            ),
        )
        .await?;
        let cause = Cause {
            actor: &label,
            application_id: None,
            disbursement_id: None,
            at: now,
        };
        budget::apply(tx, b.id, Movement::Release, input.amount_fen, cause)
            .await
            .map_err(budget_error)?;
        let after = ledger_account::Entity::find_by_id(wallet.id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "wallet" })?;
        let view = balance(&after);
        record_change(
            tx,
            now,
            &label,
            "voucher.claw_back",
            input.enterprise_id,
            Some(&balance(&wallet)),
            Some(&view),
        )
        .await?;
        Ok(view)
    }

    /// Every voucher pool the actor may see, with its budget and ledger figures.
    pub async fn voucher_pools(&self, actor: &Actor) -> Result<Vec<PoolView>> {
        let db = self.store().db();
        let budgets = budget_entity::Entity::find()
            .filter(budget_entity::Column::Programme.starts_with("sz.voucher."))
            .order_by_asc(budget_entity::Column::Id)
            .all(db)
            .await?;
        let mut out = Vec::new();
        for b in budgets {
            let district = (b.authority != MUNICIPAL)
                .then(|| b.authority.parse::<District>().ok())
                .flatten();
            if authorize(actor, Action::Read, Resource::VoucherPool { district }).is_ok() {
                out.push(pool_view(db, b.id).await?);
            }
        }
        if out.is_empty() {
            // Nothing visible: say so if the actor may see no pool at all.
            authorize(
                actor,
                Action::Read,
                Resource::VoucherPool { district: None },
            )?;
        }
        Ok(out)
    }
}

pub(crate) async fn pool_view<C: ConnectionTrait>(db: &C, budget_id: i64) -> Result<PoolView> {
    let b = budget_entity::Entity::find_by_id(budget_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound { entity: "budget" })?;
    let pool = ledger::account_by_code(db, &codes::pool(budget_id)).await?;
    let wallets = opcity_store::sea_orm::PaginatorTrait::count(
        ledger_account::Entity::find()
            .filter(ledger_account::Column::Kind.eq("wallet"))
            .filter(ledger_account::Column::BudgetId.eq(budget_id)),
        db,
    )
    .await?;
    Ok(PoolView {
        budget_id: b.id,
        kind: b.programme,
        year: b.year,
        authority: b.authority,
        total_fen: b.total_fen,
        reserved_fen: b.reserved_fen,
        spent_fen: b.spent_fen,
        remaining_fen: b.total_fen - b.reserved_fen - b.spent_fen,
        issued_fen: pool.as_ref().map_or(0, |p| p.debits_posted),
        returned_fen: pool.as_ref().map_or(0, |p| p.credits_posted),
        wallets,
    })
}
