//! Asking for space and withdrawing the request.

use super::*;

/// A request for space; it waits in its site's queue for its unit kind.
pub(super) async fn request_space(
    svc: &Services,
    actor: &Actor,
    input: &SpaceRequestInput,
) -> Result<RequestView> {
    let now = svc.now();
    let db = svc.store().db();
    let mut c = Checker::default();
    let kind = one_of(&mut c, "kind", &input.kind, &UNIT_KINDS);
    in_range(&mut c, "team_size", i64::from(input.team_size), 1, 1_000);
    in_range(&mut c, "months", i64::from(input.months), 1, 120);
    let wanted_from = required_date(&mut c, "wanted_from", &input.wanted_from);
    let note = c
        .optional_text("note", input.note.as_deref(), 1_000)
        .unwrap_or_default();
    let (programme, district) = match input.community_id {
        Some(id) => {
            if input.enterprise_id.is_none() {
                c.push(FieldError::new("enterprise_id", "required"));
            }
            if input.person_id.is_some() {
                c.push(FieldError::new("person_id", "not_for_communities"));
            }
            let found = community::Entity::find_by_id(id).one(db).await?;
            if found.is_none() {
                c.push(FieldError::new("community_id", "unknown_community"));
            }
            (
                OPC_WORKSPACE,
                found.and_then(|f| f.district.parse::<District>().ok()),
            )
        }
        None => {
            if input.person_id.is_none() {
                c.push(FieldError::new("person_id", "required"));
            }
            if input.enterprise_id.is_some() {
                c.push(FieldError::new("enterprise_id", "only_in_communities"));
            }
            (
                YOUNG_TALENT,
                c.district("district", input.district.as_deref().unwrap_or("")),
            )
        }
    };
    if let Some(e) = input.enterprise_id
        && enterprise::Entity::find_by_id(e).one(db).await?.is_none()
    {
        c.push(FieldError::new("enterprise_id", "unknown_enterprise"));
    }
    if let Some(p) = input.person_id
        && person::Entity::find_by_id(p).one(db).await?.is_none()
    {
        c.push(FieldError::new("person_id", "unknown_person"));
    }
    c.finish()?;
    let district = district.expect("checked");
    authorize(
        actor,
        Action::Create,
        Resource::Holding {
            enterprise_id: input.enterprise_id,
            person_id: input.person_id,
            district: Some(district),
        },
    )?;
    // A team no unit of the site can hold would wait for ever.
    let largest =
        opcity_store::spaces::largest_capacity(db, input.community_id, district.id(), &kind)
            .await?;
    if let Some(largest) = largest.filter(|l| *l < input.team_size) {
        return Err(ServiceError::Validation(vec![
            FieldError::new("team_size", "team_too_large").with("max", largest),
        ]));
    }
    let tx = svc.store().begin().await?;
    lock_key(&tx, &holder_turn(input.enterprise_id, input.person_id)).await?;
    let already = bookings::waiting_request_of(
        &tx,
        input.community_id,
        district.id(),
        &kind,
        input.enterprise_id,
        input.person_id,
    )
    .await?;
    if already.is_some() {
        return Err(conflict(ErrorCode::AlreadyWaiting, "kind"));
    }
    let request = bookings::NewRequest {
        community_id: input.community_id,
        district: district.id().to_owned(),
        kind,
        programme: programme.to_owned(),
        enterprise_id: input.enterprise_id,
        person_id: input.person_id,
        team_size: input.team_size,
        wanted_from: wanted_from.expect("checked"),
        months: input.months,
        note,
        requested_by: actor.account_id,
        at: now,
        application_id: None,
    };
    let saved = bookings::insert_request(&tx, request).await?;
    let place = views::place_in(&tx, &saved, now).await?;
    let view = request_view(&saved, place);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "space_request.create",
        saved.id,
        None,
        view,
    )
    .await
}

/// The holder withdraws a waiting request.
pub(super) async fn withdraw_space_request(
    svc: &Services,
    actor: &Actor,
    id: i64,
) -> Result<RequestView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let r = space_request::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(ServiceError::NotFound { entity: "request" })?;
    authorize_either(
        actor,
        (Action::Update, holding_of(&r)),
        (Action::Update, premises(r.community_id, &r.district)),
    )?;
    if r.status != "waiting" {
        return Err(conflict(ErrorCode::RequestNotWaiting, "status"));
    }
    let before = request_view(&r, None);
    let saved = bookings::move_request(&tx, id, &["waiting"], "withdrawn", now)
        .await?
        .ok_or(conflict(ErrorCode::RequestNotWaiting, "status"))?;
    bookings::close_open_amendments(&tx, id, actor.account_id, now).await?;
    let after = request_view(&saved, None);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "space_request.withdraw",
        id,
        Some(&before),
        after,
    )
    .await
}
