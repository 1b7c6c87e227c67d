//! The portal's two steps: a previewed file is kept until its uploader
//! confirms it, so the file confirmed is byte for byte the file previewed.
//!
//! Each account has one slot (`imports/ACCOUNT` in the document store): a
//! new preview replaces the last, and nobody else can confirm it. The file
//! holds personal data, so it is kept encrypted with the data key (as
//! resident id numbers are), for [`STAGED_FOR`] at most, and removed when
//! confirmed. Confirming checks the file again against the records as they
//! are then; two confirmations of one file meet the import's unique
//! `(kind, sha256)` (`store::bulk::record_run`), so it is written once.

use super::{ImportFile, ImportReport, RecordKind};
use crate::Services;
use crate::authz::Actor;
use crate::error::{Result, ServiceError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

/// How long a preview may be confirmed.
pub const STAGED_FOR: chrono::Duration = chrono::Duration::hours(1);

/// What the slot holds (as JSON, encrypted).
#[derive(serde::Serialize, serde::Deserialize)]
struct Staged {
    kind: RecordKind,
    sha256: String,
    file_name: String,
    at: DateTime<Utc>,
    /// The file, base64.
    content: String,
}

fn slot(actor: &Actor) -> String {
    format!("imports/{}", actor.account_id)
}

fn expired() -> ServiceError {
    ServiceError::NotFound { entity: "import" }
}

impl Services {
    /// [`Services::preview_import`], keeping the file for
    /// [`Services::import_staged`] when no row has a problem.
    pub async fn stage_import(
        &self,
        actor: &Actor,
        kind: RecordKind,
        file: &ImportFile,
    ) -> Result<ImportReport> {
        let report = self.preview_import(actor, kind, file).await?;
        if report.accepted() {
            let staged = Staged {
                kind,
                sha256: report.sha256.clone(),
                file_name: report.file_name.clone(),
                at: self.now(),
                content: STANDARD.encode(&file.content),
            };
            let plain = serde_json::to_string(&staged).expect("a staged file serialises");
            let sealed = self.data_key().encrypt(&plain);
            self.documents_store()?
                .put(&slot(actor), sealed.into_bytes().into())
                .await?;
        }
        Ok(report)
    }

    /// Imports the file `actor` previewed as `kind` with digest `sha256`;
    /// `NotFound` when there is none (never previewed, replaced by another
    /// preview, already confirmed, older than [`STAGED_FOR`], or another's).
    /// The slot is emptied whatever the outcome: a file that no longer
    /// imports cleanly is corrected and previewed again.
    pub async fn import_staged(
        &self,
        actor: &Actor,
        kind: RecordKind,
        sha256: &str,
    ) -> Result<ImportReport> {
        let store = self.documents_store()?;
        let key = slot(actor);
        let sealed = store.get(&key).await?.ok_or_else(expired)?;
        let staged: Staged = std::str::from_utf8(&sealed)
            .ok()
            .and_then(|text| self.data_key().decrypt(text).ok())
            .and_then(|plain| serde_json::from_str(&plain).ok())
            .ok_or_else(expired)?;
        if staged.kind != kind || staged.sha256 != sha256 {
            return Err(expired());
        }
        store.remove(&key).await;
        if self.now() - staged.at > STAGED_FOR {
            return Err(expired());
        }
        let content = STANDARD.decode(&staged.content).map_err(|_| expired())?;
        let file = ImportFile {
            file_name: staged.file_name,
            content: content.into(),
        };
        self.import_records(actor, kind, &file).await
    }
}
