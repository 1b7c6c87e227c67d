use sea_orm::entity::prelude::*;

/// An enterprise's confirmation or dispute of one capture (once, immutable).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "voucher_use_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub transfer_id: String,
    pub enterprise_id: i64,
    /// confirmed or disputed.
    pub decision: String,
    pub comment: Option<String>,
    pub account_id: i64,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
