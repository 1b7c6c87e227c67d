//! Proactive matching: current entitlements per person and enterprise, and
//! in-app notifications.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_entitlements"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("entitlements")
                // `person:ID` or `enterprise:ID`.
                .col(string("subject"))
                .col(string("programme"))
                .col(string("status").check(Expr::col("status").is_in([
                    "eligible",
                    "ineligible",
                    "undetermined",
                ])))
                .col(big_integer_null("amount_fen"))
                .col(big_integer_null("ceiling_fen"))
                .col(big_integer_null("monthly_fen"))
                .col(big_integer_null("months"))
                .col(text("missing_facts"))
                .col(date("as_of"))
                .col(string("pack_version"))
                .col(timestamp_with_time_zone("evaluated_at"))
                .col(date_null("eligible_since"))
                .primary_key(Index::create().col("subject").col("programme"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string("kind"))
                .col(string_null("programme"))
                .col(string_null("subject"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("notifications", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notifications_by_account")
                .table("notifications")
                .col("account_id")
                .col("read_at")
                .take(),
        )
        .await
    }
}
