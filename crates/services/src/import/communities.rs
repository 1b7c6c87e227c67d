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

/// The communities on file, found by name in either language within a district.
pub(super) struct Named {
    /// (district id, normalised name) → community id.
    by_name: HashMap<(String, String), i64>,
    /// Normalised name → the district ids having a community of that name.
    districts: HashMap<String, Vec<String>>,
}

impl Named {
    pub(super) async fn load(s: &Services) -> Result<Named> {
        let mut named = Named {
            by_name: HashMap::new(),
            districts: HashMap::new(),
        };
        for c in bulk::communities(s.store().db()).await? {
            for name in [&c.name_zh, &c.name_en] {
                let name = normalise(name);
                named
                    .by_name
                    .insert((c.district.clone(), name.clone()), c.id);
                named
                    .districts
                    .entry(name)
                    .or_default()
                    .push(c.district.clone());
            }
        }
        Ok(named)
    }

    /// The community called `name` in `district`, or why there is none.
    pub(super) fn find(&self, name: &str, district: &str) -> std::result::Result<i64, FieldError> {
        let name = normalise(name);
        if let Some(&id) = self.by_name.get(&(district.to_owned(), name.clone())) {
            return Ok(id);
        }
        match self.districts.get(&name).and_then(|d| d.first()) {
            Some(other) => {
                Err(FieldError::new("community", "community_district_mismatch")
                    .with("district", other))
            }
            None => Err(FieldError::new("community", "unknown_community")),
        }
    }
}

pub(super) struct Communities {
    named: Named,
    operators: HashMap<String, i64>,
}

impl Importer for Communities {
    type Row = CommunityFields;
    const KIND: RecordKind = RecordKind::Communities;
    const ACTION: &'static str = "community.import";

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
        let area_m2 = match cells.get("area_m2") {
            Some(_) => cells.int(&mut c, "area_m2"),
            None => {
                c.push(FieldError::new("area_m2", "required"));
                None
            }
        };
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
            // A missing or unreadable area is reported above; the form's
            // range check then has nothing more to say about it.
            area_m2: area_m2.unwrap_or(1),
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
            field: "name_zh",
            value: format!("{}/{}", row.district, normalise(&row.name_zh)),
        })
    }

    async fn on_file(&self, s: &Services, keys: &[String]) -> Result<HashMap<String, String>> {
        let _ = s;
        Ok(keys
            .iter()
            .filter_map(|key| {
                let (district, name) = key.split_once('/')?;
                let id = self
                    .named
                    .by_name
                    .get(&(district.to_owned(), name.to_owned()))?;
                Some((key.clone(), format!("#{id}")))
            })
            .collect())
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<CommunityFields>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let ids = bulk::insert_communities(tx, rows, now)
            .await
            .map_err(unknown_operator)?;
        Ok((ids, Affected::default()))
    }
}
