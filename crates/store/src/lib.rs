//! The one storage layer of opcity, over SQLite (the embedded default) and
//! PostgreSQL (scale-out), chosen from the database URL in [`Store::connect`].
//!
//! Architecture invariants:
//! - Every write goes through [`Store::begin`], which on SQLite begins
//!   `IMMEDIATE` so concurrent writers queue for the lock instead of failing
//!   when a read transaction tries to upgrade. Before that it takes this
//!   process's writer turn: [`WriteTx`] holds an async mutex until it
//!   commits, rolls back or is dropped, so the process's writers are served
//!   first come first served instead of polling in SQLite's busy handler,
//!   which left the lock idle between its sleeps (BENCHMARKS.md, "Write
//!   path"). SQLite runs in WAL mode with foreign keys on.
//! - Invariants that guard money, bookings and personal data are enforced here
//!   by constraints and transactions, never only by callers. Each has its
//!   guard module: [`budget`], [`ledger`], [`grants`], [`intervals`],
//!   [`applications`], [`bookings`], [`spaces`], [`vouchers`],
//!   [`registry`], [`accounts`], [`entitlements`], [`notifications`],
//!   [`throttle`], [`audit`]; [`group`], [`rows`] and [`values`] are the
//!   tools they share.
//! - Migrations are applied on start; they are written once (SeaQuery) for both
//!   backends.
//!
//! [`StoreError`] classifies what the database refused, so callers answer
//! without reading messages: `Unique`, `ForeignKey`, `Overlap` (an interval
//! guard), `Contention` (a deadlock or serialization failure PostgreSQL
//! chose to fail; the services answer 409 `contention`) and `Unavailable`
//! (no PostgreSQL connection within [`POSTGRES_ACQUIRE_TIMEOUT`], connecting
//! included; the API answers 503 `unavailable` with `Retry-After`, and
//! `/readyz` 503 with the reason).

pub mod account_links;
pub mod accounts;
pub mod applications;
pub mod audit;
pub mod bookings;
pub mod budget;
pub mod bulk;
pub mod delivery;
pub mod districts;
pub mod entitlements;
pub mod entity;
mod error;
pub mod feedback;
pub mod flags;
pub mod grants;
pub mod group;
pub mod interests;
pub mod intervals;
pub mod ledger;
mod migration;
pub mod notifications;
pub mod policy_drafts;
pub mod rate;
pub mod registry;
pub mod rows;
pub mod spaces;
pub mod throttle;
pub mod values;
pub mod vouchers;

pub use error::StoreError;
pub use sea_orm;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::time::Duration;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or `None` for an unsupported scheme.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process queue here,
    /// first come first served, instead of in SQLite's busy handler, which
    /// polls with growing sleeps and leaves the lock idle between them.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The voucher ledger's group committer, started on first use.
    ledger_queue: Arc<std::sync::OnceLock<ledger::Queue>>,
}

/// A guarded update's answer: the row as written, or `None` when its guard
/// matched no row (another writer moved it first).
pub(crate) fn updated_or_none<T>(updated: Result<T, DbErr>) -> Result<Option<T>, StoreError> {
    match updated {
        Ok(after) => Ok(Some(after)),
        Err(DbErr::RecordNotUpdated) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// A write transaction from [`Store::begin`]: a [`DatabaseTransaction`]
/// (through `Deref` and `ConnectionTrait`) that, on SQLite, also holds this
/// process's writer turn until it commits, rolls back or is dropped.
#[derive(Debug)]
pub struct WriteTx {
    tx: DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTx {
    fn get_database_backend(&self) -> DbBackend {
        self.tx.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.tx.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tx.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tx.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tx.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.tx.support_returning()
    }
}

/// How long a request waits for a PostgreSQL connection before the store
/// answers [`StoreError::Unavailable`]: long enough for a busy pool to hand
/// one over, short enough that an outage is answered (503) rather than
/// hung on. Opening a connection counts against it too, so a server that
/// accepts and never replies fails as fast.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

fn acquire_timeout(backend: Backend) -> Duration {
    match backend {
        // A local file has no outage; writers queue on the writer turn,
        // not on the pool.
        Backend::Sqlite => Duration::from_secs(30),
        Backend::Postgres => POSTGRES_ACQUIRE_TIMEOUT,
    }
}

impl Store {
    /// Connects without migrating. SQLite files are created when missing and
    /// opened in WAL mode with foreign keys enforced.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend =
            Backend::from_url(url).ok_or_else(|| StoreError::UnsupportedUrl(redact_url(url)))?;
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .acquire_timeout(acquire_timeout(backend))
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 32,
            })
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
            });
        let db = Database::connect(options).await?;
        let writer = (backend == Backend::Sqlite).then(Arc::default);
        Ok(Store {
            db,
            backend,
            writer,
            ledger_queue: Arc::default(),
        })
    }

    /// Applies every pending migration, then connects. The migrations run
    /// on a pool of their own, closed before the pool that is returned opens:
    /// a connection that loaded the schema before a migration changed it may
    /// describe a statement by the old table (seen on SQLite as a column
    /// missing from a `RETURNING` row right after `ALTER TABLE … ADD
    /// COLUMN`).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let migrating = Store::connect(url).await?;
        migrating.migrate().await?;
        migrating.close().await?;
        Store::connect(url).await
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        migration::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, for reads.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A write transaction. Dropped without commit, it rolls back, so an error
    /// or a crash mid-way leaves all of it or none of it.
    pub async fn begin(&self) -> Result<WriteTx, StoreError> {
        let turn = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(WriteTx {
            tx: self.db.begin_with_options(options).await?,
            _turn: turn,
        })
    }

    /// This store with a ledger queue of its own, for the ledger's committer
    /// task: holding the shared queue would keep the task alive forever.
    fn without_ledger_queue(&self) -> Store {
        Store {
            ledger_queue: Arc::default(),
            ..self.clone()
        }
    }

    pub fn db_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        Ok(())
    }
}

/// A URL fit for logs and error messages: the password is replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_from_the_url() {
        assert_eq!(
            Backend::from_url("sqlite://opcity.db"),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u:p@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://h/db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://opcity:secret@127.0.0.1/db"),
            "postgres://opcity:***@127.0.0.1/db"
        );
        assert_eq!(redact_url("sqlite://opcity.db"), "sqlite://opcity.db");
    }
}
