//! Who sent a piece of feedback, for its rate limit
//! (`store::feedback::insert_within`): `account:ID` when signed in, else
//! `address:` and a keyed hash of the client's address (the address itself
//! is not kept), else `anonymous`. Rows before this migration have none.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0019_feedback_sender"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("feedback")
                .add_column(string_null("sender"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("feedback_by_sender")
                .table("feedback")
                .col("sender")
                .col("created_at")
                .take(),
        )
        .await
    }
}
