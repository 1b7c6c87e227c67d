//! Creating, submitting, reviewing, accepting and withdrawing applications.

use super::approvals::ApproveRequest;
use super::budgets::budget_error;
use super::evidence::{DocumentView, MissingEvidence, check_form, missing_evidence};
use super::submissions::SubmitRequest;
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, application_scope, authorize};
use crate::error::{FieldError, Result, ServiceError, above_max_amount};
use crate::grants::{NewGrant, Subject};
use crate::matching::CaseSubject;
use crate::{Services, record_change};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use opcity_domain::Role;
use opcity_domain::application::{Event, Party, State, transition};
use opcity_policy::{Beneficiary, DecidedBy, Detail, Status};
use opcity_store::audit;
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::{
    application, application_event, disbursement, enterprise, notification, person, review,
};
use opcity_store::sea_orm::sea_query::{Expr, ExprTrait, Query};
use opcity_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Set, Statement, Value,
};
use opcity_store::values::rows_of;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// Programme id, e.g. `sz.housing.subsidy`.
    pub programme: String,
    /// Required for enterprise programmes: one of the applicant's enterprises.
    pub enterprise_id: Option<i64>,
    /// The amount asked for, in fen (optional: review sets the figure).
    pub requested_fen: Option<i64>,
    /// The form's fields (the programme's declared evidence of kind `field`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: serde_json::Map<String, serde_json::Value>,
    /// Retrying with the same key returns the first application.
    pub idempotency_key: Option<String>,
}

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
    pub comment: Option<String>,
    /// The reviewer declares no conflict of interest (required).
    pub no_conflict_declared: bool,
    /// For `return`: the date more information is due (YYYY-MM-DD).
    pub return_deadline: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    pub programme: String,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub district: String,
    pub state: String,
    pub requested_fen: Option<i64>,
    pub approved_fen: Option<i64>,
    pub budget_id: Option<i64>,
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// The engine's result for the programme at submission, with the pack
    /// version; `null` before submission.
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<serde_json::Value>,
    pub pack_version: Option<String>,
    pub return_deadline: Option<NaiveDate>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Whole days since submission while waiting for a decision (the SLA clock).
    pub waiting_days: Option<i64>,
    /// An approval above the programme's threshold waits for a second reviewer.
    pub awaiting_second_review: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub from_state: Option<String>,
    pub to_state: String,
    pub event: String,
    pub actor: String,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DisbursementView {
    pub seq: i32,
    pub due_on: NaiveDate,
    pub amount_fen: i64,
    pub status: String,
    pub paid_at: Option<DateTime<Utc>>,
}

/// A reviewer's decision as other reviewers see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub reviewer_id: i64,
    pub decision: String,
    pub amount_fen: Option<i64>,
    /// The total of `scores`.
    pub score: Option<i32>,
    #[schema(value_type = Object)]
    pub scores: serde_json::Value,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationDetail {
    pub application: ApplicationView,
    pub history: Vec<EventView>,
    pub disbursements: Vec<DisbursementView>,
    /// Uploaded documents, oldest first; a later upload for an item replaces
    /// the earlier one.
    pub documents: Vec<DocumentView>,
    /// Evidence the programme asks for that is not supplied yet.
    pub missing: Vec<MissingEvidence>,
    /// Reviews, for reviewers and auditors only (empty for the applicant).
    pub reviews: Vec<ReviewView>,
}

/// Review queue filters.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueFilter {
    pub district: Option<String>,
    pub programme: Option<String>,
    pub state: Option<String>,
}

pub(super) fn view(
    a: &application::Model,
    now: DateTime<Utc>,
    awaiting_second_review: bool,
) -> ApplicationView {
    let state: State = a.state.parse().unwrap_or(State::Draft);
    ApplicationView {
        id: a.id,
        programme: a.programme.clone(),
        person_id: a.person_id,
        enterprise_id: a.enterprise_id,
        district: a.district.clone(),
        state: a.state.clone(),
        requested_fen: a.requested_fen,
        approved_fen: a.approved_fen,
        budget_id: a.budget_id,
        form: serde_json::from_str(&a.form_data).unwrap_or_default(),
        explanation: a
            .explanation
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok()),
        pack_version: a.pack_version.clone(),
        return_deadline: a.return_deadline,
        submitted_at: a.submitted_at,
        decided_at: a.decided_at,
        created_at: a.created_at,
        waiting_days: a
            .submitted_at
            .filter(|_| state.awaits_review())
            .map(|s| (now - s).num_days()),
        awaiting_second_review,
    }
}

/// The review a reviewer's decision leaves, with its rubric total.
pub(super) fn review_row(
    actor: &Actor,
    app: &application::Model,
    input: &ReviewInput,
    score: Option<i32>,
    now: DateTime<Utc>,
) -> review::ActiveModel {
    let decision = serde_json::to_value(input.decision)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    review::ActiveModel {
        application_id: Set(app.id),
        reviewer_id: Set(actor.account_id),
        decision: Set(decision),
        amount_fen: Set(input.amount_fen),
        score: Set(score),
        scores: Set((!input.scores.is_empty())
            .then(|| serde_json::to_string(&input.scores).unwrap_or_default())),
        comment: Set(input.comment.clone()),
        no_conflict_declared: Set(input.no_conflict_declared),
        at: Set(now),
        ..Default::default()
    }
}

/// The application a request of a group names, among those the group read.
pub(super) fn requested(
    apps: &BTreeMap<i64, application::Model>,
    id: i64,
) -> Result<&application::Model> {
    apps.get(&id).ok_or(ServiceError::NotFound {
        entity: "application",
    })
}

pub(super) fn resource(a: &application::Model) -> Resource {
    Resource::Application {
        district: a
            .district
            .parse()
            .expect("district ids are constrained by a foreign key"),
        person_id: a.person_id,
        enterprise_id: a.enterprise_id,
        draft: a.state == State::Draft.id(),
    }
}

/// The applicant's side of `a` (its form and documents).
pub(super) fn evidence_resource(a: &application::Model) -> Resource {
    Resource::ApplicationEvidence {
        person_id: a.person_id,
        enterprise_id: a.enterprise_id,
    }
}

/// The party an actor plays for an application.
pub(super) fn party(actor: &Actor, a: &application::Model) -> Party {
    match actor.role {
        Role::DistrictReviewer => Party::DistrictReviewer,
        Role::MunicipalAdmin if a.created_by != actor.account_id => Party::MunicipalReviewer,
        _ => Party::Applicant,
    }
}

/// One step of a move: the event, the party taking it, who (for the
/// history and the audit log), and why.
pub(crate) struct Step<'a> {
    pub event: Event,
    pub party: Party,
    pub actor: &'a str,
    pub comment: Option<&'a str>,
}

/// The event's stable name, as the history stores it.
fn event_id(event: Event) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The states an application passes through by `steps`, its own first.
pub(super) fn states_through(app: &application::Model, steps: &[Step<'_>]) -> Result<Vec<State>> {
    let from: State = app
        .state
        .parse()
        .map_err(|e: String| ServiceError::Internal(e.into()))?;
    let mut states = vec![from];
    for step in steps {
        let at = *states.last().expect("starts with `from`");
        let next = transition(at, step.event, step.party).map_err(|e| state_error(e, at.id()))?;
        states.push(next);
    }
    Ok(states)
}

/// The UPDATE of a move to the last of `states`, guarded by the first and
/// by the form as read: refused (`state_changed`) when the row changed
/// since `app` was read (the form is the one thing that changes without a
/// move). Returns the row as stored.
pub(super) async fn update_moved<C: ConnectionTrait>(
    tx: &C,
    app: &application::Model,
    states: &[State],
    now: DateTime<Utc>,
    changes: impl FnOnce(&mut application::ActiveModel),
) -> Result<application::Model> {
    let (from, to) = (states[0], states[states.len() - 1]);
    let mut active: application::ActiveModel = app.clone().into();
    active.state = Set(to.id().to_owned());
    active.updated_at = Set(now);
    changes(&mut active);
    application::Entity::update(active)
        .validate()?
        .filter(application::Column::State.eq(from.id()))
        .filter(application::Column::FormData.eq(app.form_data.as_str()))
        .exec(tx)
        .await
        .map_err(|e| match e {
            DbErr::RecordNotUpdated => ServiceError::Conflict {
                code: ErrorCode::StateChanged,
                field: Some("state"),
            },
            other => other.into(),
        })
}

/// One application of a group move ([`update_group`]).
pub(super) struct GroupMove<'a> {
    /// As it was decided on: its state and form guard the move.
    pub app: &'a application::Model,
    /// The states it moves through, from its own.
    pub states: &'a [State],
    pub at: DateTime<Utc>,
    /// The values of the group's extra columns, in their order.
    pub extra: Vec<Value>,
}

/// Moves a group's applications with one UPDATE and returns the rows it
/// moved, by id. An application whose state or form changed since it was
/// decided on is left alone. The values of each move's `extra` are named
/// `moved.<column>` after `extra`'s names, which `set` assigns.
pub(super) async fn update_group(
    tx: &DatabaseTransaction,
    extra: &[&str],
    set: &str,
    moves: impl IntoIterator<Item = GroupMove<'_>>,
) -> Result<BTreeMap<i64, application::Model>> {
    let backend = tx.get_database_backend();
    let mut values = Vec::new();
    let rows = moves.into_iter().map(|m| {
        let to = m.states.last().expect("a move has states");
        let guard = [
            Value::from(m.app.id),
            Value::from(m.states[0].id()),
            Value::from(m.app.form_data.as_str()),
            Value::from(to.id()),
            Value::from(m.at),
        ];
        guard.into_iter().chain(m.extra).collect()
    });
    let rows = rows_of(backend, &mut values, rows);
    if values.is_empty() {
        return Ok(BTreeMap::new());
    }
    let returning = match backend {
        DbBackend::Postgres => "applications.*",
        // SQLite returns only the updated table's columns.
        _ => "*",
    };
    let sql = format!(
        "WITH moved (m_id, m_from, m_form, m_to, m_at, {extra}) AS (VALUES {rows}) \
         UPDATE applications SET state = moved.m_to, updated_at = moved.m_at, {set} \
         FROM moved WHERE applications.id = moved.m_id \
           AND applications.state = moved.m_from AND applications.form_data = moved.m_form \
         RETURNING {returning}",
        extra = extra.join(", "),
    );
    let mut moved = BTreeMap::new();
    for row in tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        let app = application::Model::from_query_result(&row, "")?;
        moved.insert(app.id, app);
    }
    Ok(moved)
}

/// One application moved: as it was, as it is, and how.
pub(super) struct Moved<'a> {
    pub before: &'a application::Model,
    pub after: &'a application::Model,
    pub steps: &'a [Step<'a>],
    /// `before`'s state, then the state after each step.
    pub states: &'a [State],
    pub at: DateTime<Utc>,
}

/// What moves leave behind, for any number of them in one INSERT per
/// table: a history row and an audit entry (the application before and
/// after) per step, and one notification of each final state.
pub(super) async fn record_moves(tx: &DatabaseTransaction, moves: &[Moved<'_>]) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut history = Vec::new();
    let mut notices = Vec::new();
    let mut snapshots = Vec::new();
    for m in moves {
        for (step, pair) in m.steps.iter().zip(m.states.windows(2)) {
            history.push(application_event::ActiveModel {
                application_id: Set(m.before.id),
                from_state: Set(Some(pair[0].id().to_owned())),
                to_state: Set(pair[1].id().to_owned()),
                event: Set(event_id(step.event)),
                actor: Set(step.actor.to_owned()),
                comment: Set(step.comment.map(str::to_owned)),
                at: Set(m.at),
                ..Default::default()
            });
        }
        notices.push(notification::ActiveModel {
            account_id: Set(m.before.created_by),
            kind: Set(format!("application_{}", m.after.state)),
            programme: Set(Some(m.before.programme.clone())),
            subject: Set(Some(format!("application:{}", m.before.id))),
            created_at: Set(m.at),
            read_at: Set(None),
            ..Default::default()
        });
        snapshots.push(step_snapshots(m));
    }
    application_event::Entity::insert_many(history)
        .exec_without_returning(tx)
        .await?;
    notification::Entity::insert_many(notices)
        .exec_without_returning(tx)
        .await?;
    // Collected before the await: a lazy iterator of borrowing closures
    // would make this future not `Send`.
    let entries: Vec<(DateTime<Utc>, audit::Change<'_>)> = moves
        .iter()
        .zip(&snapshots)
        .flat_map(|(m, snaps)| {
            m.steps.iter().zip(snaps.windows(2)).map(|(step, pair)| {
                let change = audit::Change {
                    actor: step.actor,
                    action: "application.transition",
                    entity: "application",
                    entity_id: m.before.id.to_string(),
                    before: Some(pair[0].clone()),
                    after: Some(pair[1].clone()),
                };
                (m.at, change)
            })
        })
        .collect();
    audit::append_all(tx, entries).await?;
    Ok(())
}

/// The application's view before the move and after each of its steps:
/// only the state differs until the last, which is `after`.
fn step_snapshots(m: &Moved<'_>) -> Vec<serde_json::Value> {
    let json = |a: &application::Model| {
        serde_json::to_value(view(a, m.at, false)).expect("views serialise")
    };
    let mut snapshots = vec![json(m.before)];
    for state in &m.states[1..m.states.len() - 1] {
        let mut between = m.before.clone();
        between.state = state.id().to_owned();
        between.updated_at = m.at;
        snapshots.push(json(&between));
    }
    snapshots.push(json(m.after));
    snapshots
}

/// A refused move: forbidden when the caller's party may never take the
/// event, else the state named as the reason.
fn state_error(err: opcity_domain::application::TransitionError, current: &str) -> ServiceError {
    if let opcity_domain::application::TransitionError::WrongParty { .. } = err {
        return ServiceError::Forbidden;
    }
    ServiceError::Validation(vec![
        FieldError::new("state", "illegal_transition")
            .with("state", current)
            .with("reason", err),
    ])
}

impl Services {
    /// The application about to change outside a guarded move (its form,
    /// its documents), its row locked until the transaction ends
    /// (`opcity_store::rows`): a submission racing the change either moves
    /// it first, and the change then reads it submitted, or waits for it.
    pub(super) async fn lock_application(
        &self,
        tx: &DatabaseTransaction,
        id: i64,
    ) -> Result<application::Model> {
        opcity_store::rows::lock_by_id::<application::Entity>(tx, id)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "application",
            })
    }

    pub(super) async fn load_application<C: ConnectionTrait>(
        &self,
        db: &C,
        id: i64,
    ) -> Result<application::Model> {
        application::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "application",
            })
    }

    /// Moves an application by `event` inside `tx` (see the module docs).
    pub(crate) async fn move_application(
        &self,
        tx: &DatabaseTransaction,
        app: &application::Model,
        event: Event,
        party: Party,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<application::Model> {
        let step = Step {
            event,
            party,
            actor,
            comment,
        };
        self.move_through(tx, app, &[step], |_| {}).await
    }

    /// Moves an application through `steps` as one state change inside
    /// `tx`: one guarded UPDATE of the row (with whatever `changes` sets),
    /// the history rows in one INSERT, one notification of the final state,
    /// and one audit entry per step in one INSERT. Refused, with nothing
    /// written, when a step is illegal or the row changed (its state or its
    /// form) since `app` was read.
    pub(crate) async fn move_through(
        &self,
        tx: &DatabaseTransaction,
        app: &application::Model,
        steps: &[Step<'_>],
        changes: impl FnOnce(&mut application::ActiveModel),
    ) -> Result<application::Model> {
        let states = states_through(app, steps)?;
        let now = self.now();
        let after = update_moved(tx, app, &states, now, changes).await?;
        let moved = Moved {
            before: app,
            after: &after,
            steps,
            states: &states,
            at: now,
        };
        record_moves(tx, &[moved]).await?;
        Ok(after)
    }

    /// Starts an application (a draft). A retry with the same idempotency key
    /// returns the first application; the same key with another programme is
    /// refused.
    pub async fn create_application(
        &self,
        actor: &Actor,
        input: &NewApplication,
    ) -> Result<ApplicationView> {
        let pack = self.pack();
        let programme = pack
            .programme(&input.programme)
            .ok_or_else(|| ServiceError::invalid("programme", "unknown_programme"))?;
        if let Some(key) = input.idempotency_key.as_deref() {
            if key.is_empty() || key.len() > 200 {
                return Err(ServiceError::invalid("idempotency_key", "too_long"));
            }
            if let Some(existing) = application::Entity::find()
                .filter(application::Column::CreatedBy.eq(actor.account_id))
                .filter(application::Column::IdempotencyKey.eq(key))
                .one(self.store().db())
                .await?
            {
                return self.idempotent_replay(existing, input);
            }
        }
        if input.requested_fen.is_some_and(|f| f <= 0) {
            return Err(ServiceError::invalid("requested_fen", "must_be_positive"));
        }
        if let Some(error) = input
            .requested_fen
            .and_then(|f| above_max_amount("requested_fen", f))
        {
            return Err(ServiceError::Validation(vec![error]));
        }
        check_form(programme, &input.form)?;
        let (person_id, enterprise_id, district) = self
            .applicant_subject(actor, programme.beneficiary, input.enterprise_id)
            .await?;
        let resource = Resource::Application {
            district,
            person_id,
            enterprise_id,
            draft: true,
        };
        authorize(actor, Action::Create, resource)?;
        let now = self.now();
        let tx = self.store().begin().await?;
        let inserted = application::ActiveModel {
            programme: Set(input.programme.clone()),
            person_id: Set(person_id),
            enterprise_id: Set(enterprise_id),
            district: Set(district.id().to_owned()),
            state: Set(State::Draft.id().to_owned()),
            requested_fen: Set(input.requested_fen),
            approved_fen: Set(None),
            budget_id: Set(None),
            created_by: Set(actor.account_id),
            idempotency_key: Set(input.idempotency_key.clone()),
            form_data: Set(serde_json::Value::Object(input.form.clone()).to_string()),
            explanation: Set(None),
            pack_version: Set(None),
            return_deadline: Set(None),
            submitted_at: Set(None),
            decided_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await;
        let saved = match inserted {
            Ok(saved) => saved,
            Err(e) => {
                let err = opcity_store::StoreError::from(e);
                if input.idempotency_key.is_none() || !err.is_unique_on("idempotency_key") {
                    return Err(err.into());
                }
                // A concurrent retry with the same key won the race: answer with its result.
                drop(tx);
                let existing = application::Entity::find()
                    .filter(application::Column::CreatedBy.eq(actor.account_id))
                    .filter(application::Column::IdempotencyKey.eq(input.idempotency_key.clone()))
                    .one(self.store().db())
                    .await?
                    .ok_or(ServiceError::NotFound {
                        entity: "application",
                    })?;
                return self.idempotent_replay(existing, input);
            }
        };
        application_event::ActiveModel {
            application_id: Set(saved.id),
            from_state: Set(None),
            to_state: Set(State::Draft.id().to_owned()),
            event: Set("create".to_owned()),
            actor: Set(actor.audit_label()),
            comment: Set(None),
            at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let v = view(&saved, now, false);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "application.create",
            saved.id,
            None,
            Some(&v),
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }

    fn idempotent_replay(
        &self,
        existing: application::Model,
        input: &NewApplication,
    ) -> Result<ApplicationView> {
        let same = existing.programme == input.programme
            && existing.requested_fen == input.requested_fen
            && (input.enterprise_id.is_none() || existing.enterprise_id == input.enterprise_id);
        if same {
            Ok(view(&existing, self.now(), false))
        } else {
            Err(ServiceError::Conflict {
                code: ErrorCode::IdempotencyKeyReused,
                field: Some("idempotency_key"),
            })
        }
    }

    /// Who an application is for: the applicant's person, or one of their
    /// enterprises, and the district that reviews it.
    async fn applicant_subject(
        &self,
        actor: &Actor,
        beneficiary: Beneficiary,
        enterprise_id: Option<i64>,
    ) -> Result<(Option<i64>, Option<i64>, opcity_domain::District)> {
        let db = self.store().db();
        match beneficiary {
            Beneficiary::Person => {
                let person_id = actor
                    .person_id
                    .ok_or_else(|| ServiceError::invalid("person", "no_person_record"))?;
                let p = person::Entity::find_by_id(person_id)
                    .one(db)
                    .await?
                    .ok_or(ServiceError::NotFound { entity: "person" })?;
                let district = p
                    .district
                    .as_deref()
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| ServiceError::invalid("district", "person_district_missing"))?;
                Ok((Some(person_id), None, district))
            }
            Beneficiary::Enterprise => {
                let id = enterprise_id
                    .ok_or_else(|| ServiceError::invalid("enterprise_id", "required"))?;
                let e = enterprise::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .ok_or_else(|| ServiceError::invalid("enterprise_id", "unknown_enterprise"))?;
                let district = e
                    .district
                    .parse()
                    .map_err(|_| ServiceError::invalid("enterprise_id", "unknown_enterprise"))?;
                Ok((actor.person_id, Some(id), district))
            }
        }
    }

    /// The engine's current result for the application's programme and
    /// subject, leaving out grants that came from this application itself.
    pub(crate) async fn current_result<C: ConnectionTrait>(
        &self,
        db: &C,
        app: &application::Model,
    ) -> Result<serde_json::Value> {
        let case = self
            .case_for(
                db,
                app.person_id,
                app.enterprise_id,
                Some(&format!("application:{}", app.id)),
            )
            .await?;
        self.explanation(&case, &app.programme)
    }

    /// The case of each of `apps`, as `current_result` reads it (without
    /// the grant the application itself may have led to), read for all of
    /// them with one query per table.
    pub(super) async fn cases_of_applications<C: ConnectionTrait>(
        &self,
        db: &C,
        apps: &BTreeMap<i64, application::Model>,
    ) -> Result<BTreeMap<i64, opcity_policy::Case>> {
        let sources: BTreeMap<i64, String> = apps
            .keys()
            .map(|id| (*id, format!("application:{id}")))
            .collect();
        let subjects: Vec<CaseSubject<'_>> = apps
            .values()
            .map(|a| CaseSubject {
                person_id: a.person_id,
                enterprise_id: a.enterprise_id,
                exclude_source: Some(&sources[&a.id]),
            })
            .collect();
        let cases = self.cases_for(db, &subjects).await?;
        Ok(apps.keys().copied().zip(cases).collect())
    }

    /// The engine's result for `programme` on `case` today, with the pack it
    /// came from: what an application keeps as its explanation.
    pub(crate) fn explanation(
        &self,
        case: &opcity_policy::Case,
        programme: &str,
    ) -> Result<serde_json::Value> {
        let pack = self.pack();
        let as_of = opcity_domain::today_in_shanghai(self.now());
        let evaluation = pack.at(as_of).evaluate(case, Detail::Full);
        let result = evaluation
            .results
            .iter()
            .find(|r| r.programme == programme)
            .ok_or(ServiceError::NotFound {
                entity: "programme",
            })?;
        Ok(
            serde_json::json!({ "pack": { "id": pack.id(), "version": pack.version() }, "as_of": as_of, "result": result }),
        )
    }

    /// Submits a draft (or resubmits a returned application). The engine
    /// pre-checks it at once: its explanation is attached as it was at
    /// submission; an ineligible application is rejected with the reasons.
    /// Refused, with nothing written, while evidence is missing (one error
    /// per item) or when the application changed meanwhile. The evidence
    /// check, the pre-check and the writes happen in a group commit with
    /// the submissions that arrive meanwhile (see `submissions.rs`).
    pub async fn submit_application(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        let request = SubmitRequest {
            actor: actor.clone(),
            application_id: id,
            at: self.now(),
        };
        let after = self.in_group(request).await?;
        Ok(view(&after, after.updated_at, false))
    }

    /// A reviewer's decision. Approving reserves the amount in the deciding
    /// authority's budget in the same transaction; it is refused with the
    /// remaining figure when the budget runs out, when the applicant is no
    /// longer eligible (exclusions are checked now, against current grants),
    /// or above the programme's figure. Approvals are written in a group
    /// commit with the approvals that arrive meanwhile (`approvals.rs`).
    pub async fn review_application(
        &self,
        actor: &Actor,
        id: i64,
        input: &ReviewInput,
    ) -> Result<ApplicationView> {
        let event = match input.decision {
            Decision::Approve => {
                let request = ApproveRequest {
                    actor: actor.clone(),
                    application_id: id,
                    input: input.clone(),
                    at: self.now(),
                };
                return self.in_group(request).await;
            }
            Decision::Reject => Event::Reject,
            Decision::Forward => Event::Forward,
            Decision::Return => Event::Return,
        };
        let tx = self.store().begin().await?;
        let app = self.load_application(&tx, id).await?;
        authorize(actor, Action::Update, resource(&app))?;
        self.check_conflict_of_interest(actor, &app, input.no_conflict_declared)?;
        let role_party = party(actor, &app);
        if role_party == Party::Applicant {
            return Err(ServiceError::Forbidden);
        }
        let now = self.now();
        let label = actor.audit_label();
        self.record_review(&tx, actor, &app, input, now).await?;
        let after = if event == Event::Return {
            let today = opcity_domain::today_in_shanghai(now);
            let deadline = input
                .return_deadline
                .as_deref()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .filter(|d| *d > today)
                .ok_or_else(|| ServiceError::invalid("return_deadline", "future_date_required"))?;
            let step = Step {
                event,
                party: role_party,
                actor: &label,
                comment: input.comment.as_deref(),
            };
            self.move_through(&tx, &app, &[step], |a| {
                a.return_deadline = Set(Some(deadline));
            })
            .await?
        } else {
            self.move_application(
                &tx,
                &app,
                event,
                role_party,
                &label,
                input.comment.as_deref(),
            )
            .await?
        };
        tx.commit().await?;
        Ok(view(&after, now, false))
    }

    pub(super) fn check_conflict_of_interest(
        &self,
        actor: &Actor,
        app: &application::Model,
        declared: bool,
    ) -> Result<()> {
        if actor.role == Role::Founder {
            return Ok(());
        }
        // Automatic recusal: the reviewer is the applicant or founded the enterprise.
        let linked = (app.person_id.is_some() && app.person_id == actor.person_id)
            || app
                .enterprise_id
                .is_some_and(|e| actor.enterprise_ids.contains(&e));
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
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        app: &application::Model,
        input: &ReviewInput,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let score = self.check_scores(app, input)?;
        review_row(actor, app, input, score, now).insert(tx).await?;
        Ok(())
    }

    /// Checks the scores against the programme's rubric and returns their
    /// total: every criterion known and within 0..=max, and all of them
    /// scored when approving.
    pub(super) fn check_scores(
        &self,
        app: &application::Model,
        input: &ReviewInput,
    ) -> Result<Option<i32>> {
        let pack = self.pack();
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
        &self,
        app: &application::Model,
        input: &ReviewInput,
        role_party: Party,
        current: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Terms> {
        let pack = self.pack();
        let programme = pack
            .programme(&app.programme)
            .ok_or(ServiceError::NotFound {
                entity: "programme",
            })?;
        if programme.decided_by == DecidedBy::Municipal && role_party == Party::DistrictReviewer {
            return Err(ServiceError::invalid(
                "decision",
                "municipal_decision_forward",
            ));
        }
        let result = &current["result"];
        if result["status"] != "eligible" {
            let failed: Vec<String> = result["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["holds"] != serde_json::Value::Bool(true))
                .filter_map(|r| r["condition"].as_str().map(str::to_owned))
                .collect();
            return Err(ServiceError::Validation(vec![
                FieldError::new("decision", "no_longer_eligible")
                    .with("conditions", failed.join(", ")),
            ]));
        }
        if let Some(error) = input
            .amount_fen
            .and_then(|a| above_max_amount("amount_fen", a))
        {
            return Err(ServiceError::Validation(vec![error]));
        }
        let cap = result["amount_fen"]
            .as_i64()
            .or(result["ceiling_fen"].as_i64());
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
            (None, Some(fixed)) if result["amount_fen"].is_i64() => Some(fixed),
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

    /// The applicant accepts the offer: the schedule is generated, the benefit
    /// is recorded as granted, and disbursement starts.
    pub async fn accept_offer(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        let tx = self.store().begin().await?;
        let app = self.load_application(&tx, id).await?;
        authorize(actor, Action::Update, resource(&app))?;
        if party(actor, &app) != Party::Applicant {
            return Err(ServiceError::Forbidden);
        }
        let label = actor.audit_label();
        let accepted = self
            .move_application(
                &tx,
                &app,
                Event::AcceptOffer,
                Party::Applicant,
                &label,
                None,
            )
            .await?;
        let months = self.schedule(&tx, &accepted).await?;
        let now = self.now();
        let today = opcity_domain::today_in_shanghai(now);
        let subject = match (accepted.enterprise_id, accepted.person_id) {
            (Some(e), _) => Subject::Enterprise(e),
            (None, Some(p)) => Subject::Person(p),
            (None, None) => unreachable!("a CHECK constraint requires a person or an enterprise"),
        };
        let to = months
            .and_then(|m| today.checked_add_months(chrono::Months::new(m as u32)))
            .and_then(|d| d.pred_opt());
        // The same guard as every other grant: the subject's turn, then the
        // exclusions (the housing subsidy against transitional housing).
        self.grant_in_tx(
            &tx,
            now,
            &label,
            NewGrant {
                subject,
                programme: &accepted.programme,
                from: today,
                to,
                source: &format!("application:{}", accepted.id),
            },
        )
        .await?;
        let disbursing = self
            .move_application(
                &tx,
                &accepted,
                Event::StartDisbursing,
                Party::System,
                "system:schedule",
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(view(&disbursing, now, false))
    }

    /// Writes the instalments: monthly when the approved amount is the
    /// programme's monthly schedule in full, else one lump sum due today.
    /// Returns the schedule's length in months, if monthly.
    async fn schedule(
        &self,
        tx: &DatabaseTransaction,
        app: &application::Model,
    ) -> Result<Option<i64>> {
        let Some(amount) = app.approved_fen else {
            return Ok(None);
        };
        let explanation: serde_json::Value = app
            .explanation
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or_default();
        let monthly = explanation["result"]["monthly_fen"].as_i64();
        let months = explanation["result"]["months"].as_i64();
        let today = opcity_domain::today_in_shanghai(self.now());
        let plan: Vec<(NaiveDate, i64)> = match (monthly, months) {
            (Some(m), Some(n)) if m > 0 && n > 0 && m.checked_mul(n) == Some(amount) => (0..n)
                .map(|i| {
                    (
                        today
                            .checked_add_months(chrono::Months::new(i as u32))
                            .unwrap_or(today),
                        m,
                    )
                })
                .collect(),
            _ => vec![(today, amount)],
        };
        assert_eq!(
            plan.iter().map(|(_, a)| a).sum::<i64>(),
            amount,
            "a schedule pays exactly the approved amount"
        );
        for (seq, (due, amount_fen)) in plan.iter().enumerate() {
            disbursement::ActiveModel {
                application_id: Set(app.id),
                seq: Set(seq as i32 + 1),
                due_on: Set(*due),
                amount_fen: Set(*amount_fen),
                status: Set("scheduled".to_owned()),
                paid_at: Set(None),
                ..Default::default()
            }
            .insert(tx)
            .await?;
        }
        Ok(months.filter(|_| plan.len() > 1))
    }

    /// The applicant declines an offer or withdraws an application; a held
    /// reservation is released in the same transaction.
    pub async fn withdraw_application(&self, actor: &Actor, id: i64) -> Result<ApplicationView> {
        let tx = self.store().begin().await?;
        let app = self.load_application(&tx, id).await?;
        authorize(actor, Action::Update, resource(&app))?;
        if party(actor, &app) != Party::Applicant {
            return Err(ServiceError::Forbidden);
        }
        let event = if app.state == State::Approved.id() {
            Event::DeclineOffer
        } else {
            Event::Withdraw
        };
        let label = actor.audit_label();
        let after = self
            .move_application(&tx, &app, event, Party::Applicant, &label, None)
            .await?;
        self.release_reservation(&tx, &app, &label).await?;
        tx.commit().await?;
        Ok(view(&after, self.now(), false))
    }

    /// Releases what an application still holds in its budget: the approved
    /// amount less what was paid.
    pub(crate) async fn release_reservation(
        &self,
        tx: &DatabaseTransaction,
        app: &application::Model,
        actor: &str,
    ) -> Result<()> {
        let (Some(budget_id), Some(approved)) = (app.budget_id, app.approved_fen) else {
            return Ok(());
        };
        let paid: i64 = disbursement::Entity::find()
            .filter(disbursement::Column::ApplicationId.eq(app.id))
            .filter(disbursement::Column::Status.eq("paid"))
            .all(tx)
            .await?
            .iter()
            .map(|d| d.amount_fen)
            .sum();
        let held = approved - paid;
        if held > 0 {
            let cause = Cause {
                actor,
                application_id: Some(app.id),
                disbursement_id: None,
                at: self.now(),
            };
            budget::apply(tx, budget_id, Movement::Release, held, cause)
                .await
                .map_err(budget_error)?;
        }
        Ok(())
    }

    /// An applicant appeals a rejection; a municipal administrator reopens
    /// (back to district review) or dismisses it.
    pub async fn appeal_application(
        &self,
        actor: &Actor,
        id: i64,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        self.act_on(actor, id, Event::Appeal, comment).await
    }

    pub async fn decide_appeal(
        &self,
        actor: &Actor,
        id: i64,
        reopen: bool,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        let event = if reopen {
            Event::ReopenAppeal
        } else {
            Event::DismissAppeal
        };
        self.act_on(actor, id, event, comment).await
    }

    /// A transition with no side effect beyond the move itself.
    async fn act_on(
        &self,
        actor: &Actor,
        id: i64,
        event: Event,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        let tx = self.store().begin().await?;
        let app = self.load_application(&tx, id).await?;
        authorize(actor, Action::Update, resource(&app))?;
        let label = actor.audit_label();
        let after = self
            .move_application(&tx, &app, event, party(actor, &app), &label, comment)
            .await?;
        tx.commit().await?;
        Ok(view(&after, self.now(), false))
    }

    /// Claws back a benefit: remaining instalments are cancelled, what is
    /// still reserved is released, and the grant ends today.
    pub async fn claw_back(
        &self,
        actor: &Actor,
        id: i64,
        comment: Option<&str>,
    ) -> Result<ApplicationView> {
        let tx = self.store().begin().await?;
        let app = self.load_application(&tx, id).await?;
        authorize(actor, Action::Update, resource(&app))?;
        let label = actor.audit_label();
        let after = self
            .move_application(
                &tx,
                &app,
                Event::ClawBack,
                party(actor, &app),
                &label,
                comment,
            )
            .await?;
        self.stop_payments(&tx, &app, &label).await?;
        tx.commit().await?;
        Ok(view(&after, self.now(), false))
    }

    /// Cancels scheduled instalments, releases the rest of the reservation and
    /// ends the grant (claw-back, or eligibility lapsed).
    pub(crate) async fn stop_payments(
        &self,
        tx: &DatabaseTransaction,
        app: &application::Model,
        actor: &str,
    ) -> Result<()> {
        let cancel = Query::update()
            .table("disbursements")
            .value("status", "cancelled")
            .and_where(Expr::col("application_id").eq(app.id))
            .and_where(Expr::col("status").eq("scheduled"))
            .take();
        tx.execute(&cancel).await?;
        self.release_reservation(tx, app, actor).await?;
        let today = opcity_domain::today_in_shanghai(self.now());
        opcity_store::grants::end_by_source(tx, &format!("application:{}", app.id), today).await?;
        Ok(())
    }

    pub async fn get_application(&self, actor: &Actor, id: i64) -> Result<ApplicationDetail> {
        let db = self.store().db();
        let app = self.load_application(db, id).await?;
        authorize(actor, Action::Read, resource(&app))?;
        let history = application_event::Entity::find()
            .filter(application_event::Column::ApplicationId.eq(id))
            .order_by_asc(application_event::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|e| EventView {
                from_state: e.from_state,
                to_state: e.to_state,
                event: e.event,
                actor: e.actor,
                comment: e.comment,
                at: e.at,
            })
            .collect();
        let disbursements = disbursement::Entity::find()
            .filter(disbursement::Column::ApplicationId.eq(id))
            .order_by_asc(disbursement::Column::Seq)
            .all(db)
            .await?
            .into_iter()
            .map(|d| DisbursementView {
                seq: d.seq,
                due_on: d.due_on,
                amount_fen: d.amount_fen,
                status: d.status,
                paid_at: d.paid_at,
            })
            .collect();
        let documents = self.document_rows(db, id).await?;
        let pack = self.pack();
        let missing = pack
            .programme(&app.programme)
            .map(|p| {
                let form: serde_json::Value =
                    serde_json::from_str(&app.form_data).unwrap_or_default();
                missing_evidence(p, &form, &documents)
            })
            .unwrap_or_default();
        let reviews = if actor.role == Role::Founder {
            Vec::new()
        } else {
            self.review_views(db, id).await?
        };
        Ok(ApplicationDetail {
            application: view(&app, self.now(), false),
            history,
            disbursements,
            documents: Services::document_views(&documents),
            missing,
            reviews,
        })
    }

    async fn review_views<C: ConnectionTrait>(&self, db: &C, id: i64) -> Result<Vec<ReviewView>> {
        Ok(review::Entity::find()
            .filter(review::Column::ApplicationId.eq(id))
            .order_by_asc(review::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|r| ReviewView {
                reviewer_id: r.reviewer_id,
                decision: r.decision,
                amount_fen: r.amount_fen,
                score: r.score,
                scores: r
                    .scores
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_else(|| serde_json::json!({})),
                comment: r.comment,
                at: r.at,
            })
            .collect())
    }

    /// The founder's own applications, newest first.
    pub async fn my_applications(&self, actor: &Actor) -> Result<Vec<ApplicationView>> {
        let rows = application::Entity::find()
            .filter(application::Column::CreatedBy.eq(actor.account_id))
            .order_by_desc(application::Column::Id)
            .all(self.store().db())
            .await?;
        let now = self.now();
        Ok(rows.iter().map(|a| view(a, now, false)).collect())
    }

    /// A reviewer's queue: applications awaiting review in their scope,
    /// oldest submission first (the SLA clock runs from submission).
    pub async fn review_queue(
        &self,
        actor: &Actor,
        filter: &QueueFilter,
    ) -> Result<Vec<ApplicationView>> {
        let scope = application_scope(actor).ok_or(ServiceError::Forbidden)?;
        let mut query = application::Entity::find();
        if let Some(d) = scope.district {
            query = query.filter(application::Column::District.eq(d.id()));
        }
        if !scope.drafts {
            query = query.filter(application::Column::State.ne(State::Draft.id()));
        }
        let states: Vec<&str> = match filter.state.as_deref() {
            Some(s) => vec![s],
            None => State::ALL
                .iter()
                .filter(|s| s.awaits_review())
                .map(|s| s.id())
                .collect(),
        };
        query = query.filter(application::Column::State.is_in(states));
        if let Some(d) = filter.district.as_deref().filter(|d| !d.is_empty()) {
            query = query.filter(application::Column::District.eq(d));
        }
        if let Some(p) = filter.programme.as_deref().filter(|p| !p.is_empty()) {
            query = query.filter(application::Column::Programme.eq(p));
        }
        let rows = query
            .order_by_asc(application::Column::SubmittedAt)
            .all(self.store().db())
            .await?;
        let now = self.now();
        Ok(rows.iter().map(|a| view(a, now, false)).collect())
    }
}

/// Whether a result JSON says eligible.
pub(crate) fn is_eligible(result: &serde_json::Value) -> bool {
    result["result"]["status"] == serde_json::to_value(Status::Eligible).unwrap_or_default()
}
