//! The flat held for a benefit that lapsed: the lease ends after the notice
//! period.

use super::*;
use opcity_store::entity::housing_request;

/// Ends the lease allocated for housing request `request_id` once the
/// benefit it delivers lapsed, holding the flat through `last_day` at most:
/// a lease running past that day ends after it (counting the months begun),
/// one that would only begin later is cancelled. Whoever manages the flat
/// is told. Runs in the lapse's transaction.
pub(super) async fn end_lease_on_lapse(
    svc: &Services,
    tx: &DatabaseTransaction,
    request_id: i64,
    last_day: NaiveDate,
    actor: &Actor,
) -> Result<()> {
    let now = svc.now();
    let request = housing_request::Entity::find_by_id(request_id)
        .one(tx)
        .await?;
    let Some(lease_id) = request.and_then(|r| r.lease_id) else {
        return Ok(());
    };
    let lease = lock_lease(tx, lease_id).await?;
    if !matches!(lease.status.as_str(), "reserved" | "active") {
        return Ok(());
    }
    let unit = load_unit(tx, lease.housing_unit_id).await?;
    let end = last_day + chrono::Days::new(1);
    let until = day_start(end);
    let (saved, action) = if until <= lease.start_at {
        (
            bookings::cancel_lease(tx, lease.id, now).await?,
            "housing_lease.cancel",
        )
    } else if until < lease.end_at {
        let months = months_between_ceil(shanghai_date(lease.start_at), end).max(1);
        (
            bookings::end_lease(tx, lease.id, until, months as i32, now).await?,
            "housing_lease.move_out",
        )
    } else {
        return Ok(());
    };
    let saved = saved.ok_or(conflict(ErrorCode::LeaseNotCurrent, "status"))?;
    let (before, after) = (lease_view(&lease, &unit), lease_view(&saved, &unit));
    let label = actor.audit_label();
    record_change(
        tx,
        now,
        &label,
        action,
        lease.id,
        Some(&before),
        Some(&after),
    )
    .await?;
    allocate::sync_housing_grant(svc, tx, now, actor, lease.person_id, lease.id).await?;
    let subject = format!("housing_lease:{}", lease.id);
    let premises = (unit.community_id, unit.district.as_str());
    super::super::tell_managers(
        tx,
        premises,
        "lease_ends",
        TRANSITIONAL_HOUSING,
        &subject,
        now,
    )
    .await
}
