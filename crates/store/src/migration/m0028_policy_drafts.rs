//! Drafts of policy changes (`services::policy_drafts`): a bureau user's
//! proposed parameter values and condition texts, each from a date, with
//! the reason and the source document, and the simulated impact last
//! attached. `revision` counts the draft's edits; an impact is kept with
//! the revision it was simulated at (`impact_revision`), so a reader knows
//! whether it still describes the changes.
//!
//! A draft is submitted (with an impact of its current revision) and then
//! published by another administrator, or sent back to the author with a
//! note: four eyes, held by a CHECK besides the guard. Publishing writes a
//! version of the pack (`pack_versions`): the draft's dated values and
//! conditions over the pack it was drafted on, in force from its date;
//! the pack in force is read from there (`services::policy_drafts`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, date, integer, integer_null, string, string_null,
    text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0028_policy_drafts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("policy_drafts")
                .col(big_pk_auto("id"))
                // The pack the draft changes (its id).
                .col(string("pack"))
                .col(string("title"))
                .col(text("reason"))
                .col(text("source_document"))
                .col(string("status"))
                .col(integer("revision"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer_null("submitted_by"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                // Who published it or sent it back, when and why.
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("decision_note"))
                // The impact as JSON, the revision it was simulated at and
                // when; all three or none.
                .col(text_null("impact"))
                .col(integer_null("impact_revision"))
                .col(timestamp_with_time_zone_null("impact_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("policy_drafts", "created_by")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .check(Expr::cust(
                    "status IN ('draft', 'submitted', 'published', 'withdrawn')",
                ))
                // Submitted and published drafts name who submitted them.
                .check(Expr::cust(
                    "status IN ('draft', 'withdrawn') OR submitted_by IS NOT NULL",
                ))
                // Four eyes: whoever publishes is neither author nor submitter.
                .check(Expr::cust(
                    "status <> 'published' OR (decided_by IS NOT NULL \
                     AND decided_by <> created_by AND decided_by <> submitted_by)",
                ))
                .check(Expr::cust("revision >= 1"))
                .check(Expr::cust(
                    "(impact IS NULL) = (impact_revision IS NULL) \
                     AND (impact IS NULL) = (impact_at IS NULL) \
                     AND (impact_revision IS NULL OR impact_revision <= revision)",
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("policy_draft_changes")
                .col(big_pk_auto("id"))
                .col(big_integer("draft_id"))
                // `parameter` (name, value) or `condition` (programme,
                // condition, expression).
                .col(string("kind"))
                .col(date("effective_from"))
                .col(string_null("parameter"))
                // The parameter's new value in its unit; NULL unsets it.
                .col(big_integer_null("value"))
                .col(string_null("programme"))
                .col(string_null("condition"))
                .col(text_null("expression"))
                .foreign_key(
                    ForeignKey::create()
                        .from("policy_draft_changes", "draft_id")
                        .to("policy_drafts", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .check(Expr::cust(
                    "(kind = 'parameter' AND parameter IS NOT NULL AND programme IS NULL \
                      AND condition IS NULL AND expression IS NULL) \
                     OR (kind = 'condition' AND parameter IS NULL AND value IS NULL \
                      AND programme IS NOT NULL AND condition IS NOT NULL \
                      AND expression IS NOT NULL)",
                ))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("pack_versions")
                .col(big_pk_auto("id"))
                .col(string("pack"))
                // The version of the pack it revises, and its own.
                .col(string("base_version"))
                .col(string("version"))
                .col(date("effective_from"))
                // The revision as JSON: dated values and conditions.
                .col(text("revision"))
                .col(big_integer("draft_id"))
                .col(big_integer("published_by"))
                .col(timestamp_with_time_zone("published_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("pack_versions", "draft_id")
                        .to("policy_drafts", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("pack_versions", "published_by")
                        .to("accounts", "id")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .index(
                    Index::create()
                        .name("pack_versions_version_unique")
                        .col("pack")
                        .col("version")
                        .unique(),
                )
                // Versions follow one another: each revises the one before,
                // so two published at once on one version cannot both be.
                .index(
                    Index::create()
                        .name("pack_versions_base_unique")
                        .col("pack")
                        .col("base_version")
                        .unique(),
                )
                .index(
                    Index::create()
                        .name("pack_versions_draft_unique")
                        .col("draft_id")
                        .unique(),
                )
                .take(),
        )
        .await?;
        // A parameter takes one value a date in a draft; a condition one
        // text.
        for (name, cols) in [
            (
                "policy_draft_changes_parameter_date",
                &["draft_id", "parameter", "effective_from"][..],
            ),
            (
                "policy_draft_changes_condition",
                &["draft_id", "programme", "condition"][..],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table("policy_draft_changes").unique();
            for col in cols {
                index.col(*col);
            }
            m.create_index(index.take()).await?;
        }
        Ok(())
    }
}
