//! Holdings of scarce resources over half-open time intervals `[start, end)`:
//! space agreements on units, housing leases on housing units, and instrument
//! bookings on instruments.
//!
//! The invariant "no resource is held by two records whose intervals overlap"
//! is enforced by the database on both backends:
//! - PostgreSQL: an exclusion constraint (`btree_gist`) over the resource id
//!   and `tstzrange(start_at, end_at, '[)')`, limited to the holding statuses;
//! - SQLite: triggers that refuse an overlapping insert or update; writers are
//!   serialised by the `IMMEDIATE` transactions of [`crate::Store::begin`], so
//!   the check and the write can never interleave.
//!
//! [`find_overlap`] is the same test as a query, so that callers can name the
//! conflicting interval (before writing, and again after the database refused
//! a write that raced with another).
//!
//! Instants are stored in UTC with whole seconds: SQLite compares them as
//! text, which is only correct when every value has the same format.
//!
//! The constraints and triggers are created by migration `m0005_spaces` from
//! [`Holdings`]; the holding statuses include offers and pending bookings.
//! [`lock_key`] serialises decisions on one key (a person's grants, an
//! enterprise's quota, the holdings of one resource) on PostgreSQL; SQLite's
//! `IMMEDIATE` writers need no more. Concurrent inserts of overlapping
//! intervals can deadlock in PostgreSQL's exclusion check (each waits for
//! the other's transaction), so every holding write first takes its
//! resource's turn ([`lock_key`], or [`lock_keys`] for a group of bookings,
//! in lock order). `tests/interval_guards.rs` proves the guards.

use crate::StoreError;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::collections::BTreeSet;

/// The kinds of holdings, each one table guarded the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holdings {
    SpaceAgreements,
    HousingLeases,
    InstrumentBookings,
}

impl Holdings {
    pub const ALL: [Holdings; 3] = [
        Holdings::SpaceAgreements,
        Holdings::HousingLeases,
        Holdings::InstrumentBookings,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Holdings::SpaceAgreements => "space_agreements",
            Holdings::HousingLeases => "housing_leases",
            Holdings::InstrumentBookings => "instrument_bookings",
        }
    }

    /// The column naming the held resource.
    pub fn resource_column(self) -> &'static str {
        match self {
            Holdings::SpaceAgreements => "unit_id",
            Holdings::HousingLeases => "housing_unit_id",
            Holdings::InstrumentBookings => "instrument_id",
        }
    }

    /// Statuses in which a record holds its interval. Records that ended
    /// early keep holding the part that was used (their end is moved to the
    /// actual end), so history never shows two holders at once; refused,
    /// declined and cancelled records hold nothing.
    pub fn holding_statuses(self) -> &'static [&'static str] {
        match self {
            Holdings::SpaceAgreements => &["offered", "active", "ended"],
            Holdings::HousingLeases => &["reserved", "active", "ended"],
            Holdings::InstrumentBookings => &["pending", "confirmed", "checked_in", "released"],
        }
    }

    /// Every status a record may have.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Holdings::SpaceAgreements => &["offered", "active", "ended", "declined", "withdrawn"],
            Holdings::HousingLeases => &["reserved", "active", "ended", "cancelled"],
            Holdings::InstrumentBookings => &[
                "pending",
                "confirmed",
                "checked_in",
                "released",
                "cancelled",
                "rejected",
            ],
        }
    }

    /// `'a','b'` for SQL text.
    pub(crate) fn holding_list(self) -> String {
        self.holding_statuses()
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// An instant as it is stored: UTC, whole seconds.
pub fn stored_instant(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(0)
}

/// A holding record whose interval overlaps the one asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
}

/// The earliest holding of `resource_id` that overlaps `[start, end)`,
/// ignoring the record `except` (the one being changed).
pub async fn find_overlap<C: ConnectionTrait>(
    db: &C,
    kind: Holdings,
    resource_id: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<i64>,
) -> Result<Option<Held>, StoreError> {
    let mut query = Query::select()
        .columns(["id", "start_at", "end_at"].map(Alias::new))
        .from(Alias::new(kind.table()))
        .and_where(Expr::col(Alias::new(kind.resource_column())).eq(resource_id))
        .and_where(
            Expr::col(Alias::new("status"))
                .is_in(kind.holding_statuses().iter().map(|s| (*s).to_owned())),
        )
        .and_where(Expr::col(Alias::new("start_at")).lt(stored_instant(end)))
        .and_where(Expr::col(Alias::new("end_at")).gt(stored_instant(start)))
        .order_by(Alias::new("start_at"), sea_orm::Order::Asc)
        .limit(1)
        .take();
    if let Some(id) = except {
        query.and_where(Expr::col(Alias::new("id")).ne(id));
    }
    let Some(row) = db.query_one(&query).await? else {
        return Ok(None);
    };
    Ok(Some(Held {
        id: row.try_get("", "id")?,
        start_at: row.try_get("", "start_at")?,
        end_at: row.try_get("", "end_at")?,
    }))
}

/// Serialises writers that decide on the same key (a person's benefits, an
/// enterprise's quota) until the transaction ends. PostgreSQL takes a
/// transaction-scoped advisory lock; SQLite needs nothing, because its
/// `IMMEDIATE` write transactions already run one at a time.
pub async fn lock_key<C: ConnectionTrait>(tx: &C, key: &str) -> Result<(), StoreError> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// [`lock_key`] for each of `keys` in one statement, in the order of their
/// lock numbers (a group's keys, taken the same way by every group, so two
/// groups never wait for each other in a cycle).
pub async fn lock_keys<C: ConnectionTrait>(
    tx: &C,
    keys: &BTreeSet<String>,
) -> Result<(), StoreError> {
    if tx.get_database_backend() != DbBackend::Postgres || keys.is_empty() {
        return Ok(());
    }
    let mut values = Vec::with_capacity(keys.len());
    let rows = crate::values::rows_of(
        DbBackend::Postgres,
        &mut values,
        keys.iter().map(|k| vec![k.as_str().into()]),
    );
    let sql = format!(
        "SELECT pg_advisory_xact_lock(h) FROM \
         (SELECT DISTINCT hashtext(k) AS h FROM (VALUES {rows}) AS v (k) ORDER BY h) AS locks"
    );
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// The message SQLite's overlap triggers raise, recognised by [`StoreError`].
pub(crate) const SQLITE_OVERLAP_MESSAGE: &str = "interval_overlap";

/// DDL that makes the database refuse overlapping holdings of `kind`.
pub(crate) fn overlap_guard(kind: Holdings, backend: DbBackend) -> Vec<String> {
    let table = kind.table();
    let resource = kind.resource_column();
    let holding = kind.holding_list();
    match backend {
        DbBackend::Postgres => vec![format!(
            "ALTER TABLE {table} ADD CONSTRAINT {table}_no_overlap EXCLUDE USING gist \
             ({resource} WITH =, tstzrange(start_at, end_at, '[)') WITH &&) \
             WHERE (status IN ({holding}))"
        )],
        _ => {
            let clash = |not_self: &str| {
                format!(
                    "SELECT RAISE(ABORT, '{SQLITE_OVERLAP_MESSAGE} {table}') WHERE EXISTS (\
                     SELECT 1 FROM {table} o WHERE o.{resource} = NEW.{resource} {not_self}\
                     AND o.status IN ({holding}) \
                     AND o.start_at < NEW.end_at AND o.end_at > NEW.start_at)"
                )
            };
            vec![
                format!(
                    "CREATE TRIGGER {table}_no_overlap_insert BEFORE INSERT ON {table} \
                     WHEN NEW.status IN ({holding}) BEGIN {}; END",
                    clash("")
                ),
                format!(
                    "CREATE TRIGGER {table}_no_overlap_update BEFORE UPDATE ON {table} \
                     WHEN NEW.status IN ({holding}) BEGIN {}; END",
                    clash("AND o.id <> NEW.id ")
                ),
            ]
        }
    }
}
