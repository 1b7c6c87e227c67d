//! Spaces, housing and instruments (measures 3, 4 and 9). Housing
//! allocations record and check `benefit_grants` (created by
//! `m0003_applications`): transitional housing and the housing subsidy
//! exclude each other.
//! - Workspace inventory: `space_buildings` → `space_floors` → `space_units`
//!   (desk, office, floor) with area, capacity, list rent and the programme's
//!   discounted rent. A building belongs to an OPC community, or (community
//!   null) is other industrial space in a district, used for the young-talent
//!   programme.
//! - `space_requests` (the waitlists) and `space_agreements` (offers and
//!   agreements on units).
//! - `housing_units` (bed, room, apartment) and `housing_leases`.
//! - `instruments` and `instrument_bookings`.
//!
//! Agreements, leases and bookings hold `[start_at, end_at)`; the database
//! refuses overlapping holdings of one resource (see `crate::intervals`).

use crate::intervals::{Holdings, overlap_guard};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_spaces"
    }
}

fn in_list(column: &'static str, values: &[&str]) -> SimpleExpr {
    Expr::col(column).is_in(values.iter().map(|v| String::from(*v)))
}

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

fn positive(column: &'static str) -> SimpleExpr {
    Expr::col(column).gt(0)
}

fn not_negative(column: &'static str) -> SimpleExpr {
    Expr::col(column).gte(0)
}

/// Half-open intervals must be non-empty.
fn ends_after_start() -> SimpleExpr {
    Expr::col("end_at").gt(Expr::col("start_at"))
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).take();
    for c in cols {
        index.col(*c);
    }
    m.create_index(index).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            // `=` on bigint inside a GiST exclusion constraint. A trusted
            // extension: the database owner may create it.
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist")
                .await?;
        }
        create_space_inventory(m).await?;
        create_space_allocation(m).await?;
        create_housing(m).await?;
        create_instruments(m).await?;
        for kind in Holdings::ALL {
            for sql in overlap_guard(kind, db.get_database_backend()) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }
}

async fn create_space_inventory(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("space_buildings")
            .col(big_pk_auto("id"))
            .col(big_integer_null("community_id"))
            .col(string("district"))
            .col(string("name"))
            .col(string("address"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("space_buildings", "community_id", "communities"))
            .foreign_key(
                &mut ForeignKey::create()
                    .from("space_buildings", "district")
                    .to("districts", "id")
                    .take(),
            )
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("space_floors")
            .col(big_pk_auto("id"))
            .col(big_integer("building_id"))
            .col(integer("level"))
            .col(string("label"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("space_floors", "building_id", "space_buildings"))
            .index(
                Index::create()
                    .name("space_floors_level_unique")
                    .col("building_id")
                    .col("level")
                    .unique(),
            )
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("space_units")
            .col(big_pk_auto("id"))
            .col(big_integer("floor_id"))
            // Copied from the building so that lists, area sums and access
            // checks need no joins.
            .col(big_integer_null("community_id"))
            .col(string("district"))
            .col(string("kind").check(in_list("kind", &["desk", "office", "floor"])))
            .col(string("code"))
            .col(big_integer("area_m2").check(positive("area_m2")))
            .col(integer("capacity").check(positive("capacity")))
            // Monthly rents in fen.
            .col(big_integer("list_rent_fen").check(not_negative("list_rent_fen")))
            .col(big_integer("discounted_rent_fen").check(not_negative("discounted_rent_fen")))
            .col(boolean("active"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(Expr::col("discounted_rent_fen").lte(Expr::col("list_rent_fen")))
            .foreign_key(&mut fk("space_units", "floor_id", "space_floors"))
            .foreign_key(&mut fk("space_units", "community_id", "communities"))
            .index(
                Index::create()
                    .name("space_units_code_unique")
                    .col("floor_id")
                    .col("code")
                    .unique(),
            )
            .take(),
    )
    .await?;
    index(
        m,
        "space_units_by_site",
        "space_units",
        &["community_id", "district", "kind"],
    )
    .await
}

async fn create_space_allocation(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("space_requests")
            .col(big_pk_auto("id"))
            // The waitlist: a community (OPC workspace) or, when null, a
            // district's other industrial space (young talent).
            .col(big_integer_null("community_id"))
            .col(string("district"))
            .col(string("kind").check(in_list("kind", &["desk", "office", "floor"])))
            .col(string("programme").check(in_list(
                "programme",
                &["sz.space.opc_workspace", "sz.space.young_talent"],
            )))
            .col(big_integer_null("enterprise_id"))
            .col(big_integer_null("person_id"))
            .col(integer("team_size").check(positive("team_size")))
            .col(date("wanted_from"))
            .col(integer("months").check(positive("months")))
            .col(text("note"))
            .col(string("status").check(in_list(
                "status",
                &["waiting", "offered", "fulfilled", "withdrawn"],
            )))
            .col(big_integer("requested_by"))
            .col(timestamp_with_time_zone("requested_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(
                Expr::col("enterprise_id")
                    .is_not_null()
                    .or(Expr::col("person_id").is_not_null()),
            )
            .foreign_key(&mut fk("space_requests", "community_id", "communities"))
            .foreign_key(&mut fk("space_requests", "enterprise_id", "enterprises"))
            .foreign_key(&mut fk("space_requests", "person_id", "persons"))
            .foreign_key(&mut fk("space_requests", "requested_by", "accounts"))
            .take(),
    )
    .await?;
    index(
        m,
        "space_requests_queue",
        "space_requests",
        &["status", "community_id", "district", "kind", "requested_at"],
    )
    .await?;
    let kind = Holdings::SpaceAgreements;
    m.create_table(
        Table::create()
            .table("space_agreements")
            .col(big_pk_auto("id"))
            .col(big_integer("unit_id"))
            .col(big_integer_null("request_id"))
            .col(string("programme"))
            .col(big_integer_null("enterprise_id"))
            .col(big_integer_null("person_id"))
            .col(timestamp_with_time_zone("start_at"))
            .col(timestamp_with_time_zone("end_at"))
            .col(big_integer("list_rent_fen").check(not_negative("list_rent_fen")))
            .col(big_integer("monthly_rent_fen").check(not_negative("monthly_rent_fen")))
            .col(string("status").check(in_list("status", kind.statuses())))
            // The agreement this one grew out of (desk → office → floor).
            .col(big_integer_null("previous_id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(ends_after_start())
            .check(Expr::col("monthly_rent_fen").lte(Expr::col("list_rent_fen")))
            .check(
                Expr::col("enterprise_id")
                    .is_not_null()
                    .or(Expr::col("person_id").is_not_null()),
            )
            .foreign_key(&mut fk("space_agreements", "unit_id", "space_units"))
            .foreign_key(&mut fk("space_agreements", "request_id", "space_requests"))
            .foreign_key(&mut fk("space_agreements", "enterprise_id", "enterprises"))
            .foreign_key(&mut fk("space_agreements", "person_id", "persons"))
            .foreign_key(&mut fk(
                "space_agreements",
                "previous_id",
                "space_agreements",
            ))
            .take(),
    )
    .await?;
    index(
        m,
        "space_agreements_by_unit",
        "space_agreements",
        &["unit_id", "start_at"],
    )
    .await
}

async fn create_housing(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("housing_units")
            .col(big_pk_auto("id"))
            .col(string("district"))
            // Set when a community operator runs it.
            .col(big_integer_null("community_id"))
            .col(string("address"))
            .col(string("code"))
            .col(string("kind").check(in_list("kind", &["bed", "room", "apartment"])))
            .col(big_integer("area_m2").check(positive("area_m2")))
            // Monthly market reference rent in fen.
            .col(big_integer("market_rent_fen").check(positive("market_rent_fen")))
            .col(boolean("active"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(
                &mut ForeignKey::create()
                    .from("housing_units", "district")
                    .to("districts", "id")
                    .take(),
            )
            .foreign_key(&mut fk("housing_units", "community_id", "communities"))
            .index(
                Index::create()
                    .name("housing_units_code_unique")
                    .col("district")
                    .col("code")
                    .unique(),
            )
            .take(),
    )
    .await?;
    let kind = Holdings::HousingLeases;
    m.create_table(
        Table::create()
            .table("housing_leases")
            .col(big_pk_auto("id"))
            .col(big_integer("housing_unit_id"))
            .col(big_integer("person_id"))
            .col(big_integer_null("enterprise_id"))
            .col(timestamp_with_time_zone("start_at"))
            .col(timestamp_with_time_zone("end_at"))
            // Whole months the lease runs (counted against the pack's limit).
            .col(integer("months").check(positive("months")))
            .col(big_integer("market_rent_fen").check(positive("market_rent_fen")))
            .col(integer("rent_percent").check(positive("rent_percent")))
            .col(big_integer("monthly_rent_fen").check(not_negative("monthly_rent_fen")))
            .col(string("status").check(in_list("status", kind.statuses())))
            .col(timestamp_with_time_zone_null("moved_in_at"))
            .col(timestamp_with_time_zone_null("moved_out_at"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(ends_after_start())
            .foreign_key(&mut fk(
                "housing_leases",
                "housing_unit_id",
                "housing_units",
            ))
            .foreign_key(&mut fk("housing_leases", "person_id", "persons"))
            .foreign_key(&mut fk("housing_leases", "enterprise_id", "enterprises"))
            .take(),
    )
    .await?;
    index(
        m,
        "housing_leases_by_unit",
        "housing_leases",
        &["housing_unit_id", "start_at"],
    )
    .await?;
    index(
        m,
        "housing_leases_by_person",
        "housing_leases",
        &["person_id"],
    )
    .await
}

async fn create_instruments(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("instruments")
            .col(big_pk_auto("id"))
            .col(string("name"))
            .col(string("kind").check(in_list("kind", &["gpu_server", "lab_equipment", "other"])))
            .col(string("institution"))
            .col(string("district"))
            .col(big_integer_null("community_id"))
            // The account that manages it (the institution's).
            .col(big_integer_null("manager_account_id"))
            .col(text("description"))
            .col(integer("slot_minutes").check(positive("slot_minutes")))
            // Opening hours, minutes after midnight in Asia/Shanghai.
            .col(integer("opens_minute").check(not_negative("opens_minute")))
            .col(integer("closes_minute").check(Expr::col("closes_minute").lte(24 * 60)))
            // ISO weekdays it opens, e.g. `12345` (Monday = 1).
            .col(string("open_days"))
            // Hours one enterprise may hold per ISO week; null = no quota.
            .col(integer_null("quota_hours_week"))
            .col(boolean("requires_approval"))
            // Cancelling later than this before the start counts against the quota.
            .col(integer("cancel_notice_hours").check(not_negative("cancel_notice_hours")))
            // A booking not checked into this long after its start is released.
            .col(integer("no_show_grace_minutes").check(positive("no_show_grace_minutes")))
            .col(boolean("active"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .check(Expr::col("closes_minute").gt(Expr::col("opens_minute")))
            .foreign_key(
                &mut ForeignKey::create()
                    .from("instruments", "district")
                    .to("districts", "id")
                    .take(),
            )
            .foreign_key(&mut fk("instruments", "community_id", "communities"))
            .foreign_key(&mut fk("instruments", "manager_account_id", "accounts"))
            .take(),
    )
    .await?;
    let kind = Holdings::InstrumentBookings;
    m.create_table(
        Table::create()
            .table("instrument_bookings")
            .col(big_pk_auto("id"))
            .col(big_integer("instrument_id"))
            .col(big_integer("enterprise_id"))
            .col(big_integer("booked_by"))
            .col(timestamp_with_time_zone("start_at"))
            .col(timestamp_with_time_zone("end_at"))
            .col(string("status").check(in_list("status", kind.statuses())))
            // Cancelled inside the notice period: still counts against the quota.
            .col(boolean("late_cancel"))
            .col(text("purpose"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("decided_at"))
            .col(timestamp_with_time_zone_null("checked_in_at"))
            .col(timestamp_with_time_zone_null("cancelled_at"))
            .check(ends_after_start())
            .foreign_key(&mut fk(
                "instrument_bookings",
                "instrument_id",
                "instruments",
            ))
            .foreign_key(&mut fk(
                "instrument_bookings",
                "enterprise_id",
                "enterprises",
            ))
            .foreign_key(&mut fk("instrument_bookings", "booked_by", "accounts"))
            .take(),
    )
    .await?;
    index(
        m,
        "instrument_bookings_by_instrument",
        "instrument_bookings",
        &["instrument_id", "start_at"],
    )
    .await?;
    index(
        m,
        "instrument_bookings_by_enterprise",
        "instrument_bookings",
        &["enterprise_id", "start_at"],
    )
    .await
}
