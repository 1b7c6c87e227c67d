//! Single sign-on (`services::sso`): the identity provider's subject an
//! account signs in as (`ISSUER#SUB`), at most one account per subject.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0021_single_sign_on"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(string_null("sso_subject"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("accounts_by_sso_subject")
                .table("accounts")
                .col("sso_subject")
                .unique()
                .take(),
        )
        .await
    }
}
