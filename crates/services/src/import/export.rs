//! Exports in the import's shapes: the same columns, headed by their labels
//! in the reader's language, with districts, options and yes/no written as
//! people read them, which the import reads back. Resident id numbers are
//! written masked (as every page shows them), so a person export is never a
//! list of whole numbers; a masked cell imported again is refused by name.
//! An export is an audit entry (`person.export`, …) with its row count.

use super::{LABELS, RecordKind};
use crate::Services;
use crate::authz::{Actor, Listing, list_scope};
use crate::error::{Result, ServiceError};
use crate::registry::store_scope;
use crate::sheet::{Cell, Sheet};
use opcity_domain::District;
use opcity_store::bulk;
use opcity_store::entity::{community, housing_unit, instrument, space_unit};
use opcity_store::registry::{self, Page};

/// Rows read per query.
const PAGE: u64 = 5_000;

/// The language of an export's headers and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    fn file(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    fn text(self, file: &str, key: &str) -> Option<String> {
        LABELS
            .get(&format!("{}/{file}.toml:{key}", self.file()))
            .cloned()
    }

    fn district(self, id: &str) -> String {
        match id.parse::<District>() {
            Ok(d) if self == Lang::Zh => d.name_zh().to_owned(),
            Ok(d) => d.name_en().to_owned(),
            Err(_) => id.to_owned(),
        }
    }

    fn option(self, group: &str, id: Option<&str>) -> Cell {
        id.map_or(Cell::Empty, |id| {
            let key = format!("option.{group}.{id}");
            Cell::Text(
                self.text("core", &key)
                    .or_else(|| self.text("spaces", &key))
                    .unwrap_or_else(|| id.to_owned()),
            )
        })
    }

    /// A community's name in this language.
    fn community(self, communities: &[community::Model], id: Option<i64>) -> Cell {
        id.and_then(|id| communities.iter().find(|c| c.id == id))
            .map_or(Cell::Empty, |c| {
                Cell::Text(match self {
                    Lang::Zh => c.name_zh.clone(),
                    Lang::En => c.name_en.clone(),
                })
            })
    }

    fn flag(self, value: Option<bool>) -> Cell {
        value.map_or(Cell::Empty, |yes| {
            Cell::Text(
                match (self, yes) {
                    (Lang::Zh, true) => "是",
                    (Lang::Zh, false) => "否",
                    (Lang::En, true) => "yes",
                    (Lang::En, false) => "no",
                }
                .to_owned(),
            )
        })
    }
}

impl Services {
    /// The `kind` records `actor` may list, in the import's columns.
    pub async fn export_records(
        &self,
        actor: &Actor,
        kind: RecordKind,
        lang: Lang,
    ) -> Result<Sheet> {
        if !self.may_import(actor, kind) {
            return Err(ServiceError::Forbidden);
        }
        let headers = kind
            .columns()
            .iter()
            .map(|c| {
                lang.text("import", &super::column_label_key(kind, c.id))
                    .unwrap_or_else(|| c.id.to_owned())
            })
            .collect();
        let rows = match kind {
            RecordKind::Communities => self.community_rows(actor, lang).await?,
            RecordKind::Units => self.unit_rows(lang).await?,
            RecordKind::Apartments => self.apartment_rows(lang).await?,
            RecordKind::Instruments => self.instrument_rows(lang).await?,
            RecordKind::Persons => self.person_rows(actor, lang).await?,
            RecordKind::Enterprises => self.enterprise_rows(actor, lang).await?,
        };
        let now = self.now();
        let tx = self.store().begin().await?;
        let action = format!("{}.export", kind.entity());
        let label = actor.audit_label();
        let change = opcity_store::audit::Change {
            actor: &label,
            action: &action,
            entity: kind.entity(),
            // Every record of the kind the reader may list.
            entity_id: "*".to_owned(),
            before: None,
            after: Some(serde_json::json!({ "rows": rows.len() })),
        };
        opcity_store::audit::append(&tx, now, change).await?;
        tx.commit().await?;
        Ok(Sheet {
            name: kind.id().to_owned(),
            headers,
            rows,
        })
    }

    async fn person_rows(&self, actor: &Actor, lang: Lang) -> Result<Vec<Vec<Cell>>> {
        let scope = store_scope(list_scope(actor, Listing::Persons));
        let mut out = Vec::new();
        loop {
            let page = Page {
                offset: out.len() as u64,
                limit: PAGE,
            };
            let listed =
                registry::list_persons(self.store().db(), scope.clone(), None, None, page).await?;
            let done = (listed.rows.len() as u64) < PAGE;
            for p in &listed.rows {
                let v = self.person_view_for(actor, p);
                out.push(vec![
                    Cell::Text(v.full_name),
                    v.resident_id_masked.into(),
                    v.birth_date.into(),
                    v.district.map(|d| lang.district(d.id())).into(),
                    v.email.into(),
                    lang.option("highest_degree", v.highest_degree.as_deref()),
                    v.degree_date.into(),
                    lang.flag(v.overseas_degree),
                    lang.flag(v.has_shenzhen_hukou),
                    v.hukou_shenzhen_since.into(),
                    lang.flag(v.works_in_ai),
                    lang.flag(v.kunpeng_selected),
                    lang.flag(v.high_level_talent),
                ]);
            }
            if done {
                return Ok(out);
            }
        }
    }

    async fn enterprise_rows(&self, actor: &Actor, lang: Lang) -> Result<Vec<Vec<Cell>>> {
        let scope = store_scope(list_scope(actor, Listing::Enterprises));
        let communities = opcity_store::bulk::communities(self.store().db()).await?;
        let mut out = Vec::new();
        loop {
            let page = Page {
                offset: out.len() as u64,
                limit: PAGE,
            };
            let listed =
                registry::list_enterprises(self.store().db(), scope.clone(), None, None, page)
                    .await?;
            let done = (listed.rows.len() as u64) < PAGE;
            let ids: Vec<i64> = listed.rows.iter().map(|e| e.id).collect();
            let founders = self.founder_masks(&ids).await?;
            for e in &listed.rows {
                out.push(vec![
                    Cell::Text(e.uscc.clone()),
                    Cell::Text(e.name.clone()),
                    Cell::Text(lang.district(&e.district)),
                    e.registered_date.into(),
                    lang.community(&communities, e.community_id),
                    lang.option("size", e.size.as_deref()),
                    lang.flag(e.ai_business),
                    lang.flag(e.gov_deployed_product),
                    lang.flag(e.demonstration_project),
                    lang.flag(e.consortium_lead),
                    founders.get(&e.id).cloned().into(),
                ]);
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Each enterprise's first founder's resident id, masked.
    async fn founder_masks(
        &self,
        enterprise_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>> {
        let links = opcity_store::bulk::founder_persons(self.store().db(), enterprise_ids).await?;
        let mut out = std::collections::HashMap::new();
        for (enterprise_id, person) in &links {
            if let Some(mask) =
                crate::registry::persons::public_view(self.data_key(), person).resident_id_masked
            {
                out.entry(*enterprise_id).or_insert(mask);
            }
        }
        Ok(out)
    }

    async fn community_rows(&self, actor: &Actor, lang: Lang) -> Result<Vec<Vec<Cell>>> {
        let scope = store_scope(list_scope(actor, Listing::Communities));
        let listed = registry::list_communities(
            self.store().db(),
            scope,
            None,
            None,
            Page {
                offset: 0,
                limit: 100_000,
            },
        )
        .await?;
        let operators: Vec<i64> = listed
            .rows
            .iter()
            .filter_map(|c| c.operator_account_id)
            .collect();
        let usernames = opcity_store::bulk::usernames(self.store().db(), &operators).await?;
        Ok(listed
            .rows
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.name_zh.clone()),
                    Cell::Text(c.name_en.clone()),
                    Cell::Text(lang.district(&c.district)),
                    Cell::Text(c.address.clone()),
                    Cell::Integer(c.area_m2),
                    Cell::Text(c.operator_name.clone()),
                    c.operator_account_id
                        .and_then(|id| usernames.get(&id).cloned())
                        .into(),
                    c.opened_on.into(),
                ]
            })
            .collect())
    }

    /// Space units with their building and floor (every signed-in role
    /// sees the stock, as the spaces page lists it).
    async fn unit_rows(&self, lang: Lang) -> Result<Vec<Vec<Cell>>> {
        let db = self.store().db();
        let communities = bulk::communities(db).await?;
        let (buildings, floors) = bulk::buildings_and_floors(db).await?;
        let units = bulk::all::<space_unit::Entity, _>(db).await?;
        Ok(units
            .iter()
            .map(|u| {
                let floor = floors.iter().find(|f| f.id == u.floor_id);
                let building = floor.and_then(|f| buildings.iter().find(|b| b.id == f.building_id));
                vec![
                    building.map(|b| b.name.clone()).into(),
                    floor
                        .map(|f| i64::from(f.level))
                        .map_or(Cell::Empty, Cell::Integer),
                    Cell::Text(u.code.clone()),
                    lang.option("kind", Some(&u.kind)),
                    Cell::Integer(u.area_m2),
                    Cell::Integer(i64::from(u.capacity)),
                    Cell::Money(u.list_rent_fen),
                    Cell::Money(u.discounted_rent_fen),
                    Cell::Text(lang.district(&u.district)),
                    lang.community(&communities, u.community_id),
                    building.map(|b| b.address.clone()).into(),
                    floor.map(|f| f.label.clone()).into(),
                    lang.flag(Some(u.active)),
                ]
            })
            .collect())
    }

    async fn apartment_rows(&self, lang: Lang) -> Result<Vec<Vec<Cell>>> {
        let db = self.store().db();
        let communities = bulk::communities(db).await?;
        let units = bulk::all::<housing_unit::Entity, _>(db).await?;
        Ok(units
            .iter()
            .map(|u| {
                vec![
                    Cell::Text(u.code.clone()),
                    lang.option("kind", Some(&u.kind)),
                    Cell::Text(u.address.clone()),
                    Cell::Integer(u.area_m2),
                    Cell::Money(u.market_rent_fen),
                    Cell::Text(lang.district(&u.district)),
                    lang.community(&communities, u.community_id),
                    lang.flag(Some(u.active)),
                ]
            })
            .collect())
    }

    async fn instrument_rows(&self, lang: Lang) -> Result<Vec<Vec<Cell>>> {
        let db = self.store().db();
        let communities = bulk::communities(db).await?;
        let instruments = bulk::all::<instrument::Entity, _>(db).await?;
        let managers: Vec<i64> = instruments
            .iter()
            .filter_map(|i| i.manager_account_id)
            .collect();
        let usernames = bulk::usernames(db, &managers).await?;
        let hhmm = |minute: i32| Cell::Text(crate::spaces::instruments::hhmm(minute));
        Ok(instruments
            .iter()
            .map(|i| {
                vec![
                    Cell::Text(i.name.clone()),
                    lang.option("kind", Some(&i.kind)),
                    Cell::Text(i.institution.clone()),
                    hhmm(i.opens_minute),
                    hhmm(i.closes_minute),
                    Cell::Text(i.open_days.clone()),
                    Cell::Text(lang.district(&i.district)),
                    lang.community(&communities, i.community_id),
                    i.manager_account_id
                        .and_then(|id| usernames.get(&id).cloned())
                        .into(),
                    Some(i.description.clone()).filter(|d| !d.is_empty()).into(),
                    Cell::Integer(i64::from(i.slot_minutes)),
                    i.quota_hours_week
                        .map_or(Cell::Empty, |q| Cell::Integer(i64::from(q))),
                    lang.flag(Some(i.requires_approval)),
                    Cell::Integer(i64::from(i.cancel_notice_hours)),
                    Cell::Integer(i64::from(i.no_show_grace_minutes)),
                    lang.flag(Some(i.active)),
                ]
            })
            .collect())
    }
}
