//! Capturing or voiding a hold, and the budget a capture spends.

use super::*;

/// Captures a hold, fully or partly (the rest is released), and spends the
/// amount from the pool's budget.
pub(super) async fn capture_hold(
    svc: &Services,
    actor: &Actor,
    input: &CaptureInput,
) -> Result<TransferView> {
    resolve_hold(
        svc,
        actor,
        &input.transfer_id,
        &input.hold_id,
        Some(input.amount_fen),
    )
    .await
}

/// Voids a hold: the whole amount goes back to the wallet.
pub(super) async fn void_hold(
    svc: &Services,
    actor: &Actor,
    input: &VoidInput,
) -> Result<TransferView> {
    resolve_hold(svc, actor, &input.transfer_id, &input.hold_id, None).await
}

/// `capture`: `Some(amount)` (itself `None` = all); `None`: void.
pub(super) async fn resolve_hold(
    svc: &Services,
    actor: &Actor,
    transfer_id: &str,
    hold_id: &str,
    capture: Option<Option<i64>>,
) -> Result<TransferView> {
    with_retry(|| async {
        let tx = svc.store().begin().await?;
        let p = svc.acting_provider(&tx, actor).await?;
        let (t, budget_spend) =
            match prepare_resolution(svc, &tx, &p, transfer_id, hold_id, capture).await? {
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
            spend(&tx, budget_id, outcome.transfer.amount_fen, &t.actor, t.at).await?;
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

pub(super) async fn spend(
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
pub(super) async fn prepare_resolution(
    svc: &Services,
    tx: &DatabaseTransaction,
    p: &provider::Model,
    transfer_id: &str,
    hold_id: &str,
    capture: Option<Option<i64>>,
) -> std::result::Result<(Prepared, Option<i64>), Retry> {
    let now = svc.now();
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
