//! Continuous eligibility: every benefit being delivered is re-evaluated
//! against the pack on a date (`opcity entitlements recheck`, and daily
//! with the payment run). A beneficiary who no longer qualifies is flagged
//! to the reviewer who decided the benefit, with the engine's explanation
//! — never stopped silently:
//! - while the flag is open, the application's instalments pause (the
//!   payment run skips it, and flags a lapse it finds itself);
//! - the founder is told why and may answer;
//! - the reviewer lifts the flag (payments resume, and the same reasons on
//!   the same facts are not flagged again) or confirms the lapse:
//!   the benefit ends (instalments cancelled and their money released,
//!   the unused voucher taken back, a waiting request withdrawn) and the
//!   application closes — or, when the reviewer says so, is clawed back.
//!
//! The store keeps one open flag per application
//! (`opcity_store::flags`), so a recheck racing a payment run flags once.
//!
//! The recheck walks the benefits in pages of `PAGE` by id and reads the
//! next page (its applications, their cases and open flags) on a task of
//! its own while the current one is evaluated and flagged: the reads are
//! the database's work and the evaluation the engine's, about equal on
//! PostgreSQL, and one page at a time each waited for the other.

use super::moves::{self, party, resource};
use super::offer::{claw_back_in, stop_payments};
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use chrono::NaiveDate;
use opcity_domain::application::{Event, Party, State};
use opcity_policy::Explanation;
use opcity_store::WriteTx;
use opcity_store::applications as store;
use opcity_store::entity::{application, eligibility_flag};
use opcity_store::flags::{self, NewFlag};
use opcity_store::notifications::{self, NewNotification};
use std::collections::{BTreeMap, BTreeSet};
use tokio::task::JoinSet;

/// Applications re-evaluated per read.
const PAGE: u64 = 1_000;
/// Who flags, in the history and the audit log.
pub(super) const JOB: &str = "system:recheck";

/// What one recheck did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RecheckRun {
    pub as_of: Option<NaiveDate>,
    /// Benefits being delivered that were re-evaluated.
    pub checked: usize,
    pub still_eligible: usize,
    /// Newly flagged: no longer eligible, or facts it needs are missing.
    pub flagged: usize,
    /// No longer qualifying and flagged already.
    pub already_flagged: usize,
    /// No longer qualifying for the reasons a reviewer already lifted a
    /// flag for (the same failing conditions on the same facts).
    pub kept_by_reviewer: usize,
}

/// What [`flag`] found to do about a lapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lapse {
    Flagged,
    AlreadyOpen,
    /// A reviewer lifted a flag for these very reasons: keep delivering.
    Lifted,
}

/// A flag as the founder and the reviewer see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub id: i64,
    pub application_id: i64,
    pub programme: String,
    pub district: String,
    pub as_of: NaiveDate,
    /// The engine's result on `as_of`, with the reasons it no longer holds.
    #[schema(value_type = Object)]
    pub explanation: Option<Explanation>,
    /// `open`, `confirmed` or `lifted`.
    pub status: String,
    pub response: Option<String>,
    pub responded_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub(super) fn flag_view(f: &eligibility_flag::Model) -> FlagView {
    FlagView {
        id: f.id,
        application_id: f.application_id,
        programme: f.programme.clone(),
        district: f.district.clone(),
        as_of: f.as_of,
        explanation: Explanation::parse(&f.explanation).ok(),
        status: f.status.clone(),
        response: f.response.clone(),
        responded_at: f.responded_at,
        decided_by: f.decided_by.clone(),
        decision_note: f.decision_note.clone(),
        decided_at: f.decided_at,
        created_at: f.created_at,
    }
}

/// A reviewer's decision on a flag.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagDecision {
    /// `confirm` (the benefit ends), `confirm_and_claw_back` or `lift`.
    #[schema(example = "lift")]
    pub decision: String,
    /// Why, for the founder and the record (required to confirm).
    pub note: Option<String>,
}

/// Re-evaluates every benefit being delivered on `as_of` (see the module
/// docs), page by page, each page read while the one before is evaluated.
pub(super) async fn recheck(s: &Services, as_of: NaiveDate) -> Result<RecheckRun> {
    let mut run = RecheckRun {
        as_of: Some(as_of),
        ..Default::default()
    };
    // One page is read ahead, on a task of its own, so that the database
    // reads page N+1 (keyed by page N's last id) while the engine evaluates
    // page N instead of the two taking turns. Flagging page N writes
    // nothing page N+1 reads (flags, notices and audit entries of page N's
    // applications), so the run counts and flags what reading one page at a
    // time did. Dropped on an error, the set aborts the read under way.
    let mut reading = JoinSet::new();
    reading.spawn(read_page(s.clone(), 0));
    while let Some(read) = reading.join_next().await {
        let Some(page) = read.map_err(|e| ServiceError::Internal(Box::new(e)))?? else {
            break;
        };
        let last = *page.apps.keys().next_back().expect("a page is not empty");
        reading.spawn(read_page(s.clone(), last));
        let mut lapsed = Vec::new();
        for (id, app) in &page.apps {
            run.checked += 1;
            let explanation = s.explanation_on(&page.cases[id], &app.programme, as_of)?;
            if explanation.result.is_eligible() {
                run.still_eligible += 1;
            } else if page.open.contains(id) {
                run.already_flagged += 1;
            } else {
                lapsed.push((app, explanation));
            }
        }
        if lapsed.is_empty() {
            continue;
        }
        let tx = s.store().begin().await?;
        for (app, explanation) in &lapsed {
            match flag(s, &tx, app, explanation, as_of).await? {
                Lapse::Flagged => run.flagged += 1,
                Lapse::AlreadyOpen => run.already_flagged += 1,
                Lapse::Lifted => run.kept_by_reviewer += 1,
            }
        }
        tx.commit().await?;
    }
    Ok(run)
}

/// A page of benefits being delivered, with what evaluating them needs.
struct Page {
    apps: BTreeMap<i64, application::Model>,
    cases: BTreeMap<i64, opcity_policy::Case>,
    /// Those of `apps` with an open flag.
    open: BTreeSet<i64>,
}

/// The page of benefits being delivered after application `after` (by id),
/// its cases read at once; `None` past the last.
async fn read_page(s: Services, after: i64) -> Result<Option<Page>> {
    let db = s.store().db();
    let apps: BTreeMap<i64, application::Model> =
        store::in_state_after(db, State::Disbursing.id(), after, PAGE)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
    if apps.is_empty() {
        return Ok(None);
    }
    let cases = s.cases_of_applications(&apps).await?;
    let open = flags::open_of(db, apps.keys().copied()).await?;
    Ok(Some(Page { apps, cases, open }))
}

/// Flags `app` with `explanation`, telling the founder and the reviewer who
/// decided it — unless a flag of it is open, or the last one was lifted for
/// the same reasons (a reviewer's decision stands until the facts change).
pub(super) async fn flag(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    explanation: &Explanation,
    as_of: NaiveDate,
) -> Result<Lapse> {
    let last = flags::list(tx, None, None, Some(app.id)).await?.pop();
    if let Some(last) = last.filter(|f| f.status == flags::LIFTED)
        && Explanation::parse(&last.explanation)
            .is_ok_and(|lifted| failing(&lifted) == failing(explanation))
    {
        return Ok(Lapse::Lifted);
    }
    let now = s.now();
    let json = serde_json::to_string(explanation).expect("explanations serialise");
    let Some(raised) = flags::raise(
        tx,
        NewFlag {
            application_id: app.id,
            programme: &app.programme,
            district: &app.district,
            as_of,
            explanation: &json,
            at: now,
        },
    )
    .await?
    else {
        return Ok(Lapse::AlreadyOpen);
    };
    let subject = format!("application:{}", app.id);
    let mut told = vec![NewNotification {
        account_id: app.created_by,
        kind: "benefit_flagged",
        programme: Some(&app.programme),
        subject: Some(&subject),
        at: now,
    }];
    if let Some(reviewer) = decided_by(tx, app.id).await? {
        told.push(NewNotification {
            account_id: reviewer,
            kind: "flag_to_review",
            ..told[0]
        });
    }
    notifications::insert_all(tx, &told).await?;
    crate::record_change(
        tx,
        now,
        JOB,
        "eligibility.flag",
        raised.id,
        None,
        Some(&flag_view(&raised)),
    )
    .await?;
    Ok(Lapse::Flagged)
}

/// The conditions that do not hold (or are unknown), with their facts.
fn failing(e: &Explanation) -> Vec<(&str, &serde_json::Map<String, serde_json::Value>)> {
    e.result
        .reasons
        .iter()
        .flatten()
        .filter(|r| r.holds != Some(true))
        .map(|r| (r.condition.as_str(), &r.facts))
        .collect()
}

/// The reviewer whose approval decided application `id` (the last one).
async fn decided_by(tx: &WriteTx, id: i64) -> Result<Option<i64>> {
    Ok(store::reviews(tx, id)
        .await?
        .iter()
        .rev()
        .find(|r| r.decision == "approve")
        .map(|r| r.reviewer_id))
}

/// The flags of an application, oldest first, for whoever may read it.
pub(super) async fn flags_of(
    s: &Services,
    actor: &Actor,
    application_id: i64,
) -> Result<Vec<FlagView>> {
    let app = moves::read(s, application_id).await?;
    authorize(actor, Action::Read, resource(&app))?;
    Ok(flags::list(s.store().db(), None, None, Some(app.id))
        .await?
        .iter()
        .map(flag_view)
        .collect())
}

/// Application `id`, which `actor` may act on, and its open flag.
/// Refused as decided when its flags are all decided, as not found when
/// it has none.
async fn open_flag(
    tx: &WriteTx,
    actor: &Actor,
    id: i64,
) -> Result<(eligibility_flag::Model, application::Model)> {
    let app = moves::load(tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    if let Some(flag) = flags::open_of_application(tx, app.id).await? {
        return Ok((flag, app));
    }
    // Decided already, or never flagged.
    if flags::list(tx, None, None, Some(app.id)).await?.is_empty() {
        Err(ServiceError::NotFound { entity: "flag" })
    } else {
        Err(flag_decided())
    }
}

/// Refuses, before the input is looked at, an actor who may not answer
/// application `id`'s flags: the applicant answers them (`applicant`), a
/// reviewer decides them.
async fn may_answer(s: &Services, actor: &Actor, id: i64, applicant: bool) -> Result<()> {
    let app = moves::read(s, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    if (party(actor, &app) == Party::Applicant) != applicant {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

fn flag_decided() -> ServiceError {
    ServiceError::Conflict {
        code: crate::ErrorCode::FlagDecided,
        field: Some("decision"),
    }
}

/// The reviewer decides the open flag of application `id` (see the module
/// docs).
pub(super) async fn decide_flag(
    s: &Services,
    actor: &Actor,
    id: i64,
    input: &FlagDecision,
) -> Result<FlagView> {
    may_answer(s, actor, id, false).await?;
    let mut c = Checker::default();
    let note = c.optional_text("note", input.note.as_deref(), 2_000);
    let confirm = match input.decision.as_str() {
        "lift" => false,
        "confirm" | "confirm_and_claw_back" => true,
        _ => {
            c.push(FieldError::new("decision", "unknown_decision"));
            false
        }
    };
    if confirm && note.is_none() {
        c.push(FieldError::new("note", "required"));
    }
    c.finish()?;
    let tx = s.store().begin().await?;
    let (flag, app) = open_flag(&tx, actor, id).await?;
    let label = actor.audit_label();
    let status = if confirm {
        flags::CONFIRMED
    } else {
        flags::LIFTED
    };
    let decided = flags::decide(&tx, flag.id, status, &label, note.as_deref(), s.now())
        .await?
        .ok_or_else(flag_decided)?;
    match input.decision.as_str() {
        "confirm" => end_benefit(s, &tx, &app, actor, note.as_deref()).await?,
        "confirm_and_claw_back" => {
            claw_back_in(s, &tx, actor, &app, note.as_deref()).await?;
        }
        _ => {}
    }
    let subject = format!("application:{}", app.id);
    let kind = if confirm {
        "benefit_ended"
    } else {
        "flag_lifted"
    };
    notifications::insert_all(
        &tx,
        &[NewNotification {
            account_id: app.created_by,
            kind,
            programme: Some(&app.programme),
            subject: Some(&subject),
            at: s.now(),
        }],
    )
    .await?;
    let view = flag_view(&decided);
    crate::record_change(
        &tx,
        s.now(),
        &label,
        "eligibility.decide",
        flag.id,
        None,
        Some(&view),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// A confirmed lapse: the instalments stop and their money returns to the
/// budget, what the delivery left unused is taken back, the grant ends —
/// on the day, or for a space or flat already allocated after the pack's
/// notice period, when the agreement or lease ends too and its manager is
/// told — and the application closes.
async fn end_benefit(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    actor: &Actor,
    note: Option<&str>,
) -> Result<()> {
    let label = actor.audit_label();
    let today = opcity_domain::today_in_shanghai(s.now());
    let ends_on = super::delivery::notice_end(s, tx, app)
        .await?
        .unwrap_or(today);
    stop_payments(s, tx, app, &label, ends_on).await?;
    super::delivery::end_allocation(s, tx, app, ends_on, actor).await?;
    super::delivery::undo(s, tx, app, actor).await?;
    moves::move_application(s, tx, app, Event::Close, Party::System, &label, note).await?;
    Ok(())
}

/// The founder answers the open flag of application `id`.
pub(super) async fn respond_to_flag(
    s: &Services,
    actor: &Actor,
    id: i64,
    response: &str,
) -> Result<FlagView> {
    may_answer(s, actor, id, true).await?;
    let mut c = Checker::default();
    let response = c.required_text("response", response, 2_000);
    c.finish()?;
    let tx = s.store().begin().await?;
    let (flag, app) = open_flag(&tx, actor, id).await?;
    let answered = flags::respond(&tx, flag.id, &response, s.now())
        .await?
        .ok_or_else(flag_decided)?;
    if let Some(reviewer) = decided_by(&tx, app.id).await? {
        let subject = format!("application:{}", app.id);
        notifications::insert_all(
            &tx,
            &[NewNotification {
                account_id: reviewer,
                kind: "flag_answered",
                programme: Some(&app.programme),
                subject: Some(&subject),
                at: s.now(),
            }],
        )
        .await?;
    }
    let view = flag_view(&answered);
    crate::commit_change(
        tx,
        s.now(),
        &actor.audit_label(),
        "eligibility.respond",
        id,
        None,
        view,
    )
    .await
}
