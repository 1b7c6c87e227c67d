//! Accounts, sign-in with throttling, browser sessions and API tokens.

use crate::ErrorCode;
use crate::authz::{Action, Actor, Declared, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::{Services, record_change};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use opcity_domain::{District, Role};
use opcity_store::accounts::{self as store_accounts, NewApiToken, NewSession};
use opcity_store::audit::{self, Change};
use opcity_store::entity::{account, api_token};
use opcity_store::{registry, throttle};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// How long a browser session lasts.
pub const SESSION_TTL: Duration = Duration::hours(12);
/// Sign-in throttling: five free failures of a username from one address,
/// twenty from one address across usernames (spraying), fifty of a username
/// across addresses (distributed guessing, after NIST SP 800-63B's at most
/// 100), within fifteen minutes; past them each attempt waits 2 s, doubling
/// with every failure, at most fifteen minutes.
pub const SIGN_IN_THROTTLE: throttle::Policy = throttle::Policy {
    window: Duration::minutes(15),
    per_account_and_address: 5,
    per_address: 20,
    per_account: 50,
    first_wait: Duration::seconds(2),
    longest_wait: Duration::minutes(15),
};
/// NIST SP 800-63B: at least 12 characters, at most 128 (long enough for
/// passphrases, short enough to bound the hashing work).
const MIN_PASSWORD_LEN: usize = 12;
const MAX_PASSWORD_LEN: usize = 128;
/// Longest e-mail address accepted (RFC 5321's limit on a forward path).
const MAX_EMAIL_LEN: usize = 254;
const LOCALES: [&str; 2] = ["zh-CN", "en"];

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub district: Option<District>,
    pub locale: String,
}

/// An account as shown to others: never the password hash.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub role: Role,
    #[schema(value_type = Option<String>)]
    pub district: Option<District>,
    pub locale: String,
    pub disabled: bool,
    /// An administrator account another administrator made, disabled until
    /// a second one enables it.
    pub awaits_second_admin: bool,
    /// A founder's own account waiting for its confirmation (`email`: the
    /// mailed link; `operator`: an administrator enabling it).
    #[schema(value_type = Option<String>)]
    pub awaiting: Option<crate::sign_up::Awaiting>,
    /// Whether an administrator may give it a new password
    /// (`account_admin::set_temporary_password`).
    pub password_settable: bool,
}

impl From<&account::Model> for AccountView {
    fn from(a: &account::Model) -> Self {
        AccountView {
            id: a.id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role.parse().unwrap_or(Role::Auditor),
            district: a.district.as_deref().and_then(|d| d.parse().ok()),
            locale: a.locale.clone(),
            disabled: a.disabled,
            awaits_second_admin: a.disabled
                && a.role == Role::MunicipalAdmin.id()
                && a.created_by.is_some(),
            awaiting: a
                .awaiting
                .as_deref()
                .and_then(crate::sign_up::Awaiting::parse),
            password_settable: crate::account_admin::may_get_temporary_password(a),
        }
    }
}

/// An account's own settings: where e-mail notifications go, whether it
/// wants them, and its language (of the portal's e-mails).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AccountSettings {
    pub email: Option<String>,
    pub email_notifications: bool,
    /// `zh-CN` or `en`.
    pub locale: String,
}

impl From<&account::Model> for AccountSettings {
    fn from(a: &account::Model) -> Self {
        AccountSettings {
            email: a.email.clone(),
            email_notifications: a.email_notifications,
            locale: a.locale.clone(),
        }
    }
}

/// A change of one's own settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    /// `Some(None)`, or an empty address, removes the address.
    pub email: Option<Option<String>>,
    pub email_notifications: Option<bool>,
    pub locale: Option<String>,
}

/// A checked e-mail address (trimmed), or the field error saying why not.
/// The syntax is lettre's (RFC 5321 mailbox), so every accepted address can
/// be mailed.
pub fn check_email(raw: &str) -> std::result::Result<String, FieldError> {
    let email = raw.trim();
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(FieldError::new("email", "too_long").with("max", MAX_EMAIL_LEN));
    }
    email
        .parse::<lettre::Address>()
        .map(|_| email.to_owned())
        .map_err(|_| FieldError::new("email", "invalid_email"))
}

/// A new browser session: the cookie value is returned once and stored hashed.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `bytes` random bytes (a CSPRNG seeded by the operating system), URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Why `password` may not be used, if it may not: out of 12–128
/// characters, or guessable (zxcvbn's estimate below "safely unguessable",
/// with its dictionaries of common passwords, words and names and the
/// account's own `context`, such as its username, counted as known).
pub fn check_password(password: &str, context: &[&str]) -> Option<FieldError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Some(
            FieldError::new("password", "password_too_short").with("min", MIN_PASSWORD_LEN),
        );
    }
    if length > MAX_PASSWORD_LEN {
        return Some(
            FieldError::new("password", "password_too_long").with("max", MAX_PASSWORD_LEN),
        );
    }
    let estimate = zxcvbn::zxcvbn(password, context);
    (estimate.score() < zxcvbn::Score::Three)
        .then(|| FieldError::new("password", "password_too_weak"))
}

pub(crate) fn validate_new_account(input: &NewAccount) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let username_ok = (3..=64).contains(&input.username.len())
        && input
            .username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !username_ok {
        errors.push(FieldError::new("username", "username_format"));
    } else if input.username.starts_with(crate::sso::USERNAME_PREFIX) {
        // Single sign-on names its accounts so; nobody may take one first.
        errors.push(FieldError::new("username", "username_reserved"));
    }
    if input.display_name.trim().is_empty() {
        errors.push(FieldError::new("display_name", "required"));
    }
    if let Some(error) = check_password(&input.password, &[&input.username, &input.display_name]) {
        errors.push(error);
    }
    if input.role.is_district_scoped() && input.district.is_none() {
        errors.push(FieldError::new("district", "required"));
    }
    if !LOCALES.contains(&input.locale.as_str()) {
        errors.push(FieldError::new("locale", "unknown_locale"));
    }
    errors
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes), run off the async
/// workers because it is deliberately slow.
pub(crate) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| ServiceError::Internal(e.to_string().into()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(e.to_string().into()))
    })
    .await
    .map_err(|e| ServiceError::Internal(Box::new(e)))?
}

pub(crate) async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password, verified against when the username is
/// unknown so that timing does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5Mz0x3qwyFyWZo7gwBNA3LnQpBYcYyFUPzHE3Jm7pWU";

impl Services {
    /// Creates an account. `actor` is `None` only for the command line
    /// (`opcity admin create-user`) and demo data, which act as the system.
    pub async fn create_account(
        &self,
        actor: Option<&Actor>,
        input: NewAccount,
    ) -> Result<AccountView> {
        if let Some(actor) = actor {
            authorize(actor, Action::Create, Resource::Account)?;
        }
        let errors = validate_new_account(&input);
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let password_hash = hash_password(input.password.clone()).await?;
        // An administrator made by another waits, disabled, for a second one
        // (`account_admin::set_account_enabled`).
        let awaits_second = actor.is_some() && input.role == Role::MunicipalAdmin;
        let now = self.now();
        let tx = self.store().begin().await?;
        let model = store_accounts::insert_account(
            &tx,
            store_accounts::NewAccount {
                username: &input.username,
                display_name: input.display_name.trim(),
                password_hash,
                role: input.role.id(),
                district: input.district.map(|d| d.id()),
                locale: &input.locale,
                disabled: awaits_second,
                created_by: actor.map(|a| a.account_id),
                awaiting: None,
                sso_subject: None,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            err if err.is_unique_on("username") => ServiceError::Conflict {
                code: ErrorCode::UsernameTaken,
                field: Some("username"),
            },
            err => err.into(),
        })?;
        let view = AccountView::from(&model);
        let actor_label = actor.map_or_else(|| "system".to_owned(), Actor::audit_label);
        audit::append(
            &tx,
            now,
            Change {
                actor: &actor_label,
                action: "account.create",
                entity: "account",
                entity_id: model.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&view).expect("serialisable")),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Checks a username and password and opens a session. Password checks
    /// are throttled by the store's guard ([`opcity_store::throttle`]): by
    /// the username from `from`, by `from` across usernames, and by the
    /// username across addresses, each with a back-off past its free
    /// failures rather than a lock-out, so wrong passwords from one address
    /// never stop the owner from another. A refused attempt is not checked.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<IssuedSession> {
        let now = self.now();
        let address = from.map(|ip| ip.to_string());
        let attempt = throttle::Attempt {
            username,
            address: address.as_deref(),
            at: now,
        };
        let tx = self.store().begin().await?;
        let attempt_id = match throttle::claim(&tx, attempt, &SIGN_IN_THROTTLE).await? {
            throttle::Claim::Check { attempt_id } => attempt_id,
            throttle::Claim::Wait { retry_after } => {
                return Err(ServiceError::Throttled {
                    // Whole seconds, rounded up: never earlier than allowed.
                    retry_after_secs: (retry_after.num_milliseconds().max(0) as u64).div_ceil(1000),
                });
            }
        };
        tx.commit().await?;
        let found = store_accounts::account_by_username(self.store().db(), username).await?;
        let hash = found
            .as_ref()
            .map_or(DUMMY_HASH, |a| a.password_hash.as_str())
            .to_owned();
        let password_ok = verify_password(password.to_owned(), hash).await;
        // A wrong password leaves its claimed attempt as the failure.
        let account = match found {
            Some(a) if password_ok && !a.disabled => a,
            Some(a) if password_ok && let Some(refusal) = self.refuse_waiting(&a).await => {
                let tx = self.store().begin().await?;
                throttle::succeeded(&tx, attempt_id, attempt).await?;
                tx.commit().await?;
                return Err(refusal);
            }
            _ => return Err(ServiceError::BadCredentials),
        };
        let tx = self.store().begin().await?;
        throttle::succeeded(&tx, attempt_id, attempt).await?;
        tx.commit().await?;
        self.open_session(&account, now).await
    }

    /// Opens a browser session for `account` (signed in by password or by
    /// single sign-on).
    pub(crate) async fn open_session(
        &self,
        account: &account::Model,
        now: DateTime<Utc>,
    ) -> Result<IssuedSession> {
        let token = random_token(32);
        let csrf_token = random_token(24);
        let expires_at = now + SESSION_TTL;
        let tx = self.store().begin().await?;
        store_accounts::insert_session(
            &tx,
            NewSession {
                token_hash: sha256_hex(&token),
                account_id: account.id,
                csrf_token: csrf_token.clone(),
                expires_at,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        let actor = self.actor_for(account, None).await?;
        Ok(IssuedSession {
            token,
            csrf_token,
            expires_at,
            actor,
        })
    }

    /// The actor behind a session cookie and the session's CSRF token.
    pub async fn session_actor(&self, token: &str) -> Result<(Actor, String)> {
        let session =
            store_accounts::live_session(self.store().db(), &sha256_hex(token), self.now())
                .await?
                .ok_or(ServiceError::Unauthenticated)?;
        let account = self.active_account(session.account_id).await?;
        Ok((self.actor_for(&account, None).await?, session.csrf_token))
    }

    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let tx = self.store().begin().await?;
        store_accounts::delete_session(&tx, &sha256_hex(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn active_account(&self, id: i64) -> Result<account::Model> {
        store_accounts::account(self.store().db(), id)
            .await?
            .filter(|a| !a.disabled)
            .ok_or(ServiceError::Unauthenticated)
    }

    /// Everything authorisation needs to know about an account.
    pub(crate) async fn actor_for(
        &self,
        account: &account::Model,
        via_token: Option<i64>,
    ) -> Result<Actor> {
        let db = self.store().db();
        let person_id = registry::person_of_account(db, account.id)
            .await?
            .map(|p| p.id);
        let enterprise_ids = match person_id {
            Some(pid) => registry::enterprises_of_founder(db, pid).await?,
            None => Vec::new(),
        };
        let community_ids = registry::communities_operated_by(db, account.id).await?;
        let view = AccountView::from(account);
        let mut actor = Actor {
            account_id: account.id,
            username: view.username,
            display_name: view.display_name,
            role: view.role,
            district: view.district,
            person_id,
            enterprise_ids,
            community_ids,
            locale: view.locale,
            via_token,
            declared: Declared::default(),
        };
        // Only those `authz` lets keep declarations have any: the others'
        // requests skip the query.
        if self.may_declare_interests(&actor) {
            let (persons, enterprises) =
                opcity_store::interests::declared_by(db, account.id).await?;
            actor.declared = Declared {
                persons,
                enterprises,
            };
        }
        Ok(actor)
    }

    /// Issues an API token for the actor's own account. The secret is returned
    /// once; only its hash is stored.
    pub async fn create_api_token(&self, actor: &Actor, name: &str) -> Result<(TokenView, String)> {
        authorize(
            actor,
            Action::Create,
            Resource::ApiToken {
                owner: actor.account_id,
            },
        )?;
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "required"));
        }
        if name.chars().count() > 100 {
            return Err(ServiceError::Validation(vec![
                FieldError::new("name", "too_long").with("max", 100),
            ]));
        }
        let secret = format!("opc_{}", random_token(32));
        let now = self.now();
        let tx = self.store().begin().await?;
        let model = store_accounts::insert_api_token(
            &tx,
            NewApiToken {
                account_id: actor.account_id,
                name,
                prefix: &secret[..10],
                token_hash: sha256_hex(&secret),
            },
            now,
        )
        .await?;
        let view = token_view(&model);
        audit::append(
            &tx,
            now,
            Change {
                actor: &actor.audit_label(),
                action: "api_token.create",
                entity: "api_token",
                entity_id: model.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&view).expect("serialisable")),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((view, secret))
    }

    pub async fn list_api_tokens(&self, actor: &Actor) -> Result<Vec<TokenView>> {
        authorize(
            actor,
            Action::Read,
            Resource::ApiToken {
                owner: actor.account_id,
            },
        )?;
        let tokens = store_accounts::api_tokens_of(self.store().db(), actor.account_id).await?;
        Ok(tokens.iter().map(token_view).collect())
    }

    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<TokenView> {
        let tx = self.store().begin().await?;
        let token = store_accounts::api_token(&tx, id)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "api_token",
            })?;
        authorize(
            actor,
            Action::Update,
            Resource::ApiToken {
                owner: token.account_id,
            },
        )?;
        let before = token_view(&token);
        let now = self.now();
        let updated = store_accounts::revoke_api_token(&tx, id, now).await?;
        let after = token_view(&updated);
        audit::append(
            &tx,
            now,
            Change {
                actor: &actor.audit_label(),
                action: "api_token.revoke",
                entity: "api_token",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).expect("serialisable")),
                after: Some(serde_json::to_value(&after).expect("serialisable")),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The actor behind a bearer token; revoked tokens and disabled accounts
    /// are refused.
    pub async fn token_actor(&self, secret: &str) -> Result<Actor> {
        let token = store_accounts::live_api_token(self.store().db(), &sha256_hex(secret))
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let account = self.active_account(token.account_id).await?;
        let id = token.id;
        let tx = self.store().begin().await?;
        store_accounts::touch_api_token(&tx, id, self.now()).await?;
        tx.commit().await?;
        self.actor_for(&account, Some(id)).await
    }

    /// The actor's own settings.
    pub async fn account_settings(&self, actor: &Actor) -> Result<AccountSettings> {
        authorize(
            actor,
            Action::Read,
            Resource::AccountSettings {
                owner: actor.account_id,
            },
        )?;
        let account = self.active_account(actor.account_id).await?;
        Ok(AccountSettings::from(&account))
    }

    /// Changes the actor's own settings. Opting in to e-mail notifications
    /// needs an address; notifications created before the account opts in
    /// (or changes its address) are not e-mailed. A refused change changes
    /// nothing; a change is audited.
    pub async fn update_account_settings(
        &self,
        actor: &Actor,
        change: SettingsChange,
    ) -> Result<AccountSettings> {
        authorize(
            actor,
            Action::Update,
            Resource::AccountSettings {
                owner: actor.account_id,
            },
        )?;
        let mut errors = Vec::new();
        let email = match change.email.as_ref().map(|e| e.as_deref().map(str::trim)) {
            // `None` inside removes the address; an empty text is not an
            // address, and is refused rather than read as a removal.
            Some(Some(raw)) => match check_email(raw) {
                Ok(email) => Some(Some(email)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            Some(None) => Some(None),
            None => None,
        };
        if let Some(locale) = &change.locale
            && !LOCALES.contains(&locale.as_str())
        {
            errors.push(FieldError::new("locale", "unknown_locale"));
        }
        let now = self.now();
        let tx = self.store().begin().await?;
        let account = store_accounts::account(&tx, actor.account_id)
            .await?
            .filter(|a| !a.disabled)
            .ok_or(ServiceError::Unauthenticated)?;
        let before = AccountSettings::from(&account);
        let new_email = email.unwrap_or_else(|| account.email.clone());
        let notify = change
            .email_notifications
            .unwrap_or(account.email_notifications);
        if notify && new_email.is_none() && !errors.iter().any(|e| e.field == "email") {
            errors.push(FieldError::new("email", "email_required_for_notifications"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let email_since = match notify {
            false => None,
            true if account.email_notifications && new_email == account.email => {
                account.email_since
            }
            true => Some(now),
        };
        let updated = store_accounts::update_settings(
            &tx,
            account.id,
            store_accounts::Settings {
                email: new_email,
                email_notifications: notify,
                email_since,
                locale: change.locale,
            },
        )
        .await?;
        let after = AccountSettings::from(&updated);
        if after != before {
            record_change(
                &tx,
                now,
                &actor.audit_label(),
                "account.settings",
                account.id,
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    pub async fn list_accounts(&self, actor: &Actor) -> Result<Vec<AccountView>> {
        authorize(actor, Action::Read, Resource::Account)?;
        let accounts = store_accounts::all_accounts(self.store().db()).await?;
        Ok(accounts.iter().map(AccountView::from).collect())
    }
}

fn token_view(t: &api_token::Model) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dummy_hash_is_a_valid_argon2id_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything".into(), DUMMY_HASH.into()).await);
    }

    #[test]
    fn passwords_are_long_enough_and_hard_to_guess() {
        let refused = |p: &str, context: &[&str]| check_password(p, context).map(|e| e.code);
        // The review's accepted passwords: too short, or common.
        assert_eq!(refused("aaaaaaaaaa", &[]), Some("password_too_short"));
        assert_eq!(refused("password1234", &[]), Some("password_too_weak"));
        assert_eq!(refused("123456789012", &[]), Some("password_too_weak"));
        assert_eq!(refused("            ", &[]), Some("password_too_weak"));
        assert_eq!(refused("aaaaaaaaaaaaaaaa", &[]), Some("password_too_weak"));
        // The username itself, however long.
        assert_eq!(
            refused("reviewer.nanshan", &["reviewer.nanshan"]),
            Some("password_too_weak")
        );
        assert_eq!(refused(&"x".repeat(129), &[]), Some("password_too_long"));
        for good in [
            "correct horse battery",
            "another long password",
            "load test password",
        ] {
            assert_eq!(refused(good, &["admin"]), None, "{good}");
        }
    }

    #[test]
    fn new_account_validation_names_each_field() {
        let input = NewAccount {
            username: "A B".into(),
            display_name: " ".into(),
            password: "short".into(),
            role: Role::DistrictReviewer,
            district: None,
            locale: "fr".into(),
        };
        let fields: Vec<_> = validate_new_account(&input)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("username".to_owned(), "username_format"),
                ("display_name".to_owned(), "required"),
                ("password".to_owned(), "password_too_short"),
                ("district".to_owned(), "required"),
                ("locale".to_owned(), "unknown_locale"),
            ]
        );
    }
}
