//! The rules every piece of text a client sends must meet, checked in one
//! place — the [`guard`] middleware, in front of every route of the API and
//! the portal — so that no handler, and no new route, can forget them:
//!
//! - no control characters (Unicode `Cc`) other than tab, line feed and
//!   carriage return: PostgreSQL cannot store NUL in text, and nothing a
//!   person types needs the others (`control_character`);
//! - a value that reads as a civil date (`YYYY-MM-DD`, or an instant) lies
//!   within [`opcity_domain::civil_date::MIN_DATE`]`..=`[`MAX_DATE`]
//!   (`out_of_range` with `min` and `max`), so date arithmetic downstream cannot overflow.
//!
//! It checks the query string (every parameter, by name), the path, and
//! JSON and form bodies (every string value, named by its path, e.g.
//! `person.full_name` or `ops[2].note`). A refusal is a 422 problem naming
//! the field (`invalid_query` or `invalid_body`), before any handler runs,
//! so nothing is written. Multipart uploads are checked where they are
//! read (`crate::upload::read_upload`: the file's name and every text part);
//! the JSON Lines batch's cases never reach the database.
//!
//! One parameter is left to its handler: a consultation's question `q`
//! ([`OWN_RULES`]), which is never stored and whose own, stricter check
//! refuses control characters with the issue's 400 (`question_not_text`).

use crate::AppState;
use crate::error::WebError;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use opcity_domain::civil_date::{MAX_DATE, MIN_DATE, in_range};
use opcity_services::ErrorCode;
use opcity_services::FieldError;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// What is wrong with `value`, if anything, as a field error on `field`.
pub fn check_text(field: &str, value: &str) -> Result<(), FieldError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(FieldError::new(field, "control_character"));
    }
    if let Some(date) = date_in(value)
        && !in_range(date)
    {
        return Err(FieldError::new(field, "out_of_range")
            .with("min", MIN_DATE)
            .with("max", MAX_DATE));
    }
    Ok(())
}

/// The civil date `value` names, when it reads as a date or an instant the
/// way the API's parsers read them.
fn date_in(value: &str) -> Option<NaiveDate> {
    let text = value.trim();
    // Cheap first: a date or instant starts with a digit or a sign.
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
        return None;
    }
    if let Ok(date) = text.parse::<NaiveDate>() {
        return Some(date);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.date_naive());
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|at| at.date())
}

/// Query parameters a route checks itself, by path: the consultation's
/// question (`opcity_consult::question::check`).
const OWN_RULES: [(&str, &str); 2] = [("/api/v1/consult", "q"), ("/consult", "q")];

/// Checks every parameter of a query string (or form body) but `own`, the
/// one its route checks itself.
fn check_pairs(encoded: &[u8], own: Option<&str>) -> Result<(), FieldError> {
    for (name, value) in form_urlencoded::parse(encoded) {
        check_text(&name, &name)?;
        if own != Some(name.as_ref()) {
            check_text(&name, &value)?;
        }
    }
    Ok(())
}

/// Checks every string of a JSON document, naming the first bad one by its
/// path. A document that is not JSON passes: the extractor says why.
pub fn check_json(bytes: &[u8]) -> Result<(), FieldError> {
    let mut found = None;
    let mut path = String::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = Walk {
        path: &mut path,
        found: &mut found,
    }
    .deserialize(&mut de);
    found.map_or(Ok(()), Err)
}

/// A visitor over any JSON value that records the first string breaking
/// [`check_text`], and stops there.
struct Walk<'a> {
    path: &'a mut String,
    found: &'a mut Option<FieldError>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Walk<'_> {
    fn refuse<E: de::Error>(self, error: FieldError) -> Result<(), E> {
        *self.found = Some(error);
        Err(E::custom("refused"))
    }

    fn string<E: de::Error>(self, v: &str) -> Result<(), E> {
        match check_text(self.path, v) {
            Ok(()) => Ok(()),
            Err(error) => self.refuse(error),
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.string(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let base = self.path.len();
        let mut index = 0usize;
        loop {
            self.path.truncate(base);
            self.path.push_str(&format!("[{index}]"));
            let item = Walk {
                path: &mut *self.path,
                found: &mut *self.found,
            };
            if seq.next_element_seed(item)?.is_none() {
                break;
            }
            index += 1;
        }
        self.path.truncate(base);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.path.len();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            self.path.truncate(base);
            if base > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            if let Err(error) = check_text(self.path, &key) {
                *self.found = Some(error);
                return Err(de::Error::custom("refused"));
            }
            map.next_value_seed(Walk {
                path: &mut *self.path,
                found: &mut *self.found,
            })?;
        }
        self.path.truncate(base);
        Ok(())
    }
}

/// The path with its percent escapes decoded (lossily, as text), when it
/// has any.
fn percent_decoded(path: &str) -> Option<String> {
    if !path.contains('%') {
        return None;
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?))
            .flatten();
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Whether the request's body is of this media type.
fn is_media(request: &Request, media: &str) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media))
}

/// Applies the rules above to every request before its handler.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let query = |error: FieldError| WebError::InvalidField {
        code: ErrorCode::InvalidQuery,
        error,
    };
    let own = OWN_RULES
        .iter()
        .find(|(path, _)| *path == request.uri().path())
        .map(|(_, name)| *name);
    if let Some(q) = request.uri().query()
        && let Err(error) = check_pairs(q.as_bytes(), own)
    {
        return query(error).into_response();
    }
    if let Some(path) = percent_decoded(request.uri().path())
        && let Err(error) = check_text("path", &path)
    {
        return WebError::InvalidField {
            code: ErrorCode::InvalidPath,
            error,
        }
        .into_response();
    }
    let json = is_media(&request, "application/json");
    let form = is_media(&request, "application/x-www-form-urlencoded");
    if !json && !form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, state.config.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => return WebError::PayloadTooLarge.into_response(),
    };
    let checked = if json {
        check_json(&bytes)
    } else {
        check_pairs(&bytes, None)
    };
    if let Err(error) = checked {
        return WebError::InvalidField {
            code: ErrorCode::InvalidBody,
            error,
        }
        .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_named() {
        assert!(check_text("q", "a\tb\r\nc 中文").is_ok());
        for bad in ["a\0b", "\u{1b}[31m", "\u{7f}", "\u{85}"] {
            let error = check_text("q", bad).unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.code),
                ("q", "control_character")
            );
        }
    }

    #[test]
    fn dates_must_be_in_range() {
        for ok in [
            "2026-05-01",
            "1900-01-01",
            "2999-12-31",
            "2026-05-01T09:00",
            "hello",
            "12",
        ] {
            assert!(check_text("d", ok).is_ok(), "{ok}");
        }
        for bad in [
            "-262143-01-01",
            "+262142-12-31",
            "0001-01-01",
            "3000-01-01",
            "-262143-01-01T00:00",
            "0200-01-01T09:00:00+08:00",
        ] {
            let error = check_text("d", bad).unwrap_err();
            assert_eq!(error.code, "out_of_range", "{bad}");
        }
    }

    #[test]
    fn paths_are_decoded() {
        assert_eq!(percent_decoded("/a/b"), None);
        assert_eq!(
            percent_decoded("/a%00b%zz%4").as_deref(),
            Some("/a\0b%zz%4")
        );
    }

    #[test]
    fn json_strings_are_named_by_path() {
        let field = |json: &str| check_json(json.as_bytes()).err().map(|e| e.field);
        assert_eq!(field(r#"{"a":"x","b":[1,"ok"]}"#), None);
        assert_eq!(
            field(r#"{"person":{"full_name":"a\u0000b"}}"#).as_deref(),
            Some("person.full_name")
        );
        assert_eq!(
            field(r#"{"ops":[{"x":1},{"on":"-262143-01-01"}]}"#).as_deref(),
            Some("ops[1].on")
        );
        assert_eq!(field(r#"["a","\u0001"]"#).as_deref(), Some("[1]"));
        assert_eq!(field("not json"), None);
    }
}
