use sea_orm::entity::prelude::*;

/// A floor of a building.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_floors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub building_id: i64,
    pub level: i32,
    pub label: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
