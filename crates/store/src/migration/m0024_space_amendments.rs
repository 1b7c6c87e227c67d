//! Allocation that fits (`services::spaces::agreements::amend`): an
//! operator proposes new terms for a waiting space request — another kind
//! of unit, team size, start or length — with the reason, and the holder
//! accepts or declines; and an offer may carry the operator's note, which
//! an alternative (a unit of another kind than asked) must.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, date, integer, string, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0024_space_amendments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let fk = |column: &'static str, table: &'static str| {
            ForeignKey::create()
                .from("space_request_amendments", column)
                .to(table, "id")
                .on_delete(ForeignKeyAction::Restrict)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table("space_request_amendments")
                .col(big_pk_auto("id"))
                .col(big_integer("request_id"))
                // The proposed terms, whole (what the request becomes).
                .col(string("kind"))
                .col(integer("team_size"))
                .col(date("wanted_from"))
                .col(integer("months"))
                .col(text("reason"))
                // `proposed`, then `accepted`, `declined` or `withdrawn`.
                .col(string("status"))
                .col(big_integer("proposed_by"))
                .col(timestamp_with_time_zone("proposed_at"))
                .col(big_integer_null("answered_by"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .foreign_key(&mut fk("request_id", "space_requests"))
                .foreign_key(&mut fk("proposed_by", "accounts"))
                .foreign_key(&mut fk("answered_by", "accounts"))
                .check(Expr::cust(
                    "status IN ('proposed', 'accepted', 'declined', 'withdrawn')",
                ))
                .check(Expr::cust("team_size > 0 AND months > 0"))
                .take(),
        )
        .await?;
        // One open proposal per request (SQLite and PostgreSQL both know
        // partial indexes).
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX space_request_amendments_one_open \
                 ON space_request_amendments (request_id) WHERE status = 'proposed'",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table("space_agreements")
                .add_column(text_null("offer_note"))
                .take(),
        )
        .await
    }
}
