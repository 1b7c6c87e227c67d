//! The voucher ledger under storms, on SQLite and PostgreSQL.
//!
//! Concurrent randomized workloads (holds, partial and full captures, voids,
//! direct spends; every request replayed 1–3 times concurrently) against a
//! simple reference model used as the oracle: the committed transfers, replayed
//! in commit order through the model, must each be valid when applied and
//! must rebuild every stored balance; each request id exists once; each hold
//! resolves at most once; debits equal credits; reconciliation is clean. The
//! seed is printed on any failure so it can be replayed.

use chrono::{DateTime, Duration, Utc};
use opcity_store::Store;
use opcity_store::entity::{ledger_account, ledger_transfer};
use opcity_store::ledger::{self, LedgerError, NewAccount, NewTransfer, Op, Outcome};
use opcity_store::sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use opcity_testkit::each_backend;
use std::collections::{BTreeMap, HashMap, HashSet};

const LEDGER: &str = "sz.voucher.model";

/// A small deterministic generator, so a failing seed can be replayed.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

fn account(code: &str, kind: &'static str, wallet: bool) -> NewAccount {
    NewAccount {
        code: code.to_owned(),
        ledger: LEDGER.to_owned(),
        kind,
        enterprise_id: None,
        provider_id: None,
        budget_id: None,
        valid_until: None,
        debits_must_not_exceed_credits: wallet,
        credits_must_not_exceed_debits: false,
        at: Utc::now(),
    }
}

struct Setup {
    prefix: String,
    pool: i64,
    provider: i64,
    wallets: Vec<i64>,
}

async fn setup(store: &Store, prefix: &str, wallets: usize, funds: &[i64]) -> Setup {
    let tx = store.begin().await.unwrap();
    let pool = ledger::open_account(&tx, account(&format!("{prefix}pool"), "pool", false))
        .await
        .unwrap()
        .id;
    let provider =
        ledger::open_account(&tx, account(&format!("{prefix}provider"), "provider", true))
            .await
            .unwrap()
            .id;
    let mut ids = Vec::new();
    for i in 0..wallets {
        ids.push(
            ledger::open_account(&tx, account(&format!("{prefix}wallet{i}"), "wallet", true))
                .await
                .unwrap()
                .id,
        );
    }
    tx.commit().await.unwrap();
    for (i, w) in ids.iter().enumerate() {
        let t = transfer(
            &format!("{prefix}fund{i}"),
            Op::Posted {
                ledger: LEDGER.into(),
                debit: pool,
                credit: *w,
                amount_fen: funds[i % funds.len()],
                credit_limit: None,
            },
            Utc::now(),
        );
        ledger::submit(store, &t).await.unwrap();
    }
    Setup {
        prefix: prefix.to_owned(),
        pool,
        provider,
        wallets: ids,
    }
}

/// A single-phase transfer in the test ledger.
fn posted(id: &str, debit: i64, credit: i64, amount: i64, at: DateTime<Utc>) -> NewTransfer {
    let op = Op::Posted {
        ledger: LEDGER.into(),
        debit,
        credit,
        amount_fen: amount,
        credit_limit: None,
    };
    transfer(id, op, at)
}

/// A hold in the test ledger, for an hour from `at`.
fn hold(id: &str, debit: i64, credit: i64, amount: i64, at: DateTime<Utc>) -> NewTransfer {
    let op = Op::Pending {
        ledger: LEDGER.into(),
        debit,
        credit,
        amount_fen: amount,
        expires_at: at + Duration::hours(1),
    };
    transfer(id, op, at)
}

fn transfer(id: &str, op: Op, at: DateTime<Utc>) -> NewTransfer {
    let kind = match &op {
        Op::Posted { .. } => "spend",
        Op::Pending { .. } => "hold",
        Op::Post { .. } => "capture",
        Op::Void { .. } => "void",
    };
    NewTransfer {
        id: id.to_owned(),
        body_hash: ledger::hash_body(&format!("{op:?}")),
        op,
        kind: kind.to_owned(),
        reference: None,
        contract_amount_fen: None,
        use_kind: None,
        actor: "storm".to_owned(),
        at,
    }
}

/// The oracle: balances as four numbers per account, and the holds.
#[derive(Default)]
struct Model {
    balances: HashMap<i64, [i64; 4]>, // debits_pending, debits_posted, credits_pending, credits_posted
    guarded: HashSet<i64>,
    holds: HashMap<String, (i64, i64, i64)>,
    resolved: HashSet<String>,
}

impl Model {
    /// Applies one committed transfer; `Err` when it should not have been allowed.
    fn apply(&mut self, t: &ledger_transfer::Model) -> Result<(), String> {
        let (d, c, a) = (t.debit_account_id, t.credit_account_id, t.amount_fen);
        match t.phase.as_str() {
            "posted" | "pending" => {
                let i = if t.phase == "posted" { 1 } else { 0 };
                let db = self.balances.entry(d).or_default();
                db[i] += a;
                if self.guarded.contains(&d) && db[0] + db[1] > db[3] {
                    return Err(format!("{} overdraws account {d}", t.id));
                }
                self.balances.entry(c).or_default()[i + 2] += a;
                if t.phase == "pending" {
                    self.holds.insert(t.id.clone(), (d, c, a));
                }
            }
            phase => {
                let pending = t.pending_id.clone().ok_or("resolution without hold")?;
                if !self.resolved.insert(pending.clone()) {
                    return Err(format!("{pending} resolved twice"));
                }
                let (hd, hc, held) = *self.holds.get(&pending).ok_or("unknown hold")?;
                if (hd, hc) != (d, c) || a > held {
                    return Err(format!("{} does not match its hold", t.id));
                }
                let posted = if phase == "post" { a } else { 0 };
                let db = self.balances.entry(d).or_default();
                db[0] -= held;
                db[1] += posted;
                let cb = self.balances.entry(c).or_default();
                cb[2] -= held;
                cb[3] += posted;
            }
        }
        Ok(())
    }
}

/// One client request, replayed 1–3 times concurrently.
/// `store` and a second store on the same database, as a second process
/// would have it.
async fn two_processes(store: &Store, url: &str) -> Vec<Store> {
    vec![store.clone(), Store::connect(url).await.unwrap()]
}

/// `t` submitted `times` times at once, the replays taking turns over
/// `stores` (several stores on one database behave as several processes:
/// each has its own group committer).
async fn replayed(stores: &[Store], t: NewTransfer, times: usize) -> Vec<Result<Outcome, String>> {
    let tasks: Vec<_> = (0..times)
        .map(|i| {
            let (store, t) = (stores[i % stores.len()].clone(), t.clone());
            tokio::spawn(async move { ledger::submit(&store, &t).await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        // Refusals are not judged here: under concurrency the balance a
        // refusal reports may already have changed. Successes are judged by
        // the model.
        out.push(task.await.unwrap().map_err(|e| e.to_string()));
    }
    out
}

/// One client: a random sequence of operations on random wallets.
async fn client(
    stores: Vec<Store>,
    s: std::sync::Arc<Setup>,
    mut seed: u64,
    client_no: usize,
    ops: usize,
) -> Vec<(String, Vec<Result<Outcome, String>>)> {
    let mut results = Vec::new();
    let mut my_holds: Vec<(String, i64)> = Vec::new();
    for n in 0..ops {
        let id = format!("{}c{client_no}-{n}", s.prefix);
        let now = Utc::now();
        let choice = lcg(&mut seed) % 10;
        let op = if choice < 4 || my_holds.is_empty() {
            let w = s.wallets[(lcg(&mut seed) as usize) % s.wallets.len()];
            let amount = 1 + (lcg(&mut seed) % 4_000) as i64;
            if choice.is_multiple_of(2) {
                Op::Pending {
                    ledger: LEDGER.into(),
                    debit: w,
                    credit: s.provider,
                    amount_fen: amount,
                    expires_at: now + Duration::hours(1),
                }
            } else {
                Op::Posted {
                    ledger: LEDGER.into(),
                    debit: w,
                    credit: s.provider,
                    amount_fen: amount,
                    credit_limit: None,
                }
            }
        } else {
            let (hold, held) = my_holds.swap_remove((lcg(&mut seed) as usize) % my_holds.len());
            match choice {
                4..=6 => Op::Post {
                    pending_id: hold,
                    amount_fen: Some(1 + (lcg(&mut seed) as i64 % held)),
                },
                7 => Op::Post {
                    pending_id: hold,
                    amount_fen: None,
                },
                _ => Op::Void { pending_id: hold },
            }
        };
        let times = 1 + (lcg(&mut seed) % 3) as usize;
        let t = transfer(&id, op.clone(), now);
        let outcome = replayed(&stores, t, times).await;
        if let (Op::Pending { amount_fen, .. }, Some(Ok(_))) = (&op, outcome.first()) {
            my_holds.push((id.clone(), *amount_fen));
        }
        results.push((id, outcome));
    }
    results
}

async fn balances(store: &Store) -> BTreeMap<i64, ledger_account::Model> {
    ledger_account::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replayed_workload_matches_the_reference_model() {
    each_backend(async |db| {
        let stores = two_processes(&db.store, &db.url).await;
        for round in 0..3u64 {
            let seed = 0x1ed9_e700 + round;
            let prefix = format!("r{round}-");
            // Scarce funds so that refusals happen too.
            let s =
                std::sync::Arc::new(setup(&db.store, &prefix, 8, &[20_000, 5_000, 60_000]).await);
            let tasks: Vec<_> = (0..20)
                .map(|c| {
                    tokio::spawn(client(
                        stores.clone(),
                        s.clone(),
                        seed.wrapping_mul(31).wrapping_add(c as u64),
                        c,
                        12,
                    ))
                })
                .collect();
            let mut outcomes = Vec::new();
            for t in tasks {
                outcomes.extend(t.await.unwrap());
            }
            let ctx = format!("seed {seed:#x} on {:?}", db.backend());
            // Replays: every success of one id names the same transfer.
            for (id, results) in &outcomes {
                let seqs: HashSet<i64> = results
                    .iter()
                    .filter_map(|r| r.as_ref().ok().map(|o| o.transfer.seq))
                    .collect();
                assert!(seqs.len() <= 1, "{ctx}: {id} created twice: {results:?}");
                let created = results
                    .iter()
                    .filter(|r| r.as_ref().is_ok_and(|o| o.created))
                    .count();
                assert!(created <= 1, "{ctx}: {id} created {created} times");
                // (A replay may still be refused when other clients changed
                // the balance between it and the first one; the model check
                // below proves such refusals moved nothing.)
                // Replays carry the same body: never a conflict.
                assert!(
                    !results
                        .iter()
                        .any(|r| r.as_ref().is_err_and(|e| e.contains("used before"))),
                    "{ctx}: {id}: {results:?}"
                );
            }
            // The workload must exercise both refusals and resolutions.
            let refused = outcomes
                .iter()
                .filter(|(_, r)| {
                    r.iter()
                        .any(|x| x.as_ref().is_err_and(|e| e.contains("available")))
                })
                .count();
            let resolved = outcomes
                .iter()
                .filter(|(_, r)| {
                    r.iter().any(|x| {
                        x.as_ref()
                            .is_ok_and(|o| o.created && o.transfer.pending_id.is_some())
                    })
                })
                .count();
            assert!(
                refused > 0 && resolved > 0,
                "{ctx}: refused {refused}, resolved {resolved}"
            );
            assert!(s.pool > 0);
            check_against_model(&db.store, &ctx).await;
        }
    })
    .await;
}

/// Replays the committed transfers in commit order through the model.
async fn check_against_model(store: &Store, ctx: &str) {
    let accounts = balances(store).await;
    let transfers = ledger_transfer::Entity::find()
        .order_by_asc(ledger_transfer::Column::Seq)
        .all(store.db())
        .await
        .unwrap();
    let mut model = Model {
        guarded: accounts
            .values()
            .filter(|a| a.debits_must_not_exceed_credits)
            .map(|a| a.id)
            .collect(),
        ..Default::default()
    };
    for t in &transfers {
        if let Err(why) = model.apply(t) {
            panic!("{ctx}: {why}");
        }
    }
    let ids: HashSet<&str> = transfers.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len(), transfers.len(), "{ctx}: duplicate ids");
    let mut sums = [0i64; 4];
    for a in accounts.values() {
        let stored = [
            a.debits_pending,
            a.debits_posted,
            a.credits_pending,
            a.credits_posted,
        ];
        let rebuilt = model.balances.get(&a.id).copied().unwrap_or_default();
        assert_eq!(stored, rebuilt, "{ctx}: account {}", a.code);
        if a.debits_must_not_exceed_credits {
            assert!(
                a.debits_posted + a.debits_pending <= a.credits_posted,
                "{ctx}: {} overdrawn",
                a.code
            );
        }
        for (s, v) in sums.iter_mut().zip(stored) {
            *s += v;
        }
    }
    assert_eq!(sums[0], sums[2], "{ctx}: pending debits ≠ credits");
    assert_eq!(sums[1], sums[3], "{ctx}: posted debits ≠ credits");
    let rec = ledger::reconcile(store.db()).await.unwrap();
    assert!(rec.is_clean(), "{ctx}: {rec:?}");
    assert_eq!(rec.transfers, transfers.len());
}

/// Everything in the database besides the clock: balances and transfer count.
async fn snapshot(store: &Store) -> (Vec<[i64; 4]>, usize) {
    let accounts = balances(store).await;
    let transfers = ledger_transfer::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .len();
    (
        accounts
            .values()
            .map(|a| {
                [
                    a.debits_pending,
                    a.debits_posted,
                    a.credits_pending,
                    a.credits_posted,
                ]
            })
            .collect(),
        transfers,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_move_nothing() {
    each_backend(async |db| {
        let store = &db.store;
        let s = setup(store, "", 2, &[10_000]).await;
        let (w, p) = (s.wallets[0], s.provider);
        let now = Utc::now();
        let hold = transfer(
            "hold-1",
            Op::Pending {
                ledger: LEDGER.into(),
                debit: w,
                credit: p,
                amount_fen: 4_000,
                expires_at: now + Duration::minutes(10),
            },
            now,
        );
        assert!(ledger::submit(store, &hold).await.unwrap().created);
        let before = snapshot(store).await;

        let post = |id: &str, pending: &str, amount: Option<i64>, at| {
            transfer(
                id,
                Op::Post {
                    pending_id: pending.into(),
                    amount_fen: amount,
                },
                at,
            )
        };
        let spend = |id: &str, debit: i64, credit: i64, amount: i64, ledger: &str| {
            transfer(
                id,
                Op::Posted {
                    ledger: ledger.into(),
                    debit,
                    credit,
                    amount_fen: amount,
                    credit_limit: None,
                },
                now,
            )
        };
        let cases: Vec<(NewTransfer, &str)> = vec![
            (spend("x1", w, p, 6_001, LEDGER), "insufficient"),
            (spend("x2", 999_999, p, 1, LEDGER), "unknown account"),
            (spend("x3", w, p, 1, "sz.voucher.data"), "ledger"),
            (spend("x4", w, w, 1, LEDGER), "same account"),
            (post("x5", "hold-1", Some(4_001), now), "above the hold"),
            (
                post("x6", "hold-1", None, now + Duration::minutes(11)),
                "after expiry",
            ),
            (post("x7", "nope", None, now), "unknown hold"),
            (post("x8", "fund0", None, now), "not a hold"),
            // Same id as the hold, different body.
            (spend("hold-1", w, p, 1, LEDGER), "id conflict"),
        ];
        for (t, why) in &cases {
            let err = ledger::submit(store, t).await.unwrap_err();
            let ok = match *why {
                "insufficient" => matches!(err, LedgerError::Insufficient { available_fen: 6_000, .. }),
                "unknown account" => matches!(err, LedgerError::AccountNotFound(999_999)),
                "ledger" => matches!(err, LedgerError::LedgerMismatch(_)),
                "same account" => matches!(err, LedgerError::SameAccount),
                "above the hold" => matches!(err, LedgerError::ExceedsPending { held_fen: 4_000, .. }),
                "after expiry" => matches!(err, LedgerError::PendingExpired(_)),
                "unknown hold" => matches!(err, LedgerError::PendingNotFound(_)),
                "not a hold" => matches!(err, LedgerError::NotPending(_)),
                _ => matches!(err, LedgerError::IdConflict { .. }),
            };
            assert!(ok, "{why}: got {err:?} on {:?}", db.backend());
            assert_eq!(snapshot(store).await, before, "{why} moved something");
        }

        // A hold resolves once: capture, then a void and a second capture fail.
        let captured = ledger::submit(store, &post("cap-1", "hold-1", Some(1_500), now))
            .await
            .unwrap();
        assert_eq!(captured.transfer.amount_fen, 1_500);
        let after_capture = snapshot(store).await;
        let void = transfer(
            "void-1",
            Op::Void {
                pending_id: "hold-1".into(),
            },
            now,
        );
        assert!(matches!(
            ledger::submit(store, &void).await.unwrap_err(),
            LedgerError::AlreadyResolved { .. }
        ));
        // Replaying the capture answers with the first result.
        let again = ledger::submit(store, &post("cap-1", "hold-1", Some(1_500), now))
            .await
            .unwrap();
        assert!(!again.created);
        assert_eq!(again.transfer, captured.transfer);
        assert_eq!(snapshot(store).await, after_capture);
        let wallet = ledger_account::Entity::find_by_id(w)
            .one(store.db())
            .await
            .unwrap()
            .unwrap();
        // 10,000 funded, 1,500 captured, the other 2,500 of the hold released.
        assert_eq!(wallet.available(), 8_500);
        assert_eq!(wallet.debits_pending, 0);

        // The database itself refuses edits of transfers and overdrafts.
        let conn = store.db();
        for sql in [
            "UPDATE ledger_transfers SET amount_fen = 1".to_owned(),
            "DELETE FROM ledger_transfers".to_owned(),
            format!("UPDATE ledger_accounts SET debits_posted = 999999 WHERE id = {w}"),
            format!("UPDATE ledger_accounts SET credits_posted = -1 WHERE id = {p}"),
        ] {
            assert!(conn.execute_unprepared(&sql).await.is_err(), "{sql} allowed");
        }
        let zero = format!(
            "INSERT INTO ledger_transfers (id, ledger, debit_account_id, credit_account_id, amount_fen, phase, kind, body_hash, actor, created_at) \
             VALUES ('zero', '{LEDGER}', {w}, {p}, 0, 'posted', 'spend', 'h', 'a', '2026-01-01T00:00:00Z')"
        );
        assert!(conn.execute_unprepared(&zero).await.is_err(), "zero amount allowed");
        assert_eq!(snapshot(store).await, after_capture);
        assert!(ledger::reconcile(conn).await.unwrap().is_clean());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_commit_whole_or_not_at_all() {
    each_backend(async |db| {
        let store = &db.store;
        let s = setup(store, "", 3, &[1_000]).await;
        let now = Utc::now();
        let spend = |id: String, w: i64, amount: i64| posted(&id, w, s.provider, amount, now);
        // Within a batch, a hold and its capture; the 11th spend of 100 from
        // wallet 0 (after a hold of 50) overdraws, so nothing is written.
        let mut batch: Vec<NewTransfer> = vec![hold("b-hold", s.wallets[0], s.provider, 50, now)];
        batch.push(transfer(
            "b-cap",
            Op::Post {
                pending_id: "b-hold".into(),
                amount_fen: Some(20),
            },
            now,
        ));
        for i in 0..10 {
            batch.push(spend(format!("b-{i}"), s.wallets[0], 100));
        }
        let before = snapshot(store).await;
        let err = ledger::submit_batch(store, &batch).await.unwrap_err();
        assert_eq!(err.index, Some(11), "{err}");
        assert!(matches!(
            err.error,
            LedgerError::Insufficient {
                available_fen: 80,
                ..
            }
        ));
        assert_eq!(snapshot(store).await, before);

        batch.truncate(11);
        batch.push(spend("b-w1".into(), s.wallets[1], 1_000));
        let items = ledger::submit_batch(store, &batch).await.unwrap();
        assert!(items.iter().all(|i| i.created));
        let accounts = balances(store).await;
        assert_eq!(accounts[&s.wallets[0]].available(), 1_000 - 20 - 900);
        assert_eq!(accounts[&s.wallets[1]].available(), 0);
        assert_eq!(accounts[&s.provider].credits_posted, 1_920);
        // Replaying the batch changes nothing and answers "not created".
        let again = ledger::submit_batch(store, &batch).await.unwrap();
        assert!(again.iter().all(|i| !i.created));
        assert_eq!(balances(store).await, accounts);
        // Same id, different body inside a later batch: refused whole.
        let conflict = vec![
            spend("b-new".into(), s.wallets[2], 1),
            spend("b-0".into(), s.wallets[2], 7),
        ];
        let err = ledger::submit_batch(store, &conflict).await.unwrap_err();
        assert_eq!(err.index, Some(1));
        assert!(matches!(err.error, LedgerError::IdConflict { .. }));
        check_against_model(store, &format!("batch on {:?}", db.backend())).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replays_all_answer_with_the_first_result() {
    each_backend(async |db| {
        let store = &db.store;
        let stores = two_processes(store, &db.url).await;
        for round in 0..5 {
            let prefix = format!("q{round}-");
            // Exactly enough for one spend: a second application would overdraw.
            let s = setup(store, &prefix, 1, &[7_000]).await;
            let now = Utc::now();
            let spend = transfer(
                &format!("{prefix}spend"),
                Op::Pending {
                    ledger: LEDGER.into(),
                    debit: s.wallets[0],
                    credit: s.provider,
                    amount_fen: 7_000,
                    expires_at: now + Duration::hours(1),
                },
                now,
            );
            let results = replayed(&stores, spend, 3).await;
            let seqs: HashSet<i64> = results
                .iter()
                .map(|r| r.as_ref().expect("every replay answers").transfer.seq)
                .collect();
            assert_eq!(
                seqs.len(),
                1,
                "round {round} on {:?}: {results:?}",
                db.backend()
            );
            assert_eq!(
                results
                    .iter()
                    .filter(|r| r.as_ref().unwrap().created)
                    .count(),
                1
            );
            // A capture and a void of the same hold race: exactly one wins.
            let hold = format!("{prefix}spend");
            let capture = transfer(
                &format!("{prefix}cap"),
                Op::Post {
                    pending_id: hold.clone(),
                    amount_fen: Some(5_000),
                },
                now,
            );
            let void = transfer(&format!("{prefix}void"), Op::Void { pending_id: hold }, now);
            let (a, b) = tokio::join!(replayed(&stores, capture, 2), replayed(&stores, void, 2));
            let won = |r: &[Result<Outcome, String>]| r.iter().all(Result::is_ok);
            let lost = |r: &[Result<Outcome, String>]| {
                r.iter()
                    .all(|x| x.as_ref().is_err_and(|e| e.contains("already resolved")))
            };
            assert!(
                (won(&a) && lost(&b)) || (lost(&a) && won(&b)),
                "round {round} on {:?}: capture {a:?}, void {b:?}",
                db.backend()
            );
        }
        check_against_model(store, &format!("replays on {:?}", db.backend())).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_answers_each_transfer_on_its_own() {
    each_backend(async |db| {
        let store = &db.store;
        let s = setup(store, "", 2, &[1_000]).await;
        let now = Utc::now();
        let spend = |id: &str, w: i64, amount: i64| posted(id, w, s.provider, amount, now);
        let hold = hold("g-hold", s.wallets[1], s.provider, 300, now);
        let capture = |id: &str| {
            transfer(
                id,
                Op::Post {
                    pending_id: "g-hold".into(),
                    amount_fen: Some(100),
                },
                now,
            )
        };
        let group = vec![
            spend("g-1", s.wallets[0], 600),
            // Overdraws after g-1: refused, and g-3 still fits.
            spend("g-2", s.wallets[0], 500),
            spend("g-3", s.wallets[0], 400),
            // A replay of g-1, and g-1's id with another body.
            spend("g-1", s.wallets[0], 600),
            spend("g-1", s.wallets[0], 1),
            hold,
            capture("g-cap"),
            capture("g-cap-again"),
            spend("g-w1", s.wallets[1], 700),
        ];
        let tx = store.begin().await.unwrap();
        let answers = ledger::create_each_unseen(&tx, &group).await.unwrap();
        tx.commit().await.unwrap();
        let created: Vec<Option<bool>> = answers
            .iter()
            .map(|a| a.as_ref().ok().map(|o| o.created))
            .collect();
        assert_eq!(
            created,
            [
                Some(true),
                None,
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(true),
                None,
                Some(true),
            ],
            "{answers:?}"
        );
        let err = |i: usize| answers[i].as_ref().unwrap_err().to_string();
        assert!(
            matches!(
                answers[1],
                Err(LedgerError::Insufficient {
                    available_fen: 400,
                    ..
                })
            ),
            "{}",
            err(1)
        );
        assert!(matches!(answers[4], Err(LedgerError::IdConflict { .. })));
        assert!(matches!(
            answers[7],
            Err(LedgerError::AlreadyResolved { .. })
        ));
        // The replay names the stored row, with its sequence number.
        let first = &answers[0].as_ref().unwrap().transfer;
        assert_eq!(answers[3].as_ref().unwrap().transfer, *first);
        let stored = ledger::find_transfer(store.db(), "g-1").await.unwrap();
        assert_eq!(stored.as_ref(), Some(first));
        let accounts = balances(store).await;
        assert_eq!(accounts[&s.wallets[0]].available(), 0);
        // 1,000 − 100 captured (the other 200 of the hold released) − 700.
        assert_eq!(accounts[&s.wallets[1]].available(), 200);
        assert_eq!(accounts[&s.provider].credits_posted, 600 + 400 + 100 + 700);
        // A group with an id stored before fails whole, for a retry that
        // finds the first answer.
        let before = snapshot(store).await;
        let tx = store.begin().await.unwrap();
        let again = ledger::create_each_unseen(
            &tx,
            &[
                spend("g-new", s.wallets[1], 1),
                spend("g-3", s.wallets[0], 400),
            ],
        )
        .await;
        assert!(matches!(again, Err(LedgerError::Duplicate)), "{again:?}");
        tx.rollback().await.unwrap();
        assert_eq!(snapshot(store).await, before);
        check_against_model(store, &format!("group on {:?}", db.backend())).await;
    })
    .await;
}

/// A batch reads the holds it resolves before it locks their accounts. When
/// another writer resolves one in between, the batch finds less pending than
/// the hold: it is refused as a concurrent duplicate (retried, it learns of
/// the resolution), where it used to panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_resolved_while_a_batch_waits_for_its_lock_refuses_the_batch() {
    each_backend(async |db| {
        let store = &db.store;
        let s = setup(store, "", 1, &[1_000]).await;
        let now = Utc::now();
        let wallet = s.wallets[0];
        ledger::submit(store, &hold("h", wallet, s.provider, 300, now))
            .await
            .unwrap();
        let capture = transfer(
            "h-cap",
            Op::Post {
                pending_id: "h".into(),
                amount_fen: None,
            },
            now,
        );
        let void = transfer(
            "h-void",
            Op::Void {
                pending_id: "h".into(),
            },
            now,
        );

        // The voider holds the hold's accounts (locked in id order, as every
        // writer does) while the batch reads the hold and then waits for
        // those locks (on SQLite, for the writer's turn).
        let voider = store.begin().await.unwrap();
        for account in [s.provider.min(wallet), s.provider.max(wallet)] {
            ledger::lock_account(&voider, account).await.unwrap();
        }
        let batch = tokio::spawn({
            let store = store.clone();
            async move { ledger::submit_batch(&store, &[capture]).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        ledger::create(&voider, &void).await.unwrap();
        voider.commit().await.unwrap();

        let refused = batch.await.expect("the batch answers").unwrap_err();
        assert!(
            matches!(
                refused.error,
                LedgerError::Duplicate | LedgerError::AlreadyResolved { .. }
            ),
            "{refused}"
        );
        let accounts = balances(store).await;
        assert_eq!(accounts[&wallet].debits_pending, 0);
        assert_eq!(accounts[&wallet].available(), 1_000);
        check_against_model(store, &format!("resolved meanwhile on {:?}", db.backend())).await;
    })
    .await;
}
