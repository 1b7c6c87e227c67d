//! Sign-in throttling by address as well as by account: each failed (or
//! still unchecked) sign-in records the client address it came from, and
//! the throttle counts by username and address, by address across
//! usernames, and by username across addresses (`throttle.rs`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_login_addresses"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("login_failures")
                .add_column(string_null("address"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("login_failures_by_address")
                .table("login_failures")
                .col("address")
                .col("at")
                .take(),
        )
        .await
    }
}
