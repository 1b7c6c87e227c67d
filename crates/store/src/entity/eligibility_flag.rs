use sea_orm::entity::prelude::*;

/// A benefit whose beneficiary no longer qualifies, flagged to its reviewer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "eligibility_flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    pub programme: String,
    pub district: String,
    pub as_of: Date,
    /// The engine's explanation on `as_of` (JSON).
    pub explanation: String,
    /// `open`, `confirmed` (the benefit ended) or `lifted`.
    pub status: String,
    pub response: Option<String>,
    pub responded_at: Option<DateTimeUtc>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
