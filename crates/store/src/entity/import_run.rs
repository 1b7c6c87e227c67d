use sea_orm::entity::prelude::*;

/// A written import (migration m0027).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub sha256: String,
    pub file_name: String,
    pub rows: i32,
    /// JSON `[[first, last], …]` of the ids made.
    pub created_ids: String,
    pub actor: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
