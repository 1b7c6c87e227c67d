use sea_orm::entity::prelude::*;

/// A compute, model-API or data vendor that redeems vouchers, acting through
/// one account of role `service_provider`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub uscc: Option<String>,
    pub category: String,
    #[sea_orm(unique)]
    pub account_id: i64,
    /// Space-separated voucher kinds (programme ids).
    pub requested_kinds: String,
    pub approved_kinds: String,
    /// pending, approved or suspended.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
