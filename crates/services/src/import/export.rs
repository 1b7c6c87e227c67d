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
            Cell::Text(
                self.text("core", &format!("option.{group}.{id}"))
                    .unwrap_or_else(|| id.to_owned()),
            )
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
                lang.text("import", &format!("import.column.{}", c.id))
                    .unwrap_or_else(|| c.id.to_owned())
            })
            .collect();
        let rows = match kind {
            RecordKind::Communities => self.community_rows(actor, lang).await?,
            RecordKind::Persons => self.person_rows(actor, lang).await?,
            RecordKind::Enterprises => self.enterprise_rows(actor, lang).await?,
        };
        let now = self.now();
        let tx = self.store().begin().await?;
        let action = format!("{}.export", kind.id().trim_end_matches('s'));
        let summary = serde_json::json!({ "rows": rows.len() });
        crate::record_change(
            &tx,
            now,
            &actor.audit_label(),
            &action,
            0,
            None,
            Some(&summary),
        )
        .await?;
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
        let community_name = |id: i64| {
            communities.iter().find(|c| c.id == id).map(|c| match lang {
                Lang::Zh => c.name_zh.clone(),
                Lang::En => c.name_en.clone(),
            })
        };
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
                    e.community_id.and_then(community_name).into(),
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
}
