use sea_orm::entity::prelude::*;

/// A request for space, waiting in its site's queue until served.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: Option<i64>,
    pub district: String,
    pub kind: String,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub team_size: i32,
    pub wanted_from: Date,
    pub months: i32,
    pub note: String,
    pub status: String,
    pub requested_by: i64,
    pub requested_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The approved application this request delivers, if any.
    pub application_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
