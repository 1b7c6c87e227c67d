//! Writing a draft: its details, its changes (each checked against the
//! pack in force: a parameter of it with a value of its unit, or a written
//! condition of one of its programmes that compiles), withdrawing it; and
//! reading drafts back with what each change replaces.

use super::{
    ChangeInput, ChangeView, DraftInput, DraftSummary, DraftView, EXPRESSION_MAX, TEXT_MAX,
    TITLE_MAX,
};
use crate::authz::{Action, Actor, Resource, authorize, permits};
use crate::error::{ErrorCode, FieldError, Result, ServiceError};
use crate::policy::text;
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::NaiveDate;
use opcity_policy::{ConditionChange, Pack, Setting, SettingError};
use opcity_store::StoreError;
use opcity_store::entity::{account, policy_draft, policy_draft_change};
use opcity_store::policy_drafts::{self, Change, Details};
use std::collections::BTreeMap;

/// A draft by id and the revision its editor saw.
pub(super) type Seen = (i64, i32);

pub(super) fn may_read(actor: &Actor) -> bool {
    permits(actor, Action::Read, Resource::PolicyDraft)
}

pub(super) fn may_write(actor: &Actor) -> bool {
    permits(actor, Action::Create, Resource::PolicyDraft)
}

/// Why an edit on `id` wrote nothing: the draft is gone, withdrawn, or at
/// another revision than its editor saw.
pub(super) async fn refusal(s: &Services, id: i64) -> ServiceError {
    match policy_drafts::get(s.store().db(), id).await {
        Ok(None) => ServiceError::NotFound {
            entity: "policy_draft",
        },
        Ok(Some((draft, _))) if draft.status != policy_drafts::DRAFT => ServiceError::Conflict {
            code: ErrorCode::DraftClosed,
            field: None,
        },
        Ok(Some(_)) => ServiceError::Conflict {
            code: ErrorCode::DraftChanged,
            field: None,
        },
        Err(e) => e.into(),
    }
}

fn details(input: &DraftInput) -> Result<DraftInput> {
    let mut check = Checker::default();
    let checked = DraftInput {
        title: check.required_text("title", &input.title, TITLE_MAX),
        reason: check.required_text("reason", &input.reason, TEXT_MAX),
        source_document: check.required_text("source_document", &input.source_document, TEXT_MAX),
    };
    check.finish()?;
    Ok(checked)
}

fn as_details(input: &DraftInput) -> Details<'_> {
    Details {
        title: &input.title,
        reason: &input.reason,
        source_document: &input.source_document,
    }
}

/// A change checked against `pack` on `today`.
fn change(pack: &Pack, today: NaiveDate, input: &ChangeInput) -> Result<Change> {
    let mut check = Checker::default();
    let end = pack.effective().to;
    let effective_from = check
        .date("effective_from", Some(&input.effective_from), end)
        .or_else(|| {
            if input.effective_from.trim().is_empty() {
                check.push(FieldError::new("effective_from", "required"));
            }
            None
        });
    if let Some(date) = effective_from.filter(|d| *d < today) {
        check.push(FieldError::new("effective_from", "date_in_past").with("value", date));
    }
    let change = match input.kind.as_str() {
        "parameter" => {
            parameter_change(pack, input, &mut check).map(|(name, value)| Change::Parameter {
                name,
                value,
                effective_from: effective_from.unwrap_or(today),
            })
        }
        "condition" => {
            let programme = trimmed(&input.programme);
            let condition = trimmed(&input.condition);
            let expression = trimmed(&input.expression);
            condition_change(pack, (programme, condition, expression), &mut check).map(|c| {
                Change::Condition {
                    programme: c.programme,
                    condition: c.condition,
                    expression: c.when,
                    effective_from: effective_from.unwrap_or(today),
                }
            })
        }
        _ => {
            check.push(
                FieldError::new("kind", "not_one_of").with("allowed", "parameter, condition"),
            );
            None
        }
    };
    check.finish()?;
    change.ok_or_else(|| ServiceError::invalid("kind", "required"))
}

/// A text field, trimmed; `None` when empty.
fn trimmed(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A parameter's name and value, checked as `policy whatif --set` checks
/// them: a parameter of the pack, a whole number of its unit in range, or
/// unset.
fn parameter_change(
    pack: &Pack,
    input: &ChangeInput,
    check: &mut Checker,
) -> Option<(String, Option<i64>)> {
    let Some(name) = input
        .parameter
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        check.push(FieldError::new("parameter", "required"));
        return None;
    };
    let value = match (input.value, input.unset) {
        (None, false) => {
            check.push(FieldError::new("value", "required"));
            return None;
        }
        (Some(_), true) => {
            check.push(FieldError::new("value", "value_and_unset"));
            return None;
        }
        (value, _) => value,
    };
    let text = format!(
        "{name}={}",
        value.map_or("null".to_owned(), |v| v.to_string())
    );
    match Setting::parse(pack, &text) {
        Ok(setting) => Some((setting.name, setting.value)),
        Err(SettingError::Unknown { .. }) => {
            check.push(FieldError::new("parameter", "not_a_parameter").with("value", name));
            None
        }
        Err(SettingError::WrongType { max, .. }) => {
            check.push(
                FieldError::new("value", "out_of_range")
                    .with("min", 0)
                    .with("max", max),
            );
            None
        }
        Err(SettingError::Malformed(_) | SettingError::Twice(_)) => {
            check.push(FieldError::new("parameter", "not_a_parameter").with("value", name));
            None
        }
    }
}

/// A condition change that compiles against the pack.
fn condition_change(
    pack: &Pack,
    (programme, condition, expression): (Option<String>, Option<String>, Option<String>),
    check: &mut Checker,
) -> Option<ConditionChange> {
    let mut missing = false;
    for (field, value) in [
        ("programme", &programme),
        ("condition", &condition),
        ("expression", &expression),
    ] {
        if value.is_none() {
            check.push(FieldError::new(field, "required"));
            missing = true;
        }
    }
    let (Some(programme), Some(condition), Some(when)) = (programme, condition, expression) else {
        return None;
    };
    if missing {
        return None;
    }
    if when.chars().count() > EXPRESSION_MAX {
        check.push(FieldError::new("expression", "too_long").with("max", EXPRESSION_MAX));
        return None;
    }
    let change = ConditionChange {
        programme,
        condition,
        when,
    };
    match pack.with_conditions(std::slice::from_ref(&change)) {
        Ok(_) => Some(change),
        Err(opcity_policy::ConditionChangeError::UnknownProgramme { programme, .. }) => {
            check.push(FieldError::new("programme", "not_a_programme").with("value", programme));
            None
        }
        Err(opcity_policy::ConditionChangeError::UnknownCondition { condition, .. }) => {
            check.push(FieldError::new("condition", "not_a_condition").with("value", condition));
            None
        }
        Err(other) => {
            check.push(FieldError::new("expression", "expression_invalid").with("reason", other));
            None
        }
    }
}

/// What the audit log keeps of a change.
#[derive(serde::Serialize)]
struct AuditedChange<'a> {
    draft: i64,
    revision: i32,
    change: &'a ChangeAudit,
}

#[derive(serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ChangeAudit {
    Parameter {
        name: String,
        value: Option<i64>,
        effective_from: NaiveDate,
    },
    Condition {
        programme: String,
        condition: String,
        expression: String,
        effective_from: NaiveDate,
    },
    Removed {
        change_id: i64,
    },
}

impl From<&Change> for ChangeAudit {
    fn from(c: &Change) -> ChangeAudit {
        match c.clone() {
            Change::Parameter {
                name,
                value,
                effective_from,
            } => ChangeAudit::Parameter {
                name,
                value,
                effective_from,
            },
            Change::Condition {
                programme,
                condition,
                expression,
                effective_from,
            } => ChangeAudit::Condition {
                programme,
                condition,
                expression,
                effective_from,
            },
        }
    }
}

pub(super) async fn create(s: &Services, actor: &Actor, input: &DraftInput) -> Result<DraftView> {
    authorize(actor, Action::Create, Resource::PolicyDraft)?;
    let input = details(input)?;
    let now = s.now();
    let pack = s.pack();
    let tx = s.store().begin().await?;
    let draft =
        policy_drafts::create(&tx, pack.id(), as_details(&input), actor.account_id, now).await?;
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.create",
        draft.id,
        None,
        Some(&(
            pack.id(),
            &input.title,
            &input.reason,
            &input.source_document,
        )),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, draft.id).await
}

pub(super) async fn update(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
    input: &DraftInput,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let input = details(input)?;
    let now = s.now();
    let tx = s.store().begin().await?;
    let Some(next) = policy_drafts::set_details(&tx, id, revision, as_details(&input), now).await?
    else {
        return Err(refusal(s, id).await);
    };
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.update",
        id,
        None,
        Some(&(next, &input.title, &input.reason, &input.source_document)),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}

pub(super) async fn add_change(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
    input: &ChangeInput,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let today = opcity_domain::today_in_shanghai(s.now());
    let change = change(&s.pack(), today, input)?;
    let now = s.now();
    let tx = s.store().begin().await?;
    let added = match policy_drafts::add_change(&tx, id, revision, &change, now).await {
        Ok(Some((_, next))) => next,
        Ok(None) => return Err(refusal(s, id).await),
        Err(StoreError::Unique(_)) => {
            let field = match change {
                Change::Parameter { .. } => "parameter",
                Change::Condition { .. } => "condition",
            };
            return Err(ServiceError::Conflict {
                code: ErrorCode::AlreadyInDraft,
                field: Some(field),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let audited = AuditedChange {
        draft: id,
        revision: added,
        change: &ChangeAudit::from(&change),
    };
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.change",
        id,
        None,
        Some(&audited),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}

pub(super) async fn remove_change(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
    change_id: i64,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let now = s.now();
    let tx = s.store().begin().await?;
    let Some(next) = policy_drafts::remove_change(&tx, id, revision, change_id, now).await? else {
        drop(tx);
        return Err(match refusal(s, id).await {
            // At the revision seen, yet without that change: not the draft's.
            ServiceError::Conflict {
                code: ErrorCode::DraftChanged,
                ..
            } if current_revision(s, id).await == Some(revision) => ServiceError::NotFound {
                entity: "policy_draft_change",
            },
            other => other,
        });
    };
    let audited = AuditedChange {
        draft: id,
        revision: next,
        change: &ChangeAudit::Removed { change_id },
    };
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.change",
        id,
        None,
        Some(&audited),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}

async fn current_revision(s: &Services, id: i64) -> Option<i32> {
    let found = policy_drafts::get(s.store().db(), id).await.ok()??;
    Some(found.0.revision)
}

pub(super) async fn withdraw(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let now = s.now();
    let tx = s.store().begin().await?;
    let Some(next) = policy_drafts::withdraw(&tx, id, revision, now).await? else {
        return Err(refusal(s, id).await);
    };
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.withdraw",
        id,
        None,
        Some(&next),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}

/// The display names of accounts `ids`.
async fn names(s: &Services, ids: impl IntoIterator<Item = i64>) -> Result<BTreeMap<i64, String>> {
    let rows =
        crate::rows_by_id::<account::Entity, _>(s.store().db(), account::Column::Id, ids, |a| a.id)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, a)| (id, a.display_name))
        .collect())
}

pub(super) async fn list(s: &Services, actor: &Actor) -> Result<Vec<DraftSummary>> {
    authorize(actor, Action::Read, Resource::PolicyDraft)?;
    let db = s.store().db();
    let drafts = policy_drafts::list(db).await?;
    let changes = policy_drafts::changes_of(db, drafts.iter().map(|d| d.id)).await?;
    let names = names(s, drafts.iter().map(|d| d.created_by)).await?;
    Ok(drafts
        .into_iter()
        .map(|d| DraftSummary {
            changes: changes.iter().filter(|c| c.draft_id == d.id).count(),
            created_by: names.get(&d.created_by).cloned().unwrap_or_default(),
            impact_current: d.impact_revision == Some(d.revision),
            id: d.id,
            title: d.title,
            status: d.status,
            revision: d.revision,
            updated_at: d.updated_at,
        })
        .collect())
}

pub(super) async fn view(s: &Services, actor: &Actor, id: i64) -> Result<DraftView> {
    authorize(actor, Action::Read, Resource::PolicyDraft)?;
    let Some((draft, changes)) = policy_drafts::get(s.store().db(), id).await? else {
        return Err(ServiceError::NotFound {
            entity: "policy_draft",
        });
    };
    let people = [Some(draft.created_by), draft.submitted_by, draft.decided_by];
    let names = names(s, people.into_iter().flatten()).await?;
    let pack = s.pack();
    let may_decide = draft.status == policy_drafts::SUBMITTED
        && may_write(actor)
        && draft.created_by != actor.account_id
        && draft.submitted_by != Some(actor.account_id);
    let mut view = draft_view(&pack, draft, &changes, names);
    view.may_decide = may_decide;
    Ok(view)
}

fn draft_view(
    pack: &Pack,
    d: policy_draft::Model,
    changes: &[policy_draft_change::Model],
    names: BTreeMap<i64, String>,
) -> DraftView {
    // An impact that no longer reads (written by another version of this
    // code) is left out rather than failing the page; the next simulation
    // writes it again.
    let impact = d
        .impact
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    let name = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned());
    DraftView {
        submitted_by: name(d.submitted_by),
        decided_by: name(d.decided_by),
        decided_at: d.decided_at,
        decision_note: d.decision_note.clone(),
        may_decide: false,
        changes: changes.iter().map(|c| change_view(pack, c)).collect(),
        created_by: names.get(&d.created_by).cloned().unwrap_or_default(),
        impact_current: d.impact_revision == Some(d.revision),
        impact,
        id: d.id,
        pack: d.pack,
        title: d.title,
        reason: d.reason,
        source_document: d.source_document,
        status: d.status,
        revision: d.revision,
        created_at: d.created_at,
        updated_at: d.updated_at,
        impact_revision: d.impact_revision,
        impact_at: d.impact_at,
    }
}

fn change_view(pack: &Pack, c: &policy_draft_change::Model) -> ChangeView {
    let parameter = c.parameter.as_deref().and_then(|name| pack.parameter(name));
    let programme = c.programme.as_deref().and_then(|id| pack.programme(id));
    let expression_before = programme.and_then(|p| {
        p.written_conditions()
            .find(|(name, _)| Some(*name) == c.condition.as_deref())
            .map(|(_, when)| when.to_owned())
    });
    ChangeView {
        id: c.id,
        kind: c.kind.clone(),
        effective_from: c.effective_from,
        parameter: c.parameter.clone(),
        description: parameter.map(|p| text(&p.description)),
        unit: parameter.map(|p| p.unit.name().to_owned()),
        value: c.value,
        value_before: parameter
            .and_then(|p| p.value_at(c.effective_from))
            .and_then(|v| v.value),
        programme: c.programme.clone(),
        programme_title: programme.map(|p| text(&p.title)),
        condition: c.condition.clone(),
        expression: c.expression.clone(),
        expression_before,
    }
}
