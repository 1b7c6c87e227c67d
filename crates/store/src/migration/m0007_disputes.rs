//! Dispute resolution of voucher captures: the administrators' decision on a
//! capture the enterprise disputed, once and immutable
//! (`voucher_dispute_resolutions`), and the budget movement `refund` (spent
//! back to reserved) that a reversed capture needs.
//!
//! - `voucher_dispute_resolutions`: one row per disputed capture (its
//!   primary key, which also refers to the enterprise's review): `upheld`
//!   (the provider keeps the money) or `reversed` (a compensating transfer,
//!   named in `reversal_id`, paid it back); `body_hash` recognises a replay
//!   of the same request. Triggers refuse UPDATE and DELETE.
//! - `budget_movements.kind` also allows `refund`. PostgreSQL replaces the
//!   CHECK constraint; SQLite cannot alter a CHECK, so the table is rebuilt
//!   from its own stored definition with the wider list (rows, ids and the
//!   immutability triggers kept).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_disputes"
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
    /// In one transaction on SQLite too, so the table rebuild is all or nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_resolutions(m).await?;
        let db = m.get_connection();
        let backend = db.get_database_backend();
        for sql in immutable_resolutions(backend) {
            db.execute_unprepared(sql).await?;
        }
        match backend {
            DbBackend::Postgres => {
                for sql in POSTGRES_REFUND {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => sqlite_refund(db).await?,
        }
        Ok(())
    }
}

async fn create_resolutions(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("voucher_dispute_resolutions")
            // The disputed capture (and so its review).
            .col(string("capture_id").primary_key())
            .col(big_integer("enterprise_id"))
            .col(string("outcome").check(Expr::col("outcome").is_in(["upheld", "reversed"])))
            // The compensating transfer of a reversal.
            .col(string_null("reversal_id").unique_key())
            .col(big_integer("amount_fen").check(Expr::col("amount_fen").gt(0)))
            .col(text_null("comment"))
            .col(string("body_hash"))
            .col(big_integer("account_id"))
            .col(timestamp_with_time_zone("at"))
            .check(Expr::cust(
                "(outcome = 'reversed') = (reversal_id IS NOT NULL)",
            ))
            .foreign_key(&mut fk(
                ("voucher_dispute_resolutions", "capture_id"),
                ("voucher_use_reviews", "transfer_id"),
            ))
            .foreign_key(&mut fk(
                ("voucher_dispute_resolutions", "reversal_id"),
                ("ledger_transfers", "id"),
            ))
            .foreign_key(&mut fk(
                ("voucher_dispute_resolutions", "enterprise_id"),
                ("enterprises", "id"),
            ))
            .foreign_key(&mut fk(
                ("voucher_dispute_resolutions", "account_id"),
                ("accounts", "id"),
            ))
            .take(),
    )
    .await
}

/// Resolutions are immutable, like the reviews they close.
fn immutable_resolutions(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        // `ledger_transfers_immutable()` comes from `m0004_vouchers`.
        DbBackend::Postgres => &[
            "CREATE TRIGGER voucher_dispute_resolutions_immutable BEFORE UPDATE OR DELETE \
             ON voucher_dispute_resolutions FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable()",
        ],
        _ => &[
            "CREATE TRIGGER voucher_dispute_resolutions_no_update BEFORE UPDATE ON voucher_dispute_resolutions \
             BEGIN SELECT RAISE(ABORT, 'voucher_dispute_resolutions are immutable'); END",
            "CREATE TRIGGER voucher_dispute_resolutions_no_delete BEFORE DELETE ON voucher_dispute_resolutions \
             BEGIN SELECT RAISE(ABORT, 'voucher_dispute_resolutions are immutable'); END",
        ],
    }
}

const KINDS_BEFORE: &str = "'fund', 'reserve', 'release', 'spend'";
const KINDS_AFTER: &str = "'fund', 'reserve', 'release', 'spend', 'refund'";

const POSTGRES_REFUND: &[&str] = &[
    // The column's CHECK was named by PostgreSQL; find it by its definition.
    "DO $$ DECLARE c text; BEGIN \
       SELECT conname INTO c FROM pg_constraint \
        WHERE conrelid = 'budget_movements'::regclass AND contype = 'c' \
          AND pg_get_constraintdef(oid) LIKE '%kind%'; \
       EXECUTE format('ALTER TABLE budget_movements DROP CONSTRAINT %I', c); \
     END $$",
    "ALTER TABLE budget_movements ADD CONSTRAINT budget_movements_kind_check \
     CHECK (kind IN ('fund', 'reserve', 'release', 'spend', 'refund'))",
];

/// Rebuilds `budget_movements` on SQLite with `refund` allowed (SQLite's
/// documented procedure for a changed constraint: new table, copy, drop,
/// rename). Nothing refers to the table, so foreign keys stay on.
async fn sqlite_refund<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'budget_movements'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("budget_movements is missing".into()))?;
    let sql: String = row.try_get("", "sql")?;
    if !sql.contains(KINDS_BEFORE) {
        return Err(DbErr::Migration(format!(
            "budget_movements has an unexpected definition: {sql}"
        )));
    }
    let rebuilt = sql
        .replacen("\"budget_movements\"", "\"budget_movements_new\"", 1)
        .replace(KINDS_BEFORE, KINDS_AFTER);
    db.execute_unprepared(&rebuilt).await?;
    for step in [
        "INSERT INTO budget_movements_new SELECT * FROM budget_movements",
        "DROP TABLE budget_movements",
        "ALTER TABLE budget_movements_new RENAME TO budget_movements",
        "CREATE TRIGGER budget_movements_no_update BEFORE UPDATE ON budget_movements \
         BEGIN SELECT RAISE(ABORT, 'budget_movements are immutable'); END",
        "CREATE TRIGGER budget_movements_no_delete BEFORE DELETE ON budget_movements \
         BEGIN SELECT RAISE(ABORT, 'budget_movements are immutable'); END",
    ] {
        db.execute_unprepared(step).await?;
    }
    Ok(())
}
