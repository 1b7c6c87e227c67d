//! Space requests and their waitlists, offers and agreements.

use super::transition;
use crate::entity::{founder, space_agreement, space_request, space_unit};
use crate::{StoreError, grants};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use std::collections::{BTreeMap, BTreeSet};

/// A request for space about to join its waitlist.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub community_id: Option<i64>,
    pub district: String,
    pub kind: String,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub team_size: i32,
    pub wanted_from: NaiveDate,
    pub months: i32,
    pub note: String,
    pub requested_by: i64,
    pub at: DateTime<Utc>,
    /// The approved application the request delivers, if any (at most one
    /// request per application: a unique index).
    pub application_id: Option<i64>,
}

/// Inserts `request`, waiting. The caller holds the holder's turn
/// (`intervals::lock_key`) for its "one waiting request per queue" check.
pub async fn insert_request(
    tx: &DatabaseTransaction,
    request: NewRequest,
) -> Result<space_request::Model, StoreError> {
    Ok(space_request::ActiveModel {
        community_id: Set(request.community_id),
        district: Set(request.district),
        kind: Set(request.kind),
        programme: Set(request.programme),
        enterprise_id: Set(request.enterprise_id),
        person_id: Set(request.person_id),
        team_size: Set(request.team_size),
        wanted_from: Set(request.wanted_from),
        months: Set(request.months),
        note: Set(request.note),
        status: Set("waiting".to_owned()),
        requested_by: Set(request.requested_by),
        requested_at: Set(request.at),
        updated_at: Set(request.at),
        application_id: Set(request.application_id),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// Moves a request from one of `from` to `to`; `None` when it was in
/// another state.
pub async fn move_request(
    tx: &DatabaseTransaction,
    id: i64,
    from: &[&str],
    to: &str,
    at: DateTime<Utc>,
) -> Result<Option<space_request::Model>, StoreError> {
    use space_request::Column as R;
    transition::<space_request::Entity, _>(
        tx,
        id,
        R::Id,
        R::Status,
        from,
        vec![
            (R::Status, Expr::value(to)),
            (R::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// Sets the status of the request an offer answered (`fulfilled` when
/// accepted, `waiting` again when declined or withdrawn), whatever it was:
/// the offer's row, locked by the caller, orders the answers to it.
pub async fn follow_offer(
    tx: &DatabaseTransaction,
    request: space_request::Model,
    to: &str,
    at: DateTime<Utc>,
) -> Result<space_request::Model, StoreError> {
    let mut model = request.into_active_model();
    model.status = Set(to.to_owned());
    model.updated_at = Set(at);
    Ok(model.update(tx).await?)
}

/// An offer or agreement about to hold a unit.
#[derive(Debug, Clone)]
pub struct NewAgreement {
    pub unit_id: i64,
    pub request_id: Option<i64>,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub list_rent_fen: i64,
    pub monthly_rent_fen: i64,
    /// `offered` or `active`.
    pub status: &'static str,
    pub previous_id: Option<i64>,
    /// The operator's note with an offer.
    pub offer_note: Option<String>,
    pub at: DateTime<Utc>,
}

/// Inserts `agreement`; the database refuses it ([`StoreError::Overlap`])
/// when it overlaps a holding of its unit.
pub async fn insert_agreement(
    tx: &DatabaseTransaction,
    agreement: NewAgreement,
) -> Result<space_agreement::Model, StoreError> {
    Ok(space_agreement::ActiveModel {
        unit_id: Set(agreement.unit_id),
        request_id: Set(agreement.request_id),
        programme: Set(agreement.programme),
        enterprise_id: Set(agreement.enterprise_id),
        person_id: Set(agreement.person_id),
        start_at: Set(agreement.start),
        end_at: Set(agreement.end),
        list_rent_fen: Set(agreement.list_rent_fen),
        monthly_rent_fen: Set(agreement.monthly_rent_fen),
        status: Set(agreement.status.to_owned()),
        previous_id: Set(agreement.previous_id),
        offer_note: Set(agreement.offer_note),
        created_at: Set(agreement.at),
        updated_at: Set(agreement.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// An offer answered: `active` (accepted), `declined` or `withdrawn`;
/// `None` when it is no longer offered.
pub async fn answer_offer(
    tx: &DatabaseTransaction,
    id: i64,
    to: &str,
    at: DateTime<Utc>,
) -> Result<Option<space_agreement::Model>, StoreError> {
    use space_agreement::Column as A;
    transition::<space_agreement::Entity, _>(
        tx,
        id,
        A::Id,
        A::Status,
        &["offered"],
        vec![
            (A::Status, Expr::value(to)),
            (A::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// An active agreement ended early: it holds its unit until `end`; `None`
/// when it is not active.
pub async fn end_agreement(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<Option<space_agreement::Model>, StoreError> {
    use space_agreement::Column as A;
    transition::<space_agreement::Entity, _>(
        tx,
        id,
        A::Id,
        A::Status,
        &["active"],
        vec![
            (A::EndAt, Expr::value(end)),
            (A::Status, Expr::value("ended")),
            (A::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// An accepted agreement that has not begun withdrawn: it no longer holds
/// its unit; `None` when it is not active.
pub async fn withdraw_agreement(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<space_agreement::Model>, StoreError> {
    use space_agreement::Column as A;
    transition::<space_agreement::Entity, _>(
        tx,
        id,
        A::Id,
        A::Status,
        &["active"],
        vec![
            (A::Status, Expr::value("withdrawn")),
            (A::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// The offers and agreements made for request `request_id` that are still
/// offered or active, oldest first.
pub async fn current_agreements_of_request<C: ConnectionTrait>(
    db: &C,
    request_id: i64,
) -> Result<Vec<space_agreement::Model>, StoreError> {
    use space_agreement::Column as A;
    Ok(space_agreement::Entity::find()
        .filter(A::RequestId.eq(request_id))
        .filter(A::Status.is_in(["offered", "active"]))
        .order_by_asc(A::Id)
        .all(db)
        .await?)
}

fn waiting(
    community_id: Option<i64>,
    district: &str,
    kind: &str,
) -> sea_orm::Select<space_request::Entity> {
    use space_request::Column as R;
    let q = space_request::Entity::find()
        .filter(R::Status.eq("waiting"))
        .filter(R::Kind.eq(kind))
        .filter(R::District.eq(district));
    let q = match community_id {
        Some(c) => q.filter(R::CommunityId.eq(c)),
        None => q.filter(R::CommunityId.is_null()),
    };
    q.order_by_asc(R::RequestedAt).order_by_asc(R::Id)
}

/// Whose requests a waitlist serves first: holders of the `support` item
/// (a title's `priority_industrial_space`) on the serving date.
#[derive(Debug, Clone, Copy)]
pub struct Priority<'a> {
    pub support: &'a str,
    pub on: NaiveDate,
}

/// A waiting request in its waitlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub request: space_request::Model,
    /// The holder (the enterprise, one of its founders, or the person)
    /// holds the priority support: served before those who do not.
    pub priority: bool,
}

/// The waitlist of a site (a community, or the district outside them) for
/// a unit kind, in the order it is served: requests with `priority` first,
/// then the others, each in order of arrival. An offer reads it under the
/// queue's turn, so it sees every earlier offer.
pub async fn waiting_queue<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
    district: &str,
    kind: &str,
    priority: Priority<'_>,
) -> Result<Vec<Queued>, StoreError> {
    let requests = waiting(community_id, district, kind).all(db).await?;
    let subjects = holder_subjects(db, &requests).await?;
    let all: BTreeSet<String> = subjects.values().flatten().cloned().collect();
    let holders = grants::holding_support(db, &all, priority.support, priority.on).await?;
    let mut queue: Vec<Queued> = requests
        .into_iter()
        .map(|request| Queued {
            priority: subjects[&request.id].iter().any(|s| holders.contains(s)),
            request,
        })
        .collect();
    // Stable: arrival order is kept within each band.
    queue.sort_by_key(|q| !q.priority);
    Ok(queue)
}

/// For each request, the subjects whose support counts for it: the person,
/// or the enterprise and the persons who found it.
async fn holder_subjects<C: ConnectionTrait>(
    db: &C,
    requests: &[space_request::Model],
) -> Result<BTreeMap<i64, Vec<String>>, StoreError> {
    let enterprises: BTreeSet<i64> = requests.iter().filter_map(|r| r.enterprise_id).collect();
    let mut founders: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    if !enterprises.is_empty() {
        for link in founder::Entity::find()
            .filter(founder::Column::EnterpriseId.is_in(enterprises))
            .all(db)
            .await?
        {
            founders
                .entry(link.enterprise_id)
                .or_default()
                .push(link.person_id);
        }
    }
    Ok(requests
        .iter()
        .map(|r| {
            let mut subjects: Vec<String> = r
                .person_id
                .map(|p| format!("person:{p}"))
                .into_iter()
                .collect();
            if let Some(e) = r.enterprise_id {
                subjects.push(format!("enterprise:{e}"));
                let persons = founders.get(&e).into_iter().flatten();
                subjects.extend(persons.map(|p| format!("person:{p}")));
            }
            (r.id, subjects)
        })
        .collect())
}

/// The waiting request of the enterprise (or else the person) in that
/// waitlist, if any; read under the holder's turn before a new request.
pub async fn waiting_request_of<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
    district: &str,
    kind: &str,
    enterprise_id: Option<i64>,
    person_id: Option<i64>,
) -> Result<Option<space_request::Model>, StoreError> {
    let q = waiting(community_id, district, kind);
    let q = match (enterprise_id, person_id) {
        (Some(e), _) => q.filter(space_request::Column::EnterpriseId.eq(e)),
        (_, p) => q.filter(space_request::Column::PersonId.eq(p)),
    };
    Ok(q.one(db).await?)
}

/// The area (m²) of the units the person holds under `programme` by offers
/// or active agreements overlapping `[start, end)`, each unit counted once;
/// read under the person's area turn (`intervals::lock_key`) when an offer
/// depends on it.
pub async fn area_held<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
    programme: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<i64, StoreError> {
    use space_agreement::Column as A;
    let held = space_agreement::Entity::find()
        .filter(A::PersonId.eq(person_id))
        .filter(A::Programme.eq(programme))
        .filter(A::Status.is_in(["offered", "active"]))
        .filter(A::StartAt.lt(end))
        .filter(A::EndAt.gt(start))
        .all(db)
        .await?;
    let ids: Vec<i64> = held.iter().map(|a| a.unit_id).collect();
    Ok(space_unit::Entity::find()
        .filter(space_unit::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|u| u.area_m2)
        .sum())
}
