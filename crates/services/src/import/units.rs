//! Importing space units (desks, offices, floors to let), each checked as
//! the unit form checks it, with rents in yuan. A row names its site (a
//! community by name, or a district), its building by name and its floor
//! by level: buildings and floors not on file yet are added with the
//! units (a new building needs its address). A unit's code does not
//! repeat on its floor (a database constraint).

use super::communities::Named;
use super::{Cells, Column, Importer, Key, RecordKind, normalise, optional, required};
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use crate::registry::Checker;
use crate::spaces::inventory::{UnitInput, unit_code_taken, unit_fields};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_store::bulk::{self, NewUnit};
use opcity_store::spaces::{self, UnitFields};
use std::collections::HashMap;

pub(super) const COLUMNS: &[Column] = &[
    required("building"),
    required("floor_level"),
    required("code"),
    required("kind"),
    required("area_m2"),
    required("capacity"),
    required("list_rent_yuan"),
    required("discounted_rent_yuan"),
    optional("district"),
    optional("community"),
    optional("building_address"),
    optional("floor_label"),
    optional("active"),
];

/// Where a building stands: its community (if any) and district.
type Site = (Option<i64>, String);

pub(super) struct Units {
    named: Named,
    /// (site, normalised name) → building id.
    buildings: HashMap<(Site, String), i64>,
    /// (building id, level) → floor id.
    floors: HashMap<(i64, i32), i64>,
    /// The buildings not on file that some row of the file gives an
    /// address for: (site, normalised name) → the first address given.
    addressed: HashMap<(Site, String), String>,
    codes: HashMap<(i64, String), i64>,
}

pub(super) struct Row {
    site: Site,
    building: String,
    building_address: String,
    level: i32,
    floor_label: String,
    fields: UnitFields,
}

impl Units {
    fn floor_on_file(&self, row: &Row) -> Option<i64> {
        let building = self
            .buildings
            .get(&(row.site.clone(), normalise(&row.building)))?;
        self.floors.get(&(*building, row.level)).copied()
    }
}

impl Importer for Units {
    type Row = Row;
    const KIND: RecordKind = RecordKind::Units;

    async fn prepare(s: &Services, rows: &[Cells<'_>]) -> Result<Self> {
        let db = s.store().db();
        let (buildings, floors) = bulk::buildings_and_floors(db).await?;
        let named = Named::load(s).await?;
        let mut addressed = HashMap::new();
        for row in rows {
            let (Some(building), Some(address)) =
                (row.get("building"), row.get("building_address"))
            else {
                continue;
            };
            if let Ok(site) = named.site(row) {
                addressed
                    .entry((site, normalise(building)))
                    .or_insert_with(|| address.to_owned());
            }
        }
        Ok(Units {
            named,
            addressed,
            buildings: buildings
                .into_iter()
                .map(|b| (((b.community_id, b.district), normalise(&b.name)), b.id))
                .collect(),
            floors: floors
                .into_iter()
                .map(|f| ((f.building_id, f.level), f.id))
                .collect(),
            codes: bulk::unit_codes(db).await?,
        })
    }

    fn check(
        &self,
        _: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        _: NaiveDate,
    ) -> std::result::Result<Row, Vec<FieldError>> {
        let mut c = Checker::default();
        let (community_id, district) = self.named.site(cells).unwrap_or_else(|error| {
            c.push(error);
            (None, String::new())
        });
        let parsed_district = if c.errors.is_empty() {
            c.district("district", &district)
        } else {
            None
        };
        let building = c.required_text("building", cells.text("building"), 200);
        let level = super::required_int(&mut c, cells, "floor_level");
        if !(-10..=300).contains(&level) {
            c.push(
                FieldError::new("floor_level", "out_of_range")
                    .with("min", -10)
                    .with("max", 300),
            );
        }
        let level = i32::try_from(level).unwrap_or_default();
        let site: Site = (community_id, district);
        let known = (site.clone(), normalise(&building));
        // As the building and floor forms check them.
        c.optional_text("building_address", cells.get("building_address"), 300);
        c.optional_text("floor_label", cells.get("floor_label"), 100);
        let building_address = match self.addressed.get(&known) {
            Some(address) => address.clone(),
            None if self.buildings.contains_key(&known) || building.is_empty() => String::new(),
            None => {
                c.push(FieldError::new("building_address", "required"));
                String::new()
            }
        };
        let floor_label = cells
            .owned("floor_label")
            .unwrap_or_else(|| format!("{level}F"));
        let input = UnitInput {
            floor_id: 0,
            kind: super::option_id(cells.get("kind"), "kind").unwrap_or_default(),
            code: cells.text("code").to_owned(),
            area_m2: super::required_int(&mut c, cells, "area_m2"),
            capacity: i32::try_from(super::required_int(&mut c, cells, "capacity")).unwrap_or(-1),
            list_rent_fen: super::required_yuan(&mut c, cells, "list_rent_yuan"),
            discounted_rent_fen: super::required_yuan(&mut c, cells, "discounted_rent_yuan"),
            active: cells.flag(&mut c, "active"),
        };
        let mut unit = Checker::default();
        let (kind, code) = Services::check_unit(&mut unit, &input);
        let renames = [
            ("list_rent_fen", "list_rent_yuan"),
            ("discounted_rent_fen", "discounted_rent_yuan"),
        ];
        super::checked_renamed(c, unit.finish(), &renames)?;
        let district = parsed_district.expect("checked");
        let premises = Resource::Premises {
            community_id,
            district,
        };
        if !permits(actor, Action::Create, premises) {
            return Err(vec![super::not_yours()]);
        }
        Ok(Row {
            site,
            building,
            building_address,
            level,
            floor_label,
            fields: unit_fields(&input, kind, code),
        })
    }

    fn key(&self, row: &Row) -> Option<Key> {
        let (community, district) = &row.site;
        let held = self
            .floor_on_file(row)
            .and_then(|floor| self.codes.get(&(floor, row.fields.code.clone())))
            .map(|id| format!("{} (#{id})", row.fields.code));
        Some(Key {
            field: "code",
            held,
            value: format!(
                "{community:?}/{district}/{}/{}/{}",
                normalise(&row.building),
                row.level,
                row.fields.code
            ),
        })
    }

    async fn on_file(
        &self,
        _: &Services,
        _: &Actor,
        _: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        // Every unit on file is known from `prepare`: `key` says which.
        Ok(HashMap::new())
    }

    async fn write(
        &self,
        _: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<Row>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<i64>, Affected)> {
        let mut buildings = self.buildings.clone();
        let mut floors = self.floors.clone();
        let mut units = Vec::with_capacity(rows.len());
        for row in rows {
            let (community_id, district) = row.site.clone();
            let building_key = (row.site.clone(), normalise(&row.building));
            let building = match buildings.get(&building_key) {
                Some(id) => *id,
                None => {
                    let made = spaces::insert_building(
                        tx,
                        community_id,
                        &district,
                        row.building.clone(),
                        row.building_address.clone(),
                        now,
                    )
                    .await?;
                    buildings.insert(building_key, made.id);
                    made.id
                }
            };
            let floor = match floors.get(&(building, row.level)) {
                Some(id) => *id,
                None => {
                    let made =
                        spaces::insert_floor(tx, building, row.level, row.floor_label.clone(), now)
                            .await
                            .map_err(|err| match err {
                                // Added meanwhile by someone else.
                                opcity_store::StoreError::Unique(_) => ServiceError::Conflict {
                                    code: crate::ErrorCode::FloorExists,
                                    field: Some("floor_level"),
                                },
                                other => other.into(),
                            })?;
                    floors.insert((building, row.level), made.id);
                    made.id
                }
            };
            units.push(NewUnit {
                floor_id: floor,
                community_id,
                district,
                fields: row.fields,
            });
        }
        let ids = bulk::insert(tx, units, now)
            .await
            .map_err(unit_code_taken)?;
        Ok((ids, Affected::default()))
    }
}
