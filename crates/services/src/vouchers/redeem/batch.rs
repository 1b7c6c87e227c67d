//! A provider's batch of holds, captures and voids in one commit.

use super::*;

/// Many holds, captures and voids in one commit: all of them or none.
/// Each is checked as if sent alone (in order; a capture may name a hold
/// placed earlier in the same batch); replayed ids answer "not created".
pub(super) async fn provider_batch(
    svc: &Services,
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
        let tx = svc.store().begin().await?;
        let p = svc.acting_provider(&tx, actor).await?;
        let out = batch_in(svc, &tx, actor, &p, ops).await?;
        tx.commit().await?;
        Ok::<_, Retry>(out)
    })
    .await
}

pub(super) async fn batch_in(
    svc: &Services,
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
                let (prepared, key) = hold::prepare_hold(svc, tx, p, h, &drawn)
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
            ProviderOp::Capture(c) => prepare_batch_resolution(
                svc,
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
            ProviderOp::Void(v) => prepare_batch_resolution(
                svc,
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
        if let (Some(budget_id), Some(amount), Some(true)) = (budget_id, amount, created.get(id)) {
            resolve::spend(tx, *budget_id, *amount, &label, svc.now()).await?;
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
        svc.now(),
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
pub(super) async fn prepare_batch_resolution(
    svc: &Services,
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
        let now = svc.now();
        return Ok(Prepared::New(NewTransfer {
            id: transfer_id.to_owned(),
            op,
            kind: kind.to_owned(),
            reference: None,
            contract_amount_fen: None,
            use_kind: None,
            body_hash: ledger::hash_body(&(kind, p.id, transfer_id, hold_id, capture.flatten())),
            actor: format!("provider:{}", p.id),
            at: now,
        }));
    }
    let (prepared, budget) =
        resolve::prepare_resolution(svc, tx, p, transfer_id, hold_id, capture).await?;
    if let (Prepared::New(_), Some(amount)) = (&prepared, capture) {
        let held = ledger::find_transfer(tx, hold_id)
            .await?
            .map_or(0, |h| h.amount_fen);
        spends.push((transfer_id.to_owned(), budget, Some(amount.unwrap_or(held))));
    }
    Ok(prepared)
}
