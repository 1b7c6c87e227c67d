//! A booking's life after it is written: the institution's decision,
//! cancellation, check-in, and the no-show job.

use super::*;

/// The institution approves or rejects a pending booking.
pub(super) async fn decide_booking(
    svc: &Services,
    actor: &Actor,
    id: i64,
    approve: bool,
) -> Result<BookingView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let b = lock_booking(&tx, id).await?;
    let inst = load(&tx, b.instrument_id).await?;
    authorize(actor, Action::Update, resource(&inst))?;
    if b.status != "pending" {
        return Err(conflict(ErrorCode::NotPending, "status"));
    }
    let before = booking_view(&b);
    let saved = bookings::decide_booking(&tx, id, approve, now)
        .await?
        .ok_or(conflict(ErrorCode::NotPending, "status"))?;
    let after = booking_view(&saved);
    let action = if approve {
        "booking.approve"
    } else {
        "booking.reject"
    };
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        action,
        id,
        Some(&before),
        after,
    )
    .await
}

/// Cancels a booking before it starts. A holder cancelling inside the
/// instrument's notice period still has the hours counted against the
/// quota (`late_cancel`).
pub(super) async fn cancel_booking(svc: &Services, actor: &Actor, id: i64) -> Result<BookingView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let b = lock_booking(&tx, id).await?;
    let inst = load(&tx, b.instrument_id).await?;
    let manages = authorize(actor, Action::Update, resource(&inst)).is_ok();
    if !manages {
        authorize(actor, Action::Update, booking_holding(&tx, &b).await?)?;
    }
    if !matches!(b.status.as_str(), "pending" | "confirmed") {
        return Err(conflict(ErrorCode::NotCancellable, "status"));
    }
    if b.start_at <= now {
        return Err(conflict(ErrorCode::AlreadyStarted, "status"));
    }
    let late = !manages && b.start_at - now < Duration::hours(i64::from(inst.cancel_notice_hours));
    let before = booking_view(&b);
    let saved = bookings::cancel_booking(&tx, id, late, now)
        .await?
        .ok_or(conflict(ErrorCode::NotCancellable, "status"))?;
    let after = booking_view(&saved);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "booking.cancel",
        id,
        Some(&before),
        after,
    )
    .await
}

/// The holder arrives: from half an hour before the start until the
/// no-show grace period has passed.
pub(super) async fn check_in(svc: &Services, actor: &Actor, id: i64) -> Result<BookingView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let b = lock_booking(&tx, id).await?;
    let inst = load(&tx, b.instrument_id).await?;
    authorize_either(
        actor,
        (Action::Update, booking_holding(&tx, &b).await?),
        (Action::Update, resource(&inst)),
    )?;
    if b.status != "confirmed" {
        return Err(conflict(ErrorCode::NotConfirmed, "status"));
    }
    let opens = b.start_at - Duration::minutes(CHECK_IN_EARLY_MINUTES);
    let closes = b.start_at + Duration::minutes(i64::from(inst.no_show_grace_minutes));
    if now < opens || now >= closes.min(b.end_at) {
        return Err(conflict(ErrorCode::CheckInClosed, "status"));
    }
    let before = booking_view(&b);
    let saved = bookings::check_in_booking(&tx, id, now)
        .await?
        .ok_or(conflict(ErrorCode::NotConfirmed, "status"))?;
    let after = booking_view(&saved);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "booking.check_in",
        id,
        Some(&before),
        after,
    )
    .await
}

/// The no-show job, run with the current instant: confirmed bookings not
/// checked into within their grace period are released from `at` on (the
/// rest of the slot can be booked again), and pending bookings whose
/// start has passed unapproved are rejected. Returns how many changed.
pub(super) async fn release_no_shows(svc: &Services, at: DateTime<Utc>) -> Result<usize> {
    let at = stored_instant(at);
    let due = instrument_booking::Entity::find()
        .filter(instrument_booking::Column::Status.is_in(["confirmed", "pending"]))
        .filter(instrument_booking::Column::StartAt.lte(at))
        .order_by_asc(instrument_booking::Column::StartAt)
        .limit(1_000)
        .all(svc.store().db())
        .await?;
    let instruments: BTreeMap<i64, instrument::Model> = instrument::Entity::find()
        .filter(instrument::Column::Id.is_in(due.iter().map(|b| b.instrument_id)))
        .all(svc.store().db())
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let mut changed = 0;
    for b in due {
        let Some(inst) = instruments.get(&b.instrument_id) else {
            continue;
        };
        let grace_over =
            b.start_at + Duration::minutes(i64::from(inst.no_show_grace_minutes)) <= at;
        if b.status == "confirmed" && !grace_over {
            continue;
        }
        let tx = svc.store().begin().await?;
        // Re-read inside the write transaction: a check-in may have won.
        let current = lock_booking(&tx, b.id).await?;
        if current.status != b.status {
            continue;
        }
        let before = booking_view(&current);
        let saved = if b.status == "pending" {
            bookings::expire_booking(&tx, b.id, at).await?
        } else {
            bookings::release_booking(&tx, b.id, b.end_at.min(at)).await?
        };
        // Not reached: the row is locked and its status was just read.
        let Some(saved) = saved else { continue };
        let action = if b.status == "pending" {
            "booking.expire"
        } else {
            "booking.release"
        };
        record_change(
            &tx,
            at,
            "system",
            action,
            b.id,
            Some(&before),
            Some(&booking_view(&saved)),
        )
        .await?;
        tx.commit().await?;
        changed += 1;
    }
    Ok(changed)
}
