//! Importing instruments (GPU servers, lab equipment), each checked as the
//! instrument form checks it; a community and a managing account named by
//! name; the booking rules' usual values where a cell is left empty (hourly
//! slots, no approval, 24 hours' notice, 15 minutes' grace). An
//! instrument's name does not repeat within its district.

use super::communities::Named;
use super::{Cells, Column, Importer, Key, RecordKind, normalise, optional, required};
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use crate::registry::Checker;
use crate::spaces::instruments::{InstrumentInput, listing_manager, validate_instrument};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_store::bulk;
use opcity_store::spaces::InstrumentFields;
use std::collections::HashMap;

pub(super) const COLUMNS: &[Column] = &[
    required("name"),
    required("kind"),
    required("institution"),
    required("opens"),
    required("closes"),
    required("open_days"),
    optional("district"),
    optional("community"),
    optional("manager"),
    optional("description"),
    optional("slot_minutes"),
    optional("quota_hours_week"),
    optional("requires_approval"),
    optional("cancel_notice_hours"),
    optional("no_show_grace_minutes"),
    optional("active"),
];

/// The booking rules where a file leaves them out.
const DEFAULT_SLOT_MINUTES: i64 = 60;
const DEFAULT_CANCEL_NOTICE_HOURS: i64 = 24;
const DEFAULT_NO_SHOW_GRACE_MINUTES: i64 = 15;

pub(super) struct Instruments {
    named: Named,
    managers: HashMap<String, i64>,
    /// (district, normalised name) → (id, name) of the instruments on file.
    names: HashMap<(String, String), (i64, String)>,
}

/// A whole number of a cell, or `default` when it is empty; one too large
/// for the form's field is kept at the field's bound, so that the form's
/// own range check names the allowed range.
fn small(c: &mut Checker, cells: &Cells<'_>, field: &str, default: Option<i64>) -> Option<i32> {
    let value = match cells.get(field) {
        Some(_) => cells.int(c, field)?,
        None => default?,
    };
    Some(i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX }))
}

impl Importer for Instruments {
    type Row = InstrumentFields;
    const KIND: RecordKind = RecordKind::Instruments;

    async fn prepare(s: &Services, rows: &[Cells<'_>]) -> Result<Self> {
        let usernames: Vec<String> = rows.iter().filter_map(|r| r.owned("manager")).collect();
        Ok(Instruments {
            named: Named::load(s).await?,
            managers: bulk::accounts_by_username(s.store().db(), &usernames).await?,
            names: bulk::instrument_names(s.store().db())
                .await?
                .into_iter()
                .map(|((d, n), id)| ((d, normalise(&n)), (id, n)))
                .collect(),
        })
    }

    fn check(
        &self,
        _: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        _: NaiveDate,
    ) -> std::result::Result<InstrumentFields, Vec<FieldError>> {
        let mut c = Checker::default();
        let (community, district) = self.named.site_or_push(&mut c, cells);
        let manager = cells.get("manager").and_then(|name| {
            let found = self.managers.get(name).copied();
            if found.is_none() {
                c.push(FieldError::new("manager", "unknown_account"));
            }
            found
        });
        let input = InstrumentInput {
            name: cells.text("name").to_owned(),
            kind: super::option_id(cells.get("kind"), "kind").unwrap_or_default(),
            institution: cells.text("institution").to_owned(),
            district,
            community_id: community.map(|(id, _)| id),
            manager_account_id: manager,
            description: cells.owned("description"),
            slot_minutes: small(&mut c, cells, "slot_minutes", Some(DEFAULT_SLOT_MINUTES))
                .unwrap_or(60),
            opens: cells.text("opens").to_owned(),
            closes: cells.text("closes").to_owned(),
            open_days: cells.text("open_days").to_owned(),
            quota_hours_week: small(&mut c, cells, "quota_hours_week", None),
            requires_approval: cells.flag(&mut c, "requires_approval").unwrap_or(false),
            cancel_notice_hours: small(
                &mut c,
                cells,
                "cancel_notice_hours",
                Some(DEFAULT_CANCEL_NOTICE_HOURS),
            )
            .unwrap_or(24),
            no_show_grace_minutes: small(
                &mut c,
                cells,
                "no_show_grace_minutes",
                Some(DEFAULT_NO_SHOW_GRACE_MINUTES),
            )
            .unwrap_or(15),
            active: cells.flag(&mut c, "active"),
        };
        let mut fields = super::checked(c, validate_instrument(&input, community.map(|(_, d)| d)))?;
        fields.manager_account_id = listing_manager(actor, manager);
        let target = Resource::Instrument {
            community_id: fields.community_id,
            manager: fields.manager_account_id,
        };
        let site = Resource::InstrumentSite {
            community_id: fields.community_id,
        };
        if !permits(actor, Action::Create, target) || !permits(actor, Action::Create, site) {
            return Err(vec![super::not_yours()]);
        }
        Ok(fields)
    }

    fn key(&self, row: &InstrumentFields) -> Option<Key> {
        Some(Key {
            held: None,
            field: "name",
            value: format!("{}/{}", row.district, normalise(&row.name)),
        })
    }

    async fn on_file(
        &self,
        _: &Services,
        _: &Actor,
        keys: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        Ok(super::held_in(keys, |district, name| {
            let (id, name) = self.names.get(&(district.to_owned(), name.to_owned()))?;
            Some(format!("{name} (#{id})"))
        }))
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<InstrumentFields>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let ids = bulk::insert(tx, rows, now).await.map_err(|err| match err {
            opcity_store::StoreError::ForeignKey(_) => {
                ServiceError::invalid("manager", "unknown_account")
            }
            other => other.into(),
        })?;
        Ok((ids, Affected::default()))
    }
}
