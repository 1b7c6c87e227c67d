use sea_orm::entity::prelude::*;

/// A published version of a pack: a draft's revision over the version it
/// revises (see migration m0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pack_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pack: String,
    pub base_version: String,
    pub version: String,
    pub effective_from: Date,
    pub revision: String,
    pub draft_id: i64,
    pub published_by: i64,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
