//! Importing persons: each row checked as the person form checks it, the
//! resident id number sealed (ciphertext and search hash) before it is
//! compared or stored; one person per number, in the file and on file.

use super::{Cells, Column, Importer, Key, RecordKind, optional, required};
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use crate::error::{FieldError, Result};
use crate::matching::Affected;
use crate::registry::Checker;
use crate::registry::persons::{PersonInput, resident_id_taken, validate};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_store::bulk;
use opcity_store::registry::PersonFields;
use std::collections::HashMap;

pub(super) const COLUMNS: &[Column] = &[
    required("full_name"),
    optional("resident_id"),
    optional("birth_date"),
    optional("district"),
    optional("email"),
    optional("highest_degree"),
    optional("degree_date"),
    optional("overseas_degree"),
    optional("has_shenzhen_hukou"),
    optional("hukou_shenzhen_since"),
    optional("works_in_ai"),
    optional("kunpeng_selected"),
    optional("high_level_talent"),
];

pub(super) struct Persons;

/// The input a row stands for, with its yes/no cells read.
pub(super) fn input(c: &mut Checker, cells: &Cells<'_>) -> PersonInput {
    let resident_id = cells.owned("resident_id");
    // An export shows numbers masked; a mask is not a number to store.
    let resident_id = match resident_id {
        Some(text) if text.contains('*') => {
            c.push(FieldError::new("resident_id", "masked_resident_id"));
            None
        }
        other => other,
    };
    PersonInput {
        full_name: cells.text("full_name").to_owned(),
        district: super::district_id(cells.get("district")),
        email: cells.owned("email"),
        birth_date: cells.owned("birth_date"),
        highest_degree: super::option_id(cells.get("highest_degree"), "highest_degree"),
        degree_date: cells.owned("degree_date"),
        overseas_degree: cells.flag(c, "overseas_degree"),
        has_shenzhen_hukou: cells.flag(c, "has_shenzhen_hukou"),
        hukou_shenzhen_since: cells.owned("hukou_shenzhen_since"),
        works_in_ai: cells.flag(c, "works_in_ai"),
        kunpeng_selected: cells.flag(c, "kunpeng_selected"),
        high_level_talent: cells.flag(c, "high_level_talent"),
        resident_id,
        account_id: None,
    }
}

impl Importer for Persons {
    type Row = PersonFields;
    const KIND: RecordKind = RecordKind::Persons;

    async fn prepare(_: &Services, _: &[Cells<'_>]) -> Result<Self> {
        Ok(Persons)
    }

    fn check(
        &self,
        s: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        today: NaiveDate,
    ) -> std::result::Result<PersonFields, Vec<FieldError>> {
        let mut c = Checker::default();
        let input = input(&mut c, cells);
        let valid = super::checked(c, validate(&input, today))?;
        let district = valid.district;
        if !permits(
            actor,
            Action::Create,
            Resource::Person { id: None, district },
        ) {
            return Err(vec![super::not_yours()]);
        }
        Ok(s.person_fields(&input, valid))
    }

    fn key(&self, row: &PersonFields) -> Option<Key> {
        row.resident_id.as_ref().map(|sealed| Key {
            held: None,
            field: "resident_id",
            value: sealed.hash.clone(),
        })
    }

    async fn on_file(
        &self,
        s: &Services,
        actor: &Actor,
        keys: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        let found = bulk::persons_by_resident_id_hash(s.store().db(), keys).await?;
        Ok(found
            .into_iter()
            .map(|(hash, p)| {
                // Whose number it is is personal data: named only to those
                // who may read that person, as the form only says "taken".
                let resource = Resource::Person {
                    id: Some(p.id),
                    district: p.district.as_deref().and_then(|d| d.parse().ok()),
                };
                let shown = permits(actor, Action::Read, resource)
                    .then(|| format!("{} (#{})", p.name, p.id));
                (hash, shown)
            })
            .collect())
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<PersonFields>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let ids = bulk::insert(tx, rows, now).await.map_err(|err| match err {
            err if err.is_unique_on("resident_id_hash") => resident_id_taken(),
            err => err.into(),
        })?;
        let affected = Affected {
            persons: ids.iter().copied().collect(),
            ..Default::default()
        };
        Ok((ids, affected))
    }
}
