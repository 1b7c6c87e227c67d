//! The holdings guard (`opcity_store::bookings`), on both backends: a state
//! change happens once, from the states it is allowed from, even when many
//! transactions ask for it at once; the free insert skips what overlaps;
//! a waiting request leaves its queue once; the voucher pool is created
//! (and so funded) by one caller only.

use chrono::{DateTime, Duration, Utc};
use opcity_store::bookings::{self, NewBooking};
use opcity_store::sea_orm::{ConnectionTrait, Statement};
use opcity_store::{Store, StoreError, vouchers};
use opcity_testkit::each_backend;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// An instrument, an enterprise and an account to hang bookings on.
async fn fixtures(store: &Store) {
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
        let tx = store.begin().await.unwrap();
        tx.execute_raw(Statement::from_string(store.db_backend(), sql.to_owned()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

fn booking(start: DateTime<Utc>, hours: i64, pending: bool) -> NewBooking {
    NewBooking {
        instrument_id: 1,
        enterprise_id: 1,
        booked_by: 1,
        start,
        end: start + Duration::hours(hours),
        pending,
        purpose: String::new(),
        at: at("2026-01-01T00:00:00Z"),
    }
}

async fn insert(store: &Store, b: &NewBooking) -> Result<i64, StoreError> {
    let tx = store.begin().await?;
    let row = bookings::insert_booking(&tx, b).await?;
    tx.commit().await?;
    Ok(row.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_happen_only_from_their_states() {
    each_backend(async |db| {
        let store = &db.store;
        fixtures(store).await;
        let now = at("2030-05-01T00:00:00Z");
        let id = insert(store, &booking(at("2030-05-06T01:00:00Z"), 1, true))
            .await
            .unwrap();
        let tx = store.begin().await.unwrap();
        // Not confirmed yet: no check-in.
        assert!(
            bookings::check_in_booking(&tx, id, now)
                .await
                .unwrap()
                .is_none()
        );
        let approved = bookings::decide_booking(&tx, id, true, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (approved.status.as_str(), approved.decided_at),
            ("confirmed", Some(now))
        );
        // Decided once.
        assert!(
            bookings::decide_booking(&tx, id, false, now)
                .await
                .unwrap()
                .is_none()
        );
        let cancelled = bookings::cancel_booking(&tx, id, true, now)
            .await
            .unwrap()
            .unwrap();
        assert!(cancelled.late_cancel);
        assert!(
            bookings::release_booking(&tx, id, now)
                .await
                .unwrap()
                .is_none()
        );
        // Absent rows are not changed either.
        assert!(
            bookings::cancel_booking(&tx, id + 100, false, now)
                .await
                .unwrap()
                .is_none()
        );
        tx.commit().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transitions_of_one_booking_let_one_win() {
    each_backend(async |db| {
        let store = &db.store;
        fixtures(store).await;
        let id = insert(store, &booking(at("2030-05-06T01:00:00Z"), 1, false))
            .await
            .unwrap();
        let now = at("2030-05-06T01:05:00Z");
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let tx = store.begin().await.unwrap();
                    let changed = if i % 2 == 0 {
                        bookings::cancel_booking(&tx, id, false, now).await
                    } else {
                        bookings::check_in_booking(&tx, id, now).await
                    }
                    .unwrap();
                    tx.commit().await.unwrap();
                    changed.is_some()
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.unwrap());
        }
        assert_eq!(won, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_insert_skips_what_overlaps() {
    each_backend(async |db| {
        let store = &db.store;
        fixtures(store).await;
        insert(store, &booking(at("2030-05-06T01:00:00Z"), 1, false))
            .await
            .unwrap();
        let asked = [
            booking(at("2030-05-06T01:30:00Z"), 1, false), // overlaps the holding
            booking(at("2030-05-06T02:00:00Z"), 1, false),
            booking(at("2030-05-06T02:30:00Z"), 1, false), // overlaps the row above
            booking(at("2030-05-06T03:00:00Z"), 1, true),
        ];
        let tx = store.begin().await.unwrap();
        let rows = bookings::insert_free_bookings(&tx, &asked.iter().collect::<Vec<_>>())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut starts: Vec<_> = rows
            .iter()
            .map(|r| (r.start_at, r.status.clone()))
            .collect();
        starts.sort();
        assert_eq!(
            starts,
            vec![
                (at("2030-05-06T02:00:00Z"), "confirmed".to_owned()),
                (at("2030-05-06T03:00:00Z"), "pending".to_owned()),
            ]
        );
        // A released booking frees the rest of its slot.
        let clash = insert(store, &booking(at("2030-05-06T01:30:00Z"), 1, false)).await;
        assert!(matches!(clash, Err(StoreError::Overlap(_))), "{clash:?}");
        let tx = store.begin().await.unwrap();
        bookings::release_booking(&tx, 1, at("2030-05-06T01:20:00Z"))
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        let tx = store.begin().await.unwrap();
        let freed = bookings::insert_free_bookings(
            &tx,
            &[&NewBooking {
                end: at("2030-05-06T02:00:00Z"),
                ..booking(at("2030-05-06T01:20:00Z"), 1, false)
            }],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(freed.len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_request_leaves_the_queue_once() {
    each_backend(async |db| {
        let store = &db.store;
        fixtures(store).await;
        let now = at("2026-01-01T00:00:00Z");
        let tx = store.begin().await.unwrap();
        let request = bookings::insert_request(
            &tx,
            bookings::NewRequest {
                community_id: None,
                district: "nanshan".into(),
                kind: "desk".into(),
                programme: "sz.space.opc_workspace".into(),
                enterprise_id: Some(1),
                person_id: None,
                team_size: 2,
                wanted_from: "2026-02-01".parse().unwrap(),
                months: 6,
                note: String::new(),
                requested_by: 1,
                at: now,
                application_id: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(request.status, "waiting");
        // An offer and withdrawals race: one of them moves it.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let to = if i % 2 == 0 { "offered" } else { "withdrawn" };
                    let tx = store.begin().await.unwrap();
                    let moved = bookings::move_request(&tx, request.id, &["waiting"], to, now)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    moved.is_some()
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.unwrap());
        }
        assert_eq!(won, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_is_created_by_one_caller_only() {
    each_backend(async |db| {
        let store = &db.store;
        let now = at("2026-01-01T00:00:00Z");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let tx = store.begin().await.unwrap();
                    let (pool, created) =
                        vouchers::ensure_pool(&tx, "sz.voucher.compute", 2026, "municipal", now)
                            .await
                            .unwrap();
                    tx.commit().await.unwrap();
                    (pool.id, created)
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert_eq!(answers.iter().filter(|(_, created)| *created).count(), 1);
        assert!(answers.iter().all(|(id, _)| *id == answers[0].0));
    })
    .await;
}
