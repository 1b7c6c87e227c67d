//! Delivery of accepted approvals (`services::applications::delivery`):
//! - `benefit_grants` becomes the one record of what each beneficiary
//!   holds: what kind of benefit (`benefit`), its amount or quantity, the
//!   district that granted it, and for a benefit delivered in parts (a
//!   title's support) which part (`detail`). A delivery writes its rows
//!   once per application: unique by source, benefit and detail.
//! - `housing_requests`: transitional housing approved and waiting for the
//!   district's allocator, linked to the lease that serves it.
//! - `referrals`: guaranteed loans (and other referred benefits) handed to
//!   the partner that decides them.
//! - `space_requests.application_id`: the approval a space request delivers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, date, integer, integer_null, string, string_null,
    timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_delivery"
    }
}

/// Every kind of benefit a grant row records.
const BENEFITS: [&str; 10] = [
    "recorded",
    "instalments",
    "voucher",
    "space_request",
    "space_agreement",
    "housing_request",
    "housing_lease",
    "title",
    "support",
    "referral",
];

fn in_list(column: &'static str, values: &[&str]) -> SimpleExpr {
    Expr::col(column).is_in(values.iter().map(|v| String::from(*v)))
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
        extend_grants(m).await?;
        create_housing_requests(m).await?;
        create_referrals(m).await?;
        m.alter_table(
            Table::alter()
                .table("space_requests")
                .add_column(big_integer_null("application_id"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("space_requests_one_per_application")
                .table("space_requests")
                .col("application_id")
                .unique()
                .take(),
        )
        .await
    }
}

async fn extend_grants(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    // SQLite adds one column per ALTER TABLE.
    let columns = [
        string("benefit")
            .default("recorded")
            .check(in_list("benefit", &BENEFITS))
            .take(),
        big_integer_null("amount_fen")
            .check(Expr::cust("amount_fen IS NULL OR amount_fen > 0"))
            .take(),
        integer_null("quantity")
            .check(Expr::cust("quantity IS NULL OR quantity > 0"))
            .take(),
        string("detail").default("").take(),
        string_null("district").take(),
    ];
    for mut column in columns {
        m.alter_table(
            Table::alter()
                .table("benefit_grants")
                .add_column(&mut column)
                .take(),
        )
        .await?;
    }
    // A delivery writes each of its rows once, however often it is retried.
    m.get_connection()
        .execute_unprepared(
            "CREATE UNIQUE INDEX benefit_grants_delivered_once \
             ON benefit_grants (source, benefit, detail) \
             WHERE source LIKE 'application:%'",
        )
        .await?;
    Ok(())
}

async fn create_housing_requests(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("housing_requests")
            .col(big_pk_auto("id"))
            .col(big_integer("application_id").unique_key())
            .col(big_integer("person_id"))
            .col(big_integer_null("enterprise_id"))
            .col(string("district"))
            .col(date("wanted_from"))
            .col(integer("months").check(Expr::cust("months > 0")))
            .col(string("status").check(in_list("status", &["waiting", "allocated", "withdrawn"])))
            .col(big_integer_null("lease_id").unique_key())
            .col(timestamp_with_time_zone("requested_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(Expr::cust(
                "(status = 'allocated') = (lease_id IS NOT NULL)",
            ))
            .foreign_key(&mut fk(
                ("housing_requests", "application_id"),
                "applications",
            ))
            .foreign_key(&mut fk(("housing_requests", "person_id"), "persons"))
            .foreign_key(&mut fk(
                ("housing_requests", "enterprise_id"),
                "enterprises",
            ))
            .foreign_key(&mut fk(("housing_requests", "lease_id"), "housing_leases"))
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("housing_requests_queue")
            .table("housing_requests")
            .col("district")
            .col("status")
            .col("id")
            .take(),
    )
    .await
}

async fn create_referrals(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("referrals")
            .col(big_pk_auto("id"))
            .col(big_integer("application_id").unique_key())
            .col(string("programme"))
            .col(big_integer_null("person_id"))
            .col(big_integer_null("enterprise_id"))
            .col(string("district"))
            // Who picks it up: `financing` (loans) or `national_compute`.
            .col(string("partner"))
            .col(
                big_integer_null("amount_fen")
                    .check(Expr::cust("amount_fen IS NULL OR amount_fen > 0")),
            )
            .col(string("status").check(in_list("status", &["open", "in_progress", "closed"])))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(
                Expr::col("enterprise_id")
                    .is_not_null()
                    .or(Expr::col("person_id").is_not_null()),
            )
            .foreign_key(&mut fk(("referrals", "application_id"), "applications"))
            .foreign_key(&mut fk(("referrals", "person_id"), "persons"))
            .foreign_key(&mut fk(("referrals", "enterprise_id"), "enterprises"))
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("referrals_queue")
            .table("referrals")
            .col("partner")
            .col("status")
            .col("id")
            .take(),
    )
    .await
}
