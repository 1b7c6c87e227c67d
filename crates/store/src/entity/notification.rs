use sea_orm::entity::prelude::*;

/// An in-app notification for an account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// e.g. `may_qualify`.
    pub kind: String,
    pub programme: Option<String>,
    pub subject: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// When the e-mail for it was accepted by the SMTP server.
    pub emailed_at: Option<DateTimeUtc>,
    /// Sending attempts so far (each claim counts one).
    pub email_attempts: i32,
    /// Held by a sender until then, or not to be retried before then.
    pub email_locked_until: Option<DateTimeUtc>,
    /// Why the last attempt failed (for operators; never shown to users).
    pub email_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
