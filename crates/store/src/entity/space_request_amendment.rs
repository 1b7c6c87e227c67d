use sea_orm::entity::prelude::*;

/// New terms an operator proposes for a waiting space request (see
/// migration m0024).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_request_amendments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub team_size: i32,
    pub wanted_from: Date,
    pub months: i32,
    pub reason: String,
    pub status: String,
    pub proposed_by: i64,
    pub proposed_at: DateTimeUtc,
    pub answered_by: Option<i64>,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
