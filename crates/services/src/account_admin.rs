//! Accounts after they are made: administrators enable and disable them
//! (four eyes on granting the administrator's role: an administrator
//! account another administrator made is enabled only by a third party to
//! its making, never by its creator), and everyone changes their own
//! password, which ends their other sessions.

use crate::accounts::{
    AccountView, SIGN_IN_THROTTLE, check_password, hash_password, random_token, sha256_hex,
    verify_password,
};
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{ErrorCode, FieldError, Result, ServiceError};
use crate::{Services, record_change};
use opcity_domain::Role;
use opcity_store::accounts as store_accounts;
use opcity_store::throttle;

/// A password change: the current one, and the new one twice.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

/// A change of an account's role and district, made on what the form
/// showed (`seen_*`): a change made meanwhile by someone else wins.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    #[schema(value_type = String)]
    pub role: Role,
    #[schema(value_type = Option<String>)]
    pub district: Option<opcity_domain::District>,
    #[schema(value_type = String)]
    pub seen_role: Role,
    #[schema(value_type = Option<String>)]
    pub seen_district: Option<opcity_domain::District>,
}

/// Whether an administrator may give account `a` a new password: not
/// another administrator or an auditor (that would let one administrator
/// act as another and undo four eyes), nor an account that signs in only
/// through single sign-on.
pub fn may_get_temporary_password(a: &opcity_store::entity::account::Model) -> bool {
    a.sso_subject.is_none() && a.role != Role::MunicipalAdmin.id() && a.role != Role::Auditor.id()
}

impl Services {
    /// Gives account `id` another role or district (administrators). Nobody
    /// changes their own; a district reviewer needs a district, the other
    /// roles have none. Granting the administrator's role is four-eyes as
    /// making an administrator is: the account is disabled until another
    /// administrator enables it. The change applies from the account's
    /// next request; it is audited (`account.role`).
    pub async fn change_account_role(
        &self,
        actor: &Actor,
        id: i64,
        change: &RoleChange,
    ) -> Result<AccountView> {
        authorize(actor, Action::Update, Resource::Account)?;
        if id == actor.account_id {
            return Err(ServiceError::invalid("role", "cannot_change_self"));
        }
        let account = store_accounts::account(self.store().db(), id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "account" })?;
        let district = match (change.role.is_district_scoped(), change.district) {
            (true, None) => {
                return Err(ServiceError::invalid("district", "reviewer_needs_district"));
            }
            (true, d) => d,
            (false, _) => None,
        };
        let before = AccountView::from(&account);
        if (before.role, before.district) == (change.role, district) {
            return Ok(before);
        }
        let granting = change.role == Role::MunicipalAdmin && before.role != Role::MunicipalAdmin;
        let tx = self.store().begin().await?;
        let seen = (change.seen_role.id(), change.seen_district.map(|d| d.id()));
        let to = (change.role.id(), district.map(|d| d.id()));
        let granted_by = granting.then_some(actor.account_id);
        if !store_accounts::set_role(&tx, id, (seen, to), granted_by).await? {
            return Err(ServiceError::Conflict {
                code: ErrorCode::AccountChanged,
                field: Some("role"),
            });
        }
        let after = AccountView {
            role: change.role,
            district,
            disabled: before.disabled || granting,
            awaits_second_admin: granting
                || (before.awaits_second_admin && change.role == Role::MunicipalAdmin),
            ..before.clone()
        };
        record_change(
            &tx,
            self.now(),
            &actor.audit_label(),
            "account.role",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Whether `actor` may create, enable and disable accounts (pages ask
    /// before they offer those forms).
    pub fn may_manage_accounts(&self, actor: &Actor) -> bool {
        crate::authz::permits(actor, Action::Update, Resource::Account)
    }

    /// Enables or disables account `id` (administrators). Nobody disables
    /// their own account; an administrator account made by an
    /// administrator is enabled only by another one. Disabling takes
    /// effect at once: its sessions and API tokens are refused from the
    /// next request.
    pub async fn set_account_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> Result<AccountView> {
        authorize(actor, Action::Update, Resource::Account)?;
        let db = self.store().db();
        let account = store_accounts::account(db, id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "account" })?;
        if !enabled && id == actor.account_id {
            return Err(ServiceError::invalid("account", "cannot_disable_self"));
        }
        if enabled
            && account.role == Role::MunicipalAdmin.id()
            && account.created_by == Some(actor.account_id)
        {
            return Err(ServiceError::invalid("account", "second_admin_required"));
        }
        let before = AccountView::from(&account);
        let tx = self.store().begin().await?;
        if !store_accounts::set_disabled(&tx, id, !enabled).await? {
            return Err(ServiceError::Conflict {
                code: ErrorCode::AccountChanged,
                field: Some("account"),
            });
        }
        let after = AccountView {
            disabled: !enabled,
            awaits_second_admin: before.awaits_second_admin && !enabled,
            // Either way it waits for nothing more (`store::accounts::set_disabled`).
            awaiting: None,
            ..before.clone()
        };
        let action = if enabled {
            "account.enable"
        } else {
            "account.disable"
        };
        record_change(
            &tx,
            self.now(),
            &actor.audit_label(),
            action,
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Gives account `id` a new random password (administrators, for
    /// someone who forgot theirs when the platform sends no e-mail; never
    /// another administrator, an auditor or a single sign-on account): shown
    /// once to the administrator, who passes it on privately; every session
    /// of the account ends. Nobody sets their own this way (they change it,
    /// `change_password`). Audited without the password
    /// (`account.password_set`).
    pub async fn set_temporary_password(&self, actor: &Actor, id: i64) -> Result<String> {
        authorize(actor, Action::Update, Resource::Account)?;
        if id == actor.account_id {
            return Err(ServiceError::invalid("account", "cannot_reset_self"));
        }
        let account = store_accounts::account(self.store().db(), id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "account" })?;
        if !may_get_temporary_password(&account) {
            return Err(ServiceError::invalid("account", "password_set_not_here"));
        }
        // 16 random URL-safe characters: 96 bits, and no ambiguous spaces.
        let password = random_token(12);
        let hash = hash_password(password.clone()).await?;
        let now = self.now();
        let tx = self.store().begin().await?;
        if !store_accounts::replace_password_hash(&tx, id, &account.password_hash, &hash).await? {
            return Err(ServiceError::Conflict {
                code: ErrorCode::AccountChanged,
                field: Some("account"),
            });
        }
        let ended = store_accounts::end_sessions_except(&tx, id, None).await?;
        let note = serde_json::json!({ "sessions_ended": ended });
        let label = actor.audit_label();
        record_change(
            &tx,
            now,
            &label,
            "account.password_set",
            id,
            None,
            Some(&note),
        )
        .await?;
        tx.commit().await?;
        Ok(password)
    }

    /// Changes the actor's own password: the current one must be right and
    /// the new one strong and typed the same twice. Every other session of
    /// the account ends (`session`: the secret of the one in use, kept).
    /// Audited, without either password.
    pub async fn change_password(
        &self,
        actor: &Actor,
        session: Option<&str>,
        change: &PasswordChange,
    ) -> Result<()> {
        let db = self.store().db();
        let account = store_accounts::account(db, actor.account_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let mut errors = Vec::new();
        if let Some(weak) = check_password(
            &change.new_password,
            &[
                &account.username,
                &account.display_name,
                &change.current_password,
            ],
        ) {
            errors.push(FieldError {
                field: "new_password".into(),
                ..weak
            });
        }
        if change.new_password != change.confirm_password {
            errors.push(FieldError::new("confirm_password", "passwords_differ"));
        }
        // Guessing the current password from a session left open is
        // throttled as guessing it at sign-in is (the same counters).
        let now = self.now();
        let attempt = throttle::Attempt {
            username: &account.username,
            address: None,
            at: now,
        };
        let tx = self.store().begin().await?;
        let attempt_id = match throttle::claim(&tx, attempt, &SIGN_IN_THROTTLE).await? {
            throttle::Claim::Check { attempt_id } => attempt_id,
            throttle::Claim::Wait { retry_after } => {
                return Err(ServiceError::Throttled {
                    retry_after_secs: (retry_after.num_milliseconds().max(0) as u64).div_ceil(1000),
                });
            }
        };
        tx.commit().await?;
        let right = verify_password(
            change.current_password.clone(),
            account.password_hash.clone(),
        )
        .await;
        if !right {
            // Only this is said when the current password is wrong.
            errors = vec![FieldError::new("current_password", "wrong_password")];
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let hash = hash_password(change.new_password.clone()).await?;
        let tx = self.store().begin().await?;
        throttle::succeeded(&tx, attempt_id, attempt).await?;
        if !store_accounts::replace_password_hash(&tx, account.id, &account.password_hash, &hash)
            .await?
        {
            return Err(ServiceError::Conflict {
                code: ErrorCode::AccountChanged,
                field: Some("current_password"),
            });
        }
        let keep = session.map(sha256_hex);
        let ended = store_accounts::end_sessions_except(&tx, account.id, keep.as_deref()).await?;
        let note = serde_json::json!({ "other_sessions_ended": ended });
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "account.password",
            account.id,
            None,
            Some(&note),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
