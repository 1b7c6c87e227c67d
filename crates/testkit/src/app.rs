//! [`TestApp`]: the real server on `127.0.0.1:0` over a fresh database, with
//! helpers to create accounts and sign in (zero2prod style).

use crate::TestDb;
use crate::fixtures::{Founder, FounderSpec};
use opcity_domain::{District, Role};
use opcity_services::accounts::NewAccount;
use opcity_services::{Actor, Services};
use opcity_web::{AppState, WebConfig};
use reqwest::Response;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde_json::Value;

pub const TEST_PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub services: Services,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A signed-in client (see [`TestApp::sign_in`]) with typed requests to
/// paths of its server: `get`, `post` (a JSON body), `post_form` (a page
/// form), `patch`, `put`, `delete`, each also as `…_json` giving the answer's
/// JSON body whatever its status. For anything else (extra headers, uploads)
/// use `http` and [`Client::url`].
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub csrf: String,
    pub actor: Actor,
    base: String,
    language: Option<String>,
}

impl Client {
    /// The absolute URL of `path` on this client's server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same client (same session) asking for answers in `language`
    /// (an `Accept-Language` value such as `en`).
    pub fn in_language(&self, language: &str) -> Client {
        Client {
            language: Some(language.to_owned()),
            ..self.clone()
        }
    }

    /// The body of a GET of `path` as text, whatever its status.
    pub async fn text(&self, path: &str) -> String {
        let response = self.get(path).await;
        response.text().await.expect("a text body")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(self.http.delete(self.url(path))).await
    }

    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Response {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// A POST without a body (an action such as "withdraw").
    pub async fn post_empty(&self, path: &str) -> Response {
        self.send(self.http.post(self.url(path))).await
    }

    /// A page form's POST (`application/x-www-form-urlencoded`).
    pub async fn post_form<B: Serialize + ?Sized>(&self, path: &str, form: &B) -> Response {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Response {
        self.send(self.http.patch(self.url(path)).json(body)).await
    }

    pub async fn put<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Response {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        json_of(self.get(path).await).await
    }

    pub async fn post_json<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Value {
        json_of(self.post(path, body).await).await
    }

    pub async fn post_empty_json(&self, path: &str) -> Value {
        json_of(self.post_empty(path).await).await
    }

    pub async fn patch_json<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Value {
        json_of(self.patch(path, body).await).await
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> Response {
        if let Some(language) = &self.language {
            request = request.header(reqwest::header::ACCEPT_LANGUAGE, language);
        }
        request.send().await.expect("the server answers")
    }
}

/// The JSON body of `response`; a body that is not JSON fails the test with
/// the status and the text, which say more than a parse error.
async fn json_of(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text}"))
}

/// A visitor not signed in, as a browser is: it keeps cookies (the guest
/// forms' CSRF cookie, then a session once signed in), speaks `language`,
/// and does not follow redirects.
pub struct Guest {
    pub http: reqwest::Client,
    base: String,
    language: String,
}

impl Guest {
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT_LANGUAGE, &self.language)
            .send()
            .await
            .expect("the server answers")
    }

    /// The status and body of a GET of `path`.
    pub async fn page(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("a text body"))
    }

    /// Opens `page` and posts `fields` to `action` with the `_csrf` token of
    /// the page's form, as a person filling it in does.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let (_, html) = self.page(page).await;
        let csrf = hidden_value(&html, "_csrf").expect("the page has a form");
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.http
            .post(format!("{}{action}", self.base))
            .header(reqwest::header::ACCEPT_LANGUAGE, &self.language)
            .form(&form)
            .send()
            .await
            .expect("the server answers")
    }
}

/// The value of the first `<input name="NAME" … value="…">` of `html`.
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + 7;
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}

impl TestApp {
    /// A visitor not signed in, reading pages in `language` (`en`, `zh-CN`).
    pub fn guest(&self, language: &str) -> Guest {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Guest {
            http,
            base: self.address.clone(),
            language: language.to_owned(),
        }
    }

    /// Starts the server over `db` (the database stays the caller's).
    pub async fn spawn(db: &TestDb) -> TestApp {
        Self::spawn_with(db, WebConfig::default()).await
    }

    pub async fn spawn_with(db: &TestDb, config: WebConfig) -> TestApp {
        Self::spawn_services(crate::services(db), config).await
    }

    /// Starts the server over `services` (say, over a store of its own).
    pub async fn spawn_services(services: Services, config: WebConfig) -> TestApp {
        Self::spawn_made(async |_| services, config).await
    }

    /// Starts the server over the services `make` builds knowing the
    /// server's address (`http://127.0.0.1:PORT`), for services whose
    /// configuration names it (single sign-on's return address).
    pub async fn spawn_made(
        make: impl AsyncFnOnce(&str) -> Services,
        config: WebConfig,
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let services = make(&address).await;
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
        Client {
            http,
            csrf,
            actor,
            base: self.address.clone(),
            language: None,
        }
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
