//! Registry, accounts and audit log.

use opcity_domain::{District, Role};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

fn in_list(column: &'static str, values: &[&str]) -> SimpleExpr {
    Expr::col(column).is_in(values.iter().map(|v| String::from(*v)))
}

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
    to_col: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_districts(m).await?;
        create_accounts(m).await?;
        create_registry(m).await?;
        create_audit_log(m).await?;
        Ok(())
    }
}

async fn create_districts(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("districts")
            .col(string("id").primary_key())
            .col(string("name_zh"))
            .col(string("name_en"))
            .col(boolean("first_wave"))
            .take(),
    )
    .await?;
    let mut insert = Query::insert()
        .into_table("districts")
        .columns(["id", "name_zh", "name_en", "first_wave"])
        .take();
    for d in District::ALL {
        insert.values_panic([
            d.id().into(),
            d.name_zh().into(),
            d.name_en().into(),
            d.is_first_wave().into(),
        ]);
    }
    m.exec_stmt(insert).await
}

async fn create_accounts(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.id()).collect();
    m.create_table(
        Table::create()
            .table("accounts")
            .col(big_pk_auto("id"))
            .col(string_uniq("username"))
            .col(string("display_name"))
            .col(string("password_hash"))
            .col(string("role").check(in_list("role", &roles)))
            .col(string_null("district"))
            .col(string("locale").check(in_list("locale", &["zh-CN", "en"])))
            .col(boolean("disabled"))
            .col(timestamp_with_time_zone("created_at"))
            // A district reviewer always belongs to exactly one district.
            .check(
                Expr::col("role")
                    .ne("district_reviewer")
                    .or(Expr::col("district").is_not_null()),
            )
            .foreign_key(&mut fk("accounts", "district", "districts", "id"))
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("sessions")
            .col(string("token_hash").primary_key())
            .col(big_integer("account_id"))
            .col(string("csrf_token"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("expires_at"))
            .foreign_key(
                &mut fk("sessions", "account_id", "accounts", "id")
                    .on_delete(ForeignKeyAction::Cascade)
                    .take(),
            )
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("api_tokens")
            .col(big_pk_auto("id"))
            .col(big_integer("account_id"))
            .col(string("name"))
            .col(string("prefix"))
            .col(string_uniq("token_hash"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("last_used_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .foreign_key(&mut fk("api_tokens", "account_id", "accounts", "id"))
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("login_failures")
            .col(big_pk_auto("id"))
            .col(string("username"))
            .col(timestamp_with_time_zone("at"))
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("login_failures_by_user")
            .table("login_failures")
            .col("username")
            .col("at")
            .take(),
    )
    .await
}

async fn create_registry(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("communities")
            .col(big_pk_auto("id"))
            .col(string("name_zh"))
            .col(string("name_en"))
            .col(string("district"))
            .col(string("address"))
            .col(big_integer("area_m2").check(Expr::col("area_m2").gt(0)))
            .col(string("operator_name"))
            .col(big_integer_null("operator_account_id"))
            .col(date_null("opened_on"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("communities", "district", "districts", "id"))
            .foreign_key(&mut fk(
                "communities",
                "operator_account_id",
                "accounts",
                "id",
            ))
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("persons")
            .col(big_pk_auto("id"))
            .col(big_integer_null("account_id").unique_key())
            .col(string("full_name"))
            .col(string_null("district"))
            .col(string_null("email"))
            .col(date_null("birth_date"))
            .col(string_null("highest_degree").check(in_list(
                "highest_degree",
                &["none", "associate", "bachelor", "master", "doctorate"],
            )))
            .col(date_null("degree_date"))
            .col(boolean_null("overseas_degree"))
            .col(boolean_null("has_shenzhen_hukou"))
            .col(date_null("hukou_shenzhen_since"))
            .col(boolean_null("works_in_ai"))
            .col(boolean_null("kunpeng_selected"))
            .col(boolean_null("high_level_talent"))
            .col(text_null("resident_id_cipher"))
            .col(string_null("resident_id_masked"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            // A hukou date is only meaningful for someone who has Shenzhen hukou.
            .check(
                Expr::col("hukou_shenzhen_since")
                    .is_null()
                    .or(Expr::col("has_shenzhen_hukou").eq(true)),
            )
            .foreign_key(&mut fk("persons", "account_id", "accounts", "id"))
            .foreign_key(&mut fk("persons", "district", "districts", "id"))
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("enterprises")
            .col(big_pk_auto("id"))
            .col(string_uniq("uscc").check(Expr::cust("length(uscc) = 18")))
            .col(string("name"))
            .col(date_null("registered_date"))
            .col(string("district"))
            .col(big_integer_null("community_id"))
            .col(string_null("size").check(in_list("size", &["micro", "small", "medium", "large"])))
            .col(boolean_null("ai_business"))
            .col(boolean_null("gov_deployed_product"))
            .col(boolean_null("demonstration_project"))
            .col(boolean_null("consortium_lead"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("enterprises", "district", "districts", "id"))
            .foreign_key(&mut fk("enterprises", "community_id", "communities", "id"))
            .take(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("founders")
            .col(big_integer("person_id"))
            .col(big_integer("enterprise_id"))
            .col(string("capacity").check(in_list(
                "capacity",
                &["legal_representative", "controlling_shareholder"],
            )))
            .col(timestamp_with_time_zone("created_at"))
            .primary_key(Index::create().col("person_id").col("enterprise_id"))
            .foreign_key(
                &mut fk("founders", "person_id", "persons", "id")
                    .on_delete(ForeignKeyAction::Cascade)
                    .take(),
            )
            .foreign_key(
                &mut fk("founders", "enterprise_id", "enterprises", "id")
                    .on_delete(ForeignKeyAction::Cascade)
                    .take(),
            )
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("enterprises_by_district")
            .table("enterprises")
            .col("district")
            .take(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("persons_by_district")
            .table("persons")
            .col("district")
            .take(),
    )
    .await
}

async fn create_audit_log(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("audit_log")
            .col(big_integer("seq").primary_key())
            .col(timestamp_with_time_zone("at"))
            .col(string("actor"))
            .col(string("action"))
            .col(string("entity"))
            .col(string("entity_id"))
            .col(text_null("before"))
            .col(text_null("after"))
            .col(string("prev_hash"))
            .col(string("hash"))
            .take(),
    )
    .await?;
    // The single row that serialises appends: every writer updates it in the
    // same transaction as its entry, so the chain never forks.
    m.create_table(
        Table::create()
            .table("audit_head")
            .col(integer("id").primary_key().check(Expr::col("id").eq(1)))
            .col(big_integer("seq"))
            .col(string("hash"))
            .take(),
    )
    .await?;
    m.exec_stmt(
        Query::insert()
            .into_table("audit_head")
            .columns(["id", "seq", "hash"])
            .values_panic([1.into(), 0i64.into(), crate::audit::GENESIS_HASH.into()])
            .take(),
    )
    .await?;
    let db = m.get_connection();
    for sql in append_only_triggers(db.get_database_backend()) {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Triggers that refuse UPDATE and DELETE on the audit log, so that even a
/// bug in the application cannot rewrite history; `opcity audit verify`
/// detects anyone who bypasses them with direct database access.
fn append_only_triggers(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        DbBackend::Postgres => &[
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        ],
        _ => &[
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        ],
    }
}
