use sea_orm::entity::prelude::*;

/// A draft of policy changes (see migration m0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pack: String,
    pub title: String,
    pub reason: String,
    pub source_document: String,
    pub status: String,
    pub revision: i32,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
    pub impact: Option<String>,
    pub impact_revision: Option<i32>,
    pub impact_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
