//! Starting an application: a draft for the applicant's person or one of
//! their enterprises, reviewed by the district it belongs to. A retry with
//! the same idempotency key answers the first draft (even when the retry
//! raced the first: the store's unique key decides); the same key with
//! another programme or amount is refused.

use super::evidence::check_form;
use super::views::{ApplicationView, view};
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{Result, ServiceError, above_max_amount};
use opcity_policy::Beneficiary;
use opcity_store::applications::{self as store, Draft};
use opcity_store::entity::application;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// Programme id, e.g. `sz.housing.subsidy`.
    pub programme: String,
    /// Required for enterprise programmes: one of the applicant's enterprises.
    pub enterprise_id: Option<i64>,
    /// The amount asked for, in fen (optional: review sets the figure).
    pub requested_fen: Option<i64>,
    /// The form's fields (the programme's declared evidence of kind `field`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: serde_json::Map<String, serde_json::Value>,
    /// Retrying with the same key returns the first application.
    pub idempotency_key: Option<String>,
}

pub(super) async fn create_application(
    s: &Services,
    actor: &Actor,
    input: &NewApplication,
) -> Result<ApplicationView> {
    let pack = s.pack();
    let programme = pack
        .programme(&input.programme)
        .ok_or_else(|| ServiceError::invalid("programme", "unknown_programme"))?;
    if let Some(key) = input.idempotency_key.as_deref() {
        if key.is_empty() || key.len() > 200 {
            return Err(ServiceError::invalid("idempotency_key", "too_long"));
        }
        if let Some(existing) =
            store::by_idempotency_key(s.store().db(), actor.account_id, key).await?
        {
            return idempotent_replay(s, existing, input);
        }
    }
    if input.requested_fen.is_some_and(|f| f <= 0) {
        return Err(ServiceError::invalid("requested_fen", "must_be_positive"));
    }
    if let Some(error) = input
        .requested_fen
        .and_then(|f| above_max_amount("requested_fen", f))
    {
        return Err(ServiceError::Validation(vec![error]));
    }
    check_form(programme, &input.form)?;
    let (person_id, enterprise_id, district) =
        applicant_subject(s, actor, programme.beneficiary, input.enterprise_id).await?;
    let resource = Resource::Application {
        district,
        person_id,
        enterprise_id,
        draft: true,
    };
    authorize(actor, Action::Create, resource)?;
    let now = s.now();
    let label = actor.audit_label();
    let tx = s.store().begin().await?;
    let draft = Draft {
        programme: &input.programme,
        person_id,
        enterprise_id,
        district: district.id(),
        requested_fen: input.requested_fen,
        created_by: actor.account_id,
        idempotency_key: input.idempotency_key.as_deref(),
        form_data: serde_json::Value::Object(input.form.clone()).to_string(),
        actor: &label,
        at: now,
    };
    let saved = match store::create(&tx, &draft).await {
        Ok(saved) => saved,
        Err(err) => {
            let Some(key) = input.idempotency_key.as_deref() else {
                return Err(err.into());
            };
            if !err.is_unique_on("idempotency_key") {
                return Err(err.into());
            }
            // A concurrent retry with the same key won the race: answer with its result.
            drop(tx);
            let existing = store::by_idempotency_key(s.store().db(), actor.account_id, key)
                .await?
                .ok_or(ServiceError::NotFound {
                    entity: "application",
                })?;
            return idempotent_replay(s, existing, input);
        }
    };
    let v = view(&saved, now, false);
    crate::commit_change(tx, now, &label, "application.create", saved.id, None, v).await
}

fn idempotent_replay(
    s: &Services,
    existing: application::Model,
    input: &NewApplication,
) -> Result<ApplicationView> {
    let same = existing.programme == input.programme
        && existing.requested_fen == input.requested_fen
        && (input.enterprise_id.is_none() || existing.enterprise_id == input.enterprise_id);
    if same {
        Ok(view(&existing, s.now(), false))
    } else {
        Err(ServiceError::Conflict {
            code: ErrorCode::IdempotencyKeyReused,
            field: Some("idempotency_key"),
        })
    }
}

/// Who an application is for: the applicant's person, or one of their
/// enterprises, and the district that reviews it.
async fn applicant_subject(
    s: &Services,
    actor: &Actor,
    beneficiary: Beneficiary,
    enterprise_id: Option<i64>,
) -> Result<(Option<i64>, Option<i64>, opcity_domain::District)> {
    let db = s.store().db();
    match beneficiary {
        Beneficiary::Person => {
            let person_id = actor
                .person_id
                .ok_or_else(|| ServiceError::invalid("person", "no_person_record"))?;
            let p = store::person(db, person_id)
                .await?
                .ok_or(ServiceError::NotFound { entity: "person" })?;
            let district = p
                .district
                .as_deref()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| ServiceError::invalid("district", "person_district_missing"))?;
            Ok((Some(person_id), None, district))
        }
        Beneficiary::Enterprise => {
            let id =
                enterprise_id.ok_or_else(|| ServiceError::invalid("enterprise_id", "required"))?;
            let e = store::enterprise(db, id)
                .await?
                .ok_or_else(|| ServiceError::invalid("enterprise_id", "unknown_enterprise"))?;
            let district = e
                .district
                .parse()
                .map_err(|_| ServiceError::invalid("enterprise_id", "unknown_enterprise"))?;
            Ok((actor.person_id, Some(id), district))
        }
    }
}
