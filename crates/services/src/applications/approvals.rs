//! Group commit for approvals, as for submissions (`submissions.rs`). Every
//! approval against one budget must take that budget's row lock, so one at
//! a time would hold it through a commit each; a group holds it once for
//! all the approvals that arrived meanwhile.
//!
//! A request only queues. A group reads the applications, their cases and
//! the budgets with one query per table, and decides each approval in
//! memory as `review_application` would alone: allowed, no conflict of
//! interest, scored, still eligible, within the programme's figure and the
//! beneficiary's cap ([`super::caps`]). Then one
//! transaction:
//! 1. locks the applications, reads the approvals already given to them
//!    (so two reviewers approving one four-eyes application at once, in
//!    one group or two, are seen by whichever comes second), and then locks
//!    their budgets in id order;
//! 2. decides each approval in the order they came: refused when its
//!    reviewer already approved and waits for a second (one person never
//!    counts twice) or its amount differs from an approval already given
//!    without saying so (`different_amount_confirmed`); waiting for a second
//!    reviewer when the programme asks for two and nobody has approved yet,
//!    else admitted while its budget has room (each other one is refused
//!    with what is left, `budget_insufficient`, or `no_budget`);
//! 3. writes the admitted moves with one guarded UPDATE, then the reviews,
//!    history, notifications and audit entries with one INSERT per table;
//! 4. reserves the admitted amounts: their movements in one INSERT and one
//!    guarded UPDATE of each budget's sum ([`opcity_store::budget::reserve_all`]);
//!
//! and commits. Each approval is answered on its own, and a refused one
//! leaves nothing. When a group fails as a whole (the database), or the
//! committers are gone, each approval is decided alone, the same way.

use super::budgets::no_budget;
use super::caps::CapRoom;
use super::moves::{
    Moved, Step, party, record_moves, requested, resource, state_changed, states_through,
};
use super::review::{
    ReviewInput, Terms, approval_terms, check_conflict_of_interest, check_scores, review_row,
};
use super::views::{ApplicationView, view};
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::groups::{GroupWork, merge};
use chrono::{DateTime, Utc};
use opcity_domain::application::{Event, Party, State};
use opcity_store::WriteTx;
use opcity_store::applications::{self as store, DecidedMove, Move, NewReview};
use opcity_store::budget::{Cause, Reservation, lock_remaining, reserve_all};
use opcity_store::entity::application;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many approvals share one group.
const MAX_GROUP: usize = 256;
const COMMITTERS: usize = 2;

/// An approval as its request leaves it.
#[derive(Debug, Clone)]
pub(crate) struct ApproveRequest {
    pub actor: Actor,
    pub application_id: i64,
    pub input: ReviewInput,
    pub at: DateTime<Utc>,
}

impl GroupWork for ApproveRequest {
    type Answer = ApplicationView;
    const COMMITTERS: usize = COMMITTERS;
    const MAX_GROUP: usize = MAX_GROUP;

    async fn work(
        services: &Services,
        group: &[Self],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<ApplicationView>>> {
        services.approve_group(group, pass_turn).await
    }
}

/// An approval decided in memory but for the second reviewer: what its
/// transaction writes.
struct Decided<'a> {
    request: &'a ApproveRequest,
    app: &'a application::Model,
    party: Party,
    label: String,
    score: Option<i32>,
    /// Above the programme's threshold: another reviewer must approve too.
    second_review: bool,
    /// The amount approved, if the programme grants money.
    amount: Option<i64>,
    /// The amount and the budget it is reserved in, should the approval
    /// complete (`Err`: no budget to pay from).
    reserve: std::result::Result<Option<(i64, i64)>, NoBudget>,
    states: Vec<State>,
}

/// The budget an approval would be paid from does not exist.
#[derive(Debug, Clone)]
struct NoBudget {
    authority: String,
    year: i32,
}

/// What an approval does, decided in its group's transaction with the
/// application locked, so that the approvals already given are all seen.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Above the programme's threshold with no other reviewer's approval
    /// yet: only the review is written.
    AwaitsSecond,
    /// The application moves; the amount is reserved in the budget.
    Approve { reserve: Option<(i64, i64)> },
}

impl Decided<'_> {
    fn step(&self) -> Step<'_> {
        Step {
            event: Event::Approve,
            party: self.party,
            actor: &self.label,
            comment: super::review::applicant_reason(&self.request.input),
        }
    }
}

/// An approval decided but for its budget: what the engine and the
/// programme grant.
struct Granted<'a> {
    app: &'a application::Model,
    party: Party,
    score: Option<i32>,
    terms: Terms,
}

impl Services {
    /// One group: reads for all, decides each, writes all that pass in one
    /// transaction. The outer error means the group failed as a whole.
    async fn approve_group(
        &self,
        requests: &[ApproveRequest],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<ApplicationView>>> {
        let ids = requests.iter().map(|r| r.application_id);
        let apps = store::find_many(self.store().db(), ids).await?;
        let granted = self.grant_each(requests, &apps).await?;
        let decided = self.with_budgets(requests, granted).await?;
        let ready: Vec<&Decided<'_>> = decided.iter().filter_map(|d| d.as_ref().ok()).collect();
        let written = self.write_approvals(&ready, pass_turn).await?;
        Ok(merge(decided, written))
    }

    /// Checks each approval as `review_application` does, in its order, up
    /// to the budget: the engine's result comes from cases read for the
    /// whole group at once, and each approval counts against its
    /// beneficiary's cap for the ones after it.
    async fn grant_each<'a>(
        &self,
        requests: &[ApproveRequest],
        apps: &'a BTreeMap<i64, application::Model>,
    ) -> Result<Vec<Result<Granted<'a>>>> {
        let cases = self.cases_of_applications(apps).await?;
        let today = opcity_domain::today_in_shanghai(self.now());
        let mut room = CapRoom::read(self, apps, today).await?;
        Ok(requests
            .iter()
            .map(|request| {
                let app = requested(apps, request.application_id)?;
                let (actor, input) = (&request.actor, &request.input);
                authorize(actor, Action::Update, resource(app))?;
                check_conflict_of_interest(actor, app, input.no_conflict_declared)?;
                let party = party(actor, app);
                if party == Party::Applicant {
                    return Err(ServiceError::Forbidden);
                }
                let score = check_scores(self, app, input)?;
                let current = self.explanation(&cases[&app.id], &app.programme)?;
                let terms = approval_terms(self, app, input, party, &current, request.at)?;
                room.take(app, terms.amount)?;
                Ok(Granted {
                    app,
                    party,
                    score,
                    terms,
                })
            })
            .collect())
    }

    /// Finds the budget each approval's amount would be reserved in (one
    /// query for the group) and checks the move is one the application may
    /// take.
    async fn with_budgets<'a>(
        &self,
        requests: &'a [ApproveRequest],
        granted: Vec<Result<Granted<'a>>>,
    ) -> Result<Vec<Result<Decided<'a>>>> {
        let wanted = || {
            granted
                .iter()
                .filter_map(|g| g.as_ref().ok())
                .filter(|g| g.terms.amount.is_some())
        };
        let programmes: BTreeSet<&str> = wanted().map(|g| g.app.programme.as_str()).collect();
        let years: BTreeSet<i32> = wanted().map(|g| g.terms.year).collect();
        let budgets = if programmes.is_empty() {
            Vec::new()
        } else {
            store::budgets::of_programmes(self.store().db(), programmes, years).await?
        };
        let budget_of = |g: &Granted<'_>| {
            budgets
                .iter()
                .find(|b| {
                    b.programme == g.app.programme
                        && b.year == g.terms.year
                        && b.authority == g.terms.authority
                })
                .map(|b| b.id)
                .ok_or_else(|| NoBudget {
                    authority: g.terms.authority.clone(),
                    year: g.terms.year,
                })
        };
        Ok(requests
            .iter()
            .zip(granted)
            .map(|(request, granted)| {
                let g = granted?;
                let reserve = match g.terms.amount {
                    Some(amount) => budget_of(&g).map(|budget| Some((budget, amount))),
                    None => Ok(None),
                };
                let mut decided = Decided {
                    request,
                    app: g.app,
                    party: g.party,
                    label: request.actor.audit_label(),
                    score: g.score,
                    second_review: g.terms.second_review,
                    amount: g.terms.amount,
                    reserve,
                    states: Vec::new(),
                };
                // Only an application the approval could move is reviewed,
                // even while it waits for a second reviewer.
                decided.states = states_through(g.app, &[decided.step()])?;
                Ok(decided)
            })
            .collect())
    }

    /// The group's transaction (see the module docs).
    async fn write_approvals(
        &self,
        decided: &[&Decided<'_>],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<ApplicationView>>> {
        if decided.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.store().begin().await?;
        let movable = lock_movable(&tx, decided).await?;
        // Read with the applications locked: every approval committed
        // before is seen, and one committed after sees this group's.
        let mut approvers = approvers_since_submission(&tx, decided).await?;
        let budget_ids: BTreeSet<i64> = decided
            .iter()
            .filter_map(|d| d.reserve.as_ref().ok().copied().flatten())
            .map(|(budget, _)| budget)
            .collect();
        let mut remaining = lock_remaining(&tx, &budget_ids).await?;
        let mut moving = BTreeSet::new();
        let outcomes: Vec<Result<Outcome>> = decided
            .iter()
            .map(|d| {
                // The same application twice in a group: the first approval
                // moves it and the others find it moved.
                if !movable.contains(&d.app.id) || moving.contains(&d.app.id) {
                    return Err(state_changed());
                }
                let given = approvers.entry(d.app.id).or_default();
                let reviewer = d.request.actor.account_id;
                check_four_eyes(d, given)?;
                if d.second_review && given.is_empty() {
                    given.insert(reviewer, d.amount);
                    return Ok(Outcome::AwaitsSecond);
                }
                let reserve = d.reserve.clone().map_err(|missing| {
                    no_budget(&d.app.programme, &missing.authority, missing.year)
                })?;
                if let Some((budget_id, amount)) = reserve {
                    let left = remaining
                        .get_mut(&budget_id)
                        .ok_or(ServiceError::NotFound { entity: "budget" })?;
                    if amount > *left {
                        return Err(ServiceError::Validation(vec![
                            FieldError::new("amount_fen", "budget_insufficient")
                                .with("remaining_fen", *left),
                        ]));
                    }
                    *left -= amount;
                }
                moving.insert(d.app.id);
                given.insert(reviewer, d.amount);
                Ok(Outcome::Approve { reserve })
            })
            .collect();
        let approving: Vec<(&Decided<'_>, Option<(i64, i64)>)> = decided
            .iter()
            .zip(&outcomes)
            .filter_map(|(d, outcome)| match outcome {
                Ok(Outcome::Approve { reserve }) => Some((*d, *reserve)),
                _ => None,
            })
            .collect();
        let mut moved = update_approved(&tx, &approving).await?;
        let written: Vec<Result<Written>> = outcomes
            .into_iter()
            .zip(decided)
            .map(|(outcome, d)| match outcome? {
                Outcome::AwaitsSecond => Ok(Written::AwaitsSecond),
                Outcome::Approve { reserve } => moved
                    .remove(&d.app.id)
                    .map(|after| Written::Approved(Box::new(Approved { after, reserve })))
                    .ok_or_else(state_changed),
            })
            .collect();
        record_approvals(&tx, decided, &written).await?;
        pass_turn();
        tx.commit().await?;
        Ok(decided
            .iter()
            .zip(written)
            .map(|(d, written)| {
                Ok(match written? {
                    Written::Approved(approved) => view(&approved.after, d.request.at, false),
                    Written::AwaitsSecond => view(d.app, d.request.at, true),
                })
            })
            .collect())
    }
}

/// What an approval wrote.
enum Written {
    Approved(Box<Approved>),
    /// Only the review: a second reviewer must approve too.
    AwaitsSecond,
}

/// An application approved: as moved, and what was reserved for it.
struct Approved {
    after: application::Model,
    reserve: Option<(i64, i64)>,
}

/// Four eyes: an approval waiting for a second reviewer is not approved
/// again by the same reviewer (one person never counts twice), and a
/// second approval of another amount says so
/// (`different_amount_confirmed`). `given`: reviewer → amount of the
/// approvals already given since the last submission.
fn check_four_eyes(d: &Decided<'_>, given: &BTreeMap<i64, Option<i64>>) -> Result<()> {
    let reviewer = d.request.actor.account_id;
    if d.second_review && given.contains_key(&reviewer) {
        return Err(ServiceError::invalid("decision", "already_approved_by_you"));
    }
    let other = given.values().copied().find(|amount| *amount != d.amount);
    if let Some(first) = other
        && !d.request.input.different_amount_confirmed
    {
        return Err(ServiceError::Validation(vec![
            FieldError::new("amount_fen", "differs_from_first_approval")
                .with("first_fen", first.unwrap_or(0)),
        ]));
    }
    Ok(())
}

/// The reviewers who approved each of the group's applications since it
/// was last submitted, with their amounts.
async fn approvers_since_submission(
    tx: &WriteTx,
    decided: &[&Decided<'_>],
) -> Result<BTreeMap<i64, BTreeMap<i64, Option<i64>>>> {
    let since: BTreeMap<i64, DateTime<Utc>> = decided
        .iter()
        .map(|d| (d.app.id, d.app.submitted_at.unwrap_or(d.app.created_at)))
        .collect();
    Ok(store::approvers_since(tx, &since).await?)
}

/// What the written approvals leave: reviews (also of those waiting for a
/// second reviewer), and for those approved the history, notifications,
/// audit entries, and last (their budgets are locked already) the
/// reservations.
async fn record_approvals(
    tx: &WriteTx,
    decided: &[&Decided<'_>],
    written: &[Result<Written>],
) -> Result<()> {
    let written: Vec<(&Decided<'_>, &Written)> = decided
        .iter()
        .zip(written)
        .filter_map(|(d, w)| Some((*d, w.as_ref().ok()?)))
        .collect();
    if written.is_empty() {
        return Ok(());
    }
    let reviews: Vec<_> = written
        .iter()
        .map(|(d, _)| NewReview {
            // The amount approved, also where the engine's fixed figure
            // stood for an amount not typed: what four eyes compare.
            amount_fen: d.amount,
            ..review_row(
                &d.request.actor,
                d.app,
                &d.request.input,
                d.score,
                d.request.at,
            )
        })
        .collect();
    store::insert_reviews(tx, &reviews).await?;
    let approved: Vec<(&Decided<'_>, &Approved, [Step<'_>; 1])> = written
        .iter()
        .filter_map(|(d, w)| match w {
            Written::Approved(approved) => Some((*d, &**approved, [d.step()])),
            Written::AwaitsSecond => None,
        })
        .collect();
    let moves: Vec<Moved<'_>> = approved
        .iter()
        .map(|(d, approved, steps)| Moved {
            before: d.app,
            after: &approved.after,
            steps,
            states: &d.states,
            at: d.request.at,
        })
        .collect();
    record_moves(tx, &moves).await?;
    let reservations: Vec<Reservation<'_>> = approved
        .iter()
        .filter_map(|(d, approved, _)| {
            let (budget_id, amount_fen) = approved.reserve?;
            Some(Reservation {
                budget_id,
                amount_fen,
                cause: Cause {
                    actor: &d.label,
                    application_id: Some(d.app.id),
                    disbursement_id: None,
                    at: d.request.at,
                },
            })
        })
        .collect();
    reserve_all(tx, &reservations)
        .await
        .map_err(super::budgets::budget_error)?;
    Ok(())
}

/// The applications of the group's approvals still as they were decided on
/// (state and form), locked until the transaction ends on PostgreSQL (on
/// SQLite the write transaction holds the database).
async fn lock_movable(tx: &WriteTx, decided: &[&Decided<'_>]) -> Result<BTreeSet<i64>> {
    let apps: Vec<&application::Model> = decided.iter().map(|d| d.app).collect();
    Ok(store::lock_unchanged(tx, &apps).await?)
}

/// Moves the approved applications with one UPDATE, each guarded by the
/// state and the form it was decided on, and returns the rows it moved.
async fn update_approved(
    tx: &WriteTx,
    approving: &[(&Decided<'_>, Option<(i64, i64)>)],
) -> Result<BTreeMap<i64, application::Model>> {
    let moves: Vec<DecidedMove<'_>> = approving
        .iter()
        .map(|(d, reserve)| DecidedMove {
            mv: Move {
                app: d.app,
                to: *d.states.last().expect("a move has states"),
                at: d.request.at,
            },
            approved_fen: reserve.map(|(_, amount)| amount),
            budget_id: reserve.map(|(budget, _)| budget),
        })
        .collect();
    Ok(store::move_decided(tx, &moves).await?)
}
