//! [`TestApp`]: the real server on `127.0.0.1:0` over a fresh database, with
//! helpers to create accounts and sign in (zero2prod style).

use crate::TestDb;
use crate::fixtures::{Founder, FounderSpec};
use opcity_domain::{District, Role};
use opcity_services::accounts::NewAccount;
use opcity_services::{Actor, Services};
use opcity_web::{AppState, WebConfig};
use reqwest::header::{HeaderMap, HeaderValue};

pub const TEST_PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub services: Services,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A signed-in API client (see [`TestApp::sign_in`]).
pub struct Client {
    pub http: reqwest::Client,
    pub csrf: String,
    pub actor: Actor,
}

impl Client {
    /// The body of a GET of `url` as text, whatever its status.
    pub async fn text(&self, url: String) -> String {
        let response = self.http.get(url).send().await.expect("GET");
        response.text().await.expect("a text body")
    }
}

impl TestApp {
    /// Starts the server over `db` (the database stays the caller's).
    pub async fn spawn(db: &TestDb) -> TestApp {
        Self::spawn_with(db, WebConfig::default()).await
    }

    pub async fn spawn_with(db: &TestDb, config: WebConfig) -> TestApp {
        Self::spawn_services(crate::services(db), config).await
    }

    /// Starts the server over `services` (say, over a store of its own).
    pub async fn spawn_services(services: Services, config: WebConfig) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(services.clone(), config);
        let server = tokio::spawn(async move {
            opcity_web::serve(listener, state, async {
                rx.await.ok();
            })
            .await
            .expect("server runs");
        });
        TestApp {
            address,
            services,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates an account directly through the services (password [`TEST_PASSWORD`]).
    pub async fn account(&self, username: &str, role: Role, district: Option<District>) -> Actor {
        let view = self
            .services
            .create_account(
                None,
                NewAccount {
                    username: username.to_owned(),
                    display_name: format!("{username} (test)"),
                    password: TEST_PASSWORD.to_owned(),
                    role,
                    district,
                    locale: "zh-CN".to_owned(),
                },
            )
            .await
            .expect("create test account");
        self.services.system_actor(view.id).await.expect("actor")
    }

    /// A founder as `spec` says, with his person record (recorded by
    /// `admin`) and his enterprise: [`crate::fixtures::founder`] on this
    /// server's services. He signs in with [`TestApp::sign_in`].
    pub async fn founder(&self, admin: &Actor, spec: FounderSpec) -> Founder {
        crate::fixtures::founder(&self.services, admin, spec).await
    }

    /// A client signed in through `POST /api/v1/session`: its cookie jar
    /// holds the session and its default headers carry the CSRF token.
    pub async fn sign_in(&self, username: &str) -> Client {
        self.sign_in_with(username, TEST_PASSWORD).await
    }

    /// [`TestApp::sign_in`] with another password (say, a demo login's).
    pub async fn sign_in_with(&self, username: &str, password: &str) -> Client {
        let response = reqwest::Client::new()
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.status(), 200, "sign-in of {username} failed");
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let url: reqwest::Url = self.address.parse().expect("url");
        for cookie in response.headers().get_all(reqwest::header::SET_COOKIE) {
            jar.add_cookie_str(cookie.to_str().expect("ASCII cookie"), &url);
        }
        let body: serde_json::Value = response.json().await.expect("session JSON");
        let csrf = body["csrf_token"].as_str().expect("csrf token").to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-csrf-token",
            HeaderValue::from_str(&csrf).expect("header value"),
        );
        let http = reqwest::Client::builder()
            .cookie_provider(jar)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let account_id = body["account_id"].as_i64().expect("account id");
        let actor = self.services.system_actor(account_id).await.expect("actor");
        Client { http, csrf, actor }
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.ok();
        }
    }
}
