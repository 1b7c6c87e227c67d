use sea_orm::{DbErr, SqlErr};

/// Storage failures that callers can act on. Constraint violations are
/// classified so that services can turn them into specific user errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error("foreign key constraint violated: {0}")]
    ForeignKey(String),
    /// A holding would overlap another of the same resource (PostgreSQL's
    /// exclusion constraint, SQLite's overlap triggers; see `intervals`).
    #[error("overlapping holding refused: {0}")]
    Overlap(String),
    /// Concurrent transactions got in each other's way (PostgreSQL: a
    /// deadlock, 40P01, or a serialization failure, 40001; one of them is
    /// chosen to fail). Nothing was written; running the transaction again
    /// is the remedy.
    #[error("transient conflict with a concurrent transaction: {0}")]
    Contention(String),
    /// The database could not be reached: no connection within the acquire
    /// timeout, or the connection failed (refused, reset, closed). Nothing
    /// was written; the request may be tried again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("unsupported database URL `{0}` (use sqlite://FILE or postgres://…)")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Db(DbErr),
}

/// The database's own error inside `err`, when the database refused the
/// statement (rather than the connection or the driver failing).
fn database_error(err: &DbErr) -> Option<&dyn sea_orm::sqlx::error::DatabaseError> {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match e.as_ref() {
        sea_orm::sqlx::Error::Database(db) => Some(db.as_ref()),
        _ => None,
    }
}

/// Whether the database refused a write because two holdings would overlap:
/// SQLSTATE 23P01 (exclusion violation) on PostgreSQL, the overlap triggers'
/// message on SQLite.
fn overlap_detail(err: &DbErr) -> Option<String> {
    let db = database_error(err)?;
    let exclusion = db.code().is_some_and(|c| c == "23P01");
    let trigger = db
        .message()
        .contains(crate::intervals::SQLITE_OVERLAP_MESSAGE);
    (exclusion || trigger).then(|| db.message().to_owned())
}

/// Whether PostgreSQL chose this transaction to fail so that concurrent
/// ones could go on (SQLSTATE 40P01 deadlock, 40001 serialization).
fn contention_detail(err: &DbErr) -> Option<String> {
    let db = database_error(err)?;
    db.code()
        .is_some_and(|c| c == "40P01" || c == "40001")
        .then(|| db.message().to_owned())
}

/// Whether the database could not be reached at all (rather than refusing
/// a statement): the pool timed out or was closed, or the connection failed.
fn unavailable_detail(err: &DbErr) -> Option<String> {
    use sea_orm::sqlx::Error as Sqlx;
    let reachable = match err {
        DbErr::ConnectionAcquire(_) => false,
        DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => !matches!(
            e.as_ref(),
            Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed
        ),
        _ => true,
    };
    (!reachable).then(|| err.to_string())
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if let Some(detail) = unavailable_detail(&err) {
            return StoreError::Unavailable(detail);
        }
        if let Some(detail) = overlap_detail(&err) {
            return StoreError::Overlap(detail);
        }
        if let Some(detail) = contention_detail(&err) {
            return StoreError::Contention(detail);
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => StoreError::Unique(detail),
            Some(SqlErr::ForeignKeyConstraintViolation(detail)) => StoreError::ForeignKey(detail),
            _ if matches!(err, DbErr::RecordNotFound(_)) => StoreError::NotFound,
            _ => StoreError::Db(err),
        }
    }
}

impl StoreError {
    /// Whether a unique constraint on a column of this name was violated.
    /// Both backends mention the column (SQLite: `table.column`; PostgreSQL:
    /// the constraint name `table_column_key`).
    pub fn is_unique_on(&self, column: &str) -> bool {
        matches!(self, StoreError::Unique(detail) if detail.contains(column))
    }
}
