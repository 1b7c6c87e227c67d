//! Single sign-on through OpenID Connect (the `openidconnect` crate): a
//! city's unified identity service signs people in, authorization code
//! flow with PKCE.
//!
//! - [`Sso::discover`] reads the provider's discovery document once, at
//!   start (`opcity serve` with `oidc_issuer` set); `Services::with_sso`.
//! - `Services::sso_start` gives the provider's authorization address and
//!   the [`SsoPending`] the browser keeps until it comes back (the web layer
//!   keeps it in an HttpOnly cookie): the `state` it must bring back, the
//!   ID token's nonce and the PKCE verifier.
//! - `Services::sso_finish` checks the state, exchanges the code (with the
//!   verifier), verifies the ID token (signature by the provider's keys,
//!   issuer, audience, expiry, nonce) and signs in the account of the
//!   token's subject (`ISSUER#SUB`, unique: `store::accounts`). A subject
//!   seen for the first time gets a founder account named by its verified
//!   claims (name; the address only when `email_verified`), with no
//!   password. When the provider vouches for a resident id (the claim named
//!   by `resident_id_claim`, read from the userinfo of the same subject), the
//!   person recorded with that id and no account yet becomes this account's:
//!   the founder finds their record, enterprises and applications at once.
//!   A disabled account stays out.
//!
//! The provider is a real process in the tests (`oidc-provider-mock` from
//! PyPI, testkit's `OidcProvider`; `web/tests/sso_pages.rs`).

use crate::accounts::{IssuedSession, sha256_hex};
use crate::error::{ErrorCode, Result, ServiceError};
use crate::{Services, record_change};
use opcity_domain::{ResidentId, Role};
use opcity_store::accounts as store_accounts;
use opcity_store::entity::account;
use opcity_store::registry;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, reqwest,
};

/// How the accounts single sign-on makes are named (`sso.` and a hash of
/// the subject); sign-up refuses usernames with it.
pub const USERNAME_PREFIX: &str = "sso.";

/// How `opcity serve` is told about the provider.
#[derive(Debug, Clone)]
pub struct SsoConfig {
    /// The provider's issuer URL (its discovery document is under it).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: the portal's
    /// `/login/oidc/callback`.
    pub redirect_url: String,
    /// The claim carrying a resident id the provider has verified, if it
    /// gives one.
    pub resident_id_claim: Option<String>,
}

/// The provider, discovered.
#[derive(Clone)]
pub struct Sso {
    metadata: CoreProviderMetadata,
    config: SsoConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for Sso {
    // The client secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Sso {
    /// Reads the provider's discovery document; the error names the
    /// setting or what the provider answered.
    pub async fn discover(config: SsoConfig) -> std::result::Result<Sso, String> {
        // Following redirects would let a provider's answer send us
        // anywhere (SSRF): the openidconnect crate's advice.
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let issuer =
            IssuerUrl::new(config.issuer.clone()).map_err(|e| format!("oidc_issuer: {e}"))?;
        RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| format!("public_base_url: {e}"))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| format!("oidc_issuer: discovery failed: {e}"))?;
        Ok(Sso {
            metadata,
            config,
            http,
        })
    }

    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(
            RedirectUrl::new(self.config.redirect_url.clone()).expect("checked at discovery"),
        )
    }

    fn issuer(&self) -> &str {
        self.metadata.issuer().as_str()
    }
}

/// What the browser keeps while it is at the provider, as one cookie value
/// ([`SsoPending::encode`]); it holds no credential of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoPending {
    pub state: String,
    nonce: String,
    verifier: String,
}

impl SsoPending {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }

    pub fn decode(text: &str) -> Option<SsoPending> {
        let mut parts = text.split('.');
        let (state, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        (parts.next().is_none() && ok(state) && ok(nonce) && ok(verifier)).then(|| SsoPending {
            state: state.to_owned(),
            nonce: nonce.to_owned(),
            verifier: verifier.to_owned(),
        })
    }
}

/// Sign-on did not complete: the provider refused, the state or the token
/// did not check out. The cause is for the log; the person is told to try
/// again.
fn failed(cause: impl std::fmt::Display) -> ServiceError {
    tracing::warn!(error = %cause, "single sign-on failed");
    ServiceError::Refused {
        code: ErrorCode::SsoFailed,
        field: "sso",
    }
}

/// What the provider vouched for.
struct Verified {
    subject: String,
    name: Option<String>,
    email: Option<String>,
    locale: &'static str,
    resident_id: Option<ResidentId>,
}

impl Services {
    /// Signs people in through `sso` (see the module docs).
    pub fn with_sso(mut self, sso: Sso) -> Services {
        self.sso = Some(std::sync::Arc::new(sso));
        self
    }

    pub fn sso_enabled(&self) -> bool {
        self.sso.is_some()
    }

    /// Where to send the browser to sign in at the provider, and what it
    /// keeps meanwhile. `Unavailable` without a provider.
    pub fn sso_start(&self) -> Result<(String, SsoPending)> {
        let sso = self.sso.as_ref().ok_or_else(|| {
            ServiceError::Unavailable("single sign-on is not configured".to_owned())
        })?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = sso
            .client()
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_owned()))
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = SsoPending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        };
        Ok((url.to_string(), pending))
    }

    /// Completes a sign-on: `state` and `code` as the provider sent the
    /// browser back, `pending` as the browser kept it. Refused
    /// (`sso_failed`) when anything does not check out.
    pub async fn sso_finish(
        &self,
        pending: &SsoPending,
        state: &str,
        code: &str,
    ) -> Result<IssuedSession> {
        let sso = self.sso.clone().ok_or_else(|| {
            ServiceError::Unavailable("single sign-on is not configured".to_owned())
        })?;
        // Compared as hashes: constant time.
        if sha256_hex(state) != sha256_hex(&pending.state) {
            return Err(failed("the state does not match"));
        }
        let verified = verify(&sso, pending, code).await?;
        let subject = format!("{}#{}", sso.issuer(), verified.subject);
        let db = self.store().db();
        let account = match store_accounts::account_by_sso_subject(db, &subject).await? {
            Some(account) => account,
            None => match self.sso_account(&subject, &verified).await {
                Ok(account) => account,
                // The same subject's first sign-on twice at once: the other
                // made the account.
                Err(err) => store_accounts::account_by_sso_subject(db, &subject)
                    .await?
                    .ok_or(err)?,
            },
        };
        if account.disabled {
            return Err(ServiceError::Forbidden);
        }
        self.open_session(&account, self.now()).await
    }

    /// A founder account for a subject seen for the first time, linked to
    /// the person of the resident id the provider vouched for.
    async fn sso_account(&self, subject: &str, verified: &Verified) -> Result<account::Model> {
        // A stable name from the subject: the provider's own ids may be
        // long or personal.
        let username = format!("{USERNAME_PREFIX}{}", &sha256_hex(subject)[..12]);
        let name = verified.name.clone().unwrap_or_else(|| username.clone());
        let now = self.now();
        let tx = self.store().begin().await?;
        let new = store_accounts::NewAccount {
            username: &username,
            display_name: name.trim(),
            // No password: `PasswordHash::new` refuses this, so password
            // sign-in is never possible.
            password_hash: "!sso".to_owned(),
            role: Role::Founder.id(),
            district: None,
            locale: verified.locale,
            disabled: false,
            created_by: None,
            awaiting: None,
            sso_subject: Some(subject),
        };
        let model = store_accounts::insert_account(&tx, new, now).await?;
        let model = match &verified.email {
            Some(email) => {
                let settings = store_accounts::Settings {
                    email: Some(email.clone()),
                    email_notifications: false,
                    email_since: None,
                    locale: None,
                };
                store_accounts::update_settings(&tx, model.id, settings).await?
            }
            None => model,
        };
        let label = format!("account:{}", model.id);
        let view = crate::accounts::AccountView::from(&model);
        record_change(
            &tx,
            now,
            &label,
            "account.sso_create",
            model.id,
            None,
            Some(&view),
        )
        .await?;
        if let Some(id) = &verified.resident_id {
            let hash = self.data_key().search_hash(id.expose());
            if let Some(person) = registry::link_person_by_resident_id(&tx, &hash, model.id).await?
            {
                let note = serde_json::json!({ "account_id": model.id, "by": "sso" });
                record_change(&tx, now, &label, "person.link", person, None, Some(&note)).await?;
            }
        }
        tx.commit().await?;
        Ok(model)
    }
}

/// Exchanges the code and verifies what the provider says about the person.
async fn verify(sso: &Sso, pending: &SsoPending, code: &str) -> Result<Verified> {
    let client = sso.client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(failed)?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&sso.http)
        .await
        .map_err(failed)?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| failed("no ID token in the answer"))?;
    let claims = id_token
        .claims(
            &client.id_token_verifier(),
            &Nonce::new(pending.nonce.clone()),
        )
        .map_err(failed)?;
    let subject = claims.subject().as_str().to_owned();
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned());
    let email = claims
        .email()
        .filter(|_| claims.email_verified() == Some(true))
        .map(|e| e.as_str().to_owned());
    let locale = match claims.locale().map(|l| l.as_str()) {
        Some(l) if l.starts_with("en") => "en",
        _ => "zh-CN",
    };
    let resident_id = match &sso.config.resident_id_claim {
        Some(claim) => userinfo_claim(sso, tokens.access_token().secret(), &subject, claim).await?,
        None => None,
    };
    Ok(Verified {
        subject,
        name,
        email,
        locale,
        resident_id: resident_id.and_then(|text| ResidentId::parse(&text).ok()),
    })
}

/// The text of `claim` in the userinfo of `subject` (another subject's
/// answer is refused).
async fn userinfo_claim(
    sso: &Sso,
    access_token: &str,
    subject: &str,
    claim: &str,
) -> Result<Option<String>> {
    let Some(url) = sso.metadata.userinfo_endpoint() else {
        return Ok(None);
    };
    let body = sso
        .http
        .get(url.url().clone())
        .bearer_auth(access_token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?
        .bytes()
        .await
        .map_err(failed)?;
    let info: serde_json::Value = serde_json::from_slice(&body).map_err(failed)?;
    if info.get("sub").and_then(|s| s.as_str()) != Some(subject) {
        return Err(failed("the userinfo is of another subject"));
    }
    Ok(info.get(claim).and_then(|v| v.as_str()).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_cookie_reads_back_only_as_written() {
        let p = SsoPending {
            state: "s-1_A".into(),
            nonce: "n".into(),
            verifier: "v".into(),
        };
        assert_eq!(SsoPending::decode(&p.encode()), Some(p));
        for bad in ["", "a.b", "a.b.c.d", "a..c", "a.b.c d", "a.b.c;"] {
            assert_eq!(SsoPending::decode(bad), None, "{bad}");
        }
    }
}
