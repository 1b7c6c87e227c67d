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
    #[error("unsupported database URL `{0}` (use sqlite://FILE or postgres://…)")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
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
