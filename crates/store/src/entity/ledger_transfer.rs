use sea_orm::entity::prelude::*;

/// One immutable, balanced transfer (the database refuses UPDATE and DELETE).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transfers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: String,
    pub ledger: String,
    pub debit_account_id: i64,
    pub credit_account_id: i64,
    pub amount_fen: i64,
    /// posted, pending, post or void.
    pub phase: String,
    pub kind: String,
    pub pending_id: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub reference: Option<String>,
    pub contract_amount_fen: Option<i64>,
    pub use_kind: Option<String>,
    pub body_hash: String,
    pub actor: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
