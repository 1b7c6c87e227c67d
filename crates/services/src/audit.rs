//! Reading, sealing and verifying the audit log (appending happens inside
//! each change's own transaction, through `opcity_store::audit::append`, to
//! the queue that sealing moves into the hash chain).

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::Result;
use opcity_store::audit;
pub use opcity_store::audit::{Problem, Verification};
use opcity_store::entity::{account, audit_log};
use opcity_store::sea_orm::{EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};

/// A page of audit entries, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    /// The acting account's display name (`None` for the platform's jobs).
    pub actor_name: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub hash: String,
}

impl Services {
    /// Verifies the whole chain. Used by `opcity audit verify` (as the system)
    /// and by auditors.
    pub async fn verify_audit_log(&self) -> Result<Verification> {
        self.seal_audit_log().await?;
        Ok(audit::verify(self.store().db()).await?)
    }

    /// Moves every queued audit entry into the hash chain (`serve` does it
    /// every second; reads and verification do it first). Returns how many.
    pub async fn seal_audit_log(&self) -> Result<u64> {
        Ok(audit::seal_all(self.store()).await?)
    }

    /// [`Services::verify_audit_log`] on behalf of an administrator or auditor.
    pub async fn verify_audit_log_for(&self, actor: &Actor) -> Result<Verification> {
        authorize(actor, Action::Read, Resource::AuditLog)?;
        self.verify_audit_log().await
    }

    pub async fn audit_entries(&self, actor: &Actor, offset: u64, limit: u64) -> Result<AuditPage> {
        authorize(actor, Action::Read, Resource::AuditLog)?;
        self.seal_audit_log().await?;
        let db = self.store().db();
        let total = audit_log::Entity::find().count(db).await?;
        let rows = audit_log::Entity::find()
            .order_by_desc(audit_log::Column::Seq)
            .offset(offset)
            .limit(limit)
            .all(db)
            .await?;
        let parse = |s: &Option<String>, entity: &str| {
            let mut value = s.as_deref().and_then(|t| serde_json::from_str(t).ok());
            if entity == "person"
                && let Some(value) = value.as_mut()
            {
                crate::registry::persons::redact_audit_value(value);
            }
            value
        };
        let names = crate::rows_by_id::<account::Entity, _>(
            db,
            account::Column::Id,
            rows.iter()
                .filter_map(|r| crate::authz::account_in_label(&r.actor)),
            |a| a.id,
        )
        .await?;
        let entries = rows
            .iter()
            .map(|r| AuditEntry {
                seq: r.seq,
                at: r.at,
                actor: r.actor.clone(),
                actor_name: crate::authz::account_in_label(&r.actor)
                    .and_then(|id| names.get(&id))
                    .map(|a| a.display_name.clone()),
                action: r.action.clone(),
                entity: r.entity.clone(),
                entity_id: r.entity_id.clone(),
                before: parse(&r.before, &r.entity),
                after: parse(&r.after, &r.entity),
                hash: r.hash.clone(),
            })
            .collect();
        Ok(AuditPage { entries, total })
    }
}
