//! Who allocates a district's housing in its OPC communities
//! (`services::spaces::housing`): the district's reviewers (the default,
//! and for every district so far) or each community's operator.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0025_housing_allocator"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("districts")
                .add_column(
                    ColumnDef::new("housing_allocator")
                        .string()
                        .not_null()
                        .default("district_reviewer")
                        .check(Expr::cust(
                            "housing_allocator IN ('district_reviewer', 'community_operator')",
                        )),
                )
                .take(),
        )
        .await
    }
}
