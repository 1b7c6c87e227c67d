//! One person per resident id number: the keyed search hash of the number
//! (`m0011_resident_id_search`) becomes unique, so that neither a form nor
//! an import (`services::import`), nor two of them at once, registers one
//! person twice. Persons without a number (a null hash) are not compared.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0026_one_person_per_resident_id"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
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
