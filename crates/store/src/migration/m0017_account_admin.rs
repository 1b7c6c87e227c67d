//! Account administration (`services::account_admin`): who created an
//! account, so that an administrator account is enabled only by another
//! administrator than its creator (four eyes on granting the role).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0017_account_admin"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("accounts")
                .add_column(big_integer_null("created_by"))
                .take(),
        )
        .await
    }
}
