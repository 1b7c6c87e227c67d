//! Crash safety on both backends: the real `opcity serve` process is killed
//! with SIGKILL in the middle of a mixed write load through the HTTP API
//! (instrument bookings, housing leases and their renewals, new persons),
//! started again, and killed again. Every write the server acknowledged is
//! there afterwards, as acknowledged; no holdings overlap, no person has
//! more than the pack's 36 months of housing, budgets and the voucher
//! ledger reconcile, and the audit chain verifies.

use opcity_domain::Role;
use opcity_services::Services;
use opcity_services::spaces::instruments::InstrumentInput;
use opcity_store::entity::{housing_lease, instrument_booking, person};
use opcity_store::sea_orm::EntityTrait;
use opcity_testkit::fixtures::PASSWORD;
use opcity_testkit::{TestDb, account, each_backend, founder_with_enterprise};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FIRMS: usize = 4;
const FLATS: usize = 3;
const LOAD_TASKS: usize = 6;
const ROUNDS: u64 = 2;

/// The `opcity serve` process and where it listens.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(db: &TestDb, key: &str, dir: &std::path::Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_opcity"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--database-url", &db.url])
            .current_dir(dir)
            .env("OPCITY_DATA_KEY", key)
            .env_remove("OPCITY_PACK_DIR")
            .env("OPCITY_LOG_LEVEL", "error")
            .env_remove("OPCITY_DATABASE_URL")
            .stdout(Stdio::null())
            .spawn()
            .expect("start opcity serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
                && r.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("opcity serve did not become ready");
    }

    /// SIGKILL: no shutdown, no flush, no sealing.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    async fn sign_in(&self, username: &str) -> reqwest::Client {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/session", self.base))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.status(), 200, "sign-in of {username}");
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let url: reqwest::Url = self.base.parse().expect("url");
        for cookie in response.headers().get_all(reqwest::header::SET_COOKIE) {
            jar.add_cookie_str(cookie.to_str().expect("ASCII cookie"), &url);
        }
        let body: serde_json::Value = response.json().await.expect("session JSON");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-csrf-token",
            body["csrf_token"]
                .as_str()
                .expect("csrf token")
                .parse()
                .expect("header value"),
        );
        reqwest::Client::builder()
            .cookie_provider(jar)
            .default_headers(headers)
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
    }
}

/// What the server acknowledged, by the request that was acknowledged.
#[derive(Default, Debug)]
struct Acknowledged {
    /// Booking id → (instrument, enterprise, start, end) as asked.
    bookings: BTreeMap<i64, (i64, i64, String, String)>,
    /// Lease id → (unit, person, months first acknowledged).
    leases: BTreeMap<i64, (i64, i64, i64)>,
    /// Lease id → months added by acknowledged renewals.
    renewed: BTreeMap<i64, i64>,
    /// Person id → name.
    persons: BTreeMap<i64, String>,
}

/// The fixed part: who acts and on what.
struct World {
    instrument: i64,
    firms: Vec<i64>,
    people: Vec<i64>,
    flats: Vec<i64>,
}

async fn world(s: &Services) -> World {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let lab = account(s, "lab", Role::ServiceProvider, None).await;
    let instrument = s
        .create_instrument(
            &lab,
            &InstrumentInput {
                name: "A100".into(),
                kind: "gpu_server".into(),
                institution: "深圳大学算力中心".into(),
                district: "nanshan".into(),
                slot_minutes: 60,
                opens: "09:00".into(),
                closes: "21:00".into(),
                open_days: "1234567".into(),
                requires_approval: false,
                cancel_notice_hours: 24,
                no_show_grace_minutes: 15,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let mut firms = Vec::new();
    let mut people = Vec::new();
    for n in 0..FIRMS {
        let f = founder_with_enterprise(s, &admin, &format!("founder{n}"), 9_000 + n).await;
        firms.push(f.enterprise_id);
        people.push(f.person_id);
    }
    let mut flats = Vec::new();
    for n in 0..FLATS {
        flats.push(opcity_testkit::nanshan_flat(s, &admin, &format!("K-{n}")).await);
    }
    World {
        instrument,
        firms,
        people,
        flats,
    }
}

/// One load task: random writes until the server stops answering.
async fn load(
    server_base: String,
    admin: reqwest::Client,
    lab: reqwest::Client,
    world: Arc<World>,
    seed: u64,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let url = |path: &str| format!("{server_base}{path}");
    loop {
        let outcome = match rng.random_range(0..10) {
            0..5 => {
                let firm = world.firms[rng.random_range(0..FIRMS)];
                let day = rng.random_range(1..28);
                let hour = rng.random_range(9..20);
                let start = format!("2030-06-{day:02}T{hour:02}:00");
                let end = format!("2030-06-{day:02}T{:02}:00", hour + 1);
                let body = serde_json::json!({
                    "instrument_id": world.instrument, "enterprise_id": firm,
                    "start": start, "end": end, "purpose": "crash test",
                });
                match lab.post(url("/api/v1/bookings")).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["id"].as_i64() {
                            let row = (world.instrument, firm, start, end);
                            acked.lock().unwrap().bookings.insert(id, row);
                        }
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            5..7 => {
                let (flat, who) = (
                    world.flats[rng.random_range(0..FLATS)],
                    world.people[rng.random_range(0..FIRMS)],
                );
                let months = rng.random_range(1..7);
                let body = serde_json::json!({
                    "housing_unit_id": flat, "person_id": who,
                    "start": format!("2027-{:02}-01", rng.random_range(1..13)),
                    "months": months,
                });
                match admin
                    .post(url("/api/v1/housing/leases"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["id"].as_i64() {
                            acked.lock().unwrap().leases.insert(id, (flat, who, months));
                        }
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            7 => {
                let lease = acked.lock().unwrap().leases.keys().next().copied();
                let Some(lease) = lease else { continue };
                let path = format!("/api/v1/housing/leases/{lease}/renew");
                let body = serde_json::json!({ "months": 1 });
                match admin.post(url(&path)).json(&body).send().await {
                    Ok(r) if r.status() == 200 => {
                        *acked.lock().unwrap().renewed.entry(lease).or_default() += 1;
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            _ => {
                let name = format!("Person {seed}-{}", rng.random::<u32>());
                let body = serde_json::json!({ "full_name": name, "district": "futian" });
                match admin.post(url("/api/v1/persons")).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(id) = v["id"].as_i64() {
                            acked.lock().unwrap().persons.insert(id, name);
                        }
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        };
        // The server is gone: this task's load is over.
        if outcome.is_err() {
            return;
        }
    }
}

/// Everything acknowledged is stored as acknowledged, and every invariant
/// holds, read through the store after the crash.
async fn check(s: &Services, acked: &Acknowledged, round: u64) {
    let db = s.store().db();
    let bookings: BTreeMap<i64, instrument_booking::Model> = instrument_booking::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    for (id, (instrument, firm, _, _)) in &acked.bookings {
        let row = bookings
            .get(id)
            .unwrap_or_else(|| panic!("round {round}: acknowledged booking #{id} is lost"));
        assert_eq!((row.instrument_id, row.enterprise_id), (*instrument, *firm));
    }
    let held: Vec<_> = bookings
        .values()
        .filter(|b| b.status != "cancelled")
        .collect();
    for (i, a) in held.iter().enumerate() {
        for b in &held[i + 1..] {
            let overlap = a.instrument_id == b.instrument_id
                && a.start_at < b.end_at
                && b.start_at < a.end_at;
            assert!(!overlap, "round {round}: #{} and #{} overlap", a.id, b.id);
        }
    }
    let leases: BTreeMap<i64, housing_lease::Model> = housing_lease::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    for (id, (flat, who, months)) in &acked.leases {
        let row = leases
            .get(id)
            .unwrap_or_else(|| panic!("round {round}: acknowledged lease #{id} is lost"));
        assert_eq!((row.housing_unit_id, row.person_id), (*flat, *who));
        let renewed = acked.renewed.get(id).copied().unwrap_or(0);
        assert!(
            i64::from(row.months) >= months + renewed,
            "round {round}: lease #{id} lost an acknowledged renewal"
        );
    }
    let mut months: BTreeMap<i64, i64> = BTreeMap::new();
    for l in leases.values().filter(|l| l.status != "cancelled") {
        *months.entry(l.person_id).or_default() += i64::from(l.months);
    }
    assert!(
        months.values().all(|m| *m <= 36),
        "round {round}: {months:?}"
    );
    for (id, name) in &acked.persons {
        let row = person::Entity::find_by_id(*id).one(db).await.unwrap();
        let row = row.unwrap_or_else(|| panic!("round {round}: person #{id} is lost"));
        assert_eq!(&row.full_name, name);
    }
    let audit = s.verify_audit_log().await.unwrap();
    assert!(audit.problems.is_empty(), "round {round}: {audit:?}");
    let budgets = opcity_store::budget::reconcile(db).await.unwrap();
    assert!(budgets.is_empty(), "round {round}: {budgets:?}");
    let ledger = s.reconcile_vouchers_system().await.unwrap();
    assert!(ledger.clean, "round {round}: {ledger:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    each_backend(async |db| {
        let key = opcity_services::crypto::DataKey::generate_base64();
        let s = opcity_testkit::services_with_key(db, db.store.clone(), &key);
        let world = Arc::new(world(&s).await);
        let dir = tempfile::tempdir().unwrap();
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        for round in 0..ROUNDS {
            let server = Server::start(db, &key, dir.path()).await;
            let (admin, lab) = (server.sign_in("admin").await, server.sign_in("lab").await);
            let tasks: Vec<_> = (0..LOAD_TASKS as u64)
                .map(|t| {
                    tokio::spawn(load(
                        server.base.clone(),
                        admin.clone(),
                        lab.clone(),
                        world.clone(),
                        round * 100 + t,
                        acked.clone(),
                    ))
                })
                .collect();
            // Let the load build up, then kill the server mid-write.
            tokio::time::sleep(Duration::from_millis(1_500 + 500 * round)).await;
            server.kill();
            for task in tasks {
                task.await.unwrap();
            }
            let acked = acked.lock().unwrap();
            let total = acked.bookings.len() + acked.leases.len() + acked.persons.len();
            // The kill came mid-load: each round adds acknowledged writes.
            assert!(total > 0, "round {round}: the load wrote nothing");
            eprintln!(
                "round {round} on {:?}: {} bookings, {} leases, {} renewals, {} persons acknowledged",
                db.backend(),
                acked.bookings.len(),
                acked.leases.len(),
                acked.renewed.values().sum::<i64>(),
                acked.persons.len()
            );
        }
        // A fresh store, as the next start would open the database.
        let reopened = opcity_store::Store::connect(&db.url).await.unwrap();
        let s = opcity_testkit::services_with_key(db, reopened, &key);
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        check(&s, &acked, ROUNDS).await;
        // And the server starts again over what the crash left.
        Server::start(db, &key, dir.path()).await.kill();
    })
    .await;
}
