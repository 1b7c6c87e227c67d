//! The evidence an application carries, as the programme declares it in the
//! pack: text fields of the form, and documents uploaded to the object store.
//!
//! Uploads are checked before anything is stored: the evidence item must be
//! one of the programme's documents, the application must still be open to
//! the applicant (draft or returned), the content must be non-empty, within
//! the size limit and — read from its first bytes, not from what the client
//! claims — a PDF, PNG or JPEG. The content goes to the object store under a
//! fresh key first; the row (with the SHA-256) is written after, in one
//! transaction with its audit entry, so a row never names missing content.
//! Reading a document checks the content against its SHA-256.

use super::moves::{self, evidence_resource, resource};
use crate::authz::{Action, Actor, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::policy::Bilingual;
use crate::{Services, record_change};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use opcity_domain::Role;
use opcity_domain::application::State;
use opcity_policy::{EvidenceKind, Programme};
use opcity_store::applications::{self as store, NewDocument};
use opcity_store::entity::{application, application_document};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The types a document may have, by the MIME type read from its content.
pub const ALLOWED_TYPES: &[(&str, &str)] = &[
    ("application/pdf", "PDF"),
    ("image/png", "PNG"),
    ("image/jpeg", "JPEG"),
];

/// The default size limit of one document: 10 MiB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The most characters a form field holds.
pub const MAX_FIELD_CHARS: usize = 500;

/// The most characters of a document's file name that are kept.
const MAX_FILE_NAME_CHARS: usize = 200;

/// Where documents are kept: any `object_store` backend (local directory by
/// default, S3-compatible storage by configuration), under a prefix.
#[derive(Clone)]
pub struct DocumentStore {
    objects: Arc<dyn ObjectStore>,
    prefix: StorePath,
    max_bytes: usize,
}

impl std::fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentStore")
            .field("objects", &self.objects.to_string())
            .field("prefix", &self.prefix)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl DocumentStore {
    /// A store from a URL: `file:///abs/dir`, or `s3://bucket/prefix` with
    /// the `AWS_*` variables of the environment (endpoint, region, keys), so
    /// any S3-compatible service works. A plain path is a local directory.
    pub fn from_url(url: &str, max_bytes: usize) -> std::result::Result<Self, String> {
        if !url.contains("://") {
            return Self::local(std::path::Path::new(url), max_bytes);
        }
        let parsed = url::Url::parse(url).map_err(|e| format!("documents URL `{url}`: {e}"))?;
        if parsed.scheme() == "file" {
            let dir = parsed
                .to_file_path()
                .map_err(|()| format!("documents URL `{url}` is not an absolute file path"))?;
            return Self::local(&dir, max_bytes);
        }
        // `AWS_REGION` etc., as the builders' lower-case configuration keys.
        let options = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v));
        let (objects, prefix) = object_store::parse_url_opts(&parsed, options)
            .map_err(|e| format!("documents URL `{url}`: {e}"))?;
        Ok(DocumentStore {
            objects: Arc::from(objects),
            prefix,
            max_bytes,
        })
    }

    /// A local directory, created if missing.
    pub fn local(dir: &std::path::Path, max_bytes: usize) -> std::result::Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let objects = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(DocumentStore {
            objects: Arc::new(objects),
            prefix: StorePath::default(),
            max_bytes,
        })
    }

    /// The size limit of one document, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    fn path(&self, key: &str) -> StorePath {
        key.split('/')
            .fold(self.prefix.clone(), |p, part| p.join(part))
    }

    /// Keeps `content` under `key` (replacing what was there).
    pub(crate) async fn put(&self, key: &str, content: Bytes) -> Result<()> {
        self.objects
            .put(&self.path(key), content.into())
            .await
            .map_err(|e| ServiceError::Internal(Box::new(e)))?;
        Ok(())
    }

    /// The content under `key`, or `None` when there is none.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        match self.objects.get(&self.path(key)).await {
            Ok(found) => Ok(Some(
                found
                    .bytes()
                    .await
                    .map_err(|e| ServiceError::Internal(Box::new(e)))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(ServiceError::Internal(Box::new(e))),
        }
    }

    /// Removes the content under `key`, if any (logged when it cannot be).
    pub(crate) async fn remove(&self, key: &str) {
        if let Err(e) = self.objects.delete(&self.path(key)).await {
            tracing::warn!(error = %e, key, "could not remove a stored file");
        }
    }
}

/// One uploaded document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: i64,
    pub evidence_id: String,
    pub file_name: String,
    /// Read from the content: `application/pdf`, `image/png` or `image/jpeg`.
    pub content_type: String,
    pub size_bytes: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// `false` when a later upload for the same item replaced it.
    pub current: bool,
}

/// An evidence item the applicant has not supplied yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MissingEvidence {
    pub id: String,
    /// `document` or `field`.
    pub kind: String,
    pub title: Bilingual,
}

/// What an applicant uploads: the evidence item, the file's name and content.
#[derive(Debug, Clone)]
pub struct Upload {
    pub evidence_id: String,
    pub file_name: String,
    pub content: Bytes,
}

fn view(d: &application_document::Model, current: bool) -> DocumentView {
    DocumentView {
        id: d.id,
        evidence_id: d.evidence_id.clone(),
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        uploaded_at: d.uploaded_at,
        current,
    }
}

/// Checks the form's fields against the programme's declared evidence: only
/// its `field` items, each a string of at most [`MAX_FIELD_CHARS`].
pub(crate) fn check_form(
    programme: &Programme,
    form: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let mut errors = Vec::new();
    for (key, value) in form {
        let field = format!("form.{key}");
        match programme.evidence.iter().find(|e| &e.id == key) {
            None => errors.push(FieldError::new(field, "unknown_field")),
            Some(e) if e.kind == EvidenceKind::Document => {
                errors.push(FieldError::new(field, "upload_required"));
            }
            Some(_) => match value.as_str() {
                None => errors.push(FieldError::new(field, "not_text")),
                Some(text) if text.chars().count() > MAX_FIELD_CHARS => {
                    errors.push(FieldError::new(field, "too_long").with("max", MAX_FIELD_CHARS));
                }
                Some(_) => {}
            },
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Validation(errors))
    }
}

/// The programme's evidence items not yet supplied: fields left empty and
/// documents never uploaded.
pub(crate) fn missing_evidence(
    programme: &Programme,
    form: &serde_json::Value,
    documents: &[application_document::Model],
) -> Vec<MissingEvidence> {
    programme
        .evidence
        .iter()
        .filter(|e| match e.kind {
            EvidenceKind::Field => form
                .get(&e.id)
                .and_then(|v| v.as_str())
                .is_none_or(|v| v.trim().is_empty()),
            EvidenceKind::Document => !documents.iter().any(|d| d.evidence_id == e.id),
        })
        .map(|e| MissingEvidence {
            id: e.id.clone(),
            kind: match e.kind {
                EvidenceKind::Field => "field",
                EvidenceKind::Document => "document",
            }
            .to_owned(),
            title: Bilingual {
                zh: e.title.zh.clone(),
                en: e.title.en.clone(),
            },
        })
        .collect()
}

/// The refusal of a submission with items missing, one error per item.
pub(crate) fn missing_error(missing: &[MissingEvidence]) -> ServiceError {
    ServiceError::Validation(
        missing
            .iter()
            .map(|m| {
                FieldError::new(format!("evidence.{}", m.id), "missing_evidence")
                    .with("item", &m.title.en)
                    .with("item_zh", &m.title.zh)
            })
            .collect(),
    )
}

/// The type of a document read from its content, if it is one we accept.
fn sniff(content: &[u8]) -> Option<&'static str> {
    let mime = infer::get(content)?.mime_type();
    ALLOWED_TYPES
        .iter()
        .find(|(allowed, _)| *allowed == mime)
        .map(|(allowed, _)| *allowed)
}

/// The file name as kept: its last path component, trimmed. Refused when
/// nothing names the file (empty, `.` or `..`), when it is longer than
/// [`MAX_FILE_NAME_CHARS`], or when it holds control characters or
/// direction marks (a right-to-left override shows `fdp.exe` as `exe.pdf`).
fn clean_file_name(name: &str) -> Result<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." || base.chars().any(char::is_control) {
        return Err(ServiceError::invalid("file_name", "invalid_file_name"));
    }
    if base.chars().any(is_direction_mark) {
        return Err(ServiceError::invalid(
            "file_name",
            "file_name_direction_marks",
        ));
    }
    if base.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(ServiceError::Validation(vec![
            FieldError::new("file_name", "too_long").with("max", MAX_FILE_NAME_CHARS),
        ]));
    }
    Ok(base.to_owned())
}

/// Unicode's bidirectional formatting characters (UAX #9).
fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn open_to_applicant(app: &application::Model) -> Result<()> {
    if app.state == State::Draft.id() || app.state == State::Returned.id() {
        Ok(())
    } else {
        Err(not_editable(app))
    }
}

fn not_editable(app: &application::Model) -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("state", "not_editable").with("state", &app.state),
    ])
}

impl Services {
    pub(crate) fn documents_store(&self) -> Result<&DocumentStore> {
        self.document_store()
            .ok_or_else(|| ServiceError::Internal("no document store is configured".into()))
    }

    /// Checks an upload as far as it can be checked without the database.
    fn check_upload(&self, programme: &Programme, upload: &Upload) -> Result<&'static str> {
        let limit = self.documents_store()?.max_bytes();
        match programme
            .evidence
            .iter()
            .find(|e| e.id == upload.evidence_id)
        {
            None => return Err(ServiceError::invalid("evidence", "unknown_evidence")),
            Some(e) if e.kind != EvidenceKind::Document => {
                return Err(ServiceError::invalid("evidence", "not_a_document"));
            }
            Some(_) => {}
        }
        if upload.content.is_empty() {
            return Err(ServiceError::invalid("file", "empty_file"));
        }
        if upload.content.len() > limit {
            return Err(ServiceError::Validation(vec![
                FieldError::new("file", "file_too_large").with("max_mib", limit / (1024 * 1024)),
            ]));
        }
        sniff(&upload.content).ok_or_else(|| {
            let allowed: Vec<&str> = ALLOWED_TYPES.iter().map(|(_, name)| *name).collect();
            ServiceError::Validation(vec![
                FieldError::new("file", "unsupported_type").with("allowed", allowed.join(", ")),
            ])
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_document(
        &self,
        actor: &Actor,
        app: &application::Model,
        upload: &Upload,
        file_name: &str,
        content_type: &str,
        sha256: &str,
        key: &str,
    ) -> Result<DocumentView> {
        let now = self.now();
        let tx = self.store().begin().await?;
        // The state again, under the write lock: a submission may have won.
        open_to_applicant(&moves::lock(&tx, app.id).await?)?;
        let document = NewDocument {
            application_id: app.id,
            evidence_id: &upload.evidence_id,
            file_name,
            content_type,
            size_bytes: upload.content.len() as i64,
            sha256,
            storage_key: key,
            uploaded_by: actor.account_id,
            at: now,
        };
        let row = store::insert_document(&tx, &document).await?;
        let v = view(&row, true);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            edit_action(
                actor,
                "application.document",
                "application.document_on_behalf",
            ),
            app.id,
            None::<&DocumentView>,
            Some(&v),
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }
}

/// Uploads a document for one of the programme's evidence items. Refused,
/// before anything is stored, when the item, the state, the size or the
/// type is wrong.
pub(super) async fn upload_document(
    s: &Services,
    actor: &Actor,
    application_id: i64,
    upload: &Upload,
) -> Result<DocumentView> {
    let app = moves::read(s, application_id).await?;
    authorize(actor, Action::Update, evidence_resource(&app))?;
    open_to_applicant(&app)?;
    let pack = s.pack();
    let programme = super::engine::programme_in(&pack, &app.programme)?;
    let content_type = s.check_upload(programme, upload)?;
    let file_name = clean_file_name(&upload.file_name)?;
    let sha256 = hex::encode(Sha256::digest(&upload.content));
    let key = format!(
        "applications/{application_id}/{}-{}",
        upload.evidence_id,
        crate::accounts::random_token(12)
    );
    let store = s.documents_store()?;
    let path = store.path(&key);
    store
        .objects
        .put(&path, upload.content.clone().into())
        .await
        .map_err(|e| ServiceError::Internal(Box::new(e)))?;
    let saved = s
        .record_document(actor, &app, upload, &file_name, content_type, &sha256, &key)
        .await;
    if saved.is_err() {
        // The row was not written: the content must not linger unnamed.
        if let Err(e) = store.objects.delete(&path).await {
            tracing::warn!(error = %e, key, "could not remove an unrecorded document");
        }
    }
    saved
}

/// A document's record and content, checked against its SHA-256.
pub(super) async fn document_content(
    s: &Services,
    actor: &Actor,
    application_id: i64,
    document_id: i64,
) -> Result<(DocumentView, Bytes)> {
    let db = s.store().db();
    let app = moves::read(s, application_id).await?;
    authorize(actor, Action::Read, resource(&app))?;
    let doc = store::document(db, application_id, document_id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "document" })?;
    let store = s.documents_store()?;
    let content = store
        .objects
        .get(&store.path(&doc.storage_key))
        .await
        .map_err(|e| ServiceError::Internal(Box::new(e)))?
        .bytes()
        .await
        .map_err(|e| ServiceError::Internal(Box::new(e)))?;
    if hex::encode(Sha256::digest(&content)) != doc.sha256 {
        return Err(ServiceError::Internal(
            format!("document {document_id} does not match its SHA-256").into(),
        ));
    }
    let current = store::documents(db, application_id)
        .await?
        .iter()
        .rev()
        .find(|d| d.evidence_id == doc.evidence_id)
        .is_some_and(|latest| latest.id == doc.id);
    Ok((view(&doc, current), content))
}

/// Documents as the application shows them: each marked current or
/// replaced by a later upload for the same item.
pub(crate) fn document_views(rows: &[application_document::Model]) -> Vec<DocumentView> {
    rows.iter()
        .enumerate()
        .map(|(i, d)| {
            let replaced = rows[i + 1..].iter().any(|l| l.evidence_id == d.evidence_id);
            view(d, !replaced)
        })
        .collect()
}

/// Replaces form fields of a draft or returned application; an empty
/// value clears a field.
pub(super) async fn update_form(
    s: &Services,
    actor: &Actor,
    application_id: i64,
    changes: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value> {
    let tx = s.store().begin().await?;
    let app = moves::lock(&tx, application_id).await?;
    authorize(actor, Action::Update, evidence_resource(&app))?;
    open_to_applicant(&app)?;
    let pack = s.pack();
    let programme = super::engine::programme_in(&pack, &app.programme)?;
    check_form(programme, changes)?;
    let before: serde_json::Value = serde_json::from_str(&app.form_data).unwrap_or_default();
    let mut form = before.as_object().cloned().unwrap_or_default();
    for (key, value) in changes {
        match value.as_str().map(str::trim) {
            Some("") => form.remove(key),
            Some(text) => form.insert(key.clone(), text.into()),
            None => None,
        };
    }
    let after = serde_json::Value::Object(form);
    let now = s.now();
    store::update_form_if_editable(&tx, &app, after.to_string(), now)
        .await?
        .ok_or_else(|| not_editable(&app))?;
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        edit_action(actor, "application.form", "application.form_on_behalf"),
        app.id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The audit action of an edit of the applicant's side: `on_behalf` when the
/// actor is not an applicant (an administrator; `authz` admits nobody else).
fn edit_action(actor: &Actor, own: &'static str, on_behalf: &'static str) -> &'static str {
    if actor.role == Role::Founder {
        own
    } else {
        on_behalf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_content() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Some("image/jpeg"));
        assert_eq!(sniff(b"MZ\x90\0 an executable"), None);
        assert_eq!(sniff(b"plain text that claims to be a PDF"), None);
    }

    #[test]
    fn file_names_lose_their_directories() {
        assert_eq!(
            clean_file_name("C:\\Users\\ana\\身份证.pdf").unwrap(),
            "身份证.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd").unwrap(), "passwd");
        assert!(clean_file_name("dir/").is_err());
        assert!(clean_file_name("a\u{0}b").is_err());
        for refused in [".", "..", "dir/..", "photo\u{202E}fdp.exe"] {
            assert!(clean_file_name(refused).is_err(), "{refused}");
        }
        assert!(clean_file_name(&"a".repeat(MAX_FILE_NAME_CHARS + 1)).is_err());
        assert!(clean_file_name(&"a".repeat(MAX_FILE_NAME_CHARS)).is_ok());
    }
}
