use sea_orm::entity::prelude::*;

/// A shared instrument (GPU server, lab equipment) booked by the slot.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instruments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub institution: String,
    pub district: String,
    pub community_id: Option<i64>,
    pub manager_account_id: Option<i64>,
    pub description: String,
    pub slot_minutes: i32,
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub open_days: String,
    pub quota_hours_week: Option<i32>,
    pub requires_approval: bool,
    pub cancel_notice_hours: i32,
    pub no_show_grace_minutes: i32,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
