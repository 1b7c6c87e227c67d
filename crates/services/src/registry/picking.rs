//! Picking a person or an enterprise by what staff type: a name or part of
//! it, a credit code or resident id number, or a picker's suggestion
//! (`深圳智元科技 · #12`), so that no form asks for a database number.
//!
//! A suggestion names its record by number; anything else is searched in
//! what the viewer may read, and must match exactly one record. No match and
//! several matches are field errors (`no_match`, `ambiguous` with `count`)
//! beside the field that was typed.

use super::{ListFilter, Paging};
use crate::Services;
use crate::authz::Actor;
use crate::error::{FieldError, Result, ServiceError};

/// The most suggestions a picker offers; anything else is found by typing.
pub const SUGGESTIONS: u64 = Paging::MAX_PER_PAGE;

/// What a picker's field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Typed<'a> {
    /// A suggestion or a number written `#12`.
    Number(i64),
    Text(&'a str),
}

/// Reads a picker's value: a trailing `#N` (after a suggestion's label or
/// alone) names record N; anything else is text to search for.
fn typed(raw: &str) -> Option<Typed<'_>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let number = raw
        .rsplit_once('#')
        .filter(|(label, _)| label.is_empty() || label.trim_end().ends_with('·'))
        .and_then(|(_, n)| n.trim().parse().ok());
    Some(number.map_or(Typed::Text(raw), Typed::Number))
}

/// A suggestion's text for a record: its label, then its number.
pub fn suggestion(label: &str, id: i64) -> String {
    format!("{label} · #{id}")
}

/// The record among `known` that `raw` names by its suggestion or its
/// number: a page's own suggestions, drawn from lists the viewer was shown
/// (a queue's applicants, say), pick without a registry search.
pub fn among(raw: &str, known: &[Suggestion]) -> Option<i64> {
    let raw = raw.trim();
    let number = match typed(raw)? {
        Typed::Number(n) => Some(n),
        Typed::Text(_) => None,
    };
    known
        .iter()
        .find(|k| k.value == raw || number == Some(k.id))
        .map(|k| k.id)
}

/// One record as a picker suggests it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub id: i64,
    /// What the field holds when it is chosen ([`suggestion`]).
    pub value: String,
}

impl Services {
    /// The enterprise that `raw` names among those `actor` may read; errors
    /// are `field`'s. `None` when nothing was typed.
    pub async fn pick_enterprise(
        &self,
        actor: &Actor,
        field: &'static str,
        raw: &str,
    ) -> Result<Option<i64>> {
        self.pick(actor, Register::Enterprises, (field, raw)).await
    }

    /// The person that `raw` names among those `actor` may read (a whole
    /// resident id number finds its person exactly); errors are `field`'s.
    /// `None` when nothing was typed.
    pub async fn pick_person(
        &self,
        actor: &Actor,
        field: &'static str,
        raw: &str,
    ) -> Result<Option<i64>> {
        self.pick(actor, Register::Persons, (field, raw)).await
    }

    /// The record of `register` that `raw` names: by number, else by a
    /// search that must find one; `field`'s error when none or several
    /// match.
    async fn pick(
        &self,
        actor: &Actor,
        register: Register,
        (field, raw): (&'static str, &str),
    ) -> Result<Option<i64>> {
        let Some(typed) = typed(raw) else {
            return Ok(None);
        };
        let result = match typed {
            Typed::Number(id) => self.readable(actor, register, id).await,
            Typed::Text(text) => match self.search(actor, register, text).await {
                Ok(Found::Number(id)) => self.readable(actor, register, id).await,
                other => other,
            },
        };
        one(field, raw, result).map(Some)
    }

    /// Record `id` of `register`, once `actor` may read it.
    async fn readable(&self, actor: &Actor, register: Register, id: i64) -> Result<Found> {
        let id = match register {
            Register::Persons => self.get_person(actor, id).await?.id,
            Register::Enterprises => self.get_enterprise(actor, id).await?.id,
        };
        Ok(Found::One(id))
    }

    /// What a search of `register` for `text` finds among what `actor` may
    /// read.
    async fn search(&self, actor: &Actor, register: Register, text: &str) -> Result<Found> {
        let filter = ListFilter {
            district: None,
            q: Some(text.to_owned()),
        };
        let one = Paging::new(None, Some(1));
        let (first, total) = match register {
            Register::Persons => {
                let page = self.list_persons(actor, &filter, one).await?;
                (page.items.first().map(|p| p.id), page.total)
            }
            Register::Enterprises => {
                let page = self.list_enterprises(actor, &filter, one).await?;
                (page.items.first().map(|e| e.id), page.total)
            }
        };
        Ok(found(first, total, text))
    }

    /// The enterprises a picker suggests to `actor`: the first
    /// [`SUGGESTIONS`] it may read, by name.
    pub async fn enterprise_suggestions(&self, actor: &Actor) -> Result<Vec<Suggestion>> {
        let page = self
            .list_enterprises(
                actor,
                &ListFilter::default(),
                Paging::new(None, Some(SUGGESTIONS)),
            )
            .await?;
        Ok(page
            .items
            .iter()
            .map(|e| Suggestion {
                id: e.id,
                value: suggestion(&e.name, e.id),
            })
            .collect())
    }
}

/// The register a picker searches.
#[derive(Debug, Clone, Copy)]
enum Register {
    Persons,
    Enterprises,
}

/// What a search for a picker's value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    One(i64),
    Nothing,
    Several(u64),
    /// Nothing by name, but the text is a whole number: the record with
    /// that number (typed without its `#`), if the viewer may read it.
    Number(i64),
}

/// What a search whose first hit is `first`, of `total`, found for `text`.
fn found(first: Option<i64>, total: u64, text: &str) -> Found {
    match (first, total) {
        (_, 0) => text.parse().map_or(Found::Nothing, Found::Number),
        (Some(id), 1) => Found::One(id),
        (None, 1) => Found::Nothing,
        (_, many) => Found::Several(many),
    }
}

/// The one id found, or `field`'s error saying none or how many matched.
/// A number that names nothing readable is no match: whether a record the
/// viewer may not read exists is not told.
fn one(field: &'static str, raw: &str, found: Result<Found>) -> Result<i64> {
    let found = match found {
        Ok(found) => found,
        Err(ServiceError::NotFound { .. } | ServiceError::Forbidden) => Found::Nothing,
        Err(e) => return Err(e),
    };
    let typed = raw.trim();
    match found {
        Found::One(id) => Ok(id),
        Found::Nothing | Found::Number(_) => Err(ServiceError::Validation(vec![
            FieldError::new(field, "no_match").with("typed", typed),
        ])),
        Found::Several(count) => Err(ServiceError::Validation(vec![
            FieldError::new(field, "ambiguous")
                .with("typed", typed)
                .with("count", count),
        ])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggestion_names_its_record_and_anything_else_is_searched() {
        assert_eq!(typed("深圳智元科技 · #12"), Some(Typed::Number(12)));
        assert_eq!(typed(&suggestion("A # B", 7)), Some(Typed::Number(7)));
        assert_eq!(typed("#12"), Some(Typed::Number(12)));
        assert_eq!(typed("  # 12 "), Some(Typed::Number(12)));
        assert_eq!(typed("智元"), Some(Typed::Text("智元")));
        assert_eq!(typed("Studio #1"), Some(Typed::Text("Studio #1")));
        assert_eq!(typed("12"), Some(Typed::Text("12")));
        assert_eq!(typed("   "), None);
    }

    #[test]
    fn a_page_picks_among_its_own_suggestions_by_value_or_number() {
        let known = [Suggestion {
            id: 4,
            value: suggestion("陈思远", 4),
        }];
        assert_eq!(among("陈思远 · #4", &known), Some(4));
        assert_eq!(among("#4", &known), Some(4));
        assert_eq!(among("#5", &known), None);
        assert_eq!(among("陈思远", &known), None, "a name alone is searched");
        assert_eq!(among("", &known), None);
    }

    #[test]
    fn a_bare_number_counts_only_when_no_name_holds_it() {
        assert_eq!(found(None, 0, "12"), Found::Number(12));
        assert_eq!(found(None, 0, "智元"), Found::Nothing);
        assert_eq!(found(Some(5), 1, "12"), Found::One(5));
        assert_eq!(found(Some(5), 3, "a"), Found::Several(3));
    }
}
