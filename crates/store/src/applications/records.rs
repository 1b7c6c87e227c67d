//! New rows of an application's record: the application itself (a draft),
//! reviews, documents, and the applicant's form.

use super::moves::HistoryRow;
use crate::StoreError;
use crate::entity::{application, application_document, review};
use chrono::{DateTime, Utc};
use opcity_domain::application::State;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::BTreeMap;

/// A new application, as its applicant starts it.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub programme: &'a str,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub district: &'a str,
    pub requested_fen: Option<i64>,
    pub created_by: i64,
    pub idempotency_key: Option<&'a str>,
    /// The form's fields (a JSON object).
    pub form_data: String,
    /// Who, for the history.
    pub actor: &'a str,
    pub at: DateTime<Utc>,
}

/// Inserts a draft and its first history row (`create`). A unique
/// violation on `idempotency_key` ([`StoreError::is_unique_on`]) means a
/// concurrent retry with the same key won.
pub async fn create(
    tx: &DatabaseTransaction,
    draft: &Draft<'_>,
) -> Result<application::Model, StoreError> {
    let saved = application::ActiveModel {
        programme: Set(draft.programme.to_owned()),
        person_id: Set(draft.person_id),
        enterprise_id: Set(draft.enterprise_id),
        district: Set(draft.district.to_owned()),
        state: Set(State::Draft.id().to_owned()),
        requested_fen: Set(draft.requested_fen),
        approved_fen: Set(None),
        budget_id: Set(None),
        created_by: Set(draft.created_by),
        idempotency_key: Set(draft.idempotency_key.map(str::to_owned)),
        form_data: Set(draft.form_data.clone()),
        explanation: Set(None),
        pack_version: Set(None),
        return_deadline: Set(None),
        submitted_at: Set(None),
        decided_at: Set(None),
        created_at: Set(draft.at),
        updated_at: Set(draft.at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    HistoryRow {
        application_id: saved.id,
        from_state: None,
        to_state: State::Draft.id(),
        event: "create".to_owned(),
        actor: draft.actor,
        comment: None,
        at: draft.at,
    }
    .row()
    .insert(tx)
    .await?;
    Ok(saved)
}

/// Replaces the form of `app` (as read, its row locked by
/// [`super::lock`]) with `form_data`, only while it is open to the
/// applicant (`draft` or `returned`) and unchanged since read; `None`,
/// with nothing written, otherwise.
pub async fn update_form_if_editable(
    tx: &DatabaseTransaction,
    app: &application::Model,
    form_data: String,
    at: DateTime<Utc>,
) -> Result<Option<application::Model>, StoreError> {
    let mut active: application::ActiveModel = app.clone().into();
    active.form_data = Set(form_data);
    active.updated_at = Set(at);
    let updated = application::Entity::update(active)
        .validate()?
        .filter(application::Column::State.is_in([State::Draft.id(), State::Returned.id()]))
        .filter(application::Column::FormData.eq(app.form_data.as_str()))
        .exec(tx)
        .await;
    crate::updated_or_none(updated)
}

/// A reviewer's decision, as recorded.
#[derive(Debug, Clone)]
pub struct NewReview<'a> {
    pub application_id: i64,
    pub reviewer_id: i64,
    /// `approve`, `reject`, `return` or `forward`.
    pub decision: &'a str,
    pub amount_fen: Option<i64>,
    /// The total of `scores`.
    pub score: Option<i32>,
    /// Rubric scores as a JSON object.
    pub scores: Option<String>,
    pub comment: Option<&'a str>,
    pub no_conflict_declared: bool,
    pub at: DateTime<Utc>,
}

/// Inserts `reviews` in one INSERT.
pub async fn insert_reviews(
    tx: &DatabaseTransaction,
    reviews: &[NewReview<'_>],
) -> Result<(), StoreError> {
    if reviews.is_empty() {
        return Ok(());
    }
    let rows = reviews.iter().map(|r| review::ActiveModel {
        application_id: Set(r.application_id),
        reviewer_id: Set(r.reviewer_id),
        decision: Set(r.decision.to_owned()),
        amount_fen: Set(r.amount_fen),
        score: Set(r.score),
        scores: Set(r.scores.clone()),
        comment: Set(r.comment.map(str::to_owned)),
        no_conflict_declared: Set(r.no_conflict_declared),
        at: Set(r.at),
        ..Default::default()
    });
    review::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// A document whose content the object store already holds.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub application_id: i64,
    pub evidence_id: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub uploaded_by: i64,
    pub at: DateTime<Utc>,
}

/// Inserts a document row (documents are immutable: a later upload for
/// the same item replaces it by being newer). The caller holds the
/// application's row lock and has checked it is open to the applicant.
pub async fn insert_document(
    tx: &DatabaseTransaction,
    doc: &NewDocument<'_>,
) -> Result<application_document::Model, StoreError> {
    Ok(application_document::ActiveModel {
        application_id: Set(doc.application_id),
        evidence_id: Set(doc.evidence_id.to_owned()),
        file_name: Set(doc.file_name.to_owned()),
        content_type: Set(doc.content_type.to_owned()),
        size_bytes: Set(doc.size_bytes),
        sha256: Set(doc.sha256.to_owned()),
        storage_key: Set(doc.storage_key.to_owned()),
        uploaded_by: Set(doc.uploaded_by),
        uploaded_at: Set(doc.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// The documents of application `id`, oldest first.
pub async fn documents<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Vec<application_document::Model>, StoreError> {
    Ok(application_document::Entity::find()
        .filter(application_document::Column::ApplicationId.eq(id))
        .order_by_asc(application_document::Column::Id)
        .all(db)
        .await?)
}

/// The documents of each of `ids` that has any, oldest first.
pub async fn documents_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, Vec<application_document::Model>>, StoreError> {
    let rows = application_document::Entity::find()
        .filter(application_document::Column::ApplicationId.is_in(ids))
        .order_by_asc(application_document::Column::Id)
        .all(db)
        .await?;
    let mut by_application: BTreeMap<i64, Vec<application_document::Model>> = BTreeMap::new();
    for d in rows {
        by_application.entry(d.application_id).or_default().push(d);
    }
    Ok(by_application)
}

/// Document `document_id` of application `application_id`.
pub async fn document<C: ConnectionTrait>(
    db: &C,
    application_id: i64,
    document_id: i64,
) -> Result<Option<application_document::Model>, StoreError> {
    Ok(application_document::Entity::find_by_id(document_id)
        .filter(application_document::Column::ApplicationId.eq(application_id))
        .one(db)
        .await?)
}
