//! The policy drafts' guard (`opcity_store::policy_drafts`), on SQLite and
//! PostgreSQL, against a model: rounds of concurrent edits made on the
//! revision all editors read, and impacts attached on it, over seeds. Each
//! round exactly one edit wins; the draft's changes are the model's; an
//! impact is kept only with the revision it was simulated at, and the one
//! kept is its own request's.

use chrono::{NaiveDate, Utc};
use opcity_store::accounts::{self, NewAccount};
use opcity_store::entity::policy_draft_change;
use opcity_store::policy_drafts::{self, Change, Details};
use opcity_store::{Store, StoreError};
use opcity_testkit::each_backend;
use std::collections::BTreeMap;

fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

const DETAILS: Details = Details {
    title: "Housing subsidy up",
    reason: "Rents rose",
    source_document: "深工信〔2026〕9号",
};

async fn draft(store: &Store, owner: &str) -> i64 {
    let owner = admin(store, owner).await;
    let tx = store.begin().await.unwrap();
    let d = policy_drafts::create(&tx, "shenzhen-2026", DETAILS, owner, Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(d.revision, 1);
    d.id
}

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 1).unwrap() + chrono::Days::new(n)
}

/// What one editor tries on the revision it read.
#[derive(Debug, Clone)]
enum Edit {
    Add(Change),
    Remove(i64),
    Details,
    Attach(String),
}

/// Runs `edit` on `revision` in its own transaction: the new revision (or,
/// for an impact, `Some(revision)`) and the change id an addition made.
async fn run(
    store: Store,
    id: i64,
    revision: i32,
    edit: Edit,
) -> Result<(Option<i32>, Option<i64>), StoreError> {
    let tx = store.begin().await?;
    let now = Utc::now();
    let out = match &edit {
        Edit::Add(change) => match policy_drafts::add_change(&tx, id, revision, change, now).await?
        {
            Some((change_id, next)) => (Some(next), Some(change_id)),
            None => (None, None),
        },
        Edit::Remove(change_id) => (
            policy_drafts::remove_change(&tx, id, revision, *change_id, now).await?,
            None,
        ),
        Edit::Details => (
            policy_drafts::set_details(&tx, id, revision, DETAILS, now).await?,
            None,
        ),
        Edit::Attach(impact) => (
            policy_drafts::attach_impact(&tx, id, revision, impact, now)
                .await?
                .then_some(revision),
            None,
        ),
    };
    if out.0.is_some() {
        tx.commit().await?;
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_edit_a_revision_wins_and_an_impact_keeps_its_revision() {
    each_backend(async |db| {
        for round_seed in 0..3u64 {
            let store = &db.store;
            let id = draft(store, &format!("bureau{round_seed}")).await;
            let mut seed = 0xd4af_7000 + round_seed;
            // The model: the changes by id, as (parameter, date).
            let mut model: BTreeMap<i64, (String, NaiveDate)> = BTreeMap::new();
            let mut revision = 1;
            let mut impact_kept: Option<(i32, String)> = None;
            for round in 0..12u64 {
                let editors = 2 + lcg(&mut seed) % 5;
                let edits: Vec<Edit> = (0..editors)
                    .map(|k| match lcg(&mut seed) % 4 {
                        0 if !model.is_empty() => {
                            let keys: Vec<i64> = model.keys().copied().collect();
                            Edit::Remove(keys[(lcg(&mut seed) as usize) % keys.len()])
                        }
                        1 => Edit::Details,
                        // One impact a round at most, so the one kept is known.
                        2 if k == 0 => Edit::Attach(format!("impact {revision}")),
                        _ => Edit::Add(Change::Parameter {
                            name: format!("p{round}_{k}"),
                            value: Some(lcg(&mut seed) as i64 % 1_000),
                            effective_from: day(lcg(&mut seed) % 30),
                        }),
                    })
                    .collect();
                let tasks: Vec<_> = edits
                    .iter()
                    .map(|e| tokio::spawn(run(store.clone(), id, revision, e.clone())))
                    .collect();
                let (mut won, mut contended) = (0, false);
                for (edit, task) in edits.iter().zip(tasks) {
                    let (next, change_id) = match task.await.unwrap() {
                        Ok(out) => out,
                        // PostgreSQL may pick a loser of a lock wait.
                        Err(StoreError::Contention(_)) => {
                            contended = true;
                            continue;
                        }
                        Err(e) => panic!("seed {seed:#x} {:?}: {e}", db.backend()),
                    };
                    let Some(next) = next else { continue };
                    match edit {
                        Edit::Attach(text) => {
                            assert_eq!(next, revision, "an impact keeps the revision it saw");
                            impact_kept = Some((revision, text.clone()));
                        }
                        _ => {
                            assert_eq!(next, revision + 1, "seed {seed:#x}");
                            won += 1;
                        }
                    }
                    match edit {
                        Edit::Add(Change::Parameter {
                            name,
                            effective_from,
                            ..
                        }) => {
                            model.insert(change_id.unwrap(), (name.clone(), *effective_from));
                        }
                        Edit::Remove(change_id) => {
                            model.remove(change_id);
                        }
                        _ => {}
                    }
                }
                // Every round has an edit besides an impact, so one wins
                // unless the database chose to fail it.
                assert!(
                    won == 1 || (won == 0 && contended),
                    "seed {seed:#x}: {won} edits won on one revision"
                );
                revision += won;
                let (row, changes) = policy_drafts::get(store.db(), id).await.unwrap().unwrap();
                assert_eq!(row.revision, revision, "seed {seed:#x} {:?}", db.backend());
                let held: BTreeMap<i64, (String, NaiveDate)> = changes
                    .iter()
                    .map(|c: &policy_draft_change::Model| {
                        (c.id, (c.parameter.clone().unwrap(), c.effective_from))
                    })
                    .collect();
                assert_eq!(held, model, "seed {seed:#x} {:?}", db.backend());
                let kept = row.impact_revision.zip(row.impact.clone());
                assert_eq!(kept, impact_kept, "seed {seed:#x} {:?}", db.backend());
            }
            // Withdrawn, a draft takes no edit and no impact.
            let tx = store.begin().await.unwrap();
            let done = policy_drafts::withdraw(&tx, id, revision, Utc::now()).await;
            assert_eq!(done.unwrap(), Some(revision + 1));
            tx.commit().await.unwrap();
            let refused = run(store.clone(), id, revision + 1, Edit::Details).await;
            assert_eq!(refused.unwrap(), (None, None));
            let refused = run(store.clone(), id, revision + 1, Edit::Attach("late".into())).await;
            assert_eq!(refused.unwrap(), (None, None));
        }
    })
    .await;
}

#[tokio::test]
async fn a_change_is_one_value_a_date_and_of_one_kind() {
    each_backend(async |db| {
        let store = &db.store;
        let id = draft(store, "bureau").await;
        let value = |v: i64, d: u64| Change::Parameter {
            name: "housing_subsidy_monthly_fen".into(),
            value: Some(v),
            effective_from: day(d),
        };
        let (_, r) = run(store.clone(), id, 1, Edit::Add(value(1, 0)))
            .await
            .unwrap();
        let r = r.map(|_| 2).unwrap();
        // The same parameter on the same date again: refused by the index.
        let again = run(store.clone(), id, r, Edit::Add(value(2, 0))).await;
        assert!(matches!(again, Err(StoreError::Unique(_))), "{again:?}");
        // On another date it is another change.
        let (next, _) = run(store.clone(), id, r, Edit::Add(value(2, 1)))
            .await
            .unwrap();
        assert_eq!(next, Some(3));
        let condition = || Change::Condition {
            programme: "sz.housing.subsidy".into(),
            condition: "young".into(),
            expression: "true".into(),
            effective_from: day(0),
        };
        let (next, _) = run(store.clone(), id, 3, Edit::Add(condition()))
            .await
            .unwrap();
        assert_eq!(next, Some(4));
        let again = run(store.clone(), id, 4, Edit::Add(condition())).await;
        assert!(matches!(again, Err(StoreError::Unique(_))), "{again:?}");
        // A stale revision writes nothing.
        let stale = run(store.clone(), id, 3, Edit::Add(value(3, 2))).await;
        assert_eq!(stale.unwrap(), (None, None));
        let (_, changes) = policy_drafts::get(store.db(), id).await.unwrap().unwrap();
        assert_eq!(changes.len(), 3);
        // Removing a change the draft does not hold writes nothing either.
        let tx = store.begin().await.unwrap();
        let gone = policy_drafts::remove_change(&tx, id, 4, 999_999, Utc::now()).await;
        assert_eq!(gone.unwrap(), None);
        drop(tx);
        let (row, _) = policy_drafts::get(store.db(), id).await.unwrap().unwrap();
        assert_eq!(row.revision, 4);
    })
    .await;
}

async fn admin(store: &Store, name: &str) -> i64 {
    let tx = store.begin().await.unwrap();
    let a = accounts::insert_account(
        &tx,
        NewAccount {
            username: name,
            display_name: name,
            password_hash: "x".to_owned(),
            role: "municipal_admin",
            district: None,
            locale: "en",
            disabled: false,
            created_by: None,
            awaiting: None,
            sso_subject: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    a.id
}

/// A draft by `author` with one change and an impact of it, submitted by
/// `author`: at revision 2.
async fn submitted(store: &Store, author: i64) -> i64 {
    let tx = store.begin().await.unwrap();
    let d = policy_drafts::create(&tx, "shenzhen-2026", DETAILS, author, Utc::now())
        .await
        .unwrap();
    let change = Change::Parameter {
        name: "youth_max_age".into(),
        value: Some(40),
        effective_from: day(0),
    };
    let now = Utc::now();
    policy_drafts::add_change(&tx, d.id, 1, &change, now)
        .await
        .unwrap();
    // Not yet simulated at revision 2: not submitted.
    assert!(
        !policy_drafts::submit(&tx, d.id, 2, author, now)
            .await
            .unwrap()
    );
    assert!(
        policy_drafts::attach_impact(&tx, d.id, 2, "{}", now)
            .await
            .unwrap()
    );
    assert!(
        policy_drafts::submit(&tx, d.id, 2, author, now)
            .await
            .unwrap()
    );
    // Submitted, it takes no edit.
    let edit = policy_drafts::set_details(&tx, d.id, 2, DETAILS, now).await;
    assert_eq!(edit.unwrap(), None);
    tx.commit().await.unwrap();
    d.id
}

fn version<'a>(base: &'a str, version: &'a str) -> policy_drafts::NewVersion<'a> {
    policy_drafts::NewVersion {
        pack: "shenzhen-2026",
        base_version: base,
        version,
        effective_from: day(0),
        revision: "{}",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_eyes_publish_and_versions_follow_one_another() {
    each_backend(async |db| {
        let store = &db.store;
        let (author, second, third) = (
            admin(store, "author").await,
            admin(store, "second").await,
            admin(store, "third").await,
        );
        let id = submitted(store, author).await;
        // The author may neither publish nor send back their own draft.
        let tx = store.begin().await.unwrap();
        let own = policy_drafts::publish(&tx, id, 2, author, version("2026.1", "a"), Utc::now());
        assert!(own.await.unwrap().is_none());
        let own = policy_drafts::send_back(&tx, id, 2, (author, "no"), Utc::now());
        assert!(!own.await.unwrap());
        drop(tx);
        // Sent back by another, it is a draft again with the note.
        let tx = store.begin().await.unwrap();
        assert!(
            policy_drafts::send_back(&tx, id, 2, (second, "Cite the notice."), Utc::now())
                .await
                .unwrap()
        );
        assert!(
            policy_drafts::submit(&tx, id, 2, author, Utc::now())
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let (row, _) = policy_drafts::get(store.db(), id).await.unwrap().unwrap();
        assert_eq!(row.decision_note.as_deref(), Some("Cite the notice."));

        // Two drafts published at once on the same version: one is written.
        let other = submitted(store, second).await;
        let publish = |draft: i64, by: i64, name: &'static str| {
            let store = store.clone();
            tokio::spawn(async move {
                let tx = store.begin().await?;
                let out =
                    policy_drafts::publish(&tx, draft, 2, by, version("2026.1", name), Utc::now())
                        .await?;
                if out.is_some() {
                    tx.commit().await?;
                }
                Ok::<_, StoreError>(out.map(|v| v.version))
            })
        };
        let (a, b) = (publish(id, third, "a"), publish(other, third, "b"));
        let outcomes = [a.await.unwrap(), b.await.unwrap()];
        let written: Vec<&String> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok()?.as_ref())
            .collect();
        assert_eq!(written.len(), 1, "{outcomes:?} on {:?}", db.backend());
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(StoreError::Unique(_) | StoreError::Contention(_)))),
            "{outcomes:?}"
        );
        let versions = policy_drafts::versions(store.db(), "shenzhen-2026")
            .await
            .unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(&versions[0].version, written[0]);
        // The loser is still submitted, and may follow the winner.
        let loser = if versions[0].draft_id == id {
            other
        } else {
            id
        };
        let tx = store.begin().await.unwrap();
        let next = version(&versions[0].version, "c");
        let done = policy_drafts::publish(&tx, loser, 2, third, next, Utc::now()).await;
        assert!(done.unwrap().is_some());
        tx.commit().await.unwrap();
    })
    .await;
}
