//! Feedback from any page (`services::feedback`): what was said, on which
//! page, by whom when signed in; read by administrators.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, big_pk_auto, string, text, timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0018_feedback"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("feedback")
                .col(big_pk_auto("id"))
                .col(big_integer_null("account_id"))
                // The page the feedback was given from (a path).
                .col(string("page"))
                .col(text("message"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("feedback", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .take(),
        )
        .await
    }
}
