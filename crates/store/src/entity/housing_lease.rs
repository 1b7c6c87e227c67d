use sea_orm::entity::prelude::*;

/// A lease holding a housing unit over `[start_at, end_at)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "housing_leases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub housing_unit_id: i64,
    pub person_id: i64,
    pub enterprise_id: Option<i64>,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub months: i32,
    pub market_rent_fen: i64,
    pub rent_percent: i32,
    pub monthly_rent_fen: i64,
    pub status: String,
    pub moved_in_at: Option<DateTimeUtc>,
    pub moved_out_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
