//! The accounts guard: the one place accounts, their settings, browser
//! sessions and API tokens are written. (Sign-in attempts are
//! [`crate::throttle`]'s.)
//!
//! `opcity-services` decides (password rules and hashing, who may act,
//! whether an address is needed); this module guards and persists. Its
//! invariants:
//! - **A username names one account**: a taken one is
//!   [`StoreError::Unique`] on `username`.
//! - **Secrets are stored hashed.** Sessions and API tokens are found by
//!   the hash of their secret, which the caller computes; the secret itself
//!   never reaches the store.
//! - **A session ends for good.** [`live_session`] answers only a session
//!   that is stored and not expired; [`delete_session`] removes it, so a
//!   signed-out cookie is never accepted again.
//! - **A revoked token is refused.** [`live_api_token`] answers only a token
//!   whose `revoked_at` is empty; [`revoke_api_token`] sets it and nothing
//!   clears it. [`touch_api_token`] writes only `last_used_at`, so using a
//!   token never undoes a concurrent revocation.
//! - **Sign-ups are limited per sender**: [`insert_sign_up_within`] counts
//!   the sender's sign-ups in the window under the sender's turn
//!   ([`crate::rate`]).
//! - **A self-registered account signs in only once confirmed**: it is made
//!   disabled and `awaiting` its confirmation; [`confirm`] (its mailed link)
//!   and [`set_disabled`] (an administrator enabling it) end the wait.
//! - **An identity provider's subject signs in as one account**: a second
//!   is [`StoreError::Unique`] on `sso_subject`.
//! - **A settings change writes only the settings** ([`update_settings`]:
//!   address, notifications and their start, language), never the
//!   credentials, role or district.

use crate::StoreError;
use crate::entity::{account, api_token, session};
use crate::intervals::lock_keys;
use crate::rate::{self, Kept, Limit};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeSet;

/// An account about to be created; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: String,
    /// The role's id (`founder`, `district_reviewer`, …).
    pub role: &'a str,
    pub district: Option<&'a str>,
    pub locale: &'a str,
    /// Created disabled (an administrator waiting for a second one).
    pub disabled: bool,
    pub created_by: Option<i64>,
    /// What a self-registered account waits for (`email`, `operator`).
    pub awaiting: Option<&'a str>,
    /// The identity provider's subject it signs in as (single sign-on);
    /// [`StoreError::Unique`] on `sso_subject` when another account has it.
    pub sso_subject: Option<&'a str>,
}

/// Creates an account; [`StoreError::Unique`] on `username` when
/// the username is taken.
pub async fn insert_account(
    tx: &DatabaseTransaction,
    new: NewAccount<'_>,
    at: DateTime<Utc>,
) -> Result<account::Model, StoreError> {
    insert(tx, new, None, at).await
}

/// Creates a self-registered account `new` from `sender` (a keyed hash of
/// the client's address) unless `sender` signed up `limit.per_sender` times
/// within `limit.window`; [`StoreError::Unique`] on `username` as
/// [`insert_account`].
pub async fn insert_sign_up_within(
    tx: &DatabaseTransaction,
    new: NewAccount<'_>,
    sender: &str,
    limit: Limit,
    at: DateTime<Utc>,
) -> Result<Kept<account::Model>, StoreError> {
    lock_keys(tx, &BTreeSet::from([format!("sign_up:{sender}")])).await?;
    if let Some(wait) = sign_up_wait(tx, sender, limit, at).await? {
        return Ok(Kept::Wait(wait));
    }
    Ok(Kept::Yes(insert(tx, new, Some(sender), at).await?))
}

/// How long `sender` must wait before signing up again at `at`, if at all:
/// a cheap look before the work of a sign-up (hashing its password), which
/// [`insert_sign_up_within`] then guards.
pub async fn sign_up_wait<C: ConnectionTrait>(
    db: &C,
    sender: &str,
    limit: Limit,
    at: DateTime<Utc>,
) -> Result<Option<chrono::Duration>, StoreError> {
    let recent: Vec<DateTime<Utc>> = account::Entity::find()
        .select_only()
        .column(account::Column::CreatedAt)
        .filter(account::Column::SignupSender.eq(sender))
        .filter(account::Column::CreatedAt.gt(at - limit.window))
        .order_by_asc(account::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rate::wait(&recent, limit, at))
}

async fn insert(
    tx: &DatabaseTransaction,
    new: NewAccount<'_>,
    sender: Option<&str>,
    at: DateTime<Utc>,
) -> Result<account::Model, StoreError> {
    Ok(account::ActiveModel {
        username: Set(new.username.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        password_hash: Set(new.password_hash),
        role: Set(new.role.to_owned()),
        district: Set(new.district.map(str::to_owned)),
        locale: Set(new.locale.to_owned()),
        disabled: Set(new.disabled),
        created_by: Set(new.created_by),
        awaiting: Set(new.awaiting.map(str::to_owned)),
        sso_subject: Set(new.sso_subject.map(str::to_owned)),
        signup_sender: Set(sender.map(str::to_owned)),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// The account `id`, enabled or not.
pub async fn account<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<account::Model>, StoreError> {
    Ok(account::Entity::find_by_id(id).one(db).await?)
}

/// The account named `username`, enabled or not.
pub async fn account_by_username<C: ConnectionTrait>(
    db: &C,
    username: &str,
) -> Result<Option<account::Model>, StoreError> {
    Ok(account::Entity::find()
        .filter(account::Column::Username.eq(username))
        .one(db)
        .await?)
}

/// Every account, in id order.
pub async fn all_accounts<C: ConnectionTrait>(db: &C) -> Result<Vec<account::Model>, StoreError> {
    Ok(account::Entity::find()
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?)
}

/// The enabled accounts of `role` in `district`, in id order: whom to tell
/// about the district's affairs.
pub async fn enabled_in_district<C: ConnectionTrait>(
    db: &C,
    role: &str,
    district: &str,
) -> Result<Vec<account::Model>, StoreError> {
    Ok(account::Entity::find()
        .filter(account::Column::Role.eq(role))
        .filter(account::Column::District.eq(district))
        .filter(account::Column::Disabled.eq(false))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?)
}

/// The enabled staff who may work `district`'s cases: its reviewers and
/// the city's administrators (the services decide which of them may).
pub async fn staff_of_district<C: ConnectionTrait>(
    db: &C,
    district: &str,
) -> Result<Vec<account::Model>, StoreError> {
    use sea_orm::Condition;
    Ok(account::Entity::find()
        .filter(account::Column::Disabled.eq(false))
        .filter(
            Condition::any()
                .add(account::Column::Role.eq("municipal_admin"))
                .add(
                    Condition::all()
                        .add(account::Column::Role.eq("district_reviewer"))
                        .add(account::Column::District.eq(district)),
                ),
        )
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?)
}

/// Enables or disables account `id` if it is not so already; whether it
/// changed (of two administrators acting at once, one changes it).
/// Enabling a self-registered account confirms it; disabling one that
/// waits stops it for good.
pub async fn set_disabled(
    tx: &DatabaseTransaction,
    id: i64,
    disabled: bool,
) -> Result<bool, StoreError> {
    use sea_orm::sea_query::Expr;
    let mut update = account::Entity::update_many()
        .col_expr(account::Column::Disabled, Expr::value(disabled))
        // Either way the account waits for nothing more: enabled, it is
        // confirmed; disabled, its mailed link can no longer enable it.
        .col_expr(account::Column::Awaiting, Expr::value(None::<String>))
        .filter(account::Column::Id.eq(id));
    update = if disabled {
        // A sign-up still waiting is disabled already: stopping it counts.
        update.filter(
            sea_orm::Condition::any()
                .add(account::Column::Disabled.eq(false))
                .add(account::Column::Awaiting.is_not_null()),
        )
    } else {
        update.filter(account::Column::Disabled.eq(true))
    };
    Ok(update.exec(tx).await?.rows_affected == 1)
}

/// Confirms self-registered account `id` if it still awaits `awaiting`:
/// enabled, waiting for nothing. Whether it did (a link used twice at once,
/// or an account an administrator confirmed or disabled meanwhile, does not).
pub async fn confirm(
    tx: &DatabaseTransaction,
    id: i64,
    awaiting: &str,
) -> Result<bool, StoreError> {
    use sea_orm::sea_query::Expr;
    let done = account::Entity::update_many()
        .col_expr(account::Column::Disabled, Expr::value(false))
        .col_expr(account::Column::Awaiting, Expr::value(None::<String>))
        .filter(account::Column::Id.eq(id))
        .filter(account::Column::Awaiting.eq(awaiting))
        .exec(tx)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The account that signs in as the identity provider's `subject`.
pub async fn account_by_sso_subject<C: ConnectionTrait>(
    db: &C,
    subject: &str,
) -> Result<Option<account::Model>, StoreError> {
    Ok(account::Entity::find()
        .filter(account::Column::SsoSubject.eq(subject))
        .one(db)
        .await?)
}

/// The enabled accounts whose username is `who` or whose address is `who`
/// (ignoring case), with an address and a password (not single sign-on):
/// whom a password reset asked for by `who` is mailed to.
pub async fn reachable_by<C: ConnectionTrait>(
    db: &C,
    who: &str,
) -> Result<Vec<account::Model>, StoreError> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let address = who.to_lowercase();
    Ok(account::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(account::Column::Username.eq(who))
                .add(Expr::expr(Func::lower(Expr::col(account::Column::Email))).eq(address)),
        )
        .filter(account::Column::Disabled.eq(false))
        .filter(account::Column::Email.is_not_null())
        // Single sign-on accounts have no password to reset.
        .filter(account::Column::SsoSubject.is_null())
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?)
}

/// A role and its district, as stored.
pub type Place<'a> = (&'a str, Option<&'a str>);

/// Gives account `id` the role and district `to` if it still has `seen`
/// (a concurrent change wins once); whether it did. `granted_by`: the
/// administrator granting the administrator's role, after which the
/// account is disabled until another enables it (`created_by` then names
/// who granted the role).
pub async fn set_role(
    tx: &DatabaseTransaction,
    id: i64,
    (seen, to): (Place<'_>, Place<'_>),
    granted_by: Option<i64>,
) -> Result<bool, StoreError> {
    use sea_orm::sea_query::Expr;
    let mut update = account::Entity::update_many()
        .col_expr(account::Column::Role, Expr::value(to.0))
        .col_expr(
            account::Column::District,
            Expr::value(to.1.map(str::to_owned)),
        )
        .filter(account::Column::Id.eq(id))
        .filter(account::Column::Role.eq(seen.0));
    update = match seen.1 {
        Some(d) => update.filter(account::Column::District.eq(d)),
        None => update.filter(account::Column::District.is_null()),
    };
    if let Some(admin) = granted_by {
        update = update
            .col_expr(account::Column::Disabled, Expr::value(true))
            .col_expr(account::Column::CreatedBy, Expr::value(admin));
    }
    Ok(update.exec(tx).await?.rows_affected == 1)
}

/// Replaces account `id`'s password hash if it is still `seen` (a
/// concurrent change wins once); whether it did.
pub async fn replace_password_hash(
    tx: &DatabaseTransaction,
    id: i64,
    seen: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    let done = account::Entity::update_many()
        .col_expr(
            account::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash.to_owned()),
        )
        .filter(account::Column::Id.eq(id))
        .filter(account::Column::PasswordHash.eq(seen))
        .exec(tx)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Ends every session of account `id` but the one whose secret hashes to
/// `keep`.
pub async fn end_sessions_except(
    tx: &DatabaseTransaction,
    id: i64,
    keep: Option<&str>,
) -> Result<u64, StoreError> {
    let mut q = session::Entity::delete_many().filter(session::Column::AccountId.eq(id));
    if let Some(keep) = keep {
        q = q.filter(session::Column::TokenHash.ne(keep));
    }
    Ok(q.exec(tx).await?.rows_affected)
}

/// An account's own settings as they are to be stored.
#[derive(Debug, Clone)]
pub struct Settings {
    pub email: Option<String>,
    pub email_notifications: bool,
    /// Since when notifications go to `email` (`None` when they do not).
    pub email_since: Option<DateTime<Utc>>,
    /// `None` keeps the language.
    pub locale: Option<String>,
}

/// Writes account `id`'s settings, and only them.
pub async fn update_settings(
    tx: &DatabaseTransaction,
    id: i64,
    settings: Settings,
) -> Result<account::Model, StoreError> {
    let mut model = account::ActiveModel {
        id: Unchanged(id),
        email: Set(settings.email),
        email_notifications: Set(settings.email_notifications),
        email_since: Set(settings.email_since),
        ..Default::default()
    };
    if let Some(locale) = settings.locale {
        model.locale = Set(locale);
    }
    Ok(model.update(tx).await?)
}

/// A browser session about to be opened.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The hash of the cookie's secret.
    pub token_hash: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Opens a session at `at`.
pub async fn insert_session(
    tx: &DatabaseTransaction,
    new: NewSession,
    at: DateTime<Utc>,
) -> Result<session::Model, StoreError> {
    Ok(session::ActiveModel {
        token_hash: Set(new.token_hash),
        account_id: Set(new.account_id),
        csrf_token: Set(new.csrf_token),
        created_at: Set(at),
        expires_at: Set(new.expires_at),
    }
    .insert(tx)
    .await?)
}

/// The session whose secret hashes to `token_hash`, if it is stored and
/// has not expired at `now`.
pub async fn live_session<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<session::Model>, StoreError> {
    Ok(session::Entity::find_by_id(token_hash.to_owned())
        .one(db)
        .await?
        .filter(|s| s.expires_at > now))
}

/// Ends the session whose secret hashes to `token_hash` (nothing if there
/// is none).
pub async fn delete_session(tx: &DatabaseTransaction, token_hash: &str) -> Result<(), StoreError> {
    session::Entity::delete_by_id(token_hash.to_owned())
        .exec(tx)
        .await?;
    Ok(())
}

/// An API token about to be issued.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub account_id: i64,
    pub name: &'a str,
    /// The secret's first characters, shown to tell tokens apart.
    pub prefix: &'a str,
    /// The hash of the secret.
    pub token_hash: String,
}

/// Issues an API token at `at`, unused and not revoked.
pub async fn insert_api_token(
    tx: &DatabaseTransaction,
    new: NewApiToken<'_>,
    at: DateTime<Utc>,
) -> Result<api_token::Model, StoreError> {
    Ok(api_token::ActiveModel {
        account_id: Set(new.account_id),
        name: Set(new.name.to_owned()),
        prefix: Set(new.prefix.to_owned()),
        token_hash: Set(new.token_hash),
        created_at: Set(at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// The API token `id`, revoked or not.
pub async fn api_token<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<api_token::Model>, StoreError> {
    Ok(api_token::Entity::find_by_id(id).one(db).await?)
}

/// The API tokens of account `account_id`, in id order.
pub async fn api_tokens_of<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Vec<api_token::Model>, StoreError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::AccountId.eq(account_id))
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// The token whose secret hashes to `token_hash`, unless it is revoked.
pub async fn live_api_token<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
) -> Result<Option<api_token::Model>, StoreError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .filter(|t| t.revoked_at.is_none()))
}

/// Revokes API token `id` at `at`; the token as revoked.
pub async fn revoke_api_token(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<api_token::Model, StoreError> {
    Ok(api_token::ActiveModel {
        id: Unchanged(id),
        revoked_at: Set(Some(at)),
        ..Default::default()
    }
    .update(tx)
    .await?)
}

/// Records that API token `id` was used at `at` (its `last_used_at` only).
pub async fn touch_api_token(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    api_token::ActiveModel {
        id: Unchanged(id),
        last_used_at: Set(Some(at)),
        ..Default::default()
    }
    .update(tx)
    .await?;
    Ok(())
}
