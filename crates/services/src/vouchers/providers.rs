//! Service providers: compute, model-API and data vendors register (pending),
//! an administrator approves them for voucher kinds fitting their category,
//! or suspends them. Only approved providers redeem vouchers, and only of
//! the kinds they are approved for.

use super::{CATEGORIES, KINDS, kind_spec};
use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use crate::{Services, record_change};
use opcity_domain::{Role, Uscc};
use opcity_store::entity::{account, provider};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use opcity_store::vouchers;

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    pub name: String,
    /// Unified Social Credit Code of the vendor, if given (checked).
    pub uscc: Option<String>,
    /// `compute`, `model_api` or `data`.
    pub category: String,
    /// Voucher kinds (programme ids) it asks to redeem.
    pub kinds: Vec<String>,
    /// Administrators register a provider for an existing service-provider
    /// account; a provider registering itself leaves this out.
    pub account_id: Option<i64>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderDecision {
    /// `approve` or `suspend`.
    pub decision: String,
    /// Kinds approved (when approving); each must fit the provider's category.
    #[serde(default)]
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    pub id: i64,
    pub name: String,
    pub uscc: Option<String>,
    pub category: String,
    pub account_id: i64,
    pub requested_kinds: Vec<String>,
    pub approved_kinds: Vec<String>,
    /// pending, approved or suspended.
    pub status: String,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

pub(crate) fn view(p: &provider::Model) -> ProviderView {
    ProviderView {
        id: p.id,
        name: p.name.clone(),
        uscc: p.uscc.clone(),
        category: p.category.clone(),
        account_id: p.account_id,
        requested_kinds: words(&p.requested_kinds),
        approved_kinds: words(&p.approved_kinds),
        status: p.status.clone(),
    }
}

fn resource(p: &provider::Model) -> Resource {
    Resource::Provider {
        account_id: Some(p.account_id),
        approved: p.status == "approved",
    }
}

/// Known kinds, each fitting the category, without repeats.
fn check_kinds(c: &mut Checker, field: &str, kinds: &[String], category: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in kinds {
        match kind_spec(k) {
            None => c.push(FieldError::new(field, "unknown_voucher_kind").with("value", k)),
            Some(spec) if !spec.categories.contains(&category) => c.push(
                FieldError::new(field, "kind_not_for_category")
                    .with("value", k)
                    .with("category", category),
            ),
            Some(_) if out.contains(k) => {}
            Some(_) => out.push(k.clone()),
        }
    }
    out
}

impl Services {
    /// Registers a provider, pending approval. A service-provider account
    /// registers itself; an administrator names the account.
    pub async fn register_provider(
        &self,
        actor: &Actor,
        input: &ProviderInput,
    ) -> Result<ProviderView> {
        let account_id = input.account_id.unwrap_or(actor.account_id);
        authorize(
            actor,
            Action::Create,
            Resource::Provider {
                account_id: Some(account_id),
                approved: false,
            },
        )?;
        let mut c = Checker::default();
        let name = c.required_text("name", &input.name, 200);
        let uscc = match input
            .uscc
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(text) => match Uscc::parse(&text.to_ascii_uppercase()) {
                Ok(u) => Some(u.to_string()),
                Err(_) => {
                    c.push(FieldError::new("uscc", "uscc_invalid"));
                    None
                }
            },
            None => None,
        };
        let category = c
            .one_of("category", Some(&input.category), &CATEGORIES)
            .unwrap_or_default();
        if input.category.trim().is_empty() {
            c.push(FieldError::new("category", "required"));
        }
        let kinds = check_kinds(&mut c, "kinds", &input.kinds, &category);
        if input.kinds.is_empty() {
            c.push(FieldError::new("kinds", "required"));
        }
        c.finish()?;
        let now = self.now();
        let tx = self.store().begin().await?;
        let owner = account::Entity::find_by_id(account_id)
            .one(&tx)
            .await?
            .ok_or_else(|| ServiceError::invalid("account_id", "unknown_account"))?;
        if owner.role != Role::ServiceProvider.id() {
            return Err(ServiceError::invalid(
                "account_id",
                "account_not_service_provider",
            ));
        }
        let new = vouchers::NewProvider {
            name,
            uscc,
            category,
            account_id,
            requested_kinds: kinds.join(" "),
            at: now,
        };
        let saved = vouchers::insert_provider(&tx, new)
            .await
            .map_err(|e| match e {
                err if err.is_unique_on("account_id") => ServiceError::Conflict {
                    code: ErrorCode::ProviderAlreadyRegistered,
                    field: Some("account_id"),
                },
                err => err.into(),
            })?;
        let v = view(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "provider.register",
            saved.id,
            None,
            v,
        )
        .await
    }

    /// Approves a provider for voucher kinds, or suspends it (administrators).
    pub async fn decide_provider(
        &self,
        actor: &Actor,
        id: i64,
        decision: &ProviderDecision,
    ) -> Result<ProviderView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        let existing = vouchers::lock_provider(&tx, id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "provider" })?;
        authorize(actor, Action::Update, resource(&existing))?;
        let before = view(&existing);
        let mut c = Checker::default();
        let (status, kinds) = match decision.decision.as_str() {
            "approve" => {
                let kinds = check_kinds(&mut c, "kinds", &decision.kinds, &existing.category);
                if decision.kinds.is_empty() {
                    c.push(FieldError::new("kinds", "required"));
                }
                ("approved", kinds.join(" "))
            }
            "suspend" => ("suspended", existing.approved_kinds.clone()),
            _ => {
                c.push(
                    FieldError::new("decision", "not_one_of").with("allowed", "approve, suspend"),
                );
                ("", String::new())
            }
        };
        c.finish()?;
        let saved = vouchers::decide_provider(&tx, existing, status, kinds, now).await?;
        let after = view(&saved);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            &format!("provider.{}", decision.decision),
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Providers the actor may see: approved ones for everybody, their own
    /// registration for a provider, all for administrators and auditors.
    pub async fn list_providers(&self, actor: &Actor) -> Result<Vec<ProviderView>> {
        let all = provider::Entity::find()
            .order_by_asc(provider::Column::Id)
            .all(self.store().db())
            .await?;
        Ok(all
            .iter()
            .filter(|p| authorize(actor, Action::Read, resource(p)).is_ok())
            .map(view)
            .collect())
    }

    pub async fn get_provider(&self, actor: &Actor, id: i64) -> Result<ProviderView> {
        let p = provider::Entity::find_by_id(id)
            .one(self.store().db())
            .await?
            .ok_or(ServiceError::NotFound { entity: "provider" })?;
        authorize(actor, Action::Read, resource(&p))?;
        Ok(view(&p))
    }

    /// The provider record the actor acts for, if any.
    pub async fn my_provider(&self, actor: &Actor) -> Result<Option<ProviderView>> {
        let p = provider::Entity::find()
            .filter(provider::Column::AccountId.eq(actor.account_id))
            .one(self.store().db())
            .await?;
        Ok(p.as_ref().map(view))
    }

    /// The actor's provider, approved for `kind` (by the caller's check).
    pub(crate) async fn acting_provider<C: opcity_store::sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
    ) -> Result<provider::Model> {
        authorize(
            actor,
            Action::Create,
            Resource::ProviderLedger {
                account_id: actor.account_id,
            },
        )?;
        provider::Entity::find()
            .filter(provider::Column::AccountId.eq(actor.account_id))
            .one(db)
            .await?
            .ok_or(ServiceError::Conflict {
                code: ErrorCode::NotAProvider,
                field: None,
            })
    }
}

/// Whether an approved provider may redeem `kind`: refused with a clear code
/// otherwise.
pub(crate) fn check_approved(p: &provider::Model, kind: &str) -> Result<()> {
    if p.status != "approved" {
        return Err(ServiceError::Conflict {
            code: ErrorCode::ProviderNotApproved,
            field: None,
        });
    }
    if !p.approved_kinds.split_whitespace().any(|k| k == kind) {
        return Err(ServiceError::Conflict {
            code: ErrorCode::ProviderNotApprovedForKind,
            field: Some("kind"),
        });
    }
    Ok(())
}

/// Every kind's id, for forms.
pub fn kind_ids() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.id).collect()
}
