//! Ending an agreement early, and the growth path's move.

use super::*;

/// Ends an agreement early: it holds the unit until the start of `on`.
pub(super) async fn end_agreement(
    svc: &Services,
    actor: &Actor,
    id: i64,
    input: &EndInput,
) -> Result<AgreementView> {
    let now = svc.now();
    let mut c = Checker::default();
    let on = required_date(&mut c, "on", &input.on);
    c.finish()?;
    let at = day_start(on.expect("checked"));
    let tx = svc.store().begin().await?;
    let a = lock_agreement(&tx, id).await?;
    let unit = load_unit(&tx, a.unit_id).await?;
    authorize(
        actor,
        Action::Update,
        premises(unit.community_id, &unit.district),
    )?;
    if a.status != "active" {
        return Err(conflict(ErrorCode::NotActive, "status"));
    }
    check_end(&a, at)?;
    let before = agreement_view(&a, &unit);
    let saved = end_at(&tx, &a, at, now).await?;
    let district = unit.district.parse().ok();
    grant::sync_space_grant(svc, &tx, now, &actor.audit_label(), &saved, district).await?;
    let after = agreement_view(&saved, &unit);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "space_agreement.end",
        id,
        Some(&before),
        after,
    )
    .await
}

/// The growth path: the active agreement `id` ends at the start of `on`
/// and an agreement for `unit_id` (the same or a larger kind, at the same
/// site) starts at that same instant, in one transaction: no gap, no
/// overlap, and nothing changes if either part is refused.
pub(super) async fn move_agreement(
    svc: &Services,
    actor: &Actor,
    id: i64,
    input: &MoveInput,
) -> Result<AgreementView> {
    let now = svc.now();
    let mut c = Checker::default();
    let dates = interval(&mut c, "on", &input.on, &input.end);
    if let Some(rent) = input.monthly_rent_fen {
        in_range(&mut c, "monthly_rent_fen", rent, 0, 100_000_000_000);
    }
    c.finish()?;
    let (at, end) = dates.expect("checked");
    svc.guarded(async |tx, guard| {
        let old = lock_agreement(tx, id).await?;
        let old_unit = load_unit(tx, old.unit_id).await?;
        let unit = load_unit(tx, input.unit_id).await?;
        authorize(
            actor,
            Action::Update,
            premises(old_unit.community_id, &old_unit.district),
        )?;
        authorize(
            actor,
            Action::Update,
            premises(unit.community_id, &unit.district),
        )?;
        if old.status != "active" {
            return Err(conflict(ErrorCode::NotActive, "status"));
        }
        check_end(&old, at)?;
        if unit.id == old_unit.id {
            return Err(refuse("unit_id", "same_unit"));
        }
        if !unit.active {
            return Err(refuse("unit_id", "unit_inactive"));
        }
        if unit.community_id != old_unit.community_id || unit.district != old_unit.district {
            return Err(refuse("unit_id", "unit_elsewhere"));
        }
        if growth_rank(&unit.kind) < growth_rank(&old_unit.kind) {
            return Err(ServiceError::Validation(vec![
                FieldError::new("unit_id", "not_a_growth_step")
                    .with("from", &old_unit.kind)
                    .with("to", &unit.kind),
            ]));
        }
        let rent = input.monthly_rent_fen.unwrap_or(unit.discounted_rent_fen);
        if rent > unit.list_rent_fen {
            return Err(refuse("monthly_rent_fen", "above_list_rent"));
        }
        let before = agreement_view(&old, &old_unit);
        let (programme, enterprise_id, person_id, request_id) = (
            old.programme.clone(),
            old.enterprise_id,
            old.person_id,
            old.request_id,
        );
        let ended = end_at(tx, &old, at, now).await?;
        record_change(
            tx,
            now,
            &actor.audit_label(),
            "space_agreement.end",
            id,
            Some(&before),
            Some(&agreement_view(&ended, &old_unit)),
        )
        .await?;
        let new = NewAgreement {
            unit: &unit,
            request_id,
            programme: &programme,
            enterprise_id,
            person_id,
            start: at,
            end,
            rent,
            status: "active",
            previous_id: Some(id),
            offer_note: None,
        };
        let moved =
            place::insert_agreement(svc, tx, guard, now, actor, new, "space_agreement.move")
                .await?;
        let district = unit.district.parse().ok();
        grant::sync_space_grant(svc, tx, now, &actor.audit_label(), &ended, district).await?;
        Ok(moved)
    })
    .await
}
