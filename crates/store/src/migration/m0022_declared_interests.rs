//! The conflict-of-interest register (`services::interests`): what a
//! reviewer declared about an enterprise or a person (a relative, an
//! employer, a shareholding), from when, and until it was withdrawn.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string, text, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0022_declared_interests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let fk = |column: &'static str, table: &'static str| {
            ForeignKey::create()
                .from("declared_interests", column)
                .to(table, "id")
                .on_delete(ForeignKeyAction::Restrict)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table("declared_interests")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(big_integer_null("enterprise_id"))
                .col(big_integer_null("person_id"))
                // `family`, `employment`, `ownership` or `other`.
                .col(string("relation"))
                .col(text("note"))
                .col(timestamp_with_time_zone("declared_at"))
                .col(timestamp_with_time_zone_null("withdrawn_at"))
                .foreign_key(&mut fk("account_id", "accounts"))
                .foreign_key(&mut fk("enterprise_id", "enterprises"))
                .foreign_key(&mut fk("person_id", "persons"))
                // Exactly one party: an enterprise or a person.
                .check(Expr::cust("(enterprise_id IS NULL) <> (person_id IS NULL)"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("declared_interests_by_account")
                .table("declared_interests")
                .col("account_id")
                .take(),
        )
        .await
    }
}
