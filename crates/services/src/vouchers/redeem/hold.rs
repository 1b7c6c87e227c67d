//! Placing a hold: the provider, the wallet, the contract's share and the
//! transfer that reserves the amount.

use super::*;

/// Places a hold on an enterprise's voucher for a contract or invoice.
pub(super) async fn place_hold(
    svc: &Services,
    actor: &Actor,
    input: &HoldInput,
) -> Result<TransferView> {
    with_retry(|| async {
        let tx = svc.store().begin().await?;
        let p = svc.acting_provider(&tx, actor).await?;
        let view = place_hold_in(svc, &tx, actor, &p, input).await?;
        tx.commit().await?;
        Ok::<_, Retry>(view)
    })
    .await
}

pub(super) async fn place_hold_in(
    svc: &Services,
    tx: &DatabaseTransaction,
    actor: &Actor,
    p: &provider::Model,
    input: &HoldInput,
) -> std::result::Result<TransferView, Retry> {
    let (t, _) = prepare_hold(svc, tx, p, input, &HashMap::new()).await?;
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
pub(super) async fn prepare_hold(
    svc: &Services,
    tx: &DatabaseTransaction,
    p: &provider::Model,
    input: &HoldInput,
    drawn_in_batch: &HashMap<(i64, i64, String), i64>,
) -> std::result::Result<(Prepared, Option<(i64, i64, String)>), Retry> {
    let now = svc.now();
    let today = opcity_domain::today_in_shanghai(now);
    let spec = crate::vouchers::kind_spec(&input.kind);
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
        let limit = contract_limit(svc, tx, spec, input.enterprise_id, contract, today).await?;
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

/// The most a contract may draw from a training voucher: its share (60%
/// for startups, per the pack) of the contract amount.
pub(super) async fn contract_limit(
    svc: &Services,
    tx: &DatabaseTransaction,
    spec: &KindSpec,
    enterprise_id: i64,
    contract_fen: i64,
    today: NaiveDate,
) -> Result<i64> {
    let pack = svc.pack();
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
