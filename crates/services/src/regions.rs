//! The regions a visitor may check against: the pack in force first, then
//! every other pack built into opcity that has programmes (a province's, a
//! district's, another city's). The self-check, the one-case API and
//! consultation follow the region chosen; applications, budgets and
//! everything recorded follow the pack in force only.
//!
//! The other packs are loaded once, on first use, from the binary: they do
//! not change while it runs.

use crate::Services;
use crate::error::{Result, ServiceError};
use crate::policy::{Bilingual, PackRef};
use opcity_packs::PackSource;
use opcity_policy::Pack;
use std::sync::{Arc, OnceLock};

/// The built-in packs other than the one in force, loaded on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct OtherPacks(Arc<OnceLock<Vec<Arc<Pack>>>>);

impl OtherPacks {
    fn get(&self) -> &[Arc<Pack>] {
        self.0.get_or_init(|| {
            opcity_packs::built_in()
                .into_iter()
                .filter_map(|id| match PackSource::Embedded(id).load() {
                    Ok(pack) => Some(Arc::new(pack)),
                    Err(errors) => {
                        // The packs tests load every built-in pack, so
                        // this is a build that skipped them.
                        tracing::error!(
                            pack = id,
                            errors = errors.len(),
                            "a built-in pack does not load"
                        );
                        None
                    }
                })
                .filter(|pack| !pack.programmes().is_empty())
                .collect()
        })
    }
}

/// A region one may choose.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RegionInfo {
    pub pack: PackRef,
    /// The place, e.g. "Shenzhen · Longgang".
    pub region: Bilingual,
    /// The packs it builds on, root first, then itself.
    pub lineage: Vec<String>,
    /// Whether this is the pack in force, the one applications are made
    /// under.
    pub in_force: bool,
}

impl Services {
    /// Every region one may check against, the pack in force first.
    pub fn regions(&self) -> Vec<RegionInfo> {
        let current = self.pack();
        let others = self
            .other_packs
            .get()
            .iter()
            .filter(|p| p.id() != current.id());
        std::iter::once(&current)
            .chain(others)
            .map(|pack| RegionInfo {
                pack: PackRef::from(pack.as_ref()),
                region: Bilingual {
                    zh: pack.region().zh.clone(),
                    en: pack.region().en.clone(),
                },
                lineage: pack.lineage().iter().map(|l| l.id.clone()).collect(),
                in_force: Arc::ptr_eq(pack, &current),
            })
            .collect()
    }

    /// The pack of region `id`: the pack in force for `None` or its own id,
    /// else a built-in pack; not found for anything else.
    pub fn region_pack(&self, id: Option<&str>) -> Result<Arc<Pack>> {
        let current = self.pack();
        match id {
            None => Ok(current),
            Some(id) if id == current.id() => Ok(current),
            Some(id) => self
                .other_packs
                .get()
                .iter()
                .find(|p| p.id() == id)
                .cloned()
                .ok_or(ServiceError::NotFound { entity: "region" }),
        }
    }
}
