//! Indexes for continuous eligibility at scale (found by the recheck
//! benchmark, `bench/src/bin/recheck_bench.rs`, over 100,000 benefits): the
//! benefits in delivery are read page by page by state and id, and a lapse
//! reads the application's earlier flags (the partial unique index of
//! `m0014` holds open flags only, so the history of lifted and confirmed
//! ones was a scan of every flag). It also serves the inbox and the
//! application page, which read an application's flags.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0015_recheck_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("applications_by_state_id")
                .table(Alias::new("applications"))
                .col(Alias::new("state"))
                .col(Alias::new("id"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("eligibility_flags_by_application_id")
                .table(Alias::new("eligibility_flags"))
                .col(Alias::new("application_id"))
                .take(),
        )
        .await
    }
}
