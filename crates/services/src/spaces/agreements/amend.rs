//! Allocation that fits: the operator of a request's site proposes new
//! terms for it — another kind of unit, team size, start or length — with
//! the reason (a desk asked for a team of three becomes an office for
//! three), and the holder accepts or declines; the operator may withdraw a
//! proposal not yet answered. An accepted proposal changes the request,
//! which keeps the time it was made, so in its new waitlist it stands
//! where it would have stood had it asked so at first.
//!
//! The store guards one open proposal per request, answers given once,
//! and terms changed only while the request still waits
//! (`opcity_store::bookings::amendments`).

use super::*;
use opcity_store::bookings::Terms;
use opcity_store::entity::space_request_amendment as amendment;
use opcity_store::notifications::{self, NewNotification};

/// New terms for a waiting request, with the reason the holder reads.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentInput {
    /// `desk`, `office` or `floor`.
    pub kind: String,
    pub team_size: i32,
    /// `YYYY-MM-DD`.
    pub wanted_from: String,
    pub months: i32,
    /// Why the change is proposed (required).
    pub reason: String,
}

/// An open proposal to change a waiting request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AmendmentView {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub team_size: i32,
    pub wanted_from: NaiveDate,
    pub months: i32,
    pub reason: String,
    /// `proposed`, `accepted`, `declined` or `withdrawn`.
    pub status: String,
    pub proposed_at: DateTime<Utc>,
}

pub(super) fn amendment_view(a: &amendment::Model) -> AmendmentView {
    AmendmentView {
        id: a.id,
        request_id: a.request_id,
        kind: a.kind.clone(),
        team_size: a.team_size,
        wanted_from: a.wanted_from,
        months: a.months,
        reason: a.reason.clone(),
        status: a.status.clone(),
        proposed_at: a.proposed_at,
    }
}

fn terms_of(a: &amendment::Model) -> Terms {
    Terms {
        kind: a.kind.clone(),
        team_size: a.team_size,
        wanted_from: a.wanted_from,
        months: a.months,
    }
}

/// A request, its row locked until the transaction ends.
async fn lock_request(tx: &DatabaseTransaction, id: i64) -> Result<space_request::Model> {
    opcity_store::rows::lock_by_id::<space_request::Entity>(tx, id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "request" })
}

/// Only a waiting request's terms change (checked after authorisation, so
/// nobody learns a request's state by asking to change it).
fn check_waiting(r: &space_request::Model) -> Result<()> {
    if r.status != "waiting" {
        return Err(conflict(ErrorCode::RequestNotWaiting, "status"));
    }
    Ok(())
}

/// Only an open proposal of a waiting request is answered.
fn check_open(proposal: &amendment::Model, r: &space_request::Model) -> Result<()> {
    check_waiting(r)?;
    if proposal.status != "proposed" {
        return Err(conflict(ErrorCode::AmendmentAnswered, "status"));
    }
    Ok(())
}

/// A team the site's largest unit of `kind` cannot hold would wait for ever.
async fn check_team_fits<C: ConnectionTrait>(
    db: &C,
    r: &space_request::Model,
    terms: &Terms,
) -> Result<()> {
    let largest =
        opcity_store::spaces::largest_capacity(db, r.community_id, &r.district, &terms.kind)
            .await?;
    match largest {
        Some(largest) if largest < terms.team_size => Err(ServiceError::Validation(vec![
            FieldError::new("team_size", "team_too_large").with("max", largest),
        ])),
        _ => Ok(()),
    }
}

/// The operator proposes new terms for waiting request `request_id`.
pub(super) async fn propose(
    svc: &Services,
    actor: &Actor,
    request_id: i64,
    input: &AmendmentInput,
) -> Result<AmendmentView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let r = lock_request(&tx, request_id).await?;
    authorize(actor, Action::Update, premises(r.community_id, &r.district))?;
    check_waiting(&r)?;
    let mut c = Checker::default();
    let kind = one_of(&mut c, "kind", &input.kind, &UNIT_KINDS);
    in_range(&mut c, "team_size", i64::from(input.team_size), 1, 1_000);
    in_range(&mut c, "months", i64::from(input.months), 1, 120);
    let wanted_from = required_date(&mut c, "wanted_from", &input.wanted_from);
    let reason = c.required_text("reason", &input.reason, 1_000);
    c.finish()?;
    let terms = Terms {
        kind,
        team_size: input.team_size,
        wanted_from: wanted_from.expect("checked"),
        months: input.months,
    };
    let current = Terms {
        kind: r.kind.clone(),
        team_size: r.team_size,
        wanted_from: r.wanted_from,
        months: r.months,
    };
    if terms == current {
        return Err(refuse("kind", "nothing_changes"));
    }
    check_team_fits(&tx, &r, &terms).await?;
    let saved = bookings::propose(&tx, r.id, terms, &reason, actor.account_id, now)
        .await?
        .ok_or(conflict(ErrorCode::AmendmentOpen, "kind"))?;
    tell(svc, &tx, r.requested_by, "space_change_proposed", r.id).await?;
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "space_request.propose",
        r.id,
        None,
        amendment_view(&saved),
    )
    .await
}

/// The holder accepts proposal `id`: the request takes its terms.
pub(super) async fn accept(svc: &Services, actor: &Actor, id: i64) -> Result<RequestView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let (proposal, r) = proposal_and_request(&tx, id).await?;
    authorize(actor, Action::Update, holding_of(&r))?;
    check_open(&proposal, &r)?;
    let terms = terms_of(&proposal);
    check_team_fits(&tx, &r, &terms).await?;
    // One waiting request per holder and queue, as when it was made.
    lock_key(&tx, &holder_turn(r.enterprise_id, r.person_id)).await?;
    let already = bookings::waiting_request_of(
        &tx,
        r.community_id,
        &r.district,
        &terms.kind,
        r.enterprise_id,
        r.person_id,
    )
    .await?;
    if already.is_some_and(|other| other.id != r.id) {
        return Err(conflict(ErrorCode::AlreadyWaiting, "kind"));
    }
    bookings::answer_amendment(&tx, id, "accepted", actor.account_id, now)
        .await?
        .ok_or(conflict(ErrorCode::AmendmentAnswered, "status"))?;
    let before = request_view(&r, None);
    let saved = bookings::apply_terms(&tx, r.id, terms, now)
        .await?
        .ok_or(conflict(ErrorCode::RequestNotWaiting, "status"))?;
    tell(
        svc,
        &tx,
        proposal.proposed_by,
        "space_change_accepted",
        r.id,
    )
    .await?;
    let place = views::place_in(&tx, &saved, now).await?;
    let after = request_view(&saved, place);
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "space_request.amend",
        r.id,
        Some(&before),
        after,
    )
    .await
}

/// The holder declines proposal `id`, or (`withdraw`) its proposer's site
/// takes it back: the request stays as it was.
pub(super) async fn close(
    svc: &Services,
    actor: &Actor,
    id: i64,
    withdraw: bool,
) -> Result<AmendmentView> {
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let (proposal, r) = proposal_and_request(&tx, id).await?;
    let (status, action) = if withdraw {
        authorize(actor, Action::Update, premises(r.community_id, &r.district))?;
        ("withdrawn", "space_request.withdraw_proposal")
    } else {
        authorize(actor, Action::Update, holding_of(&r))?;
        ("declined", "space_request.decline_proposal")
    };
    check_open(&proposal, &r)?;
    let saved = bookings::answer_amendment(&tx, id, status, actor.account_id, now)
        .await?
        .ok_or(conflict(ErrorCode::AmendmentAnswered, "status"))?;
    if !withdraw {
        tell(
            svc,
            &tx,
            proposal.proposed_by,
            "space_change_declined",
            r.id,
        )
        .await?;
    }
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        action,
        r.id,
        Some(&amendment_view(&proposal)),
        amendment_view(&saved),
    )
    .await
}

/// Proposal `id` and its request, whose row is locked (so an offer, a
/// withdrawal or another answer waits for this one) before the proposal is
/// read again.
async fn proposal_and_request(
    tx: &DatabaseTransaction,
    id: i64,
) -> Result<(amendment::Model, space_request::Model)> {
    let not_found = || ServiceError::NotFound { entity: "proposal" };
    let request_id = bookings::amendment(tx, id)
        .await?
        .ok_or_else(not_found)?
        .request_id;
    let r = lock_request(tx, request_id).await?;
    let proposal = bookings::amendment(tx, id).await?.ok_or_else(not_found)?;
    Ok((proposal, r))
}

/// Tells `account` about request `request_id` (in the inbox, and by
/// e-mail when they opted in).
async fn tell(
    svc: &Services,
    tx: &DatabaseTransaction,
    account: i64,
    kind: &'static str,
    request_id: i64,
) -> Result<()> {
    let subject = format!("space_request:{request_id}");
    notifications::insert_all(
        tx,
        &[NewNotification {
            account_id: account,
            kind,
            programme: None,
            subject: Some(&subject),
            at: svc.now(),
        }],
    )
    .await?;
    Ok(())
}
