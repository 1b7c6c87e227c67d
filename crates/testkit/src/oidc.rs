//! [`OidcProvider`]: a real OpenID Connect provider process for tests,
//! `oidc-provider-mock` (from PyPI: `.ci/oidc-provider.sh` installs it and
//! exports `OPCITY_OIDC_PROVIDER_MOCK`, the path of its command). It serves
//! discovery, the authorization page (a form asking for the subject), the
//! token endpoint with signed ID tokens, userinfo and JWKS, with PKCE and
//! nonces as a real provider does; [`OidcProvider::set_user`] gives a
//! subject its claims. Without the command a test is SKIPPED, unless
//! `OPCITY_REQUIRE_OIDC=1`, which turns that into a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const COMMAND_ENV: &str = "OPCITY_OIDC_PROVIDER_MOCK";
const REQUIRE_ENV: &str = "OPCITY_REQUIRE_OIDC";

/// The provider process on a free localhost port; stopped when dropped.
pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

impl OidcProvider {
    /// Starts the provider and waits until it answers its discovery
    /// document, or returns `None` after printing `SKIPPED: …` when the
    /// command is not configured (see the module docs).
    pub async fn start() -> Option<OidcProvider> {
        let command = std::env::var_os(COMMAND_ENV).filter(|c| !c.is_empty());
        let Some(command) = command else {
            let detail = format!("{COMMAND_ENV} is not set (bash .ci/oidc-provider.sh)");
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_ENV}=1 but {detail}");
            }
            crate::browser::shout(&format!("SKIPPED: {detail}"));
            return None;
        };
        let port = crate::browser::free_port();
        let child = Command::new(&command)
            .args(["--port", &port.to_string(), "--require-nonce", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", command.to_string_lossy()));
        let provider = OidcProvider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        provider.wait_until_ready().await;
        Some(provider)
    }

    async fn wait_until_ready(&self) {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(&url).await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the OIDC provider never answered {url}");
    }

    /// Gives subject `sub` these claims (`name`, `email`, anything else).
    pub async fn set_user(&self, sub: &str, claims: serde_json::Value) {
        let r = reqwest::Client::new()
            .put(format!("{}/users/{sub}", self.issuer))
            .json(&claims)
            .send()
            .await
            .expect("the provider answers");
        assert!(r.status().is_success(), "set_user: {}", r.status());
    }

    /// Signs `sub` in at the provider's authorization page `url` (the
    /// address the portal sent the browser to), as a person typing the
    /// subject and pressing Authorize does; the address the provider sends
    /// the browser back to.
    pub async fn authorize(&self, url: &str, sub: &str) -> String {
        self.answer(url, &[("sub", sub)]).await
    }

    /// Declines at the provider's page `url`; the address it sends the
    /// browser back to.
    pub async fn deny(&self, url: &str) -> String {
        self.answer(url, &[("action", "deny")]).await
    }

    async fn answer(&self, url: &str, form: &[(&str, &str)]) -> String {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(url)
            .form(form)
            .send()
            .await
            .expect("the provider answers");
        assert!(r.status().is_redirection(), "authorize: {}", r.status());
        r.headers()["location"]
            .to_str()
            .expect("an address")
            .to_owned()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
