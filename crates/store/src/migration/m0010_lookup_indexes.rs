//! Indexes for the lookups by a foreign key that grew with the data: an
//! application's history and reviews, a person's or enterprise's
//! applications and holdings, a budget's movements, an account's sessions
//! and tokens. Without them each lookup read the whole table (an
//! application's detail page scanned every application's history: found by
//! `pg_stat_user_tables` during the application benchmark).
//! `tests/lookup_indexes.rs` checks that the query plans use them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_lookup_indexes"
    }
}

/// Table and column of each index, named `{table}_by_{column}`.
const LOOKUPS: [(&str, &str); 13] = [
    ("application_events", "application_id"),
    ("reviews", "application_id"),
    ("applications", "person_id"),
    ("applications", "enterprise_id"),
    ("founders", "enterprise_id"),
    ("budget_movements", "budget_id"),
    ("sessions", "account_id"),
    ("api_tokens", "account_id"),
    ("space_requests", "person_id"),
    ("space_requests", "enterprise_id"),
    ("space_agreements", "person_id"),
    ("space_agreements", "enterprise_id"),
    ("housing_leases", "enterprise_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in LOOKUPS {
            m.create_index(
                Index::create()
                    .name(format!("{table}_by_{column}"))
                    .table(Alias::new(table))
                    .col(Alias::new(column))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
