//! Continuous eligibility (`services::applications::recheck`): a benefit
//! being delivered whose beneficiary no longer qualifies is flagged to the
//! reviewer who decided it, with the engine's explanation; its instalments
//! pause while the flag is open; the reviewer confirms the lapse (the
//! benefit ends) or lifts the flag; the founder may respond meanwhile.
//! At most one open flag per application (a partial unique index).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, date, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_eligibility_flags"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("eligibility_flags")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(string("programme"))
                .col(string("district"))
                // The date the pack was applied at, and what it said (JSON).
                .col(date("as_of"))
                .col(text("explanation"))
                .col(string("status").check(Expr::col("status").is_in([
                    "open",
                    "confirmed",
                    "lifted",
                ])))
                // The founder's answer, while open.
                .col(text_null("response"))
                .col(timestamp_with_time_zone_null("responded_at"))
                .col(string_null("decided_by"))
                .col(text_null("decision_note"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(timestamp_with_time_zone("created_at"))
                .check(Expr::cust("(status = 'open') = (decided_at IS NULL)"))
                .foreign_key(
                    ForeignKey::create()
                        .from("eligibility_flags", "application_id")
                        .to("applications", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .take(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX eligibility_flags_one_open \
                 ON eligibility_flags (application_id) WHERE status = 'open'",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("eligibility_flags_queue")
                .table("eligibility_flags")
                .col("district")
                .col("status")
                .col("id")
                .take(),
        )
        .await
    }
}
