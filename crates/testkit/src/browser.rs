//! [`Browser`]: headless Chromium driven over WebDriver, for end-to-end tests
//! of the portal.
//!
//! [`Browser::start`] runs Debian's `chromedriver` on a free localhost port as
//! a child process in its own process group, and opens a session in headless
//! Chromium with a fresh profile directory. Dropping the `Browser` kills that
//! process group (chromedriver and every Chromium process it started) and
//! removes the profile; [`Browser::quit`] ends the session politely first.
//!
//! Nothing is fetched from the internet: Chromium runs with background
//! networking, component updates and sync off, and with a proxy that does not
//! exist, so any request to a host other than localhost fails.
//!
//! When `chromedriver` or `chromium` is missing, `start` prints a loud
//! `SKIPPED` line and returns `None`, so that `cargo test` still passes on a
//! machine without them; with `OPCITY_REQUIRE_BROWSER=1` (CI sets it) it
//! panics instead.
//!
//! fantoccini is used without TLS (`default-features = false`) through a
//! plain `hyper-util` HTTP connector: chromedriver listens on plain HTTP on
//! localhost, so no TLS stack (and no C build of OpenSSL) is needed.

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::Write as _;
use std::ops::Deref;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;

/// Set to `1` to make a missing browser fail the test instead of skipping it.
pub const REQUIRE_ENV: &str = "OPCITY_REQUIRE_BROWSER";
/// Overrides the chromedriver path (default [`CHROMEDRIVER`]).
pub const CHROMEDRIVER_ENV: &str = "OPCITY_CHROMEDRIVER";
/// Overrides the Chromium path (default [`CHROMIUM`]).
pub const CHROMIUM_ENV: &str = "OPCITY_CHROMIUM";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

const SKIP_MESSAGE: &str =
    "browser tests need chromium and chromium-driver (apt-get install chromium chromium-driver)";

/// How long [`Browser::find`] and the other waits wait before failing.
pub const WAIT: Duration = Duration::from_secs(15);

/// The browser's languages (`Accept-Language`): Chinese, like the portal's
/// audience, so pages come in Chinese until the language switch is used.
pub const ACCEPT_LANGUAGES: &str = "zh-CN,zh";

/// The arguments Chromium runs with.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    // Requests to any host but localhost go to a proxy that is not there.
    "--proxy-server=127.0.0.1:9",
    "--window-size=1280,1000",
    "--lang=zh-CN",
];

/// chromedriver running in its own process group, killed with all of its
/// children when dropped.
struct Driver {
    child: Child,
    log: PathBuf,
}

impl Driver {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (see `process_group(0)`), so
        // this ends exactly the processes this helper started.
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !killed {
            self.child.kill().ok();
        }
        self.child.wait().ok();
    }
}

/// A headless Chromium session. Derefs to the fantoccini [`Client`].
pub struct Browser {
    client: Client,
    // Field order matters: the driver (and Chromium) die before the profile
    // directory is removed.
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

fn program(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn browser_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Writes straight to the process's stderr, past the test harness's output
/// capture, so that a skip is seen even when the test passes.
pub(crate) fn shout(message: &str) {
    let mut err = std::io::stderr().lock();
    writeln!(err, "\n{message}\n").ok();
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free localhost port")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or returns `None`
    /// after printing `SKIPPED: …` when they are not installed (unless
    /// `OPCITY_REQUIRE_BROWSER=1`, which turns that into a failure).
    pub async fn start() -> Option<Browser> {
        let driver = program(CHROMEDRIVER_ENV, CHROMEDRIVER);
        let chromium = program(CHROMIUM_ENV, CHROMIUM);
        let missing: Vec<String> = [&driver, &chromium]
            .into_iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if !missing.is_empty() {
            let detail = format!("{SKIP_MESSAGE}; missing: {}", missing.join(", "));
            if browser_required() {
                panic!("{REQUIRE_ENV}=1 but {detail}");
            }
            shout(&format!("SKIPPED: {detail}"));
            return None;
        }
        Some(Self::launch(&driver, &chromium).await)
    }

    async fn launch(driver_path: &Path, chromium: &Path) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("opcity-chromium-")
            .tempdir()
            .expect("temporary Chromium profile directory");
        let log = profile.path().join("chromedriver.log");
        // A port can be taken between choosing it and chromedriver binding it;
        // try a few.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(driver_path)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_path.display()));
            let driver = Driver {
                child,
                log: log.clone(),
            };
            let url = format!("http://127.0.0.1:{port}");
            if let Err(e) = wait_until_ready(&url).await {
                last_error = format!("{e}\nchromedriver log:\n{}", driver.log_tail());
                continue;
            }
            let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
            args.push(format!("--user-data-dir={}", profile.path().display()));
            let mut caps = Capabilities::new();
            caps.insert("browserName".into(), "chrome".into());
            caps.insert(
                "goog:chromeOptions".into(),
                serde_json::json!({
                    "binary": chromium,
                    "args": args,
                    "prefs": { "intl.accept_languages": ACCEPT_LANGUAGES },
                }),
            );
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let client = match ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&url)
                .await
            {
                Ok(client) => client,
                Err(e) => panic!(
                    "chromedriver could not start Chromium: {e}\nchromedriver log:\n{}",
                    driver.log_tail()
                ),
            };
            return Browser {
                client,
                driver,
                _profile: profile,
            };
        }
        panic!("chromedriver did not become ready: {last_error}");
    }

    /// The fantoccini client, for anything the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session (Chromium exits) and stops chromedriver.
    pub async fn quit(self) {
        let Browser {
            client,
            driver,
            _profile,
        } = self;
        client.close().await.ok();
        drop(driver);
    }

    /// Forgets the cookies of the page's host and leaves for `about:blank`.
    /// Call it while on a page of the server: WebDriver deletes the cookies
    /// the current page can see, and every server on 127.0.0.1 shares them,
    /// whatever its port.
    pub async fn reset(&self) {
        self.client
            .delete_all_cookies()
            .await
            .expect("delete cookies");
        self.client.goto("about:blank").await.expect("about:blank");
    }

    /// Signs `username` in through the sign-in form (password
    /// [`crate::app::TEST_PASSWORD`]), after forgetting any earlier
    /// session, and waits for the workspace.
    pub async fn sign_in(&self, app: &crate::TestApp, username: &str) {
        self.reset().await;
        self.goto(&app.url("/login")).await;
        self.fill("#username", username).await;
        self.fill("#password", crate::app::TEST_PASSWORD).await;
        self.click("#login-submit").await;
        self.wait_for_path("/home", |p| p == "/home").await;
    }

    /// Fetches a same-origin URL from the page, with its cookies (a
    /// download link, say), and returns (status, body as text).
    pub async fn fetch_text(&self, href: &str) -> (i64, String) {
        let script = "const done = arguments[arguments.length - 1];
            fetch(arguments[0], { credentials: 'same-origin' })
              .then(r => r.text().then(t => done([r.status, t])))
              .catch(e => done([0, String(e)]));";
        let out = self
            .client
            .execute_async(script, vec![serde_json::json!(href)])
            .await
            .expect("run the fetch");
        (
            out[0].as_i64().unwrap_or_default(),
            out[1].as_str().unwrap_or_default().to_owned(),
        )
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The current URL's path and query (`/enterprises/1?saved=1`).
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Where the browser is and what it shows, for failure messages.
    async fn context(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map_or_else(|e| format!("<{e}>"), |u| u.to_string());
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let text: String = text.chars().take(1500).collect();
        format!(
            "at {url}\npage text:\n{text}\nchromedriver log (tail):\n{}",
            self.driver.log_tail()
        )
    }

    /// Waits for an element matching `css`, failing with the page's text.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("no element {css:?} ({e}) {}", self.context().await),
        }
    }

    /// Every element matching `css` now (no waiting).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find_all {css:?}: {e}"))
    }

    /// Whether an element matching `css` is on the page now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// The visible text of the element matching `css`, trimmed.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css:?}: {e}"))
            .trim()
            .to_owned()
    }

    /// The current value of a form control.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("value of {css:?}: {e}"))
            .unwrap_or_default()
    }

    /// The outer HTML of the element matching `css` (SVG text included).
    pub async fn html(&self, css: &str) -> String {
        self.find(css)
            .await
            .html(false)
            .await
            .unwrap_or_else(|e| panic!("HTML of {css:?}: {e}"))
    }

    /// An attribute of the element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css)
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("attribute {name} of {css:?}: {e}"))
    }

    /// Sets a date input to `iso` (`YYYY-MM-DD`): typing would go through
    /// the browser's locale format, so the value the form submits is set
    /// directly.
    pub async fn set_date(&self, css: &str, iso: &str) {
        let script = "document.querySelector(arguments[0]).value = arguments[1];";
        self.client
            .execute(script, vec![serde_json::json!(css), serde_json::json!(iso)])
            .await
            .unwrap_or_else(|e| panic!("cannot set {css}: {e}"));
    }

    /// Replaces the text of an input.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css:?}: {e}"));
        input
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// Chooses a local file in a file input (the browser reads it on submit).
    pub async fn attach(&self, css: &str, file: &std::path::Path) {
        self.find(css)
            .await
            .send_keys(&file.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("attach {} to {css:?}: {e}", file.display()));
    }

    /// Chooses the option with `value` in a select.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value:?} in {css:?}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Clicks a submit button and waits until the next page has loaded,
    /// even when it has the same address as this one (the old page is
    /// marked, and the mark is gone once the new one is there).
    pub async fn submit_and_wait(&self, css: &str) {
        self.execute("document.body.dataset.stale = '1';", vec![])
            .await
            .unwrap();
        self.click(css).await;
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let stale = self
                .execute(
                    "return document.body && document.body.dataset.stale === '1';",
                    vec![],
                )
                .await;
            if matches!(stale, Ok(serde_json::Value::Bool(false))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after clicking {css}");
    }

    /// How far the page is wider than the window, in CSS pixels (0 or less:
    /// no sideways scrolling).
    pub async fn overflow_x(&self) -> f64 {
        self.execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_f64())
        .expect("the page's width")
    }

    /// Waits until the current path (with query) satisfies `ok`.
    pub async fn wait_for_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            if Instant::now() > deadline {
                panic!("never reached {what}; {}", self.context().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the whole page as
    /// `<workspace>/target/e2e-screenshots/<name>.png`: the window grows to
    /// the page's height for the shot, then returns to 1280×1000.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        // The page's height plus whatever the window has besides the page.
        let height = self
            .client
            .execute(
                "return document.documentElement.scrollHeight \
                 + Math.max(0, window.outerHeight - window.innerHeight);",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_f64())
            .map_or(1000, |h| h.ceil() as u32)
            .clamp(1000, 8000);
        self.client
            .set_window_size(1280, height)
            .await
            .expect("resize for the screenshot");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client
            .set_window_size(1280, 1000)
            .await
            .expect("restore the window size");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The URLs of every resource the current page loaded (stylesheets,
    /// images, scripts, fetches), from the Resource Timing API.
    pub async fn loaded_resources(&self) -> Vec<String> {
        let value = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name);",
                vec![],
            )
            .await
            .expect("resource timing");
        serde_json::from_value(value).expect("a list of URLs")
    }
}

/// `<workspace>/target/e2e-screenshots` (git ignores `/target`).
pub fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit lies two levels below the workspace");
    workspace.join("target").join("e2e-screenshots")
}

async fn wait_until_ready(base: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = format!("{base}/status");
    let http = reqwest::Client::new();
    loop {
        match http.get(&status).send().await {
            Ok(r) if r.status().is_success() => {
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return Ok(());
                }
            }
            _ => {}
        }
        if Instant::now() > deadline {
            return Err(format!("{status} did not answer ready within 20 s"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
