use sea_orm::entity::prelude::*;

/// A lettable unit: a desk, an office or a whole floor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub floor_id: i64,
    pub community_id: Option<i64>,
    pub district: String,
    pub kind: String,
    pub code: String,
    pub area_m2: i64,
    pub capacity: i32,
    pub list_rent_fen: i64,
    pub discounted_rent_fen: i64,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
