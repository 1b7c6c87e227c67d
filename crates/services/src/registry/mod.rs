//! The registry: OPC communities, persons and enterprises, and the founder
//! link between them.

pub mod communities;
pub mod enterprises;
mod permissions;
pub mod persons;
pub mod picking;

use crate::error::FieldError;
use chrono::NaiveDate;
use opcity_domain::District;

/// Which page of a list: 1-based, at most [`Paging::MAX_PER_PAGE`] a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    pub const MAX_PER_PAGE: u64 = 100;

    /// A paging request clamped to sane bounds.
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Paging {
        Paging {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub(crate) fn offset(self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// The store's page of a list.
    pub(crate) fn store_page(self) -> opcity_store::registry::Page {
        opcity_store::registry::Page {
            offset: self.offset(),
            limit: self.per_page,
        }
    }
}

/// The store's scope of a list for an authorisation scope.
pub(crate) fn store_scope(scope: crate::authz::ListScope) -> opcity_store::registry::Scope {
    use crate::authz::ListScope;
    use opcity_store::registry::Scope;
    match scope {
        ListScope::All => Scope::All,
        ListScope::District(d) => Scope::District(d.id().to_owned()),
        ListScope::Ids(ids) => Scope::Ids(ids),
        ListScope::Communities(ids) => Scope::Communities(ids),
        ListScope::Nothing => Scope::Nothing,
    }
}

impl Default for Paging {
    fn default() -> Self {
        Paging::new(None, None)
    }
}

/// One page of a list with the total count, for page navigation.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

/// Filters shared by the registry lists.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub district: Option<District>,
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
}

/// Collects field errors while parsing an input, so that one response names
/// every invalid field at once.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    pub fn required_text(&mut self, field: &str, value: &str, max_chars: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.push(FieldError::new(field, "required"));
        } else if trimmed.chars().count() > max_chars {
            self.push(FieldError::new(field, "too_long").with("max", max_chars));
        }
        trimmed.to_owned()
    }

    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max_chars: usize,
    ) -> Option<String> {
        let trimmed = value.map(str::trim).filter(|v| !v.is_empty())?;
        if trimmed.chars().count() > max_chars {
            self.push(FieldError::new(field, "too_long").with("max", max_chars));
        }
        Some(trimmed.to_owned())
    }

    pub fn district(&mut self, field: &str, value: &str) -> Option<District> {
        match value.trim().parse() {
            Ok(d) => Some(d),
            Err(_) if value.trim().is_empty() => {
                self.push(FieldError::new(field, "required"));
                None
            }
            Err(_) => {
                self.push(FieldError::new(field, "unknown_district").with("value", value.trim()));
                None
            }
        }
    }

    /// A civil date `YYYY-MM-DD` between 1900-01-01 and `latest`.
    pub fn date(
        &mut self,
        field: &str,
        value: Option<&str>,
        latest: NaiveDate,
    ) -> Option<NaiveDate> {
        let text = value.map(str::trim).filter(|v| !v.is_empty())?;
        let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") else {
            self.push(FieldError::new(field, "invalid_date").with("value", text));
            return None;
        };
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid");
        if date < earliest || date > latest {
            self.push(
                FieldError::new(field, "date_out_of_range")
                    .with("value", text)
                    .with("latest", latest),
            );
            return None;
        }
        Some(date)
    }

    pub fn one_of(&mut self, field: &str, value: Option<&str>, allowed: &[&str]) -> Option<String> {
        let text = value.map(str::trim).filter(|v| !v.is_empty())?;
        if allowed.contains(&text) {
            Some(text.to_owned())
        } else {
            self.push(FieldError::new(field, "not_one_of").with("allowed", allowed.join(", ")));
            None
        }
    }

    pub fn finish(self) -> Result<(), crate::ServiceError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(crate::ServiceError::Validation(self.errors))
        }
    }
}

pub const DEGREES: [&str; 5] = ["none", "associate", "bachelor", "master", "doctorate"];
pub const SIZES: [&str; 4] = ["micro", "small", "medium", "large"];

impl crate::Services {
    /// Ends a write of a person's or an enterprise's facts: its audit entry
    /// (`change`, see [`crate::change`]), the entitlements of the subject
    /// whose facts changed (in the same transaction, so results never lag
    /// the facts), then the commit.
    pub(crate) async fn commit_fact_change(
        &self,
        tx: opcity_store::WriteTx,
        now: chrono::DateTime<chrono::Utc>,
        change: opcity_store::audit::Change<'_>,
        subject: crate::matching::Affected,
    ) -> crate::error::Result<()> {
        opcity_store::audit::append(&tx, now, change).await?;
        let today = opcity_domain::today_in_shanghai(now);
        self.refresh_entitlements(&tx, subject, today).await?;
        tx.commit().await?;
        Ok(())
    }
}
