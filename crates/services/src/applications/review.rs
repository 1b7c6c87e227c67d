//! A reviewer's decision: reject, return to the applicant (with a date more
//! information is due), forward to the municipality, or approve. Every
//! decision is checked for a conflict of interest (automatic recusal of a
//! reviewer linked to the applicant, and a declaration) and its rubric
//! scores; the review row and the move are written in one transaction.
//! Approvals are decided here but written in groups (`approvals.rs`),
//! since each must take its budget's row lock.

use super::approvals::ApproveRequest;
use super::moves::{self, Step, party, resource};
use super::views::{ApplicationView, view};
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Action, Actor, authorize};
use crate::error::{FieldError, Result, ServiceError, above_max_amount};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use opcity_domain::Role;
use opcity_domain::application::{Event, Party};
use opcity_policy::{DecidedBy, Explanation};
use opcity_store::WriteTx;
use opcity_store::applications::{self as store, MoveSets, NewReview};
use opcity_store::entity::application;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    Return,
    Forward,
}

impl Decision {
    /// The decision's stable name, as its review stores it.
    fn id(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Return => "return",
            Decision::Forward => "forward",
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: Decision,
    /// The approved amount (fen), for approvals of programmes with money.
    pub amount_fen: Option<i64>,
    /// Rubric scores, criterion → points (0 to the criterion's `max`), for
    /// programmes with a rubric; an approval scores every criterion.
    #[serde(default)]
    pub scores: std::collections::BTreeMap<String, i32>,
    /// The reviewer's internal note: other reviewers and auditors read it,
    /// the applicant never does.
    pub comment: Option<String>,
    /// What the applicant is told, in the history, the inbox and the
    /// decision letter: a rejection's reason or what a return asks for
    /// (required for both), a note with an approval (optional).
    #[serde(default)]
    pub applicant_reason: Option<String>,
    /// The reviewer declares no conflict of interest (required).
    pub no_conflict_declared: bool,
    /// For `return`: the date more information is due (YYYY-MM-DD).
    pub return_deadline: Option<String>,
    /// An approval whose amount differs from an approval already given
    /// (four eyes) says so: without this it is refused
    /// (`differs_from_first_approval`), so one reviewer's figure never
    /// silently replaces another's.
    #[serde(default)]
    pub different_amount_confirmed: bool,
}

/// What an approval grants: the amount, reserved in the deciding
/// authority's budget of the year.
#[derive(Debug, Clone)]
pub(super) struct Terms {
    pub amount: Option<i64>,
    /// Above the programme's threshold: a second reviewer must approve too.
    pub second_review: bool,
    /// The district, or `municipal`.
    pub authority: String,
    pub year: i32,
}

pub(super) async fn review_application(
    s: &Services,
    actor: &Actor,
    id: i64,
    input: &ReviewInput,
) -> Result<ApplicationView> {
    check_applicant_reason(input)?;
    let event = match input.decision {
        Decision::Approve => {
            let request = ApproveRequest {
                actor: actor.clone(),
                application_id: id,
                input: input.clone(),
                at: s.now(),
            };
            return s.in_group(request).await;
        }
        Decision::Reject => Event::Reject,
        Decision::Forward => Event::Forward,
        Decision::Return => Event::Return,
    };
    let tx = s.store().begin().await?;
    let app = moves::load(&tx, id).await?;
    authorize(actor, Action::Update, resource(&app))?;
    check_conflict_of_interest(actor, &app, input.no_conflict_declared)?;
    let role_party = party(actor, &app);
    if role_party == Party::Applicant {
        return Err(ServiceError::Forbidden);
    }
    let now = s.now();
    let label = actor.audit_label();
    record_review(s, &tx, actor, &app, input, now).await?;
    let sets = if event == Event::Return {
        let today = opcity_domain::today_in_shanghai(now);
        let deadline = input
            .return_deadline
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .filter(|d| *d > today)
            .ok_or_else(|| ServiceError::invalid("return_deadline", "future_date_required"))?;
        MoveSets::ReturnDeadline(deadline)
    } else {
        MoveSets::Nothing
    };
    let step = Step {
        event,
        party: role_party,
        actor: &label,
        comment: applicant_reason(input),
    };
    let after = moves::move_through(s, &tx, &app, &[step], sets).await?;
    // What a return asks for opens the thread, where the applicant answers.
    if let (Event::Return, Some(request)) = (event, applicant_reason(input)) {
        super::messages::post_question(s, &tx, actor, &app, request).await?;
    }
    tx.commit().await?;
    Ok(view(&after, now, false))
}

/// Longest message to the applicant, in characters.
pub const APPLICANT_REASON_CHARS: usize = 2000;

/// A rejection and a return tell the applicant why, or what is needed; no
/// message is longer than [`APPLICANT_REASON_CHARS`].
fn check_applicant_reason(input: &ReviewInput) -> Result<()> {
    let needed = matches!(input.decision, Decision::Reject | Decision::Return);
    match input.applicant_reason.as_deref().map(str::trim) {
        None | Some("") if needed => Err(ServiceError::invalid("applicant_reason", "required")),
        Some(text) if text.chars().count() > APPLICANT_REASON_CHARS => {
            Err(ServiceError::Validation(vec![
                FieldError::new("applicant_reason", "too_long").with("max", APPLICANT_REASON_CHARS),
            ]))
        }
        _ => Ok(()),
    }
}

/// The message the history keeps for the applicant (the internal note
/// stays in the review row).
pub(super) fn applicant_reason(input: &ReviewInput) -> Option<&str> {
    input
        .applicant_reason
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Refuses a reviewer linked to the applicant (automatic recusal) and one
/// who has not declared they have no conflict of interest.
pub(super) fn check_conflict_of_interest(
    actor: &Actor,
    app: &application::Model,
    declared: bool,
) -> Result<()> {
    if actor.role == Role::Founder {
        return Ok(());
    }
    // Automatic recusal: the reviewer is the applicant, founded the
    // enterprise, or declared an interest in either (the register).
    let linked = (app.person_id.is_some() && app.person_id == actor.person_id)
        || app
            .enterprise_id
            .is_some_and(|e| actor.enterprise_ids.contains(&e))
        || app
            .person_id
            .is_some_and(|p| actor.declared.persons.contains(&p))
        || app
            .enterprise_id
            .is_some_and(|e| actor.declared.enterprises.contains(&e));
    if linked {
        return Err(ServiceError::Conflict {
            code: ErrorCode::ConflictOfInterest,
            field: None,
        });
    }
    if !declared {
        return Err(ServiceError::invalid(
            "no_conflict_declared",
            "declaration_required",
        ));
    }
    Ok(())
}

async fn record_review(
    s: &Services,
    tx: &WriteTx,
    actor: &Actor,
    app: &application::Model,
    input: &ReviewInput,
    now: DateTime<Utc>,
) -> Result<()> {
    let score = check_scores(s, app, input)?;
    store::insert_reviews(tx, &[review_row(actor, app, input, score, now)]).await?;
    Ok(())
}

/// The review a reviewer's decision leaves, with its rubric total.
pub(super) fn review_row<'a>(
    actor: &Actor,
    app: &application::Model,
    input: &'a ReviewInput,
    score: Option<i32>,
    now: DateTime<Utc>,
) -> NewReview<'a> {
    NewReview {
        application_id: app.id,
        reviewer_id: actor.account_id,
        decision: input.decision.id(),
        amount_fen: input.amount_fen,
        score,
        scores: (!input.scores.is_empty())
            .then(|| serde_json::to_string(&input.scores).unwrap_or_default()),
        comment: input.comment.as_deref(),
        no_conflict_declared: input.no_conflict_declared,
        at: now,
    }
}

/// Checks the scores against the programme's rubric and returns their
/// total: every criterion known and within 0..=max, and all of them
/// scored when approving.
pub(super) fn check_scores(
    s: &Services,
    app: &application::Model,
    input: &ReviewInput,
) -> Result<Option<i32>> {
    let pack = s.pack();
    let rubric = pack
        .programme(&app.programme)
        .map(|p| p.rubric.as_slice())
        .unwrap_or_default();
    let mut errors = Vec::new();
    for (id, points) in &input.scores {
        match rubric.iter().find(|c| &c.id == id) {
            None => errors.push(FieldError::new(format!("scores.{id}"), "unknown_criterion")),
            Some(c) if !(0..=c.max).contains(points) => errors.push(
                FieldError::new(format!("scores.{id}"), "out_of_range")
                    .with("min", 0)
                    .with("max", c.max),
            ),
            Some(_) => {}
        }
    }
    if input.decision == Decision::Approve {
        for c in rubric.iter().filter(|c| !input.scores.contains_key(&c.id)) {
            errors.push(FieldError::new(
                format!("scores.{}", c.id),
                "score_required",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    Ok((!input.scores.is_empty()).then(|| input.scores.values().sum()))
}

/// What approving `app` now would grant, from the engine's `current`
/// result: refused when the applicant is no longer eligible, above the
/// programme's figure, or by a district reviewer where the municipality
/// decides.
pub(super) fn approval_terms(
    s: &Services,
    app: &application::Model,
    input: &ReviewInput,
    role_party: Party,
    current: &Explanation,
    now: DateTime<Utc>,
) -> Result<Terms> {
    let pack = s.pack();
    let programme = super::engine::programme_in(&pack, &app.programme)?;
    if programme.decided_by == DecidedBy::Municipal && role_party == Party::DistrictReviewer {
        return Err(ServiceError::invalid(
            "decision",
            "municipal_decision_forward",
        ));
    }
    let result = &current.result;
    if !result.is_eligible() {
        // Failed and unknown conditions alike: what stands in the way.
        let failed: Vec<&str> = result
            .reasons()
            .iter()
            .filter(|r| r.holds != Some(true))
            .map(|r| r.condition.as_str())
            .collect();
        return Err(ServiceError::Validation(vec![
            FieldError::new("decision", "no_longer_eligible").with("conditions", failed.join(", ")),
        ]));
    }
    if let Some(error) = input
        .amount_fen
        .and_then(|a| above_max_amount("amount_fen", a))
    {
        return Err(ServiceError::Validation(vec![error]));
    }
    let cap = result.cap().map(|cap| cap.0);
    let amount = match (input.amount_fen, cap) {
        (Some(a), _) if a <= 0 => {
            return Err(ServiceError::invalid("amount_fen", "must_be_positive"));
        }
        (Some(a), Some(c)) if a > c => {
            return Err(ServiceError::Validation(vec![
                FieldError::new("amount_fen", "above_cap").with("cap_fen", c),
            ]));
        }
        (Some(a), _) => Some(a),
        (None, Some(fixed)) if result.amount_fen.is_some() => Some(fixed),
        (None, Some(_)) => return Err(ServiceError::invalid("amount_fen", "required")),
        (None, None) => None,
    };
    let authority = if programme.decided_by == DecidedBy::District {
        app.district.clone()
    } else {
        "municipal".to_owned()
    };
    Ok(Terms {
        amount,
        second_review: matches!(
            (amount, programme.second_review_above),
            (Some(a), Some(threshold)) if a > threshold.0
        ),
        authority,
        year: opcity_domain::today_in_shanghai(now).year(),
    })
}
