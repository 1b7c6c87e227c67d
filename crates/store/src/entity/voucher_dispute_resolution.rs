use sea_orm::entity::prelude::*;

/// The administrators' resolution of a disputed capture (once, immutable).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "voucher_dispute_resolutions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub capture_id: String,
    pub enterprise_id: i64,
    /// upheld or reversed.
    pub outcome: String,
    /// The compensating transfer of a reversal.
    pub reversal_id: Option<String>,
    pub amount_fen: i64,
    pub comment: Option<String>,
    pub body_hash: String,
    pub account_id: i64,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
