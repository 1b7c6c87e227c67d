//! Requests for information as a thread (`services::applications::
//! messages`): a reviewer's question to the applicant, and the applicant's
//! answer, on one application. A question is open until the applicant
//! answers (`answered_at`); an answer closes every question open before it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, boolean, text, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0023_application_messages"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let fk = |column: &'static str, table: &'static str| {
            ForeignKey::create()
                .from("application_messages", column)
                .to(table, "id")
                .on_delete(ForeignKeyAction::Restrict)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table("application_messages")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(big_integer("author_id"))
                // The applicant's answer (true) or a reviewer's question.
                .col(boolean("from_applicant"))
                .col(text("body"))
                .col(timestamp_with_time_zone("at"))
                // A question's answer came then; always empty on answers.
                .col(timestamp_with_time_zone_null("answered_at"))
                .foreign_key(&mut fk("application_id", "applications"))
                .foreign_key(&mut fk("author_id", "accounts"))
                .check(Expr::cust(
                    "NOT (from_applicant AND answered_at IS NOT NULL)",
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("application_messages_by_application")
                .table("application_messages")
                .col("application_id")
                .take(),
        )
        .await
    }
}
