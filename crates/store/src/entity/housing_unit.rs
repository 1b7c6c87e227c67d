use sea_orm::entity::prelude::*;

/// Transitional housing: a bed, a room or an apartment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "housing_units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub district: String,
    pub community_id: Option<i64>,
    pub address: String,
    pub code: String,
    pub kind: String,
    pub area_m2: i64,
    pub market_rent_fen: i64,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
