//! Reading a document upload from a `multipart/form-data` body: the text
//! fields (the evidence item, the page's CSRF token) and one file, read in
//! chunks and refused as soon as it passes the size limit, so an oversized
//! file is never held whole, let alone stored.

use crate::error::WebError;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::{Bytes, BytesMut};
use opcity_services::ErrorCode;
use opcity_services::applications::{DocumentView, Upload};
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

/// The most bytes of a text field read from a multipart body.
const MAX_TEXT_FIELD: usize = 4 * 1024;

/// A multipart upload: its text fields and the file part named `file`.
#[derive(Debug, Default)]
pub struct MultipartUpload {
    pub fields: HashMap<String, String>,
    pub file: Option<(String, Bytes)>,
}

impl MultipartUpload {
    /// The upload for the services, or `file: required` when no file came.
    pub fn into_upload(mut self) -> Result<Upload, ServiceError> {
        let (file_name, content) = self
            .file
            .take()
            .ok_or_else(|| ServiceError::invalid("file", "required"))?;
        Ok(Upload {
            evidence_id: self.fields.remove("evidence").unwrap_or_default(),
            file_name,
            content,
        })
    }
}

fn too_large(limit: usize) -> WebError {
    ServiceError::Validation(vec![
        FieldError::new("file", "file_too_large").with("max_mib", limit / (1024 * 1024)),
    ])
    .into()
}

fn malformed(err: &MultipartError) -> WebError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::PayloadTooLarge;
    }
    ServiceError::invalid("file", "malformed_upload").into()
}

/// The rules every input meets (`crate::input`), for a part's text or the
/// file's name: multipart bodies are read here rather than by the guard.
fn checked(field: &str, text: &str) -> Result<(), WebError> {
    crate::input::check_text(field, text).map_err(|error| WebError::InvalidField {
        code: ErrorCode::InvalidBody,
        error,
    })
}

/// A `multipart/form-data` body. A request that is not one (another content
/// type, or no boundary) is refused as a problem (`file: malformed_upload`)
/// like any other bad body, instead of axum's plain-text 400.
pub struct MultipartBody(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for MultipartBody {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Multipart::from_request(req, state)
            .await
            .map(MultipartBody)
            .map_err(|_| ServiceError::invalid("file", "malformed_upload").into())
    }
}

/// Reads the body, keeping at most `limit` bytes of the file.
pub async fn read_upload(
    mut multipart: Multipart,
    limit: usize,
) -> Result<MultipartUpload, WebError> {
    let mut upload = MultipartUpload::default();
    while let Some(mut field) = multipart.next_field().await.map_err(|e| malformed(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            // One document per upload: a second file part is refused, not
            // silently kept in place of the first.
            if upload.file.is_some() {
                return Err(ServiceError::invalid("file", "one_file_only").into());
            }
            let file_name = field.file_name().unwrap_or_default().to_owned();
            checked("file", &file_name)?;
            let mut content = BytesMut::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(limit)
                } else {
                    malformed(&e)
                }
            })? {
                if content.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                content.extend_from_slice(&chunk);
            }
            upload.file = Some((file_name, content.freeze()));
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| malformed(&e))? {
                if text.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(ServiceError::Validation(vec![
                        FieldError::new(name, "too_long").with("max", MAX_TEXT_FIELD),
                    ])
                    .into());
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text)
                .map_err(|_| WebError::from(ServiceError::invalid(name.clone(), "not_text")))?;
            checked(&name, &text)?;
            upload.fields.insert(name, text);
        }
    }
    Ok(upload)
}

/// The body limit for an upload route: the file plus room for the other
/// parts and the multipart framing.
pub fn body_limit(file_limit: usize) -> usize {
    file_limit + 64 * 1024
}

/// A stored document as a download: its type, an attachment disposition
/// with the original name (RFC 6266 / 5987 for non-ASCII names), its SHA-256
/// as `Repr-Digest`, and `nosniff` so browsers never reinterpret it.
pub fn document_response(view: &DocumentView, content: Bytes) -> Response {
    let ascii: String = view
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        urlencoding::encode(&view.file_name)
    );
    let digest = hex::decode(&view.sha256)
        .map(|raw| {
            format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        })
        .unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, view.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::HeaderName::from_static("repr-digest"), digest),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        content,
    )
        .into_response()
}
