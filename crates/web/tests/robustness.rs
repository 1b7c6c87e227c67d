//! Hostile and unlucky input (issue 14, findings 6–8): an oversized batch
//! line, out-of-range dates and control characters, and a database that
//! stops answering. Each answers a problem quickly; nothing panics, nothing
//! is half written.

use opcity_domain::Role;
use opcity_testkit::{TestApp, TestDb, postgres_url};
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of PostgreSQL that can be cut: once cut, it drops
/// every relayed connection and accepts new ones without ever replying, as
/// a database host that went away behind a firewall would.
struct Proxy {
    address: String,
    cut: Arc<AtomicBool>,
    relays: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let relays: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (cut_flag, relay_list) = (cut.clone(), relays.clone());
        tokio::spawn(async move {
            let mut silent = Vec::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if cut_flag.load(Ordering::SeqCst) {
                    // Accepted, never answered.
                    silent.push(client);
                    continue;
                }
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        tokio::io::copy_bidirectional(&mut client, &mut server)
                            .await
                            .ok();
                    }
                });
                relay_list.lock().unwrap().push(relay.abort_handle());
            }
        });
        Proxy {
            address,
            cut,
            relays,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}

/// `url` with its host and port replaced by `address`.
fn through(url: &str, address: &str) -> String {
    let at = url
        .find('@')
        .map_or(url.find("://").unwrap() + 3, |i| i + 1);
    let end = url[at..].find('/').map_or(url.len(), |i| at + i);
    format!("{}{address}{}", &url[..at], &url[end..])
}

fn host_port(url: &str) -> String {
    let at = url
        .find('@')
        .map_or(url.find("://").unwrap() + 3, |i| i + 1);
    let end = url[at..].find('/').map_or(url.len(), |i| at + i);
    url[at..end].to_owned()
}

/// Finding 8: PostgreSQL stops answering. `/readyz` and the API answer 503
/// with `Retry-After` within a few seconds instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_answered_503_quickly() {
    let Some(admin_url) = postgres_url() else {
        eprintln!("SKIPPED: {} not set", opcity_testkit::POSTGRES_ENV);
        return;
    };
    let db = TestDb::postgres(&admin_url).await;
    let proxy = Proxy::start(host_port(&db.url)).await;
    let services = opcity_testkit::services_at(&db, &through(&db.url, &proxy.address)).await;
    let app = TestApp::spawn_services(services, Default::default()).await;
    app.account("admin", Role::MunicipalAdmin, None).await;
    let admin = app.sign_in("admin").await;
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    proxy.cut();
    let started = Instant::now();
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers().contains_key("retry-after"));
    let reason = ready.text().await.unwrap();
    assert!(reason.contains("database unavailable"), "{reason}");
    assert!(elapsed < Duration::from_secs(6), "readyz took {elapsed:?}");

    let started = Instant::now();
    let listed = admin
        .http
        .get(app.url("/api/v1/persons"))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(listed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(listed.headers().contains_key("retry-after"));
    let body: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(elapsed < Duration::from_secs(6), "the API took {elapsed:?}");

    app.stop().await;
    db.cleanup().await;
}
