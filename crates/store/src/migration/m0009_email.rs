//! Optional e-mail notifications: an account's address and opt-in, and the
//! outbox bookkeeping on each notification (when it was e-mailed, how many
//! attempts, who holds it now and why the last attempt failed).
//!
//! SQLite adds one column per `ALTER TABLE`, so each column is its own step.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_email"
    }
}

async fn add(m: &SchemaManager<'_>, table: &str, column: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(
        Table::alter()
            .table(Alias::new(table))
            .add_column(column)
            .take(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, "accounts", string_null("email")).await?;
        add(
            m,
            "accounts",
            boolean("email_notifications").default(false).take(),
        )
        .await?;
        // Notifications created before this instant are not e-mailed: opting
        // in (or changing the address) does not send the backlog.
        add(m, "accounts", timestamp_with_time_zone_null("email_since")).await?;

        add(
            m,
            "notifications",
            timestamp_with_time_zone_null("emailed_at"),
        )
        .await?;
        add(
            m,
            "notifications",
            integer("email_attempts").default(0).take(),
        )
        .await?;
        // Claimed by a sender until then (a lease), or, after a failure, not
        // to be tried again before then.
        add(
            m,
            "notifications",
            timestamp_with_time_zone_null("email_locked_until"),
        )
        .await?;
        add(m, "notifications", text_null("email_error")).await?;
        m.create_index(
            Index::create()
                .name("notifications_to_email")
                .table("notifications")
                .col("account_id")
                .col("emailed_at")
                .take(),
        )
        .await
    }
}
