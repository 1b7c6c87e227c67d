//! Offering a unit to a waiting request, in waitlist order; or, as an
//! alternative, a unit of another kind that nobody waiting for that kind
//! can take, with a note saying why.

use super::*;

/// The operator offers a unit to a waiting request; the offer holds the
/// unit over `[start, end)` until it is accepted, declined or withdrawn.
/// A unit of another kind than asked is an alternative: it needs a note,
/// and goes to the request only if nobody earlier in either waitlist — the
/// request's, the unit's kind's — fits it.
pub(super) async fn offer_space(
    svc: &Services,
    actor: &Actor,
    input: &OfferInput,
) -> Result<AgreementView> {
    let now = svc.now();
    let mut c = Checker::default();
    let dates = interval(&mut c, "start", &input.start, &input.end);
    if let Some(rent) = input.monthly_rent_fen {
        in_range(&mut c, "monthly_rent_fen", rent, 0, 100_000_000_000);
    }
    let note = c.optional_text("note", input.note.as_deref(), 500);
    c.finish()?;
    let (start, end) = dates.expect("checked");
    svc.guarded(async |tx, guard| {
        let r = space_request::Entity::find_by_id(input.request_id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "request" })?;
        let unit = load_unit(tx, input.unit_id).await?;
        authorize(
            actor,
            Action::Update,
            premises(unit.community_id, &unit.district),
        )?;
        // The request's site too, before anything about the request is
        // locked or answered: nobody learns of requests elsewhere.
        authorize(actor, Action::Update, premises(r.community_id, &r.district))?;
        // One offer at a time per queue, so the order checks below see
        // every earlier offer (PostgreSQL; SQLite writers are serial).
        let site = r
            .community_id
            .map_or_else(|| r.district.clone(), |c| c.to_string());
        let queues = [&r.kind, &unit.kind].map(|kind| format!("space_queue:{site}:{kind}"));
        opcity_store::intervals::lock_keys(tx, &queues.into_iter().collect()).await?;
        // The request's row is locked, so a change of its terms accepted
        // meanwhile is seen here (or waits for this offer).
        let kind_read = r.kind.clone();
        let r = opcity_store::rows::lock_by_id::<space_request::Entity>(tx, r.id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "request" })?;
        // Its terms changed meanwhile (an accepted proposal): the queue
        // locked above is no longer its own; the caller tries again.
        if r.kind != kind_read {
            return Err(conflict(ErrorCode::Contention, "request_id"));
        }
        if r.status != "waiting" {
            return Err(conflict(ErrorCode::RequestNotWaiting, "request_id"));
        }
        let alternative = unit.kind != r.kind;
        if alternative && note.is_none() {
            return Err(ServiceError::Validation(vec![
                FieldError::new("note", "alternative_needs_note")
                    .with("wanted", &r.kind)
                    .with("offered", &unit.kind),
            ]));
        }
        check_unit_fits(&unit, &r)?;
        // Served in order: nobody earlier in this queue fits the unit (for
        // an alternative, nobody at all in the unit's own kind's queue).
        let mut kinds = vec![&r.kind];
        if alternative {
            kinds.push(&unit.kind);
        }
        for kind in kinds {
            let queue =
                bookings::waiting_queue(tx, r.community_id, &r.district, kind, serving_order(now))
                    .await?;
            if queue
                .iter()
                .take_while(|q| q.request.id != r.id)
                .any(|q| q.request.team_size <= unit.capacity)
            {
                return Err(conflict(ErrorCode::WaitlistOrder, "request_id"));
            }
        }
        let rent = input.monthly_rent_fen.unwrap_or(unit.discounted_rent_fen);
        if rent > unit.list_rent_fen {
            return Err(refuse("monthly_rent_fen", "above_list_rent"));
        }
        let new = NewAgreement {
            unit: &unit,
            request_id: Some(r.id),
            programme: &r.programme,
            enterprise_id: r.enterprise_id,
            person_id: r.person_id,
            start,
            end,
            rent,
            status: "offered",
            previous_id: None,
            offer_note: note,
        };
        let view =
            place::insert_agreement(svc, tx, guard, now, actor, new, "space_agreement.offer")
                .await?;
        let before = request_view(&r, None);
        let saved = bookings::move_request(tx, r.id, &["waiting"], "offered", now)
            .await?
            .ok_or(conflict(ErrorCode::RequestNotWaiting, "request_id"))?;
        bookings::close_open_amendments(tx, r.id, actor.account_id, now).await?;
        record_change(
            tx,
            now,
            &actor.audit_label(),
            "space_request.offer",
            saved.id,
            Some(&before),
            Some(&request_view(&saved, None)),
        )
        .await?;
        Ok(view)
    })
    .await
}

/// Offers a unit to the first waiting request of its site and kind, in
/// serving order, whose team fits it.
pub(super) async fn serve_waitlist(
    svc: &Services,
    actor: &Actor,
    input: &ServeInput,
) -> Result<AgreementView> {
    let db = svc.store().db();
    let unit = load_unit(db, input.unit_id).await?;
    authorize(
        actor,
        Action::Update,
        premises(unit.community_id, &unit.district),
    )?;
    let queue = bookings::waiting_queue(
        db,
        unit.community_id,
        &unit.district,
        &unit.kind,
        serving_order(svc.now()),
    )
    .await?;
    let next = queue
        .iter()
        .find(|q| q.request.team_size <= unit.capacity)
        .ok_or(conflict(ErrorCode::WaitlistEmpty, "unit_id"))?;
    svc.offer_space(
        actor,
        &OfferInput {
            request_id: next.request.id,
            unit_id: unit.id,
            start: input.start.clone(),
            end: input.end.clone(),
            monthly_rent_fen: input.monthly_rent_fen,
            note: None,
        },
    )
    .await
}
