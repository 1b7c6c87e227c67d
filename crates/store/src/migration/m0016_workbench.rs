//! The reviewers' workbench (`services::applications::workbench`):
//! - `case_assignments`: who works an application. One row per
//!   application at most (its primary key), so two reviewers taking the
//!   same case cannot both have it; a change of hands is conditional on
//!   the assignee the caller saw (`store::applications::workbench`).
//! - `saved_views`: a reviewer's named queue filters, unique by name per
//!   account (saving under a name again replaces it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, text, timestamp_with_time_zone};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0016_workbench"
    }
}

fn fk(from: (&'static str, &'static str), to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_assignments")
                .col(big_integer("application_id").primary_key())
                .col(big_integer("assignee_id"))
                .col(big_integer("assigned_by"))
                .col(timestamp_with_time_zone("assigned_at"))
                .foreign_key(&mut fk(
                    ("case_assignments", "application_id"),
                    "applications",
                ))
                .foreign_key(&mut fk(("case_assignments", "assignee_id"), "accounts"))
                .foreign_key(&mut fk(("case_assignments", "assigned_by"), "accounts"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("case_assignments_by_assignee")
                .table("case_assignments")
                .col("assignee_id")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("saved_views")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string("name"))
                // The view's filters as a query string (`state=open&q=…`).
                .col(text("query"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(("saved_views", "account_id"), "accounts"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("saved_views_name_per_account")
                .table("saved_views")
                .col("account_id")
                .col("name")
                .unique()
                .take(),
        )
        .await
    }
}
