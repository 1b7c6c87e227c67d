//! Answers to an offer: accepted, declined or withdrawn.

use super::*;

/// The holder accepts an offer: it becomes the agreement.
pub(super) async fn accept_space_offer(
    svc: &Services,
    actor: &Actor,
    id: i64,
) -> Result<AgreementView> {
    respond_to_offer(
        svc,
        actor,
        id,
        "active",
        "fulfilled",
        "space_agreement.accept",
    )
    .await
}

/// The holder declines an offer: the unit is free again and the request
/// waits again in its place.
pub(super) async fn decline_offer(svc: &Services, actor: &Actor, id: i64) -> Result<AgreementView> {
    respond_to_offer(
        svc,
        actor,
        id,
        "declined",
        "waiting",
        "space_agreement.decline",
    )
    .await
}

/// The operator withdraws an offer not yet accepted.
pub(super) async fn withdraw_offer(
    svc: &Services,
    actor: &Actor,
    id: i64,
) -> Result<AgreementView> {
    respond_to_offer(
        svc,
        actor,
        id,
        "withdrawn",
        "waiting",
        "space_agreement.withdraw",
    )
    .await
}

pub(super) async fn respond_to_offer(
    svc: &Services,
    actor: &Actor,
    id: i64,
    status: &'static str,
    request_status: &'static str,
    action: &'static str,
) -> Result<AgreementView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let a = lock_agreement(&tx, id).await?;
    let unit = load_unit(&tx, a.unit_id).await?;
    let manage = (Action::Update, premises(unit.community_id, &unit.district));
    match status {
        "withdrawn" => authorize(actor, manage.0, manage.1)?,
        _ => authorize(actor, Action::Update, agreement_holding(&a, &unit))?,
    }
    if a.status != "offered" {
        return Err(conflict(ErrorCode::NotOffered, "status"));
    }
    let before = agreement_view(&a, &unit);
    let request_id = a.request_id;
    let saved = bookings::answer_offer(&tx, id, status, now)
        .await?
        .ok_or(conflict(ErrorCode::NotOffered, "status"))?;
    let after = agreement_view(&saved, &unit);
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        action,
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    if let Some(rid) = request_id
        && let Some(r) = space_request::Entity::find_by_id(rid).one(&tx).await?
    {
        let rb = request_view(&r, None);
        let rs = bookings::follow_offer(&tx, r, request_status, now).await?;
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "space_request.update",
            rid,
            Some(&rb),
            Some(&request_view(&rs, None)),
        )
        .await?;
    }
    if status == "active" {
        let district = unit.district.parse().ok();
        grant::sync_space_grant(svc, &tx, now, &actor.audit_label(), &saved, district).await?;
    }
    tx.commit().await?;
    Ok(after)
}
