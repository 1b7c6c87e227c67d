//! Importing OPC communities: each row checked as the community form
//! checks it, its operator's account named by username; a community's
//! Chinese name does not repeat within its district.

use super::{Cells, Column, Importer, Key, RecordKind, normalise, optional, required};
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use crate::error::{FieldError, Result};
use crate::matching::Affected;
use crate::registry::Checker;
use crate::registry::communities::{CommunityInput, fields, unknown_operator, validate};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::District;
use opcity_store::bulk;
use opcity_store::registry::CommunityFields;
use std::collections::HashMap;

pub(super) const COLUMNS: &[Column] = &[
    required("name_zh"),
    required("name_en"),
    required("district"),
    required("address"),
    required("area_m2"),
    required("operator_name"),
    optional("operator"),
    optional("opened_on"),
];

/// The communities on file, found by name in either language.
pub(super) struct Named {
    /// Normalised name → (district id, community id, Chinese name) of each
    /// community so called.
    by_name: HashMap<String, Vec<(String, i64, String)>>,
}

impl Named {
    pub(super) async fn load(s: &Services) -> Result<Named> {
        let mut by_name: HashMap<String, Vec<(String, i64, String)>> = HashMap::new();
        for c in bulk::communities(s.store().db()).await? {
            for name in [&c.name_zh, &c.name_en] {
                let entry = by_name.entry(normalise(name)).or_default();
                if !entry.iter().any(|(_, id, _)| *id == c.id) {
                    entry.push((c.district.clone(), c.id, c.name_zh.clone()));
                }
            }
        }
        Ok(Named { by_name })
    }

    /// The community called `name` in `district`, or why there is none.
    pub(super) fn find(&self, name: &str, district: &str) -> std::result::Result<i64, FieldError> {
        self.locate(name, Some(district)).map(|(id, _)| id)
    }

    /// The community called `name` (in `district`, when one is given) and
    /// its district, or why there is none: unknown, in another district, or
    /// a name two districts share while no district is given.
    pub(super) fn locate(
        &self,
        name: &str,
        district: Option<&str>,
    ) -> std::result::Result<(i64, String), FieldError> {
        let found = self
            .by_name
            .get(&normalise(name))
            .map_or(&[][..], Vec::as_slice);
        let here: Vec<_> = found
            .iter()
            .filter(|(d, _, _)| district.is_none_or(|wanted| d == wanted))
            .collect();
        match (here.as_slice(), found.first()) {
            ([(d, id, _)], _) => Ok((*id, d.clone())),
            ([], Some((other, _, _))) => {
                Err(FieldError::new("community", "community_district_mismatch")
                    .with("district", other))
            }
            ([], None) => Err(FieldError::new("community", "unknown_community")),
            (_, _) => Err(FieldError::new("community", "community_ambiguous")),
        }
    }

    /// The site a row names: its community (by name, in the row's district
    /// when it gives one) with that community's district, or its district.
    pub(super) fn site(
        &self,
        cells: &Cells<'_>,
    ) -> std::result::Result<(Option<i64>, String), FieldError> {
        let district = super::district_id(cells.get("district")).unwrap_or_default();
        match cells.get("community") {
            Some(name) => {
                let wanted = Some(district.as_str()).filter(|d| !d.is_empty());
                self.locate(name, wanted).map(|(id, d)| (Some(id), d))
            }
            None => Ok((None, district)),
        }
    }

    /// [`Named::site`] as a form's input takes it: the community (with its
    /// district, as the form's validation expects it) and the district
    /// text, the reason a community named is not found kept in `c`.
    pub(super) fn site_or_push(
        &self,
        c: &mut Checker,
        cells: &Cells<'_>,
    ) -> (Option<(i64, Option<District>)>, String) {
        match self.site(cells) {
            Ok((Some(id), district)) => (Some((id, district.parse().ok())), district),
            Ok((None, district)) => (None, district),
            Err(error) => {
                c.push(error);
                (
                    None,
                    super::district_id(cells.get("district")).unwrap_or_default(),
                )
            }
        }
    }

    /// The Chinese name of the community `district`/`normalised name`, if on file.
    fn on_file(&self, district: &str, name: &str) -> Option<String> {
        self.by_name
            .get(name)?
            .iter()
            .find(|(d, _, _)| d == district)
            .map(|(_, id, zh)| format!("{zh} (#{id})"))
    }
}

pub(super) struct Communities {
    named: Named,
    operators: HashMap<String, i64>,
}

impl Importer for Communities {
    type Row = CommunityFields;
    const KIND: RecordKind = RecordKind::Communities;

    async fn prepare(s: &Services, rows: &[Cells<'_>]) -> Result<Self> {
        let usernames: Vec<String> = rows.iter().filter_map(|r| r.owned("operator")).collect();
        Ok(Communities {
            named: Named::load(s).await?,
            operators: bulk::accounts_by_username(s.store().db(), &usernames).await?,
        })
    }

    fn check(
        &self,
        _: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        today: NaiveDate,
    ) -> std::result::Result<CommunityFields, Vec<FieldError>> {
        let mut c = Checker::default();
        let area_m2 = super::required_int(&mut c, cells, "area_m2");
        let operator_account_id = cells.get("operator").and_then(|name| {
            let found = self.operators.get(name).copied();
            if found.is_none() {
                c.push(FieldError::new("operator", "unknown_account"));
            }
            found
        });
        let input = CommunityInput {
            name_zh: cells.text("name_zh").to_owned(),
            name_en: cells.text("name_en").to_owned(),
            district: super::district_id(cells.get("district")).unwrap_or_default(),
            address: cells.text("address").to_owned(),
            area_m2,
            operator_name: cells.text("operator_name").to_owned(),
            operator_account_id,
            opened_on: cells.owned("opened_on"),
        };
        let valid = super::checked(c, validate(&input, today))?;
        let resource = Resource::Community {
            id: None,
            district: valid.district,
        };
        if !permits(actor, Action::Create, resource) {
            return Err(vec![super::not_yours()]);
        }
        Ok(fields(valid))
    }

    fn key(&self, row: &CommunityFields) -> Option<Key> {
        Some(Key {
            held: None,
            field: "name_zh",
            value: format!("{}/{}", row.district, normalise(&row.name_zh)),
        })
    }

    async fn on_file(
        &self,
        _: &Services,
        _: &Actor,
        keys: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        Ok(super::held_in(keys, |district, name| {
            self.named.on_file(district, name)
        }))
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<CommunityFields>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let ids = bulk::insert(tx, rows, now)
            .await
            .map_err(unknown_operator)?;
        Ok((ids, Affected::default()))
    }
}
