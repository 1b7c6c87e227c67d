//! Proactive matching ("benefits without applying"): every registered person
//! and enterprise has its current result for every programme stored, kept up
//! to date when their facts change (in the same transaction as the change)
//! and when the date moves on (parameters take effect on dates; see
//! [`Services::refresh_all_entitlements`]). Becoming eligible notifies the
//! people concerned: "you may now qualify for …".

use crate::Services;
use crate::authz::Actor;
use crate::error::Result;
use chrono::{NaiveDate, Utc};
use opcity_policy::{Beneficiary, Case, Detail, Pack, Status};
use opcity_store::entitlements;
use opcity_store::entity::{benefit_grant, enterprise, founder, person};
use opcity_store::notifications::{self, NewNotification};
use opcity_store::registry::{self, SubjectKind};
use opcity_store::sea_orm::sea_query::ExprTrait;
use opcity_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Records whose facts changed, so their results must be recomputed.
#[derive(Debug, Default, Clone)]
pub struct Affected {
    pub persons: BTreeSet<i64>,
    pub enterprises: BTreeSet<i64>,
}

impl Affected {
    pub fn person(id: i64) -> Affected {
        Affected {
            persons: BTreeSet::from([id]),
            ..Default::default()
        }
    }

    pub fn enterprise(id: i64) -> Affected {
        Affected {
            enterprises: BTreeSet::from([id]),
            ..Default::default()
        }
    }

    /// The same records in parts of at most `size` persons and `size`
    /// enterprises each (a bulk import's hundred thousand would not fit one
    /// query's parameters).
    pub fn pages(self, size: usize) -> Vec<Affected> {
        let persons: Vec<i64> = self.persons.into_iter().collect();
        let enterprises: Vec<i64> = self.enterprises.into_iter().collect();
        let parts = persons.len().max(enterprises.len()).div_ceil(size.max(1));
        (0..parts)
            .map(|i| {
                let part = |ids: &[i64]| ids.iter().skip(i * size).take(size).copied().collect();
                Affected {
                    persons: part(&persons),
                    enterprises: part(&enterprises),
                }
            })
            .collect()
    }
}

/// A stored result, as the founder's home page lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Entitlement {
    pub subject: String,
    pub programme: String,
    pub status: String,
    pub amount_fen: Option<i64>,
    pub ceiling_fen: Option<i64>,
    pub monthly_fen: Option<i64>,
    pub months: Option<i64>,
    pub missing_facts: Vec<String>,
    pub as_of: NaiveDate,
    pub eligible_since: Option<NaiveDate>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub programme: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub read: bool,
}

/// The rows `select` finds, without asking the database when `empty` (an
/// IN list with nothing in it).
async fn all_unless_empty<E: EntityTrait, C: ConnectionTrait>(
    empty: bool,
    select: Select<E>,
    db: &C,
) -> std::result::Result<Vec<E::Model>, opcity_store::sea_orm::DbErr> {
    if empty {
        Ok(Vec::new())
    } else {
        select.all(db).await
    }
}

/// Whose case to build, and which grant (by source) to leave out of it.
pub(crate) struct CaseSubject<'a> {
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub exclude_source: Option<&'a str>,
}

fn insert_opt<T: serde::Serialize>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), json!(v));
    }
}

/// The spec's case for a person (and one of their enterprises). Unknown facts
/// are left out so the engine reports them as missing.
pub(crate) fn case_json(
    p: Option<&person::Model>,
    is_founder: Option<bool>,
    e: Option<&enterprise::Model>,
    grants: &[&benefit_grant::Model],
) -> Value {
    let mut person = Map::new();
    if let Some(p) = p {
        person.insert("id".into(), json!(p.id.to_string()));
        insert_opt(&mut person, "birth_date", p.birth_date);
        insert_opt(&mut person, "highest_degree", p.highest_degree.as_deref());
        insert_opt(&mut person, "degree_date", p.degree_date);
        insert_opt(&mut person, "overseas_degree", p.overseas_degree);
        match (p.has_shenzhen_hukou, p.hukou_shenzhen_since) {
            (Some(false), _) => {
                person.insert("hukou_shenzhen_since".into(), Value::Null);
            }
            (_, Some(since)) => {
                person.insert("hukou_shenzhen_since".into(), json!(since));
            }
            _ => {}
        }
        insert_opt(&mut person, "works_in_ai", p.works_in_ai);
        insert_opt(&mut person, "kunpeng_selected", p.kunpeng_selected);
        insert_opt(&mut person, "high_level_talent", p.high_level_talent);
    }
    insert_opt(&mut person, "is_founder", is_founder);
    let mut case = Map::new();
    case.insert("person".into(), Value::Object(person));
    if let Some(e) = e {
        let mut ent = Map::new();
        ent.insert("uscc".into(), json!(e.uscc));
        insert_opt(&mut ent, "registered_date", e.registered_date);
        ent.insert("district".into(), json!(e.district));
        ent.insert("in_opc_community".into(), json!(e.community_id.is_some()));
        insert_opt(&mut ent, "ai_business", e.ai_business);
        insert_opt(&mut ent, "size", e.size.as_deref());
        insert_opt(&mut ent, "gov_deployed_product", e.gov_deployed_product);
        insert_opt(&mut ent, "demonstration_project", e.demonstration_project);
        insert_opt(&mut ent, "consortium_lead", e.consortium_lead);
        case.insert("enterprise".into(), Value::Object(ent));
    }
    let granted: Vec<Value> = grants
        .iter()
        .map(|g| json!({ "programme": g.programme, "from": g.from, "to": g.to }))
        .collect();
    case.insert("granted".into(), Value::Array(granted));
    Value::Object(case)
}

/// One computed row before it is stored.
struct Row {
    subject: String,
    programme: String,
    status: Status,
    amount_fen: Option<i64>,
    ceiling_fen: Option<i64>,
    monthly_fen: Option<i64>,
    months: Option<i64>,
    missing: Vec<String>,
}

/// Evaluates a case and keeps the results whose beneficiary is `keep`.
fn rows_for(
    pack: &Pack,
    as_of: NaiveDate,
    case: &Case,
    keep: Beneficiary,
    subject: &str,
) -> Vec<Row> {
    pack.at(as_of)
        .evaluate(case, Detail::Brief)
        .results
        .iter()
        .filter(|r| {
            pack.programme(r.programme)
                .is_some_and(|p| p.beneficiary == keep)
        })
        .map(|r| Row {
            subject: subject.to_owned(),
            programme: r.programme.to_owned(),
            status: r.status,
            amount_fen: r.amount_fen.map(|f| f.0),
            ceiling_fen: r.ceiling_fen.map(|f| f.0),
            monthly_fen: r.monthly_fen.map(|f| f.0),
            months: r.months,
            missing: r
                .missing_facts
                .iter()
                .map(|f| f.name().to_owned())
                .collect(),
        })
        .collect()
}

impl Services {
    /// Recomputes the results of the affected records (and of the records
    /// linked to them) inside `tx`, notifying newly eligible people.
    pub(crate) async fn refresh_entitlements<C: ConnectionTrait>(
        &self,
        tx: &C,
        affected: Affected,
        as_of: NaiveDate,
    ) -> Result<()> {
        let pack = self.pack();
        let mut persons = affected.persons;
        let mut enterprises = affected.enterprises;
        // Founders and their enterprises share facts (is_founder, the case's enterprise).
        let links = founder::Entity::find()
            .filter(
                founder::Column::PersonId
                    .is_in(persons.iter().copied())
                    .or(founder::Column::EnterpriseId.is_in(enterprises.iter().copied())),
            )
            .all(tx)
            .await?;
        persons.extend(links.iter().map(|l| l.person_id));
        let all_links = founder::Entity::find()
            .filter(founder::Column::PersonId.is_in(persons.iter().copied()))
            .all(tx)
            .await?;
        enterprises.extend(all_links.iter().map(|l| l.enterprise_id));

        let person_rows = crate::rows_by_id::<person::Entity, _>(
            tx,
            person::Column::Id,
            persons.iter().copied(),
            |p| p.id,
        )
        .await?;
        let enterprise_rows = crate::rows_by_id::<enterprise::Entity, _>(
            tx,
            enterprise::Column::Id,
            enterprises.iter().copied(),
            |e| e.id,
        )
        .await?;

        let subjects: Vec<String> = person_rows
            .keys()
            .map(|id| format!("person:{id}"))
            .chain(enterprise_rows.keys().map(|id| format!("enterprise:{id}")))
            .collect();
        let grants = benefit_grant::Entity::find()
            .filter(benefit_grant::Column::Subject.is_in(subjects))
            .all(tx)
            .await?;
        let grants_of =
            |person: Option<i64>, enterprise: Option<i64>| -> Vec<&benefit_grant::Model> {
                let wanted = [
                    person.map(|p| format!("person:{p}")),
                    enterprise.map(|e| format!("enterprise:{e}")),
                ];
                grants
                    .iter()
                    .filter(|g| wanted.iter().flatten().any(|w| *w == g.subject))
                    .collect()
            };
        let mut rows = Vec::new();
        let mut evaluated_enterprises = BTreeSet::new();
        for p in person_rows.values() {
            let mine: Vec<&enterprise::Model> = all_links
                .iter()
                .filter(|l| l.person_id == p.id)
                .filter_map(|l| enterprise_rows.get(&l.enterprise_id))
                .collect();
            let is_founder = (!mine.is_empty()).then_some(true);
            // Person programmes are judged with the first enterprise as the
            // case's company; each enterprise is judged with this founder.
            let first = mine.first().copied();
            let case = pack.parse_case(
                &case_json(
                    Some(p),
                    is_founder,
                    first,
                    &grants_of(Some(p.id), first.map(|e| e.id)),
                )
                .to_string(),
            );
            if let Ok(case) = case {
                rows.extend(rows_for(
                    &pack,
                    as_of,
                    &case,
                    Beneficiary::Person,
                    &format!("person:{}", p.id),
                ));
            }
            for e in &mine {
                if evaluated_enterprises.insert(e.id)
                    && let Ok(case) = pack.parse_case(
                        &case_json(
                            Some(p),
                            is_founder,
                            Some(e),
                            &grants_of(Some(p.id), Some(e.id)),
                        )
                        .to_string(),
                    )
                {
                    rows.extend(rows_for(
                        &pack,
                        as_of,
                        &case,
                        Beneficiary::Enterprise,
                        &format!("enterprise:{}", e.id),
                    ));
                }
            }
        }
        for e in enterprise_rows
            .values()
            .filter(|e| !evaluated_enterprises.contains(&e.id))
        {
            if let Ok(case) = pack.parse_case(
                &case_json(None, None, Some(e), &grants_of(None, Some(e.id))).to_string(),
            ) {
                rows.extend(rows_for(
                    &pack,
                    as_of,
                    &case,
                    Beneficiary::Enterprise,
                    &format!("enterprise:{}", e.id),
                ));
            }
        }
        let accounts = self.accounts_of_subjects(&person_rows, &all_links, &links);
        self.store_rows(tx, rows, as_of, pack.version(), &accounts)
            .await
    }

    /// Which accounts hear about each subject: a person's own account; an
    /// enterprise's founders' accounts.
    fn accounts_of_subjects(
        &self,
        persons: &BTreeMap<i64, person::Model>,
        links: &[founder::Model],
        more_links: &[founder::Model],
    ) -> BTreeMap<String, BTreeSet<i64>> {
        let mut out: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        for p in persons.values() {
            if let Some(account) = p.account_id {
                out.entry(format!("person:{}", p.id))
                    .or_default()
                    .insert(account);
            }
        }
        for l in links.iter().chain(more_links) {
            if let Some(account) = persons.get(&l.person_id).and_then(|p| p.account_id) {
                out.entry(format!("enterprise:{}", l.enterprise_id))
                    .or_default()
                    .insert(account);
            }
        }
        out
    }

    /// Stores the results (the store keeps `eligible_since` while eligible)
    /// and notifies the accounts concerned of each result that became
    /// eligible, in the same transaction.
    async fn store_rows<C: ConnectionTrait>(
        &self,
        tx: &C,
        rows: Vec<Row>,
        as_of: NaiveDate,
        pack_version: &str,
        accounts: &BTreeMap<String, BTreeSet<i64>>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let results: Vec<entitlements::Evaluated> = rows
            .into_iter()
            .map(|row| entitlements::Evaluated {
                subject: row.subject,
                programme: row.programme,
                status: row.status.name().to_owned(),
                amount_fen: row.amount_fen,
                ceiling_fen: row.ceiling_fen,
                monthly_fen: row.monthly_fen,
                months: row.months,
                missing_facts: row.missing,
            })
            .collect();
        let became = entitlements::record(
            tx,
            &results,
            entitlements::Evaluation {
                as_of,
                pack_version,
                at: now,
            },
        )
        .await?;
        let notices: Vec<NewNotification<'_>> = became
            .iter()
            .flat_map(|r| {
                accounts
                    .get(&r.subject)
                    .into_iter()
                    .flatten()
                    .map(move |account| NewNotification {
                        account_id: *account,
                        kind: "may_qualify",
                        programme: Some(&r.programme),
                        subject: Some(&r.subject),
                        at: now,
                    })
            })
            .collect();
        notifications::insert_all(tx, &notices).await?;
        Ok(())
    }

    /// Re-evaluates every person and enterprise on `as_of`, a page at a time
    /// (one transaction a page). Run daily, since parameters take effect on
    /// dates, and after a new pack is loaded. Returns the records evaluated.
    pub async fn refresh_all_entitlements(&self, as_of: NaiveDate) -> Result<usize> {
        const PAGE: u64 = 200;
        let mut done = 0;
        for kind in [SubjectKind::Person, SubjectKind::Enterprise] {
            let mut after = 0i64;
            loop {
                let ids = registry::ids_after(self.store().db(), kind, after, PAGE).await?;
                let Some(&last) = ids.last() else { break };
                let page = ids.iter().copied().collect();
                let affected = match kind {
                    SubjectKind::Person => Affected {
                        persons: page,
                        ..Default::default()
                    },
                    SubjectKind::Enterprise => Affected {
                        enterprises: page,
                        ..Default::default()
                    },
                };
                let tx = self.store().begin().await?;
                self.refresh_entitlements(&tx, affected, as_of).await?;
                tx.commit().await?;
                done += ids.len();
                after = last;
            }
        }
        Ok(done)
    }

    /// The actor's own current results: their person and their enterprises.
    pub async fn my_entitlements(&self, actor: &Actor) -> Result<Vec<Entitlement>> {
        let mut subjects: Vec<String> = actor
            .person_id
            .map(|p| format!("person:{p}"))
            .into_iter()
            .collect();
        subjects.extend(
            actor
                .enterprise_ids
                .iter()
                .map(|e| format!("enterprise:{e}")),
        );
        let rows = entitlements::of_subjects(self.store().db(), subjects).await?;
        Ok(rows
            .into_iter()
            .map(|r| Entitlement {
                missing_facts: serde_json::from_str(&r.missing_facts).unwrap_or_default(),
                subject: r.subject,
                programme: r.programme,
                status: r.status,
                amount_fen: r.amount_fen,
                ceiling_fen: r.ceiling_fen,
                monthly_fen: r.monthly_fen,
                months: r.months,
                as_of: r.as_of,
                eligible_since: r.eligible_since,
            })
            .collect())
    }

    /// The actor's notifications, newest first.
    pub async fn notifications(&self, actor: &Actor, limit: u64) -> Result<Vec<Notification>> {
        let rows = notifications::of_account(self.store().db(), actor.account_id, limit).await?;
        Ok(rows
            .into_iter()
            .map(|n| Notification {
                id: n.id,
                kind: n.kind,
                programme: n.programme,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            })
            .collect())
    }

    /// Marks all the actor's notifications read.
    pub async fn mark_notifications_read(&self, actor: &Actor) -> Result<()> {
        let tx = self.store().begin().await?;
        notifications::mark_read(&tx, actor.account_id, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Services {
    /// The case the engine sees for a person and/or enterprise right now,
    /// with their granted benefits (used by the application pre-check and at
    /// approval, so exclusions are enforced then, not only at eligibility).
    pub(crate) async fn case_for<C: ConnectionTrait>(
        &self,
        db: &C,
        person_id: Option<i64>,
        enterprise_id: Option<i64>,
        exclude_source: Option<&str>,
    ) -> Result<Case> {
        let subject = CaseSubject {
            person_id,
            enterprise_id,
            exclude_source,
        };
        let mut cases = self.cases_for(db, &[subject]).await?;
        Ok(cases.pop().expect("one case per subject"))
    }

    /// [`Self::case_for`] for many subjects at once, with one query per
    /// table for all of them.
    pub(crate) async fn cases_for<C: ConnectionTrait>(
        &self,
        db: &C,
        subjects: &[CaseSubject<'_>],
    ) -> Result<Vec<Case>> {
        let person_ids: BTreeSet<i64> = subjects.iter().filter_map(|s| s.person_id).collect();
        let enterprise_ids: BTreeSet<i64> =
            subjects.iter().filter_map(|s| s.enterprise_id).collect();
        let keys: Vec<String> = person_ids
            .iter()
            .map(|p| format!("person:{p}"))
            .chain(enterprise_ids.iter().map(|e| format!("enterprise:{e}")))
            .collect();
        // Independent reads, at once when `db` is a pool; none for an empty
        // list.
        let (persons, enterprises, founders, grants) = tokio::try_join!(
            all_unless_empty(
                person_ids.is_empty(),
                person::Entity::find().filter(person::Column::Id.is_in(person_ids.iter().copied())),
                db
            ),
            all_unless_empty(
                enterprise_ids.is_empty(),
                enterprise::Entity::find()
                    .filter(enterprise::Column::Id.is_in(enterprise_ids.iter().copied())),
                db
            ),
            all_unless_empty(
                person_ids.is_empty(),
                founder::Entity::find()
                    .filter(founder::Column::PersonId.is_in(person_ids.iter().copied())),
                db
            ),
            all_unless_empty(
                keys.is_empty(),
                benefit_grant::Entity::find().filter(benefit_grant::Column::Subject.is_in(keys)),
                db
            ),
        )?;
        let persons: BTreeMap<i64, person::Model> =
            persons.into_iter().map(|p| (p.id, p)).collect();
        let enterprises: BTreeMap<i64, enterprise::Model> =
            enterprises.into_iter().map(|e| (e.id, e)).collect();
        let founders: BTreeSet<i64> = founders.into_iter().map(|f| f.person_id).collect();
        let pack = self.pack();
        subjects
            .iter()
            .map(|s| {
                let own = [
                    s.person_id.map(|p| format!("person:{p}")),
                    s.enterprise_id.map(|e| format!("enterprise:{e}")),
                ];
                // An application's own grant must not count against it when
                // its continued eligibility is checked.
                let refs: Vec<&benefit_grant::Model> = grants
                    .iter()
                    .filter(|g| own.iter().flatten().any(|k| *k == g.subject))
                    .filter(|g| Some(g.source.as_str()) != s.exclude_source)
                    .collect();
                let is_founder = s
                    .person_id
                    .and_then(|p| founders.contains(&p).then_some(true));
                let json = case_json(
                    s.person_id.and_then(|p| persons.get(&p)),
                    is_founder,
                    s.enterprise_id.and_then(|e| enterprises.get(&e)),
                    &refs,
                );
                pack.parse_case(&json.to_string())
                    .map_err(|err| crate::ServiceError::Internal(Box::new(err)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_names_eligible_as_the_policy_does() {
        assert_eq!(Status::Eligible.name(), entitlements::ELIGIBLE);
    }
}

#[cfg(test)]
mod page_tests {
    use super::Affected;

    #[test]
    fn pages_keep_every_record_once() {
        let affected = Affected {
            persons: (1..=7).collect(),
            enterprises: (10..=12).collect(),
        };
        let pages = affected.pages(3);
        assert_eq!(pages.len(), 3);
        let persons: Vec<i64> = pages
            .iter()
            .flat_map(|p| p.persons.iter().copied())
            .collect();
        let enterprises: Vec<i64> = pages
            .iter()
            .flat_map(|p| p.enterprises.iter().copied())
            .collect();
        assert_eq!(persons, (1..=7).collect::<Vec<_>>());
        assert_eq!(enterprises, [10, 11, 12]);
        assert!(pages.iter().all(|p| p.persons.len() <= 3));
        assert!(Affected::default().pages(3).is_empty());
    }
}
