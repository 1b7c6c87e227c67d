//! One person per resident id number: the keyed search hash of the number
//! (`m0011_resident_id_search`) becomes unique, so that neither a form nor
//! an import (`services::import`), nor two of them at once, registers one
//! person twice. Persons without a number (a null hash) are not compared.

use sea_orm_migration::prelude::*;

pub struct Migration;

/// Stops with the persons to resolve when two already share a number: the
/// index cannot be made until one record is corrected or merged.
async fn refuse_duplicates(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT MIN(id) AS first, MAX(id) AS last FROM persons \
             WHERE resident_id_hash IS NOT NULL \
             GROUP BY resident_id_hash HAVING COUNT(*) > 1",
        ))
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let pairs: Vec<String> = rows
        .iter()
        .map(|r| {
            let first: i64 = r.try_get("", "first").unwrap_or_default();
            let last: i64 = r.try_get("", "last").unwrap_or_default();
            format!("{first} and {last}")
        })
        .collect();
    Err(DbErr::Migration(format!(
        "persons share a resident id number (persons {}); correct or merge them, then migrate again",
        pairs.join("; ")
    )))
}

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0026_one_person_per_resident_id"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        refuse_duplicates(m).await?;
        m.drop_index(
            Index::drop()
                .name("persons_by_resident_id_hash")
                .table("persons")
                .to_owned(),
        )
        .await?;
        // The name holds the column's, which a refusal's message carries
        // on both backends (`StoreError::is_unique_on`).
        m.create_index(
            Index::create()
                .name("persons_resident_id_hash_unique")
                .table("persons")
                .col("resident_id_hash")
                .unique()
                .take(),
        )
        .await
    }
}
