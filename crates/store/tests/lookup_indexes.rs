//! The lookups by foreign key that grow with the data read an index, not
//! the whole table, on both backends (migration `m0010_lookup_indexes`).

use opcity_store::sea_orm::{ConnectionTrait, DbBackend, Statement};
use opcity_testkit::each_backend;

/// The query plan of `sql` as text.
async fn plan<C: ConnectionTrait>(db: &C, sql: &str) -> String {
    let backend = db.get_database_backend();
    let explain = match backend {
        DbBackend::Postgres => format!("EXPLAIN {sql}"),
        _ => format!("EXPLAIN QUERY PLAN {sql}"),
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, explain))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let column = match backend {
                DbBackend::Postgres => "QUERY PLAN",
                _ => "detail",
            };
            row.try_get::<String>("", column).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn an_applications_history_and_reviews_are_read_by_index() {
    each_backend(async |db| {
        // One connection for the setting and the plans.
        let tx = db.store.begin().await.unwrap();
        if tx.get_database_backend() == DbBackend::Postgres {
            // The tables are empty: make the planner show what it would
            // use once they are not.
            tx.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
        }
        for (table, column) in [
            ("application_events", "application_id"),
            ("reviews", "application_id"),
            ("applications", "person_id"),
            ("budget_movements", "budget_id"),
        ] {
            let plan = plan(&*tx, &format!("SELECT * FROM {table} WHERE {column} = 1")).await;
            assert!(
                plan.contains(&format!("{table}_by_{column}")),
                "{table}.{column}: {plan}"
            );
        }
    })
    .await;
}
