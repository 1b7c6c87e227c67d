//! Applications, review, budgets, disbursements and granted benefits.

use opcity_domain::application::State;
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_applications"
    }
}

fn fk(
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_budgets(m).await?;
        create_applications(m).await?;
        create_disbursements_and_grants(m).await?;
        let db = m.get_connection();
        for sql in immutable_movements(db.get_database_backend()) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

async fn create_budgets(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("budgets")
            .col(big_pk_auto("id"))
            .col(string("programme"))
            .col(integer("year"))
            // `municipal` or a district id.
            .col(string("authority"))
            .col(big_integer("total_fen").check(Expr::col("total_fen").gte(0)))
            .col(big_integer("reserved_fen").check(Expr::col("reserved_fen").gte(0)))
            .col(big_integer("spent_fen").check(Expr::col("spent_fen").gte(0)))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            // The guarantee: a budget is never overspent, whatever the application does.
            .check(Expr::cust("reserved_fen + spent_fen <= total_fen"))
            .index(
                Index::create()
                    .name("budgets_programme_year_authority")
                    .unique()
                    .col("programme")
                    .col("year")
                    .col("authority"),
            )
            .take(),
    )
    .await?;
    // Every change of a budget as an immutable movement: the budget's figures
    // always equal the sum of its movements (checked by reconciliation).
    m.create_table(
        Table::create()
            .table("budget_movements")
            .col(big_pk_auto("id"))
            .col(big_integer("budget_id"))
            .col(big_integer_null("application_id"))
            .col(big_integer_null("disbursement_id"))
            // fund (total +), reserve (reserved +), release (reserved -), spend (reserved -, spent +).
            .col(
                string("kind")
                    .check(Expr::col("kind").is_in(["fund", "reserve", "release", "spend"])),
            )
            .col(big_integer("amount_fen").check(Expr::col("amount_fen").gt(0)))
            .col(string("actor"))
            .col(timestamp_with_time_zone("at"))
            .foreign_key(&mut fk(
                ("budget_movements", "budget_id"),
                ("budgets", "id"),
            ))
            .take(),
    )
    .await
}

async fn create_applications(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let states: Vec<String> = State::ALL.iter().map(|s| s.id().to_owned()).collect();
    m.create_table(
        Table::create()
            .table("applications")
            .col(big_pk_auto("id"))
            .col(string("programme"))
            .col(big_integer_null("person_id"))
            .col(big_integer_null("enterprise_id"))
            .col(string("district"))
            .col(string("state").check(Expr::col("state").is_in(states)))
            .col(
                big_integer_null("requested_fen")
                    .check(Expr::cust("requested_fen IS NULL OR requested_fen > 0")),
            )
            .col(
                big_integer_null("approved_fen")
                    .check(Expr::cust("approved_fen IS NULL OR approved_fen > 0")),
            )
            .col(big_integer_null("budget_id"))
            .col(big_integer("created_by"))
            .col(string_null("idempotency_key"))
            .col(text("form_data"))
            .col(text_null("explanation"))
            .col(string_null("pack_version"))
            .col(date_null("return_deadline"))
            .col(timestamp_with_time_zone_null("submitted_at"))
            .col(timestamp_with_time_zone_null("decided_at"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(Expr::cust(
                "person_id IS NOT NULL OR enterprise_id IS NOT NULL",
            ))
            .foreign_key(&mut fk(("applications", "person_id"), ("persons", "id")))
            .foreign_key(&mut fk(
                ("applications", "enterprise_id"),
                ("enterprises", "id"),
            ))
            .foreign_key(&mut fk(("applications", "budget_id"), ("budgets", "id")))
            .foreign_key(&mut fk(("applications", "created_by"), ("accounts", "id")))
            .foreign_key(&mut fk(("applications", "district"), ("districts", "id")))
            // A retried submission with the same key finds the first one.
            .index(
                Index::create()
                    .name("applications_idempotency_key")
                    .unique()
                    .col("created_by")
                    .col("idempotency_key"),
            )
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("applications_queue")
            .table("applications")
            .col("district")
            .col("state")
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("application_events")
            .col(big_pk_auto("id"))
            .col(big_integer("application_id"))
            .col(string_null("from_state"))
            .col(string("to_state"))
            .col(string("event"))
            .col(string("actor"))
            .col(text_null("comment"))
            .col(timestamp_with_time_zone("at"))
            .foreign_key(&mut fk(
                ("application_events", "application_id"),
                ("applications", "id"),
            ))
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("reviews")
            .col(big_pk_auto("id"))
            .col(big_integer("application_id"))
            .col(big_integer("reviewer_id"))
            .col(
                string("decision")
                    .check(Expr::col("decision").is_in(["approve", "reject", "return", "forward"])),
            )
            .col(big_integer_null("amount_fen"))
            .col(integer_null("score"))
            .col(text_null("comment"))
            .col(boolean("no_conflict_declared"))
            .col(timestamp_with_time_zone("at"))
            .foreign_key(&mut fk(
                ("reviews", "application_id"),
                ("applications", "id"),
            ))
            .foreign_key(&mut fk(("reviews", "reviewer_id"), ("accounts", "id")))
            .take(),
    )
    .await
}

async fn create_disbursements_and_grants(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("disbursements")
            .col(big_pk_auto("id"))
            .col(big_integer("application_id"))
            .col(integer("seq"))
            .col(date("due_on"))
            .col(big_integer("amount_fen").check(Expr::col("amount_fen").gt(0)))
            .col(string("status").check(Expr::col("status").is_in([
                "scheduled",
                "paid",
                "cancelled",
            ])))
            .col(timestamp_with_time_zone_null("paid_at"))
            .foreign_key(&mut fk(
                ("disbursements", "application_id"),
                ("applications", "id"),
            ))
            .index(
                Index::create()
                    .name("disbursements_application_seq")
                    .unique()
                    .col("application_id")
                    .col("seq"),
            )
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("disbursements_due")
            .table("disbursements")
            .col("status")
            .col("due_on")
            .take(),
    )
    .await?;
    // Benefits granted to a person or enterprise (from accepted offers and
    // allocations); the policy engine's `granted` list comes from here.
    m.create_table(
        Table::create()
            .table("benefit_grants")
            .col(big_pk_auto("id"))
            // `person:ID` or `enterprise:ID`.
            .col(string("subject"))
            .col(string("programme"))
            .col(date("from"))
            .col(date_null("to"))
            // What granted it, e.g. `application:12`.
            .col(string("source"))
            .col(timestamp_with_time_zone("created_at"))
            .check(Expr::cust("\"to\" IS NULL OR \"to\" >= \"from\""))
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("benefit_grants_by_subject")
            .table("benefit_grants")
            .col("subject")
            .take(),
    )
    .await
}

/// Budget movements are immutable: corrections are new movements.
fn immutable_movements(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        DbBackend::Postgres => &[
            "CREATE FUNCTION budget_movements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'budget_movements are immutable'; END $$",
            "CREATE TRIGGER budget_movements_immutable BEFORE UPDATE OR DELETE ON budget_movements \
             FOR EACH ROW EXECUTE FUNCTION budget_movements_immutable()",
        ],
        _ => &[
            "CREATE TRIGGER budget_movements_no_update BEFORE UPDATE ON budget_movements \
             BEGIN SELECT RAISE(ABORT, 'budget_movements are immutable'); END",
            "CREATE TRIGGER budget_movements_no_delete BEFORE DELETE ON budget_movements \
             BEGIN SELECT RAISE(ABORT, 'budget_movements are immutable'); END",
        ],
    }
}
