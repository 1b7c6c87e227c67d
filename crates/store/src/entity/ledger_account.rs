use sea_orm::entity::prelude::*;

/// One account of the voucher ledger. Its four balances change only through
/// `ledger` (conditional UPDATEs in the transfer's transaction) and always
/// equal the sums of its transfers.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub ledger: String,
    /// pool, wallet, provider, expired or clawed_back.
    pub kind: String,
    pub enterprise_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub budget_id: Option<i64>,
    pub valid_until: Option<Date>,
    pub debits_must_not_exceed_credits: bool,
    pub credits_must_not_exceed_debits: bool,
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

impl Model {
    /// What a credit-balance account (a wallet) can still spend or hold.
    pub fn available(&self) -> i64 {
        self.credits_posted - self.debits_posted - self.debits_pending
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
