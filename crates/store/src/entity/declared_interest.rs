use sea_orm::entity::prelude::*;

/// A reviewer's declared interest in an enterprise or a person (see
/// migration m0022).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "declared_interests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub relation: String,
    pub note: String,
    pub declared_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
