//! A lease's life: moving in, renewing and moving out.

use super::*;

/// The tenant has the keys: a reserved lease becomes active.
pub(super) async fn move_in(svc: &Services, actor: &Actor, id: i64) -> Result<LeaseView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let lease = lock_lease(&tx, id).await?;
    let unit = load_unit(&tx, lease.housing_unit_id).await?;
    authorize(actor, Action::Update, allocation_of(&tx, &unit).await?)?;
    if lease.status != "reserved" {
        return Err(conflict(ErrorCode::NotReserved, "status"));
    }
    let before = lease_view(&lease, &unit);
    let saved = bookings::move_in(&tx, id, now)
        .await?
        .ok_or(conflict(ErrorCode::NotReserved, "status"))?;
    let after = lease_view(&saved, &unit);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "housing_lease.move_in",
        id,
        Some(&before),
        after,
    )
    .await
}

/// Extends a lease by whole months, within the pack's limit over all the
/// person's leases and only while the unit is free for the extension.
pub(super) async fn renew_lease(
    svc: &Services,
    actor: &Actor,
    id: i64,
    input: &RenewInput,
) -> Result<LeaseView> {
    let now = svc.now();
    let mut c = Checker::default();
    in_range(&mut c, "months", i64::from(input.months), 1, 1_200);
    c.finish()?;
    svc.guarded(async |tx, guard| {
        let lease = lock_lease(tx, id).await?;
        let unit = load_unit(tx, lease.housing_unit_id).await?;
        authorize(actor, Action::Update, allocation_of(tx, &unit).await?)?;
        if !matches!(lease.status.as_str(), "reserved" | "active") {
            return Err(conflict(ErrorCode::LeaseNotCurrent, "status"));
        }
        let person = Subject::Person(lease.person_id);
        opcity_store::grants::lock_subject(tx, &person.to_string()).await?;
        let start = shanghai_date(lease.start_at);
        let max = parameter_on(svc, MAX_MONTHS, start)?;
        let others = allocate::months_used(tx, lease.person_id, Some(id)).await?;
        let total = i64::from(lease.months) + i64::from(input.months);
        if others + total > max {
            return Err(lease_too_long(
                max,
                others + i64::from(lease.months),
                i64::from(input.months),
            ));
        }
        let end = add_months(start, total as u32).ok_or(refuse("months", "out_of_range"))?;
        let end_at = day_start(end);
        guard
            .check(
                tx,
                Claim {
                    kind: Holdings::HousingLeases,
                    resource_id: unit.id,
                    start: lease.start_at,
                    end: end_at,
                    except: Some(id),
                    code: HOUSING_TAKEN,
                    field: "months",
                },
            )
            .await?;
        let before = lease_view(&lease, &unit);
        let saved = bookings::extend_lease(tx, id, end_at, total as i32, now)
            .await?
            .ok_or(conflict(ErrorCode::LeaseNotCurrent, "status"))?;
        let after = lease_view(&saved, &unit);
        record_change(
            tx,
            now,
            &actor.audit_label(),
            "housing_lease.renew",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        allocate::sync_housing_grant(svc, tx, now, actor, saved.person_id, id).await?;
        Ok(after)
    })
    .await
}

/// The tenant leaves: the lease holds the unit until the start of `on`
/// and counts the months actually begun.
pub(super) async fn move_out(
    svc: &Services,
    actor: &Actor,
    id: i64,
    input: &EndInput,
) -> Result<LeaseView> {
    let now = svc.now();
    let mut c = Checker::default();
    let on = required_date(&mut c, "on", &input.on);
    c.finish()?;
    let on = on.expect("checked");
    let tx = svc.store().begin().await?;
    let lease = lock_lease(&tx, id).await?;
    let unit = load_unit(&tx, lease.housing_unit_id).await?;
    authorize(actor, Action::Update, allocation_of(&tx, &unit).await?)?;
    if !matches!(lease.status.as_str(), "reserved" | "active") {
        return Err(conflict(ErrorCode::LeaseNotCurrent, "status"));
    }
    let at = day_start(on);
    if at <= lease.start_at {
        return Err(ServiceError::Validation(vec![
            FieldError::new("on", "ends_before_start").with("start", shanghai_date(lease.start_at)),
        ]));
    }
    if at > lease.end_at {
        return Err(ServiceError::Validation(vec![
            FieldError::new("on", "after_end").with("end", shanghai_date(lease.end_at)),
        ]));
    }
    let before = lease_view(&lease, &unit);
    let months = months_between_ceil(shanghai_date(lease.start_at), on).max(1);
    let person_id = lease.person_id;
    let saved = bookings::end_lease(&tx, id, at, months as i32, now)
        .await?
        .ok_or(conflict(ErrorCode::LeaseNotCurrent, "status"))?;
    let after = lease_view(&saved, &unit);
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "housing_lease.move_out",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    allocate::sync_housing_grant(svc, &tx, now, actor, person_id, id).await?;
    tx.commit().await?;
    Ok(after)
}
