//! From a simulated draft to the pack in force, with four eyes: the author
//! submits the draft with an impact of its changes as they are; another
//! administrator publishes it — a new version of the pack (`{base}+d{id}`)
//! holding the draft's dated values and rewritten conditions over the
//! version before it, in force from the draft's first date — or sends it
//! back with a note. The pack in force is the pack as its source holds it
//! with every published version in force on the day applied in turn
//! ([`Services::apply_pack_versions`], at start-up, daily, on a reload and
//! on publication). Results name the version they used; an application
//! keeps the explanation, and so the version, it was decided on.

use super::DraftView;
use super::edit::{Seen, refusal, view};
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{ErrorCode, FieldError, Result, ServiceError};
use crate::policy::PackRef;
use crate::{Services, record_change};
use chrono::NaiveDate;
use opcity_policy::{ConditionChange, DatedValue, Pack};
use opcity_store::StoreError;
use opcity_store::entity::{pack_version, policy_draft_change};
use opcity_store::policy_drafts::{self, NewVersion};

/// A version's content as `pack_versions.revision` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Revision {
    values: Vec<Value>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Value {
    parameter: String,
    from: NaiveDate,
    value: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Condition {
    programme: String,
    condition: String,
    when: String,
}

impl Revision {
    fn of(changes: &[policy_draft_change::Model]) -> Revision {
        Revision {
            values: changes
                .iter()
                .filter_map(|c| {
                    Some(Value {
                        parameter: c.parameter.clone()?,
                        from: c.effective_from,
                        value: c.value,
                    })
                })
                .collect(),
            conditions: changes
                .iter()
                .filter_map(|c| {
                    Some(Condition {
                        programme: c.programme.clone()?,
                        condition: c.condition.clone()?,
                        when: c.expression.clone()?,
                    })
                })
                .collect(),
        }
    }

    fn apply(&self, pack: &Pack, version: &str) -> std::result::Result<Pack, String> {
        let values: Vec<DatedValue> = self
            .values
            .iter()
            .map(|v| DatedValue {
                parameter: v.parameter.clone(),
                from: v.from,
                value: v.value,
            })
            .collect();
        let conditions: Vec<ConditionChange> = self
            .conditions
            .iter()
            .map(|c| ConditionChange {
                programme: c.programme.clone(),
                condition: c.condition.clone(),
                when: c.when.clone(),
            })
            .collect();
        pack.revised(version, &values, &conditions)
            .map_err(|e| e.to_string())
    }
}

/// `base` with each version of `versions` in force on `day` applied in
/// turn: they follow one another from the base's version, and the chain
/// stops at the first that does not follow or is not yet in force.
fn in_force(base: &Pack, versions: &[pack_version::Model], day: NaiveDate) -> Pack {
    let mut pack = base.clone();
    for v in versions {
        if v.base_version != pack.version() || v.effective_from > day {
            break;
        }
        let revised = serde_json::from_str::<Revision>(&v.revision)
            .map_err(|e| e.to_string())
            .and_then(|r| r.apply(&pack, &v.version));
        match revised {
            Ok(next) => pack = next,
            Err(error) => {
                tracing::error!(version = %v.version, %error, "a published version does not apply; the versions after it wait");
                break;
            }
        }
    }
    pack
}

impl Services {
    /// Puts in force the pack's source with the versions published over it
    /// that are in force on `day`; the pack now in force.
    pub async fn apply_pack_versions(&self, day: NaiveDate) -> Result<PackRef> {
        let base = self.pack_handle().base();
        let versions = policy_drafts::versions(self.store().db(), base.id()).await?;
        let pack = in_force(&base, &versions, day);
        let reference = PackRef::from(&pack);
        self.pack_handle().set_current(pack);
        Ok(reference)
    }
}

pub(super) async fn submit(s: &Services, actor: &Actor, (id, revision): Seen) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let Some((draft, changes)) = policy_drafts::get(s.store().db(), id).await? else {
        return Err(refusal(s, id).await);
    };
    // Conditions change with the version, on the draft's first date.
    let first = changes.iter().map(|c| c.effective_from).min();
    if let Some(late) = changes
        .iter()
        .find(|c| c.kind == "condition" && Some(c.effective_from) != first)
    {
        return Err(ServiceError::Validation(vec![
            FieldError::new("changes", "condition_after_first_date")
                .with("value", late.effective_from)
                .with("first", first.unwrap_or(late.effective_from)),
        ]));
    }
    if draft.status == policy_drafts::DRAFT
        && draft.revision == revision
        && draft.impact_revision != Some(revision)
    {
        return Err(ServiceError::Conflict {
            code: ErrorCode::DraftNotSimulated,
            field: None,
        });
    }
    let now = s.now();
    let tx = s.store().begin().await?;
    if !policy_drafts::submit(&tx, id, revision, actor.account_id, now).await? {
        drop(tx);
        return Err(refusal(s, id).await);
    }
    let audited = serde_json::json!({ "revision": revision });
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.submit",
        id,
        None,
        Some(&audited),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}

/// Why a decision on a submitted draft wrote nothing.
async fn not_decided(s: &Services, actor: &Actor, id: i64) -> ServiceError {
    match policy_drafts::get(s.store().db(), id).await {
        Ok(Some((d, _)))
            if d.status == policy_drafts::SUBMITTED
                && (d.created_by == actor.account_id
                    || d.submitted_by == Some(actor.account_id)) =>
        {
            ServiceError::Conflict {
                code: ErrorCode::OwnDraft,
                field: None,
            }
        }
        Ok(Some((d, _))) if d.status == policy_drafts::PUBLISHED => ServiceError::Conflict {
            code: ErrorCode::DraftClosed,
            field: None,
        },
        _ => refusal(s, id).await,
    }
}

pub(super) async fn send_back(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
    note: &str,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(ServiceError::invalid("note", "required"));
    }
    if note.chars().count() > super::TEXT_MAX {
        return Err(ServiceError::Validation(vec![
            FieldError::new("note", "too_long").with("max", super::TEXT_MAX),
        ]));
    }
    let now = s.now();
    let tx = s.store().begin().await?;
    if !policy_drafts::send_back(&tx, id, revision, (actor.account_id, note), now).await? {
        drop(tx);
        return Err(not_decided(s, actor, id).await);
    }
    let audited = serde_json::json!({ "revision": revision, "note": note });
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.send_back",
        id,
        None,
        Some(&audited),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}

pub(super) async fn publish(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let db = s.store().db();
    let Some((draft, changes)) = policy_drafts::get(db, id).await? else {
        return Err(refusal(s, id).await);
    };
    let base = s.pack_handle().base();
    if draft.pack != base.id() {
        return Err(ServiceError::Conflict {
            code: ErrorCode::DraftOtherPack,
            field: None,
        });
    }
    let versions = policy_drafts::versions(db, base.id()).await?;
    let (after, previous_from) = versions
        .last()
        .map_or((base.version().to_owned(), None), |v| {
            (v.version.clone(), Some(v.effective_from))
        });
    let Some(from) = changes.iter().map(|c| c.effective_from).min() else {
        return Err(ServiceError::Conflict {
            code: ErrorCode::DraftEmpty,
            field: None,
        });
    };
    if previous_from.is_some_and(|p| from < p) {
        return Err(ServiceError::Conflict {
            code: ErrorCode::VersionOrder,
            field: None,
        });
    }
    // The chain as it will be, checked before anything is written.
    let revision_json = Revision::of(&changes);
    let version = format!("{}+d{id}", base.version());
    let chain = in_force(&base, &versions, NaiveDate::MAX);
    if chain.version() != after {
        return Err(ServiceError::Conflict {
            code: ErrorCode::VersionOrder,
            field: None,
        });
    }
    revision_json.apply(&chain, &version).map_err(|reason| {
        ServiceError::Validation(vec![
            FieldError::new("changes", "no_longer_applies").with("value", reason),
        ])
    })?;
    let json =
        serde_json::to_string(&revision_json).map_err(|e| ServiceError::Internal(Box::new(e)))?;
    let now = s.now();
    let tx = s.store().begin().await?;
    let new = NewVersion {
        pack: base.id(),
        base_version: &after,
        version: &version,
        effective_from: from,
        revision: &json,
    };
    match policy_drafts::publish(&tx, id, revision, actor.account_id, new, now).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            drop(tx);
            return Err(not_decided(s, actor, id).await);
        }
        // Another version was published on the same one meanwhile.
        Err(StoreError::Unique(_)) => {
            return Err(ServiceError::Conflict {
                code: ErrorCode::VersionOrder,
                field: None,
            });
        }
        Err(e) => return Err(e.into()),
    }
    let audited = serde_json::json!({
        "revision": revision, "version": version, "revises": after, "effective_from": from,
    });
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.publish",
        id,
        None,
        Some(&audited),
    )
    .await?;
    tx.commit().await?;
    s.apply_pack_versions(opcity_domain::today_in_shanghai(now))
        .await?;
    view(s, actor, id).await
}
