//! Application documents and rubric scores (issue: application forms built
//! from the programme's declared evidence).
//! - `application_documents`: one row per uploaded file — which application
//!   and evidence item it answers, the name the applicant gave it, the type
//!   read from its first bytes, its size, its SHA-256 and the key under which
//!   the object store keeps it. Rows are immutable: a new upload for the same
//!   item supersedes the earlier one, which stays as a record of what was
//!   sent.
//! - `reviews.scores`: the rubric scores of a review as a JSON object
//!   (criterion → points); `reviews.score` keeps their total.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_documents"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_documents(m).await?;
        m.alter_table(
            Table::alter()
                .table("reviews")
                .add_column(text_null("scores"))
                .take(),
        )
        .await?;
        let db = m.get_connection();
        for sql in immutable_documents(db.get_database_backend()) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

async fn create_documents(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("application_documents")
            .col(big_pk_auto("id"))
            .col(big_integer("application_id"))
            .col(string("evidence_id"))
            .col(string("file_name"))
            .col(string("content_type"))
            .col(big_integer("size_bytes").check(Expr::col("size_bytes").gt(0)))
            // Lower-case hex of the SHA-256 of the content.
            .col(string("sha256").check(Expr::cust("LENGTH(sha256) = 64")))
            .col(string("storage_key").unique_key())
            .col(big_integer("uploaded_by"))
            .col(timestamp_with_time_zone("uploaded_at"))
            .foreign_key(
                ForeignKey::create()
                    .from("application_documents", "application_id")
                    .to("applications", "id")
                    .on_delete(ForeignKeyAction::Restrict),
            )
            .foreign_key(
                ForeignKey::create()
                    .from("application_documents", "uploaded_by")
                    .to("accounts", "id")
                    .on_delete(ForeignKeyAction::Restrict),
            )
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("application_documents_by_application")
            .table("application_documents")
            .col("application_id")
            .col("evidence_id")
            .take(),
    )
    .await
}

/// What an applicant sent stays on record: documents are never edited.
fn immutable_documents(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        DbBackend::Postgres => &[
            "CREATE FUNCTION application_documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'application_documents are immutable'; END $$",
            "CREATE TRIGGER application_documents_immutable BEFORE UPDATE OR DELETE ON application_documents \
             FOR EACH ROW EXECUTE FUNCTION application_documents_immutable()",
        ],
        _ => &[
            "CREATE TRIGGER application_documents_no_update BEFORE UPDATE ON application_documents \
             BEGIN SELECT RAISE(ABORT, 'application_documents are immutable'); END",
            "CREATE TRIGGER application_documents_no_delete BEFORE DELETE ON application_documents \
             BEGIN SELECT RAISE(ABORT, 'application_documents are immutable'); END",
        ],
    }
}
