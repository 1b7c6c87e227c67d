use sea_orm::entity::prelude::*;

/// Feedback given from a page.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who gave it, when signed in.
    pub account_id: Option<i64>,
    /// Who sent it, for the rate limit (see migration m0019).
    pub sender: Option<String>,
    pub page: String,
    pub message: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
