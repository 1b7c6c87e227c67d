//! Importing enterprises: each row checked as the enterprise form checks
//! it; its community named (in either language, in the row's district);
//! its founder named by resident id number, a person on file, linked as
//! legal representative. One enterprise per credit code.

use super::{Cells, Column, Importer, Key, RecordKind, optional, required};
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use crate::error::{FieldError, Result};
use crate::matching::Affected;
use crate::registry::Checker;
use crate::registry::enterprises::{EnterpriseInput, duplicate_uscc, fields, validate};
use crate::registry::persons::resident_id_error;
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::ResidentId;
use opcity_store::bulk;
use opcity_store::registry::{EnterpriseFields, LEGAL_REPRESENTATIVE};
use std::collections::HashMap;

pub(super) const COLUMNS: &[Column] = &[
    required("uscc"),
    required("name"),
    required("district"),
    optional("registered_date"),
    optional("community"),
    optional("size"),
    optional("ai_business"),
    optional("gov_deployed_product"),
    optional("demonstration_project"),
    optional("consortium_lead"),
    optional("founder_resident_id"),
];

pub(super) struct Enterprises {
    communities: super::communities::Named,
    /// Founders on file: resident id search hash → person id.
    founders: HashMap<String, i64>,
}

pub(super) struct Row {
    fields: EnterpriseFields,
    founder: Option<i64>,
}

impl Enterprises {
    /// The founder a row names, or why it names none that can be linked.
    fn founder(
        &self,
        s: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
    ) -> std::result::Result<Option<i64>, FieldError> {
        let Some(text) = cells.get("founder_resident_id") else {
            return Ok(None);
        };
        // As on the form, only the city's administrators name a founder:
        // the link gives the founder the enterprise's cases, and whether a
        // number is on file is not for others to learn.
        if actor.role != opcity_domain::Role::MunicipalAdmin {
            return Err(FieldError::new("founder_resident_id", "not_allowed"));
        }
        if text.contains('*') {
            return Err(FieldError::new("founder_resident_id", "masked_resident_id"));
        }
        let id = ResidentId::parse(text).map_err(|err| FieldError {
            field: "founder_resident_id".into(),
            ..resident_id_error(err)
        })?;
        let hash = s.data_key().search_hash(id.expose());
        match self.founders.get(&hash) {
            Some(&person) => Ok(Some(person)),
            None => Err(FieldError::new("founder_resident_id", "unknown_person")),
        }
    }
}

impl Importer for Enterprises {
    type Row = Row;
    const KIND: RecordKind = RecordKind::Enterprises;

    async fn prepare(s: &Services, rows: &[Cells<'_>]) -> Result<Self> {
        let hashes: Vec<String> = rows
            .iter()
            .filter_map(|r| ResidentId::parse(r.get("founder_resident_id")?).ok())
            .map(|id| s.data_key().search_hash(id.expose()))
            .collect();
        let founders = bulk::persons_by_resident_id_hash(s.store().db(), &hashes)
            .await?
            .into_iter()
            .map(|(hash, holder)| (hash, holder.id))
            .collect();
        Ok(Enterprises {
            communities: super::communities::Named::load(s).await?,
            founders,
        })
    }

    fn check(
        &self,
        s: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        today: NaiveDate,
    ) -> std::result::Result<Row, Vec<FieldError>> {
        let mut c = Checker::default();
        let district = super::district_id(cells.get("district")).unwrap_or_default();
        let community_id = match cells.get("community") {
            Some(name) => match self.communities.find(name, &district) {
                Ok(id) => Some(id),
                Err(error) => {
                    c.push(error);
                    None
                }
            },
            None => None,
        };
        let input = EnterpriseInput {
            uscc: cells.text("uscc").to_owned(),
            name: cells.text("name").to_owned(),
            registered_date: cells.owned("registered_date"),
            district,
            community_id,
            size: super::option_id(cells.get("size"), "size"),
            ai_business: cells.flag(&mut c, "ai_business"),
            gov_deployed_product: cells.flag(&mut c, "gov_deployed_product"),
            demonstration_project: cells.flag(&mut c, "demonstration_project"),
            consortium_lead: cells.flag(&mut c, "consortium_lead"),
            founder_person_id: None,
        };
        let founder = self.founder(s, actor, cells).unwrap_or_else(|error| {
            c.push(error);
            None
        });
        let valid = super::checked(c, validate(&input, today))?;
        let resource = Resource::Enterprise {
            id: None,
            district: valid.district,
            community_id,
        };
        if !permits(actor, Action::Create, resource) {
            return Err(vec![super::not_yours()]);
        }
        Ok(Row {
            fields: fields(&input, valid),
            founder,
        })
    }

    fn key(&self, row: &Row) -> Option<Key> {
        Some(Key {
            held: None,
            field: "uscc",
            value: row.fields.uscc.clone(),
        })
    }

    async fn on_file(
        &self,
        s: &Services,
        actor: &Actor,
        keys: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        let found = bulk::enterprises_by_uscc(s.store().db(), keys).await?;
        Ok(found
            .into_iter()
            .map(|(code, e)| {
                let district = e.district.as_deref().and_then(|d| d.parse().ok());
                let shown = district
                    .is_some_and(|district| {
                        let resource = Resource::Enterprise {
                            id: Some(e.id),
                            district,
                            community_id: e.community_id,
                        };
                        permits(actor, Action::Read, resource)
                    })
                    .then(|| format!("{} (#{})", e.name, e.id));
                (code, shown)
            })
            .collect())
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<Row>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let founders: Vec<(String, i64)> = rows
            .iter()
            .filter_map(|r| Some((r.fields.uscc.clone(), r.founder?)))
            .collect();
        let made = bulk::insert_enterprises(tx, rows.into_iter().map(|r| r.fields).collect(), now)
            .await
            .map_err(duplicate_uscc)?;
        let pairs: Vec<(i64, i64)> = founders
            .iter()
            .filter_map(|(code, person)| Some((*person, *made.get(code)?)))
            .collect();
        let ids: Vec<i64> = made.into_values().collect();
        bulk::link_founders(tx, &pairs, LEGAL_REPRESENTATIVE, now).await?;
        let affected = Affected {
            persons: pairs.iter().map(|(p, _)| *p).collect(),
            enterprises: ids.iter().copied().collect(),
        };
        Ok((ids, affected))
    }
}
