//! The integrity view: what the one entitlement record (`benefit_grants`)
//! shows that no single decision could see, on a date —
//! - **duplicate holdings**: a person or an enterprise holding one
//!   programme twice at once, through different paths (an application, a
//!   grant recorded by hand, an allocation) or from different districts;
//! - **shared founders**: a person behind several enterprises that each
//!   hold the same per-enterprise programme (a founder splitting one
//!   business to claim a per-enterprise benefit more than once).
//!
//! Neither is refused by itself — a founder may run two real businesses —
//! so they are findings for the city's administrators and auditors to
//! look into, not errors. A title's support items ride on the title and
//! are not counted apart.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::Result;
use crate::grants::{GrantView, Subject};
use chrono::NaiveDate;
use opcity_policy::Beneficiary;
use opcity_store::entity::{benefit_grant, enterprise, person};
use opcity_store::{grants, registry};
use std::collections::{BTreeMap, BTreeSet};

/// What the entitlement record shows on `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct IntegrityReport {
    pub as_of: NaiveDate,
    /// Grants held on the date (support items not counted apart).
    pub grants_held: usize,
    pub duplicate_holdings: Vec<DuplicateHolding>,
    pub shared_founders: Vec<SharedFounder>,
}

/// One subject holding one programme more than once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DuplicateHolding {
    /// `person:ID` or `enterprise:ID`.
    pub subject: String,
    /// The person's or the enterprise's name.
    pub name: String,
    pub programme: String,
    /// The districts that granted them (`municipal` for the city).
    pub districts: Vec<String>,
    pub grants: Vec<GrantView>,
}

/// One person behind several enterprises holding the same per-enterprise
/// programme.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SharedFounder {
    pub person_id: i64,
    pub person_name: String,
    pub programme: String,
    pub enterprises: Vec<NamedEnterprise>,
    pub grants: Vec<GrantView>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct NamedEnterprise {
    pub id: i64,
    pub name: String,
}

impl Services {
    /// The integrity view on `as_of` (municipal administrators and
    /// auditors: those who read the audit log).
    pub async fn integrity_report(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
    ) -> Result<IntegrityReport> {
        authorize(actor, Action::Read, Resource::AuditLog)?;
        let db = self.store().db();
        let held = grants::held_on(db, as_of).await?;
        let by_holding = group(&held, |g| Some((g.subject.clone(), g.programme.clone())));
        let duplicates: Vec<(&(String, String), &Vec<&benefit_grant::Model>)> =
            by_holding.iter().filter(|(_, gs)| gs.len() > 1).collect();
        let shared = self.shared_founders(&held).await?;
        let mut person_ids = BTreeSet::new();
        let mut enterprise_ids = BTreeSet::new();
        for ((subject, _), _) in &duplicates {
            match subject.parse() {
                Ok(Subject::Person(id)) => person_ids.insert(id),
                Ok(Subject::Enterprise(id)) => enterprise_ids.insert(id),
                Err(()) => false,
            };
        }
        for (person, _, enterprises) in &shared {
            person_ids.insert(*person);
            enterprise_ids.extend(enterprises.keys());
        }
        let persons: BTreeMap<i64, String> =
            crate::rows_by_id::<person::Entity, _>(db, person::Column::Id, person_ids, |p| p.id)
                .await?
                .into_iter()
                .map(|(id, p)| (id, p.full_name))
                .collect();
        let enterprises: BTreeMap<i64, String> = crate::rows_by_id::<enterprise::Entity, _>(
            db,
            enterprise::Column::Id,
            enterprise_ids,
            |e| e.id,
        )
        .await?
        .into_iter()
        .map(|(id, e)| (id, e.name))
        .collect();
        let name_of = |subject: &str| match subject.parse() {
            Ok(Subject::Person(id)) => persons.get(&id).cloned(),
            Ok(Subject::Enterprise(id)) => enterprises.get(&id).cloned(),
            Err(()) => None,
        };
        Ok(IntegrityReport {
            as_of,
            grants_held: held.len(),
            duplicate_holdings: duplicates
                .into_iter()
                .map(|((subject, programme), gs)| DuplicateHolding {
                    subject: subject.clone(),
                    name: name_of(subject).unwrap_or_default(),
                    programme: programme.clone(),
                    districts: gs
                        .iter()
                        .map(|g| g.district.clone().unwrap_or_else(|| "municipal".into()))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    grants: gs.iter().map(|g| GrantView::from(*g)).collect(),
                })
                .collect(),
            shared_founders: shared
                .into_iter()
                .map(|(person_id, programme, held)| SharedFounder {
                    person_id,
                    person_name: persons.get(&person_id).cloned().unwrap_or_default(),
                    programme,
                    enterprises: held
                        .keys()
                        .map(|id| NamedEnterprise {
                            id: *id,
                            name: enterprises.get(id).cloned().unwrap_or_default(),
                        })
                        .collect(),
                    grants: held
                        .values()
                        .flatten()
                        .map(|g| GrantView::from(*g))
                        .collect(),
                })
                .collect(),
        })
    }

    /// (person, programme, the person's enterprises holding it with their
    /// grants) for each per-enterprise programme held by two or more
    /// enterprises one person founded.
    async fn shared_founders<'g>(
        &self,
        held: &'g [benefit_grant::Model],
    ) -> Result<Vec<(i64, String, BTreeMap<i64, Vec<&'g benefit_grant::Model>>)>> {
        let pack = self.pack();
        let per_enterprise = |programme: &str| {
            pack.programme(programme)
                .is_some_and(|p| p.beneficiary == Beneficiary::Enterprise)
        };
        // (enterprise, programme) → its grants, for per-enterprise programmes.
        let by_enterprise = group(held, |g| match g.subject.parse() {
            Ok(Subject::Enterprise(id)) if per_enterprise(&g.programme) => {
                Some((id, g.programme.clone()))
            }
            _ => None,
        });
        let enterprises: Vec<i64> = by_enterprise.keys().map(|(e, _)| *e).collect();
        let links = registry::founder_links(self.store().db(), enterprises).await?;
        let mut found: BTreeMap<(i64, String), BTreeMap<i64, Vec<&benefit_grant::Model>>> =
            BTreeMap::new();
        for link in &links {
            for ((enterprise, programme), gs) in
                by_enterprise.range((link.enterprise_id, String::new())..)
            {
                if *enterprise != link.enterprise_id {
                    break;
                }
                found
                    .entry((link.person_id, programme.clone()))
                    .or_default()
                    .insert(*enterprise, gs.clone());
            }
        }
        Ok(found
            .into_iter()
            .filter(|(_, held)| held.len() > 1)
            .map(|((person, programme), held)| (person, programme, held))
            .collect())
    }
}

/// The grants grouped by `key`, leaving out those without one.
fn group<K: Ord>(
    grants: &[benefit_grant::Model],
    key: impl Fn(&benefit_grant::Model) -> Option<K>,
) -> BTreeMap<K, Vec<&benefit_grant::Model>> {
    let mut groups: BTreeMap<K, Vec<&benefit_grant::Model>> = BTreeMap::new();
    for g in grants {
        if let Some(k) = key(g) {
            groups.entry(k).or_default().push(g);
        }
    }
    groups
}
