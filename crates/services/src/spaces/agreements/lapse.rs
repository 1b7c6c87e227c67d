//! The space held for a benefit that lapsed: ended after the notice period.

use super::*;

/// Ends what request `request_id` holds once the benefit it delivers
/// lapsed, holding it through `last_day` at most: an agreement running past
/// that day ends after it, one that would only begin later is withdrawn,
/// and an offer not yet accepted is withdrawn with its request. Whoever
/// manages the premises is told of each. Runs in the lapse's transaction.
pub(super) async fn end_space_on_lapse(
    svc: &Services,
    tx: &DatabaseTransaction,
    request_id: i64,
    last_day: NaiveDate,
    label: &str,
) -> Result<()> {
    let now = svc.now();
    let until = day_start(last_day + chrono::Days::new(1));
    for current in bookings::current_agreements_of_request(tx, request_id).await? {
        let a = lock_agreement(tx, current.id).await?;
        let unit = load_unit(tx, a.unit_id).await?;
        let (saved, action) = match a.status.as_str() {
            "offered" => (
                bookings::answer_offer(tx, a.id, "withdrawn", now).await?,
                "space_agreement.withdraw",
            ),
            "active" if until <= a.start_at => (
                bookings::withdraw_agreement(tx, a.id, now).await?,
                "space_agreement.withdraw",
            ),
            "active" if until < a.end_at => (
                bookings::end_agreement(tx, a.id, until, now).await?,
                "space_agreement.end",
            ),
            _ => continue,
        };
        let saved = saved.ok_or(conflict(ErrorCode::NotActive, "status"))?;
        let (before, after) = (agreement_view(&a, &unit), agreement_view(&saved, &unit));
        record_change(tx, now, label, action, a.id, Some(&before), Some(&after)).await?;
        let district = unit.district.parse().ok();
        grant::sync_space_grant(svc, tx, now, label, &saved, district).await?;
        let subject = format!("space_agreement:{}", a.id);
        let premises = (unit.community_id, unit.district.as_str());
        super::super::tell_managers(tx, premises, "space_ends", &a.programme, &subject, now)
            .await?;
    }
    bookings::move_request(tx, request_id, &["offered"], "withdrawn", now).await?;
    Ok(())
}
