//! Founders' own accounts: signing up, confirming the address by a mailed
//! link, and resetting a forgotten password by one.
//!
//! - **Sign-up** (`Services::sign_up`) makes a founder account that cannot
//!   sign in yet. With e-mail on (a [`crate::mail::Mailer`]), it waits for
//!   the link mailed to its address (valid [`VERIFY_LASTS`]); without, for an
//!   administrator to enable it on the accounts page. Signing in with the
//!   right password while it waits says what it waits for, and mails a new
//!   link when the first was lost. Five sign-ups an hour per client address
//!   ([`SIGN_UP_LIMIT`], the store's `accounts::insert_sign_up_within`).
//! - **Password reset** (`Services::request_password_reset`) mails a link
//!   (valid [`RESET_LASTS`]) to each enabled account whose username or
//!   address was given. It answers the same, at once, whether or not such an
//!   account exists (the lookup and the mail run after the answer), so the
//!   form reveals no accounts. Using the link sets a new password and ends
//!   every session of the account.
//! - Links are one-time secrets, stored hashed, only the newest of a purpose
//!   works, three an hour per account and purpose ([`LINK_LIMIT`];
//!   `opcity_store::account_links` guards all of it). They go out at once,
//!   never through the notification outbox, which holds no secrets.

use crate::accounts::{
    AccountView, NewAccount, check_email, check_password, hash_password, random_token, sha256_hex,
    validate_new_account, verify_password,
};
use crate::error::{ErrorCode, FieldError, Result, ServiceError};
use crate::mail::LinkMail;
use crate::{Services, record_change};
use chrono::{DateTime, Duration, Utc};
use opcity_domain::Role;
use opcity_store::account_links::{self, NewLink, Purpose};
use opcity_store::accounts as store_accounts;
use opcity_store::entity::account;
use opcity_store::rate::{Kept, Limit};
use std::net::IpAddr;

/// Sign-ups from one client address.
pub const SIGN_UP_LIMIT: Limit = Limit {
    per_sender: 5,
    window: Duration::hours(1),
};
/// Links mailed to one account for one purpose.
pub const LINK_LIMIT: Limit = Limit {
    per_sender: 3,
    window: Duration::hours(1),
};
/// How long a link confirming an address works.
pub const VERIFY_LASTS: Duration = Duration::hours(48);
/// How long a password reset link works.
pub const RESET_LASTS: Duration = Duration::hours(1);

/// What the sign-up form sends.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
    pub confirm_password: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// Whether notifications go to the address too.
    pub notify: bool,
}

/// What a new account waits for before it can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    /// The link mailed to its address.
    Email,
    /// An administrator's confirmation.
    Operator,
}

impl Awaiting {
    pub fn id(self) -> &'static str {
        match self {
            Awaiting::Email => "email",
            Awaiting::Operator => "operator",
        }
    }

    pub fn parse(id: &str) -> Option<Awaiting> {
        [Awaiting::Email, Awaiting::Operator]
            .into_iter()
            .find(|a| a.id() == id)
    }

    fn refusal(self) -> ServiceError {
        let code = match self {
            Awaiting::Email => ErrorCode::AwaitingEmail,
            Awaiting::Operator => ErrorCode::AwaitingConfirmation,
        };
        ServiceError::Refused {
            code,
            field: "username",
        }
    }
}

/// A new account, and whether its link went out (`false`: e-mail is off,
/// or the mail server refused it for now; signing in sends it again).
#[derive(Debug, Clone)]
pub struct SignedUp {
    pub account: AccountView,
    pub awaiting: Awaiting,
    pub mailed: bool,
}

/// The field errors of a sign-up: the account's own rules, an address, the
/// password typed twice alike.
fn validate(form: &SignUp) -> (Vec<FieldError>, Option<String>) {
    let mut errors = validate_new_account(&NewAccount {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password: form.password.clone(),
        role: Role::Founder,
        district: None,
        locale: form.locale.clone(),
    });
    let email = if form.email.trim().is_empty() {
        errors.push(FieldError::new("email", "required"));
        None
    } else {
        check_email(&form.email).map_err(|e| errors.push(e)).ok()
    };
    if form.password != form.confirm_password {
        errors.push(FieldError::new("confirm_password", "passwords_differ"));
    }
    (errors, email)
}

fn username_taken() -> ServiceError {
    ServiceError::Conflict {
        code: ErrorCode::UsernameTaken,
        field: Some("username"),
    }
}

fn too_often(wait: Duration) -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("username", "sign_up_too_often").with("minutes", minutes(wait)),
    ])
}

fn link_expired() -> ServiceError {
    ServiceError::invalid("link", "link_expired")
}

/// Whole minutes to wait, rounded up, at least one.
fn minutes(wait: Duration) -> u64 {
    u64::try_from(wait.num_seconds().max(0))
        .unwrap_or(0)
        .div_ceil(60)
        .max(1)
}

impl Services {
    /// Makes a founder account that waits for its confirmation (see the
    /// module docs); `from` is the client's address, for the rate limit.
    pub async fn sign_up(&self, form: &SignUp, from: Option<IpAddr>) -> Result<SignedUp> {
        let (errors, email) = validate(form);
        let email = match email {
            Some(email) if errors.is_empty() => email,
            _ => return Err(ServiceError::Validation(errors)),
        };
        let awaiting = match self.mailer() {
            Some(_) => Awaiting::Email,
            None => Awaiting::Operator,
        };
        // Only a keyed hash of the address is kept.
        let sender = from.map_or_else(
            || "address:unknown".to_owned(),
            |ip| format!("address:{}", self.data_key().search_hash(&ip.to_string())),
        );
        let now = self.now();
        // Refusals that need no password hash come first, so that a flood
        // of sign-ups cannot make the server hash for each.
        let db = self.store().db();
        if let Some(wait) = store_accounts::sign_up_wait(db, &sender, SIGN_UP_LIMIT, now).await? {
            return Err(too_often(wait));
        }
        if store_accounts::account_by_username(db, &form.username)
            .await?
            .is_some()
        {
            return Err(username_taken());
        }
        let password_hash = hash_password(form.password.clone()).await?;
        let new = store_accounts::NewAccount {
            username: &form.username,
            display_name: form.display_name.trim(),
            password_hash,
            role: Role::Founder.id(),
            district: None,
            locale: &form.locale,
            disabled: true,
            created_by: None,
            awaiting: Some(awaiting.id()),
            sso_subject: None,
        };
        let tx = self.store().begin().await?;
        let kept = store_accounts::insert_sign_up_within(&tx, new, &sender, SIGN_UP_LIMIT, now)
            .await
            .map_err(|e| match e {
                err if err.is_unique_on("username") => username_taken(),
                err => err.into(),
            })?;
        let model = match kept {
            Kept::Yes(model) => model,
            Kept::Wait(wait) => return Err(too_often(wait)),
        };
        let settings = store_accounts::Settings {
            email: Some(email),
            email_notifications: form.notify,
            email_since: form.notify.then_some(now),
            locale: None,
        };
        let model = store_accounts::update_settings(&tx, model.id, settings).await?;
        let view = AccountView::from(&model);
        let label = format!("account:{}", model.id);
        record_change(
            &tx,
            now,
            &label,
            "account.sign_up",
            model.id,
            None,
            Some(&view),
        )
        .await?;
        let secret = match awaiting {
            Awaiting::Email => {
                self.issue_link(&tx, &model, Purpose::VerifyEmail, now)
                    .await?
            }
            Awaiting::Operator => None,
        };
        tx.commit().await?;
        let mailed = match secret {
            Some(secret) => self.mail_link(&model, Purpose::VerifyEmail, &secret).await,
            None => false,
        };
        Ok(SignedUp {
            account: view,
            awaiting,
            mailed,
        })
    }

    /// Confirms the address of the account a verification link was mailed
    /// to, which may then sign in. A used, replaced or expired link is
    /// `link: link_expired`.
    pub async fn confirm_email(&self, secret: &str) -> Result<AccountView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let id = account_links::redeem(&tx, Purpose::VerifyEmail, &sha256_hex(secret), now)
            .await?
            .ok_or_else(link_expired)?;
        if !store_accounts::confirm(&tx, id, Awaiting::Email.id()).await? {
            return Err(link_expired());
        }
        let model = store_accounts::account(&tx, id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "account" })?;
        let view = AccountView::from(&model);
        let label = format!("account:{id}");
        record_change(&tx, now, &label, "account.confirm", id, None, Some(&view)).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The refusal for an account that waits for its confirmation, once its
    /// password was right; when its link expired or never went out, a new
    /// one is mailed (within [`LINK_LIMIT`]).
    pub(crate) async fn refuse_waiting(&self, account: &account::Model) -> Option<ServiceError> {
        let awaiting = account.awaiting.as_deref().and_then(Awaiting::parse)?;
        if awaiting == Awaiting::Email
            && let Err(err) = self.mail_link_again(account).await
        {
            tracing::warn!(account = account.id, error = %err, "verification link not sent again");
        }
        Some(awaiting.refusal())
    }

    async fn mail_link_again(&self, account: &account::Model) -> Result<()> {
        // A link still working stays the one to use: a new one would
        // replace it while its mail may be on its way.
        let db = self.store().db();
        if account_links::has_working(db, account.id, Purpose::VerifyEmail, self.now()).await? {
            return Ok(());
        }
        let tx = self.store().begin().await?;
        let secret = self
            .issue_link(&tx, account, Purpose::VerifyEmail, self.now())
            .await?;
        tx.commit().await?;
        if let Some(secret) = secret {
            self.mail_link(account, Purpose::VerifyEmail, &secret).await;
        }
        Ok(())
    }

    /// Mails a password reset link to each enabled account whose username
    /// or address is `who` (see the module docs). Without e-mail, `who:
    /// mail_off`; the answer never says whether an account was found.
    pub async fn request_password_reset(&self, who: &str) -> Result<()> {
        let who = who.trim().to_owned();
        if who.is_empty() {
            return Err(ServiceError::invalid("who", "required"));
        }
        if self.mailer().is_none() {
            return Err(ServiceError::Refused {
                code: ErrorCode::MailOff,
                field: "who",
            });
        }
        let services = self.clone();
        tokio::spawn(async move {
            if let Err(err) = services.mail_reset_links(&who).await {
                tracing::error!(error = %err, "password reset links not sent");
            }
        });
        Ok(())
    }

    async fn mail_reset_links(&self, who: &str) -> Result<()> {
        for account in store_accounts::reachable_by(self.store().db(), who).await? {
            let tx = self.store().begin().await?;
            let secret = self
                .issue_link(&tx, &account, Purpose::ResetPassword, self.now())
                .await?;
            tx.commit().await?;
            if let Some(secret) = secret {
                self.mail_link(&account, Purpose::ResetPassword, &secret)
                    .await;
            }
        }
        Ok(())
    }

    /// Whether a password reset link still works (the page asks before it
    /// shows the form): `link: link_expired` when not.
    pub async fn reset_link_works(&self, secret: &str) -> Result<()> {
        self.link_works(Purpose::ResetPassword, secret).await
    }

    /// Whether an address confirmation link still works (the page asks
    /// before it offers the button): `link: link_expired` when not.
    pub async fn verify_link_works(&self, secret: &str) -> Result<()> {
        self.link_works(Purpose::VerifyEmail, secret).await
    }

    async fn link_works(&self, purpose: Purpose, secret: &str) -> Result<()> {
        let hash = sha256_hex(secret);
        account_links::working(self.store().db(), purpose, &hash, self.now())
            .await?
            .map(|_| ())
            .ok_or_else(link_expired)
    }

    /// Sets a new password through a reset link: strong, typed the same
    /// twice, not the old one. The link is used up and every session of the
    /// account ends. Audited, without the password.
    pub async fn reset_password(&self, secret: &str, new: &str, confirm: &str) -> Result<()> {
        let hash = sha256_hex(secret);
        let db = self.store().db();
        let id = account_links::working(db, Purpose::ResetPassword, &hash, self.now())
            .await?
            .ok_or_else(link_expired)?;
        let account = store_accounts::account(db, id)
            .await?
            .ok_or_else(link_expired)?;
        let mut errors = Vec::new();
        if let Some(weak) = check_password(new, &[&account.username, &account.display_name]) {
            errors.push(FieldError {
                field: "new_password".into(),
                ..weak
            });
        } else if verify_password(new.to_owned(), account.password_hash.clone()).await {
            errors.push(FieldError::new("new_password", "password_unchanged"));
        }
        if new != confirm {
            errors.push(FieldError::new("confirm_password", "passwords_differ"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let new_hash = hash_password(new.to_owned()).await?;
        let now = self.now();
        let tx = self.store().begin().await?;
        if account_links::redeem(&tx, Purpose::ResetPassword, &hash, now)
            .await?
            .is_none()
        {
            return Err(link_expired());
        }
        if !store_accounts::replace_password_hash(&tx, id, &account.password_hash, &new_hash)
            .await?
        {
            return Err(ServiceError::Conflict {
                code: ErrorCode::AccountChanged,
                field: Some("new_password"),
            });
        }
        let ended = store_accounts::end_sessions_except(&tx, id, None).await?;
        let note = serde_json::json!({ "sessions_ended": ended });
        let label = format!("account:{id}");
        record_change(
            &tx,
            now,
            &label,
            "account.password_reset",
            id,
            None,
            Some(&note),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new link of `purpose` for `account` and gives its secret,
    /// or `None` when the account had its share of links this hour.
    async fn issue_link(
        &self,
        tx: &opcity_store::sea_orm::DatabaseTransaction,
        account: &account::Model,
        purpose: Purpose,
        at: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let secret = random_token(32);
        let lasts = match purpose {
            Purpose::VerifyEmail => VERIFY_LASTS,
            Purpose::ResetPassword => RESET_LASTS,
        };
        let new = NewLink {
            account_id: account.id,
            purpose,
            secret_hash: &sha256_hex(&secret),
            at,
            lasts,
        };
        Ok(
            match account_links::issue_within(tx, new, LINK_LIMIT).await? {
                Kept::Yes(_) => Some(secret),
                Kept::Wait(_) => None,
            },
        )
    }

    /// Mails a link's secret to the account's address at once; whether the
    /// server took it (a failure is logged, not retried: asking again, or
    /// signing in, mails a new link).
    async fn mail_link(&self, account: &account::Model, purpose: Purpose, secret: &str) -> bool {
        let (Some(mailer), Some(email)) = (self.mailer(), account.email.as_deref()) else {
            return false;
        };
        let mail = LinkMail {
            locale: &account.locale,
            name: &account.display_name,
            username: &account.username,
            email,
            purpose,
            secret,
        };
        match mailer.send_link(&mail).await {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(account = account.id, purpose = purpose.id(), error = %err, "link not mailed");
                // A link nobody received must not stand in the way of the
                // next one (`mail_link_again` keeps a working link).
                if let Err(err) = self.void_link(secret).await {
                    tracing::warn!(account = account.id, error = %err, "undelivered link not voided");
                }
                false
            }
        }
    }

    async fn void_link(&self, secret: &str) -> Result<()> {
        let tx = self.store().begin().await?;
        account_links::void(&tx, &sha256_hex(secret), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}
