//! The database itself refuses overlapping holdings, on both backends, even
//! when a caller skips the services' checks: PostgreSQL's exclusion
//! constraints, SQLite's triggers. Adjacent half-open intervals and
//! non-holding statuses pass.

use chrono::{DateTime, Utc};
use opcity_store::StoreError;
use opcity_store::intervals::{Holdings, find_overlap};
use opcity_store::sea_orm::{ConnectionTrait, Statement};
use opcity_testkit::each_backend;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn exec(store: &opcity_store::Store, sql: &str) -> Result<(), StoreError> {
    let tx = store.begin().await?;
    tx.execute_raw(Statement::from_string(store.db_backend(), sql.to_owned()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// An instrument, an enterprise and an account to hang bookings on.
async fn fixtures(store: &opcity_store::Store) {
    for sql in [
        "INSERT INTO accounts (username, display_name, password_hash, role, locale, disabled, created_at) \
         VALUES ('lab', 'lab', 'x', 'service_provider', 'en', false, '2026-01-01T00:00:00+00:00')",
        "INSERT INTO enterprises (uscc, name, district, created_at, updated_at) \
         VALUES ('914403000000000001', 'e', 'nanshan', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        "INSERT INTO instruments (name, kind, institution, district, description, slot_minutes, opens_minute, \
         closes_minute, open_days, requires_approval, cancel_notice_hours, no_show_grace_minutes, active, created_at, updated_at) \
         VALUES ('gpu', 'gpu_server', 'lab', 'nanshan', '', 60, 0, 1440, '1234567', false, 0, 15, true, \
         '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
    ] {
        exec(store, sql).await.unwrap();
    }
}

fn booking(start: &str, end: &str, status: &str) -> String {
    format!(
        "INSERT INTO instrument_bookings (instrument_id, enterprise_id, booked_by, start_at, end_at, status, \
         late_cancel, purpose, created_at) VALUES (1, 1, 1, '{start}', '{end}', '{status}', false, '', \
         '2026-01-01T00:00:00+00:00')"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_holdings_are_refused_by_the_database() {
    each_backend(async |db| {
        let store = &db.store;
        fixtures(store).await;
        exec(
            store,
            &booking(
                "2030-05-06T01:00:00+00:00",
                "2030-05-06T02:00:00+00:00",
                "confirmed",
            ),
        )
        .await
        .unwrap();
        // Adjacent: [9,10) then [10,11) Shanghai time.
        exec(
            store,
            &booking(
                "2030-05-06T02:00:00+00:00",
                "2030-05-06T03:00:00+00:00",
                "pending",
            ),
        )
        .await
        .unwrap();
        // Overlapping a holding one: refused, classified as an overlap.
        let clash = exec(
            store,
            &booking(
                "2030-05-06T01:30:00+00:00",
                "2030-05-06T02:30:00+00:00",
                "confirmed",
            ),
        )
        .await;
        assert!(matches!(clash, Err(StoreError::Overlap(_))), "{clash:?}");
        // A cancelled booking holds nothing.
        exec(
            store,
            &booking(
                "2030-05-06T01:30:00+00:00",
                "2030-05-06T02:30:00+00:00",
                "cancelled",
            ),
        )
        .await
        .unwrap();
        // Turning it back into a holding one is refused too.
        let revive = exec(
            store,
            "UPDATE instrument_bookings SET status = 'confirmed' WHERE status = 'cancelled'",
        )
        .await;
        assert!(matches!(revive, Err(StoreError::Overlap(_))), "{revive:?}");
        // Empty or reversed intervals are refused by a check constraint.
        let reversed = exec(
            store,
            &booking(
                "2030-05-07T02:00:00+00:00",
                "2030-05-07T01:00:00+00:00",
                "confirmed",
            ),
        )
        .await;
        assert!(matches!(reversed, Err(StoreError::Db(_))), "{reversed:?}");

        let held = find_overlap(
            store.db(),
            Holdings::InstrumentBookings,
            1,
            at("2030-05-06T01:59:00Z"),
            at("2030-05-06T02:01:00Z"),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!((held.id, held.start_at), (1, at("2030-05-06T01:00:00Z")));
        assert!(
            find_overlap(
                store.db(),
                Holdings::InstrumentBookings,
                1,
                at("2030-05-06T03:00:00Z"),
                at("2030-05-06T04:00:00Z"),
                None
            )
            .await
            .unwrap()
            .is_none()
        );
    })
    .await;
}

/// PostgreSQL breaks a deadlock by failing one transaction (SQLSTATE 40P01);
/// the store reports that as `Contention` (nothing written, run it again),
/// which services answer with a clear conflict instead of an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_victim_is_reported_as_contention() {
    let Some(url) = opcity_testkit::postgres_url() else {
        return;
    };
    let db = opcity_testkit::TestDb::postgres(&url).await;
    let store = &db.store;
    store
        .db()
        .execute_unprepared(
            "CREATE TABLE pair (id int PRIMARY KEY, v int NOT NULL); \
             INSERT INTO pair VALUES (1, 0), (2, 0)",
        )
        .await
        .unwrap();
    let (a, b) = (store.begin().await.unwrap(), store.begin().await.unwrap());
    let touch = |id: i32| format!("UPDATE pair SET v = v + 1 WHERE id = {id}");
    a.execute_unprepared(&touch(1)).await.unwrap();
    b.execute_unprepared(&touch(2)).await.unwrap();
    // Each now waits for the row the other holds.
    let (cross_a, cross_b) = (touch(2), touch(1));
    let (first, second) = tokio::join!(
        a.execute_unprepared(&cross_a),
        b.execute_unprepared(&cross_b)
    );
    // Both transactions end before the store closes (it waits for them).
    a.rollback().await.ok();
    b.rollback().await.ok();
    let errors: Vec<StoreError> = [first, second]
        .into_iter()
        .filter_map(Result::err)
        .map(StoreError::from)
        .collect();
    db.cleanup().await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(errors[0], StoreError::Contention(_)), "{errors:?}");
}
