//! The registry as a what-if's population: every person, judged with the
//! enterprise they founded (the one with the lowest id, as their
//! application would name it), and every enterprise no person is linked
//! to, on its own — each with the benefits granted to them. Read a page at
//! a time; the cases are the ones the platform decides with
//! (`Services::cases_for`).

use crate::Services;
use crate::error::Result;
use crate::matching::CaseSubject;
use opcity_policy::Case;
use opcity_store::entity::founder;
use opcity_store::registry::{self, SubjectKind};
use opcity_store::sea_orm::EntityTrait;
use std::collections::{BTreeMap, BTreeSet};

/// Subjects whose cases are read per query.
const PAGE: u64 = 500;

/// The registry's cases, persons first, then unlinked enterprises.
pub(super) async fn registry_cases(s: &Services) -> Result<Vec<Case>> {
    let db = s.store().db();
    let links = founder::Entity::find().all(db).await?;
    let mut founded: BTreeMap<i64, i64> = BTreeMap::new();
    for link in &links {
        founded
            .entry(link.person_id)
            .and_modify(|e| *e = (*e).min(link.enterprise_id))
            .or_insert(link.enterprise_id);
    }
    let linked: BTreeSet<i64> = links.iter().map(|l| l.enterprise_id).collect();
    let mut cases = Vec::new();
    for kind in [SubjectKind::Person, SubjectKind::Enterprise] {
        let mut after = 0;
        loop {
            let ids = registry::ids_after(db, kind, after, PAGE).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            let subjects: Vec<CaseSubject<'_>> = ids
                .iter()
                .filter_map(|&id| match kind {
                    SubjectKind::Person => Some(CaseSubject {
                        person_id: Some(id),
                        enterprise_id: founded.get(&id).copied(),
                        exclude_source: None,
                    }),
                    SubjectKind::Enterprise => (!linked.contains(&id)).then_some(CaseSubject {
                        person_id: None,
                        enterprise_id: Some(id),
                        exclude_source: None,
                    }),
                })
                .collect();
            cases.extend(s.cases_for(db, &subjects).await?);
        }
    }
    Ok(cases)
}
