use sea_orm::entity::prelude::*;

/// A building of an OPC community, or of other industrial space in a district.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_buildings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: Option<i64>,
    pub district: String,
    pub name: String,
    pub address: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
