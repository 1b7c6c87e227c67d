//! Booking an instrument: opening hours, the slot grid, the weekly quota
//! and a free interval (the group commit writes it: `booking_group`).

use super::*;

/// Books `[start, end)` for an enterprise: inside opening hours on the
/// slot grid, within the weekly quota, on a free interval. Pending until
/// approved when the instrument requires approval.
pub(super) async fn book_instrument(
    svc: &Services,
    actor: &Actor,
    input: &BookingInput,
) -> Result<BookingView> {
    let now = svc.now();
    let db = svc.store().db();
    let mut c = Checker::default();
    let start = required_instant(&mut c, "start", &input.start);
    let end = required_instant(&mut c, "end", &input.end);
    let purpose = c
        .optional_text("purpose", input.purpose.as_deref(), 500)
        .unwrap_or_default();
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        c.push(FieldError::new("end", "ends_before_start"));
    }
    let firm = enterprise::Entity::find_by_id(input.enterprise_id)
        .one(db)
        .await?;
    if firm.is_none() {
        c.push(FieldError::new("enterprise_id", "unknown_enterprise"));
    }
    c.finish()?;
    let (start, end) = (start.expect("checked"), end.expect("checked"));
    let inst = load(db, input.instrument_id).await?;
    authorize_either(
        actor,
        (
            Action::Create,
            Resource::Holding {
                enterprise_id: Some(input.enterprise_id),
                person_id: None,
                district: firm.and_then(|f| f.district.parse().ok()),
            },
        ),
        (Action::Update, resource(&inst)),
    )?;
    if !inst.active {
        return Err(refuse("instrument_id", "instrument_inactive"));
    }
    if start < stored_instant(now) {
        return Err(refuse("start", "in_the_past"));
    }
    check_opening(&inst, start, end)?;
    let booking = NewBooking {
        requires_approval: inst.requires_approval,
        quota_hours_week: inst.quota_hours_week,
        instrument_id: inst.id,
        enterprise_id: input.enterprise_id,
        booked_by: actor.account_id,
        actor: actor.audit_label(),
        start,
        end,
        purpose,
        at: now,
    };
    svc.in_group(booking).await
}

/// Refuses `booking` when it would take its enterprise over the
/// instrument's weekly quota, counting what `tx` sees. The caller holds
/// the quota's turn (`NewBooking::quota_key`), so two bookings cannot
/// both fit the last hours.
pub(in crate::spaces) async fn check_quota(
    tx: &DatabaseTransaction,
    booking: &NewBooking,
) -> Result<()> {
    let Some(quota) = booking.quota_hours_week else {
        return Ok(());
    };
    let used = minutes_used(
        tx,
        booking.instrument_id,
        booking.enterprise_id,
        booking.start,
    )
    .await?;
    let asked = (booking.end - booking.start).num_minutes();
    if used + asked > i64::from(quota) * 60 {
        return Err(ServiceError::Validation(vec![
            FieldError::new("end", "over_quota")
                .with("quota_hours", quota)
                .with("used_hours", format!("{:.1}", used as f64 / 60.0)),
        ]));
    }
    Ok(())
}

/// Minutes the enterprise holds on the instrument in the ISO week of
/// `at` (Shanghai), late cancellations included.
async fn minutes_used<C: ConnectionTrait>(
    db: &C,
    instrument_id: i64,
    enterprise_id: i64,
    at: DateTime<Utc>,
) -> Result<i64> {
    let monday = week_start(shanghai_date(at));
    let (from, to) = (day_start(monday), day_start(monday + Duration::days(7)));
    Ok(bookings::booked_minutes(db, instrument_id, enterprise_id, from, to).await?)
}
