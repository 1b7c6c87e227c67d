use sea_orm::entity::prelude::*;

/// Transitional housing approved and waiting for the district's allocator.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "housing_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    pub person_id: i64,
    pub enterprise_id: Option<i64>,
    pub district: String,
    pub wanted_from: Date,
    pub months: i32,
    /// `waiting`, `allocated` (with `lease_id`) or `withdrawn`.
    pub status: String,
    pub lease_id: Option<i64>,
    pub requested_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
