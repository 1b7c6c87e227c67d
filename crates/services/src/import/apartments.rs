//! Importing housing units (beds, rooms and apartments), each checked as
//! the housing unit form checks it; a community named by name (its
//! district is then the unit's); monthly market rent in yuan. A unit's
//! code does not repeat within its district (a database constraint).

use super::communities::Named;
use super::{Cells, Column, Importer, Key, RecordKind, optional, required};
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use crate::registry::Checker;
use crate::spaces::housing::{HousingUnitInput, validate_housing_unit};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_store::bulk;
use opcity_store::spaces::HousingUnitFields;
use std::collections::HashMap;

pub(super) const COLUMNS: &[Column] = &[
    required("code"),
    required("kind"),
    required("address"),
    required("area_m2"),
    required("market_rent_yuan"),
    optional("district"),
    optional("community"),
    optional("active"),
];

pub(super) struct Apartments {
    named: Named,
    codes: HashMap<(String, String), i64>,
}

impl Importer for Apartments {
    type Row = HousingUnitFields;
    const KIND: RecordKind = RecordKind::Apartments;

    async fn prepare(s: &Services, _: &[Cells<'_>]) -> Result<Self> {
        Ok(Apartments {
            named: Named::load(s).await?,
            codes: bulk::housing_unit_codes(s.store().db()).await?,
        })
    }

    fn check(
        &self,
        _: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        _: NaiveDate,
    ) -> std::result::Result<HousingUnitFields, Vec<FieldError>> {
        let mut c = Checker::default();
        let (community, district) = self.named.site_or_push(&mut c, cells);
        let input = HousingUnitInput {
            district,
            community_id: community.map(|(id, _)| id),
            address: cells.text("address").to_owned(),
            code: cells.text("code").to_owned(),
            kind: super::option_id(cells.get("kind"), "kind").unwrap_or_default(),
            area_m2: super::required_int(&mut c, cells, "area_m2"),
            market_rent_fen: super::required_yuan(&mut c, cells, "market_rent_yuan"),
            active: cells.flag(&mut c, "active"),
        };
        let fields = super::checked_renamed(
            c,
            validate_housing_unit(&input, community.map(|(_, d)| d)),
            &[("market_rent_fen", "market_rent_yuan")],
        )?;
        let resource = Resource::Premises {
            community_id: fields.community_id,
            district: fields.district.parse().expect("checked"),
        };
        if !permits(actor, Action::Create, resource) {
            return Err(vec![super::not_yours()]);
        }
        Ok(fields)
    }

    fn key(&self, row: &HousingUnitFields) -> Option<Key> {
        Some(Key {
            held: None,
            field: "code",
            value: format!("{}/{}", row.district, row.code),
        })
    }

    async fn on_file(
        &self,
        _: &Services,
        _: &Actor,
        keys: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        Ok(super::held_in(keys, |district, code| {
            let id = self.codes.get(&(district.to_owned(), code.to_owned()))?;
            Some(format!("{code} (#{id})"))
        }))
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<HousingUnitFields>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let ids = bulk::insert(tx, rows, now).await.map_err(|err| match err {
            opcity_store::StoreError::Unique(_) => ServiceError::Conflict {
                code: ErrorCode::HousingCodeTaken,
                field: Some("code"),
            },
            other => other.into(),
        })?;
        Ok((ids, Affected::default()))
    }
}
