//! The portal's two steps: a previewed file is kept (in the document store,
//! under `imports/ACCOUNT/SHA256`) until its uploader confirms it, so the
//! file confirmed is byte for byte the file previewed, and nobody else can
//! confirm it. Confirming checks the file again against the records as
//! they are then, and writes it only if it is still clean.

use super::{ImportFile, ImportReport, RecordKind};
use crate::Services;
use crate::authz::Actor;
use crate::error::{Result, ServiceError};

fn key(actor: &Actor, sha256: &str) -> Result<String> {
    // The digest names a path: nothing but lower-case hex reaches it.
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(ServiceError::NotFound { entity: "import" });
    }
    Ok(format!("imports/{}/{sha256}", actor.account_id))
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
            self.documents_store()?
                .put(&key(actor, &report.sha256)?, file.content.clone())
                .await?;
        }
        Ok(report)
    }

    /// Imports the file `actor` previewed with digest `sha256`; `NotFound`
    /// when there is none (never previewed, already imported, or another's).
    pub async fn import_staged(
        &self,
        actor: &Actor,
        kind: RecordKind,
        sha256: &str,
        file_name: &str,
    ) -> Result<ImportReport> {
        let key = key(actor, sha256)?;
        let store = self.documents_store()?;
        let content = store
            .get(&key)
            .await?
            .ok_or(ServiceError::NotFound { entity: "import" })?;
        let file = ImportFile {
            file_name: file_name.to_owned(),
            content,
        };
        let report = self.import_records(actor, kind, &file).await?;
        if report.written {
            store.remove(&key).await;
        }
        Ok(report)
    }
}
