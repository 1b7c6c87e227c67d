use sea_orm::entity::prelude::*;

/// A budget pool per programme, year and funding authority. The database
/// guarantees `reserved_fen + spent_fen <= total_fen`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budgets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub programme: String,
    pub year: i32,
    pub authority: String,
    pub total_fen: i64,
    pub reserved_fen: i64,
    pub spent_fen: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
