//! Changes of state: each one UPDATE conditional on the state and the form
//! the caller read, returning the rows it moved, and what moves leave
//! behind (history, notifications, audit entries).

use crate::StoreError;
use crate::audit;
use crate::entity::{application, application_event, notification, review};
use crate::values::rows_of;
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::application::State;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, Value,
};
use std::collections::{BTreeMap, BTreeSet};

/// One application's move: from the state it was read in (`app`, which
/// with its form guards the move) to `to`, at `at`.
#[derive(Debug, Clone, Copy)]
pub struct Move<'a> {
    pub app: &'a application::Model,
    pub to: State,
    pub at: DateTime<Utc>,
}

/// What a single move writes besides the state and `updated_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveSets {
    Nothing,
    /// A return to the applicant: the date more information is due.
    ReturnDeadline(NaiveDate),
}

/// Moves one application; `None` (nothing written) when its state or its
/// form changed since it was read. Returns the row as stored.
pub async fn move_one(
    tx: &DatabaseTransaction,
    mv: Move<'_>,
    sets: MoveSets,
) -> Result<Option<application::Model>, StoreError> {
    let mut active: application::ActiveModel = mv.app.clone().into();
    active.state = Set(mv.to.id().to_owned());
    active.updated_at = Set(mv.at);
    match sets {
        MoveSets::Nothing => {}
        MoveSets::ReturnDeadline(deadline) => active.return_deadline = Set(Some(deadline)),
    }
    let updated = application::Entity::update(active)
        .validate()?
        .filter(application::Column::State.eq(mv.app.state.as_str()))
        .filter(application::Column::FormData.eq(mv.app.form_data.as_str()))
        .exec(tx)
        .await;
    crate::updated_or_none(updated)
}

/// A submission's move: `submitted_at` is the move's time; the engine's
/// explanation (JSON) and the pack version it came from are kept.
#[derive(Debug, Clone)]
pub struct SubmittedMove<'a> {
    pub mv: Move<'a>,
    pub explanation: String,
    pub pack_version: Option<String>,
}

/// An approval's move: `decided_at` is the move's time; the approved
/// amount and the budget it is reserved in, if any.
#[derive(Debug, Clone, Copy)]
pub struct DecidedMove<'a> {
    pub mv: Move<'a>,
    pub approved_fen: Option<i64>,
    pub budget_id: Option<i64>,
}

/// Moves a group of submissions with one UPDATE; returns the rows moved,
/// by id. One whose state or form changed since read is left alone (and
/// missing from the answer). Each application at most once per call.
pub async fn move_submitted(
    tx: &DatabaseTransaction,
    moves: &[SubmittedMove<'_>],
) -> Result<BTreeMap<i64, application::Model>, StoreError> {
    let rows = moves.iter().map(|m| {
        (
            m.mv,
            vec![
                Value::from(m.explanation.as_str()),
                Value::from(m.pack_version.clone()),
            ],
        )
    });
    move_group(
        tx,
        &["m_explanation", "m_pack"],
        "submitted_at = moved.m_at, explanation = moved.m_explanation, \
         pack_version = moved.m_pack",
        rows,
    )
    .await
}

/// Moves a group of approvals with one UPDATE, as [`move_submitted`].
pub async fn move_decided(
    tx: &DatabaseTransaction,
    moves: &[DecidedMove<'_>],
) -> Result<BTreeMap<i64, application::Model>, StoreError> {
    let rows = moves.iter().map(|m| {
        (
            m.mv,
            vec![Value::from(m.approved_fen), Value::from(m.budget_id)],
        )
    });
    move_group(
        tx,
        &["m_fen", "m_budget"],
        "decided_at = moved.m_at, approved_fen = moved.m_fen, budget_id = moved.m_budget",
        rows,
    )
    .await
}

/// The one UPDATE of a group move. The values of each move's extra columns
/// are named `moved.<column>` after `extra`, which `set` assigns; both are
/// this module's constants, never input.
async fn move_group<'a>(
    tx: &DatabaseTransaction,
    extra: &[&str],
    set: &str,
    moves: impl IntoIterator<Item = (Move<'a>, Vec<Value>)>,
) -> Result<BTreeMap<i64, application::Model>, StoreError> {
    let backend = tx.get_database_backend();
    let mut values = Vec::new();
    let rows = moves.into_iter().map(|(m, extra)| {
        let guard = [
            Value::from(m.app.id),
            Value::from(m.app.state.as_str()),
            Value::from(m.app.form_data.as_str()),
            Value::from(m.to.id()),
            Value::from(m.at),
        ];
        guard.into_iter().chain(extra).collect()
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

/// One step of an application's history.
#[derive(Debug, Clone)]
pub struct HistoryRow<'a> {
    pub application_id: i64,
    /// `None` for the step that created it.
    pub from_state: Option<&'a str>,
    pub to_state: &'a str,
    pub event: String,
    pub actor: &'a str,
    pub comment: Option<&'a str>,
    pub at: DateTime<Utc>,
}

impl HistoryRow<'_> {
    pub(super) fn row(&self) -> application_event::ActiveModel {
        application_event::ActiveModel {
            application_id: Set(self.application_id),
            from_state: Set(self.from_state.map(str::to_owned)),
            to_state: Set(self.to_state.to_owned()),
            event: Set(self.event.clone()),
            actor: Set(self.actor.to_owned()),
            comment: Set(self.comment.map(str::to_owned)),
            at: Set(self.at),
            ..Default::default()
        }
    }
}

/// A notification of an application's new state to its applicant.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub account_id: i64,
    pub kind: String,
    pub programme: &'a str,
    pub subject: String,
    pub at: DateTime<Utc>,
}

/// What moves leave behind, in one INSERT per table: their history rows,
/// their notifications and their audit entries.
pub async fn record_moves<'a>(
    tx: &DatabaseTransaction,
    history: &[HistoryRow<'_>],
    notices: &[Notice<'_>],
    audit: Vec<(DateTime<Utc>, audit::Change<'a>)>,
) -> Result<(), StoreError> {
    if !history.is_empty() {
        application_event::Entity::insert_many(history.iter().map(HistoryRow::row))
            .exec_without_returning(tx)
            .await?;
    }
    if !notices.is_empty() {
        let rows = notices.iter().map(|n| notification::ActiveModel {
            account_id: Set(n.account_id),
            kind: Set(n.kind.clone()),
            programme: Set(Some(n.programme.to_owned())),
            subject: Set(Some(n.subject.clone())),
            created_at: Set(n.at),
            read_at: Set(None),
            ..Default::default()
        });
        notification::Entity::insert_many(rows)
            .exec_without_returning(tx)
            .await?;
    }
    audit::append_all(tx, audit).await
}

/// Of `apps` (as read), those still in the state and with the form read,
/// locked until the transaction ends on PostgreSQL, in id order as in every
/// group (on SQLite the write transaction holds the database).
pub async fn lock_unchanged(
    tx: &DatabaseTransaction,
    apps: &[&application::Model],
) -> Result<BTreeSet<i64>, StoreError> {
    let apps: BTreeMap<i64, &application::Model> = apps.iter().map(|a| (a.id, *a)).collect();
    if apps.is_empty() {
        return Ok(BTreeSet::new());
    }
    let select = application::Entity::find()
        .select_only()
        .columns([
            application::Column::Id,
            application::Column::State,
            application::Column::FormData,
        ])
        .filter(application::Column::Id.is_in(apps.keys().copied()))
        // Rows are locked in the order read.
        .order_by_asc(application::Column::Id);
    let select = crate::rows::locked(select, tx.get_database_backend());
    let rows: Vec<(i64, String, String)> = select.into_tuple().all(tx).await?;
    Ok(rows
        .into_iter()
        .filter(|(id, state, form)| {
            apps.get(id)
                .is_some_and(|a| &a.state == state && &a.form_data == form)
        })
        .map(|(id, _, _)| id)
        .collect())
}

/// The reviewers who approved each application of `since` at or after its
/// time there (its last submission), each with the amount of their latest
/// such approval. Read after [`lock_unchanged`], it sees every approval
/// committed before, and one committed after sees the caller's.
pub async fn approvers_since(
    tx: &DatabaseTransaction,
    since: &BTreeMap<i64, DateTime<Utc>>,
) -> Result<BTreeMap<i64, BTreeMap<i64, Option<i64>>>, StoreError> {
    let approvals = review::Entity::find()
        .filter(review::Column::ApplicationId.is_in(since.keys().copied()))
        .filter(review::Column::Decision.eq("approve"))
        .order_by_asc(review::Column::Id)
        .all(tx)
        .await?;
    let mut approvers: BTreeMap<i64, BTreeMap<i64, Option<i64>>> = BTreeMap::new();
    for r in approvals {
        if since.get(&r.application_id).is_some_and(|&s| r.at >= s) {
            approvers
                .entry(r.application_id)
                .or_default()
                .insert(r.reviewer_id, r.amount_fen);
        }
    }
    Ok(approvers)
}
