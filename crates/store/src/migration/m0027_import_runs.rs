//! Each written import (`services::import`): its kind, the file's SHA-256
//! and name, who ran it, and the ids it made (as ranges). A file is written
//! once per kind: two confirmations of one preview, or the same file run
//! twice, meet the unique index, whatever the records themselves allow
//! (communities and instruments have no other key).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_pk_auto, integer, string, text, timestamp_with_time_zone};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0027_import_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("import_runs")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(string("sha256"))
                .col(string("file_name"))
                .col(integer("rows"))
                // `[[first, last], …]` of the ids made, ascending.
                .col(text("created_ids"))
                .col(string("actor"))
                .col(timestamp_with_time_zone("at"))
                .index(
                    Index::create()
                        .name("import_runs_sha256_unique")
                        .col("kind")
                        .col("sha256")
                        .unique(),
                )
                .take(),
        )
        .await
    }
}
