//! Founders' own accounts (`services::sign_up`) and one-time links
//! (`store::account_links`):
//! - `accounts.awaiting`: what a self-registered account waits for before it
//!   may sign in — `email` (the link mailed to its address) or `operator`
//!   (an administrator's confirmation, when the platform sends no mail);
//!   `NULL` once confirmed, and for every account staff made;
//! - `accounts.signup_sender`: a keyed hash of the address the sign-up came
//!   from (the address itself is not kept), for the sign-up rate limit;
//! - `account_links`: the one-time links mailed to an account (verifying its
//!   address, resetting its password), kept as SHA-256 hashes of their
//!   secrets, each used at most once before it expires.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, string, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0020_sign_up"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in ["awaiting", "signup_sender"] {
            m.alter_table(
                Table::alter()
                    .table("accounts")
                    .add_column(string_null(column))
                    .take(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("accounts_by_signup_sender")
                .table("accounts")
                .col("signup_sender")
                .col("created_at")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("account_links")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                // `verify_email` or `reset_password`.
                .col(string("purpose"))
                .col(string("secret_hash").unique_key())
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                // Used, or replaced by a newer link of the same purpose.
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("account_links", "account_id")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("account_links_by_account")
                .table("account_links")
                .col("account_id")
                .col("purpose")
                .col("created_at")
                .take(),
        )
        .await
    }
}
