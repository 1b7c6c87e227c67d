//! Vouchers (measure 6): service providers, the double-entry ledger
//! (accounts with pending and posted balances, immutable transfers) and the
//! enterprise's confirmation or dispute of each use.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_vouchers"
    }
}

fn fk(
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_providers(m).await?;
        create_ledger_accounts(m).await?;
        create_ledger_transfers(m).await?;
        create_use_reviews(m).await?;
        let db = m.get_connection();
        for sql in immutable_transfers(db.get_database_backend()) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

async fn create_providers(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("providers")
            .col(big_pk_auto("id"))
            .col(string("name"))
            .col(string_null("uscc"))
            // Compute, model API or data vendor (`compute`, `model_api`, `data`).
            .col(string("category"))
            // The account (role service_provider) that acts for the provider.
            .col(big_integer("account_id").unique_key())
            // Space-separated voucher kinds asked for and approved.
            .col(string("requested_kinds"))
            .col(string("approved_kinds"))
            .col(string("status").check(Expr::col("status").is_in([
                "pending",
                "approved",
                "suspended",
            ])))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk(("providers", "account_id"), ("accounts", "id")))
            .take(),
    )
    .await
}

async fn create_ledger_accounts(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("ledger_accounts")
            .col(big_pk_auto("id"))
            // Stable name, e.g. `wallet:12:sz.voucher.training`.
            .col(string("code").unique_key())
            // One ledger per voucher kind: transfers never cross ledgers.
            .col(string("ledger"))
            .col(string("kind").check(Expr::col("kind").is_in([
                "pool",
                "wallet",
                "provider",
                "expired",
                "clawed_back",
            ])))
            .col(big_integer_null("enterprise_id"))
            .col(big_integer_null("provider_id"))
            .col(big_integer_null("budget_id"))
            // Wallets: the last civil day the voucher may be used.
            .col(date_null("valid_until"))
            .col(boolean("debits_must_not_exceed_credits"))
            .col(boolean("credits_must_not_exceed_debits"))
            .col(big_integer("debits_pending").check(Expr::col("debits_pending").gte(0)))
            .col(big_integer("debits_posted").check(Expr::col("debits_posted").gte(0)))
            .col(big_integer("credits_pending").check(Expr::col("credits_pending").gte(0)))
            .col(big_integer("credits_posted").check(Expr::col("credits_posted").gte(0)))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(timestamp_with_time_zone_null("closed_at"))
            // The backstop of the guard in `ledger`: whatever the code does, a
            // wallet never spends or holds more than it was given.
            .check(Expr::cust(
                "NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted",
            ))
            .check(Expr::cust(
                "NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted",
            ))
            .foreign_key(&mut fk(
                ("ledger_accounts", "enterprise_id"),
                ("enterprises", "id"),
            ))
            .foreign_key(&mut fk(
                ("ledger_accounts", "provider_id"),
                ("providers", "id"),
            ))
            .foreign_key(&mut fk(("ledger_accounts", "budget_id"), ("budgets", "id")))
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("ledger_accounts_by_enterprise")
            .table("ledger_accounts")
            .col("enterprise_id")
            .take(),
    )
    .await
}

async fn create_ledger_transfers(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("ledger_transfers")
            // Commit order of conflicting transfers (assigned after the
            // account rows are locked).
            .col(big_pk_auto("seq"))
            // Client-supplied id: replaying it finds the first result.
            .col(string("id").unique_key())
            .col(string("ledger"))
            .col(big_integer("debit_account_id"))
            .col(big_integer("credit_account_id"))
            .col(big_integer("amount_fen").check(Expr::col("amount_fen").gt(0)))
            // posted (single phase), pending (a hold), post or void (the
            // hold's one resolution, naming it in pending_id).
            .col(
                string("phase")
                    .check(Expr::col("phase").is_in(["posted", "pending", "post", "void"])),
            )
            // Why: issue, hold, capture, void, hold_expiry, expire, return, clawback, …
            .col(string("kind"))
            .col(string_null("pending_id"))
            .col(timestamp_with_time_zone_null("expires_at"))
            // Contract or invoice reference and the contract's amount.
            .col(string_null("reference"))
            .col(big_integer_null("contract_amount_fen"))
            // model_training, agent_building or api_usage.
            .col(string_null("use_kind"))
            // SHA-256 of the client's request body, for idempotent replays.
            .col(string("body_hash"))
            .col(string("actor"))
            .col(timestamp_with_time_zone("created_at"))
            .check(Expr::cust("debit_account_id <> credit_account_id"))
            .check(Expr::cust(
                "(pending_id IS NULL) = (phase IN ('posted', 'pending'))",
            ))
            .check(Expr::cust("(expires_at IS NOT NULL) = (phase = 'pending')"))
            .foreign_key(&mut fk(
                ("ledger_transfers", "debit_account_id"),
                ("ledger_accounts", "id"),
            ))
            .foreign_key(&mut fk(
                ("ledger_transfers", "credit_account_id"),
                ("ledger_accounts", "id"),
            ))
            .foreign_key(&mut fk(
                ("ledger_transfers", "pending_id"),
                ("ledger_transfers", "id"),
            ))
            .take(),
    )
    .await?;
    // A hold resolves exactly once: a second post or void of it cannot exist.
    m.create_index(
        Index::create()
            .name("ledger_transfers_pending_once")
            .table("ledger_transfers")
            .col("pending_id")
            .unique()
            .take(),
    )
    .await?;
    for (name, col) in [
        ("ledger_transfers_by_debit", "debit_account_id"),
        ("ledger_transfers_by_credit", "credit_account_id"),
    ] {
        m.create_index(
            Index::create()
                .name(name)
                .table("ledger_transfers")
                .col(col)
                .col("seq")
                .take(),
        )
        .await?;
    }
    m.create_index(
        Index::create()
            .name("ledger_transfers_holds")
            .table("ledger_transfers")
            .col("phase")
            .col("expires_at")
            .take(),
    )
    .await
}

async fn create_use_reviews(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    // The enterprise's word on one capture: confirmed or disputed, once.
    m.create_table(
        Table::create()
            .table("voucher_use_reviews")
            .col(string("transfer_id").primary_key())
            .col(big_integer("enterprise_id"))
            .col(string("decision").check(Expr::col("decision").is_in(["confirmed", "disputed"])))
            .col(text_null("comment"))
            .col(big_integer("account_id"))
            .col(timestamp_with_time_zone("at"))
            .foreign_key(&mut fk(
                ("voucher_use_reviews", "transfer_id"),
                ("ledger_transfers", "id"),
            ))
            .foreign_key(&mut fk(
                ("voucher_use_reviews", "enterprise_id"),
                ("enterprises", "id"),
            ))
            .foreign_key(&mut fk(
                ("voucher_use_reviews", "account_id"),
                ("accounts", "id"),
            ))
            .take(),
    )
    .await
}

/// Transfers are immutable: corrections are new transfers.
fn immutable_transfers(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        DbBackend::Postgres => &[
            "CREATE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'ledger_transfers are immutable'; END $$",
            "CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers \
             FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable()",
            "CREATE TRIGGER voucher_use_reviews_immutable BEFORE UPDATE OR DELETE ON voucher_use_reviews \
             FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable()",
        ],
        _ => &[
            "CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers \
             BEGIN SELECT RAISE(ABORT, 'ledger_transfers are immutable'); END",
            "CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers \
             BEGIN SELECT RAISE(ABORT, 'ledger_transfers are immutable'); END",
            "CREATE TRIGGER voucher_use_reviews_no_update BEFORE UPDATE ON voucher_use_reviews \
             BEGIN SELECT RAISE(ABORT, 'voucher_use_reviews are immutable'); END",
            "CREATE TRIGGER voucher_use_reviews_no_delete BEFORE DELETE ON voucher_use_reviews \
             BEGIN SELECT RAISE(ABORT, 'voucher_use_reviews are immutable'); END",
        ],
    }
}
