//! Reading requests (with waitlist positions) and agreements.

use super::*;
use std::collections::BTreeMap;

/// Requests the actor may see, oldest first, with waitlist positions.
pub(super) async fn list_space_requests(
    svc: &Services,
    actor: &Actor,
    filter: &AllocationFilter,
) -> Result<Vec<RequestView>> {
    let Some(visible) = scope_condition(
        &allocation_scope(actor),
        &ScopeParts {
            enterprises: &|ids| space_request::Column::EnterpriseId.is_in(ids),
            person: Some(&|p| space_request::Column::PersonId.eq(p)),
            manager: None,
            communities: &|ids| space_request::Column::CommunityId.is_in(ids),
            district: &|d| space_request::Column::District.eq(d),
        },
    ) else {
        return Ok(Vec::new());
    };
    let mut q = space_request::Entity::find().filter(visible);
    if let Some(c) = filter.community_id {
        q = q.filter(space_request::Column::CommunityId.eq(c));
    }
    if let Some(d) = filter.district {
        q = q.filter(space_request::Column::District.eq(d.id()));
    }
    if let Some(k) = &filter.kind {
        q = q.filter(space_request::Column::Kind.eq(k.as_str()));
    }
    if let Some(s) = &filter.status {
        q = q.filter(space_request::Column::Status.eq(s.as_str()));
    }
    let db = svc.store().db();
    let rows = q
        .order_by_asc(space_request::Column::RequestedAt)
        .order_by_asc(space_request::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    let now = svc.now();
    // Each waitlist is read once, however many of its requests are listed.
    let mut queues: BTreeMap<(Option<i64>, String, String), Vec<bookings::Queued>> =
        BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let place = if r.status == "waiting" {
            let key = (r.community_id, r.district.clone(), r.kind.clone());
            if !queues.contains_key(&key) {
                queues.insert(key.clone(), queue_of(db, r, now).await?);
            }
            place_of(&queues[&key], r)
        } else {
            None
        };
        out.push(request_view(r, place));
    }
    let waiting = out.iter().filter(|r| r.status == "waiting").map(|r| r.id);
    let proposals = bookings::open_amendments(db, waiting.collect::<Vec<_>>()).await?;
    for p in &proposals {
        if let Some(r) = out.iter_mut().find(|r| r.id == p.request_id) {
            r.proposal = Some(super::amend::amendment_view(p));
        }
    }
    crate::name_parties(db, &mut out).await?;
    Ok(out)
}

/// Where `r` stands in its waitlist on `now`'s date, while it waits.
pub(super) async fn place_in<C: ConnectionTrait>(
    db: &C,
    r: &space_request::Model,
    now: DateTime<Utc>,
) -> Result<Option<Place>> {
    if r.status != "waiting" {
        return Ok(None);
    }
    Ok(place_of(&queue_of(db, r, now).await?, r))
}

/// The waitlist `r` waits in, in serving order on `now`'s date.
async fn queue_of<C: ConnectionTrait>(
    db: &C,
    r: &space_request::Model,
    now: DateTime<Utc>,
) -> Result<Vec<bookings::Queued>> {
    Ok(
        bookings::waiting_queue(db, r.community_id, &r.district, &r.kind, serving_order(now))
            .await?,
    )
}

/// Where `r` stands in `queue`, if it is in it.
fn place_of(queue: &[bookings::Queued], r: &space_request::Model) -> Option<Place> {
    let p = queue.iter().position(|q| q.request.id == r.id)?;
    Some(Place {
        position: p as i64 + 1,
        priority: queue[p].priority,
    })
}

pub(super) async fn get_agreement(svc: &Services, actor: &Actor, id: i64) -> Result<AgreementView> {
    let db = svc.store().db();
    let a = load_agreement(db, id).await?;
    let unit = load_unit(db, a.unit_id).await?;
    authorize_either(
        actor,
        (Action::Read, agreement_holding(&a, &unit)),
        (Action::Update, premises(unit.community_id, &unit.district)),
    )?;
    let mut view = agreement_view(&a, &unit);
    crate::name_parties(db, [&mut view]).await?;
    Ok(view)
}

/// Agreements and offers the actor may see, by start.
pub(super) async fn list_agreements(
    svc: &Services,
    actor: &Actor,
    filter: &AllocationFilter,
) -> Result<Vec<AgreementView>> {
    let units = UnitTable {
        table: space_unit::Entity,
        id: space_unit::Column::Id,
        community: space_unit::Column::CommunityId,
        district: space_unit::Column::District,
    };
    let Some(visible) = holdings_by_unit(
        &allocation_scope(actor),
        space_agreement::Column::EnterpriseId,
        space_agreement::Column::PersonId,
        space_agreement::Column::UnitId,
        &units,
    ) else {
        return Ok(Vec::new());
    };
    let mut q = space_agreement::Entity::find().filter(visible);
    let mut site = Condition::all();
    if let Some(c) = filter.community_id {
        site = site.add(space_unit::Column::CommunityId.eq(c));
    }
    if let Some(d) = filter.district {
        site = site.add(space_unit::Column::District.eq(d.id()));
    }
    if let Some(k) = &filter.kind {
        site = site.add(space_unit::Column::Kind.eq(k.as_str()));
    }
    if !site.is_empty() {
        q = q.filter(units.holdings_where(space_agreement::Column::UnitId, site));
    }
    if let Some(s) = &filter.status {
        q = q.filter(space_agreement::Column::Status.eq(s.as_str()));
    }
    let db = svc.store().db();
    let rows = q
        .order_by_asc(space_agreement::Column::StartAt)
        .order_by_asc(space_agreement::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    let units = crate::rows_by_id::<space_unit::Entity, _>(
        db,
        space_unit::Column::Id,
        rows.iter().map(|a| a.unit_id),
        |u| u.id,
    )
    .await?;
    let mut views: Vec<AgreementView> = rows
        .iter()
        .filter_map(|a| units.get(&a.unit_id).map(|u| agreement_view(a, u)))
        .collect();
    crate::name_parties(db, &mut views).await?;
    Ok(views)
}
