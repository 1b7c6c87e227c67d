//! The entitlements guard: the one place proactive matching's stored
//! results (`entitlements`, one row per subject and programme) are written.
//!
//! `opcity-services` evaluates the policy and decides whom a change concerns;
//! this module persists the results. Its invariants:
//! - **One current result per subject and programme.** [`record`] writes
//!   every result as an upsert on the primary key `(subject, programme)`,
//!   so two refreshes of one subject, racing or not, leave one row, the
//!   last one written.
//! - **`eligible_since` is kept while the subject stays eligible.** A result
//!   that is [`ELIGIBLE`] is stored eligible since its `as_of` unless the row
//!   it replaces was already eligible, in which case the stored date is
//!   kept; any other status clears it. The upsert decides this from the row
//!   it replaces (a CASE over the existing and the new row), not from an
//!   earlier read, so a result written meanwhile by another transaction is
//!   not lost either (PostgreSQL runs READ COMMITTED: the conflicting
//!   upsert waits for that row and then sees it).
//! - **Who became eligible is reported once per write.** [`record`] answers
//!   the results that were eligible now and not in the rows read before the
//!   upsert, in the order given, so the caller notifies the people concerned
//!   in the same transaction. As before this module existed, two refreshes
//!   of one subject racing on PostgreSQL may both report it (a repeated
//!   notice, never a lost one).

use crate::StoreError;
use crate::entity::entitlement;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::{BTreeMap, BTreeSet};

/// The stored name of the eligible status (`opcity_policy::Status::Eligible`
/// as a column stores it).
pub const ELIGIBLE: &str = "eligible";

/// Rows per INSERT of [`record`].
const CHUNK: usize = 200;

/// One evaluated result about to be stored; `subject` is `person:ID` or
/// `enterprise:ID`, `status` the policy status's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluated {
    pub subject: String,
    pub programme: String,
    pub status: String,
    pub amount_fen: Option<i64>,
    pub ceiling_fen: Option<i64>,
    pub monthly_fen: Option<i64>,
    pub months: Option<i64>,
    /// The names of the facts the case lacked.
    pub missing_facts: Vec<String>,
}

impl Evaluated {
    pub fn is_eligible(&self) -> bool {
        self.status == ELIGIBLE
    }
}

/// When and by which pack a set of results was evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'a> {
    /// The date the pack was applied at.
    pub as_of: NaiveDate,
    pub pack_version: &'a str,
    /// The instant of the evaluation.
    pub at: DateTime<Utc>,
}

/// Stores `results` (see the module docs) and answers those that became
/// eligible: eligible now, not eligible (or absent) before.
pub async fn record<'r, C: ConnectionTrait>(
    tx: &C,
    results: &'r [Evaluated],
    evaluation: Evaluation<'_>,
) -> Result<Vec<&'r Evaluated>, StoreError> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let subjects: BTreeSet<&str> = results.iter().map(|r| r.subject.as_str()).collect();
    let was_eligible: BTreeMap<(String, String), bool> = entitlement::Entity::find()
        .filter(entitlement::Column::Subject.is_in(subjects.iter().copied()))
        .all(tx)
        .await?
        .into_iter()
        .map(|e| {
            let eligible = e.status == ELIGIBLE;
            ((e.subject, e.programme), eligible)
        })
        .collect();
    let became: Vec<&Evaluated> = results
        .iter()
        .filter(|r| {
            r.is_eligible()
                && !was_eligible
                    .get(&(r.subject.clone(), r.programme.clone()))
                    .copied()
                    .unwrap_or(false)
        })
        .collect();
    let models: Vec<entitlement::ActiveModel> = results
        .iter()
        .map(|r| entitlement::ActiveModel {
            subject: Set(r.subject.clone()),
            programme: Set(r.programme.clone()),
            status: Set(r.status.clone()),
            amount_fen: Set(r.amount_fen),
            ceiling_fen: Set(r.ceiling_fen),
            monthly_fen: Set(r.monthly_fen),
            months: Set(r.months),
            missing_facts: Set(serde_json::to_string(&r.missing_facts).expect("strings serialise")),
            as_of: Set(evaluation.as_of),
            pack_version: Set(evaluation.pack_version.to_owned()),
            evaluated_at: Set(evaluation.at),
            eligible_since: Set(r.is_eligible().then_some(evaluation.as_of)),
        })
        .collect();
    for chunk in models.chunks(CHUNK) {
        entitlement::Entity::insert_many(chunk.to_vec())
            .on_conflict(upsert())
            .exec_without_returning(tx)
            .await?;
    }
    Ok(became)
}

/// Replace the stored result with the new one, keeping the stored
/// `eligible_since` when both are eligible.
fn upsert() -> OnConflict {
    OnConflict::columns([entitlement::Column::Subject, entitlement::Column::Programme])
        .update_columns([
            entitlement::Column::Status,
            entitlement::Column::AmountFen,
            entitlement::Column::CeilingFen,
            entitlement::Column::MonthlyFen,
            entitlement::Column::Months,
            entitlement::Column::MissingFacts,
            entitlement::Column::AsOf,
            entitlement::Column::PackVersion,
            entitlement::Column::EvaluatedAt,
        ])
        .value(
            entitlement::Column::EligibleSince,
            // Both backends name the row being replaced by its table and the
            // proposed row `excluded`.
            Expr::cust(format!(
                "CASE WHEN entitlements.status = '{ELIGIBLE}' AND excluded.status = '{ELIGIBLE}' \
                 THEN entitlements.eligible_since ELSE excluded.eligible_since END"
            )),
        )
        .to_owned()
}

/// The stored results of `subjects`, by subject.
pub async fn of_subjects<C: ConnectionTrait>(
    db: &C,
    subjects: impl IntoIterator<Item = String>,
) -> Result<Vec<entitlement::Model>, StoreError> {
    Ok(entitlement::Entity::find()
        .filter(entitlement::Column::Subject.is_in(subjects))
        .order_by_asc(entitlement::Column::Subject)
        .all(db)
        .await?)
}
