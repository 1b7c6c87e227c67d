use sea_orm::entity::prelude::*;

/// A booking holding an instrument over `[start_at, end_at)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instrument_bookings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub instrument_id: i64,
    pub enterprise_id: i64,
    pub booked_by: i64,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub status: String,
    pub late_cancel: bool,
    pub purpose: String,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub checked_in_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
