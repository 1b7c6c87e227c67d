//! Resident id numbers, on SQLite and (when configured) PostgreSQL: what a
//! reader who is not the owner is shown cannot be completed into the number
//! (issue 14, finding 2: the mask hid exactly the birth date, which was shown
//! beside it); the database holds neither the number nor its parts in clear,
//! also after migrating rows stored the old way; a search by the whole number
//! finds its person through the keyed hash; the whole number is revealed only
//! to those who need it, and each reveal is an audit entry.

use opcity_domain::{District, Role};
use opcity_services::registry::persons::PersonInput;
use opcity_services::registry::{ListFilter, Paging};
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::Backend;
use opcity_store::sea_orm::{ConnectionTrait, Statement};
use opcity_testkit::account;
use opcity_testkit::{TestDb, each_backend};

/// A valid number of a person born 1988-06-12, registered in Nanshan (440305).
const NUMBER: &str = "44030519880612101X";
const REGION: &str = "440305";
const BIRTH_DIGITS: &str = "19880612";
const TAIL: &str = "101X";

struct Cast {
    admin: Actor,
    reviewer: Actor,
    other_reviewer: Actor,
    auditor: Actor,
    owner: Actor,
    other_founder: Actor,
    person_id: i64,
}

async fn cast(s: &Services) -> Cast {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let reviewer = account(
        s,
        "rev.nanshan",
        Role::DistrictReviewer,
        Some(District::Nanshan),
    )
    .await;
    let other_reviewer = account(
        s,
        "rev.longgang",
        Role::DistrictReviewer,
        Some(District::Longgang),
    )
    .await;
    let auditor = account(s, "auditor", Role::Auditor, None).await;
    let owner = account(s, "owner", Role::Founder, None).await;
    let other_founder = account(s, "other", Role::Founder, None).await;
    let person = s
        .create_person(
            &admin,
            &PersonInput {
                full_name: "陈思远".into(),
                district: Some("nanshan".into()),
                birth_date: Some("1988-06-12".into()),
                resident_id: Some(NUMBER.into()),
                account_id: Some(owner.account_id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let owner = s.system_actor(owner.account_id).await.unwrap();
    Cast {
        admin,
        reviewer,
        other_reviewer,
        auditor,
        owner,
        other_founder,
        person_id: person.id,
    }
}

/// Which of the number's 18 characters a reader learns from one JSON view of
/// the person: those the mask shows, and the birth date's (characters 7–14)
/// or the year's (7–10) when they are shown. Only the serialised form is
/// read, so this judges whatever a client receives.
fn known_characters(view: &serde_json::Value) -> [bool; 18] {
    let mut known = [false; 18];
    if let Some(masked) = view["resident_id_masked"].as_str() {
        for (i, c) in masked.chars().enumerate().take(18) {
            known[i] = c != '*';
        }
    }
    if view["birth_date"].as_str().is_some() {
        known[6..14].iter_mut().for_each(|k| *k = true);
    }
    if view["birth_year"].as_i64().is_some() {
        known[6..10].iter_mut().for_each(|k| *k = true);
    }
    known
}

/// The number as rebuilt from a view the way the finding did it: the mask's
/// visible characters with the shown birth date put in the gap.
fn rebuilt(view: &serde_json::Value) -> Option<String> {
    let masked = view["resident_id_masked"].as_str()?;
    let birth = view["birth_date"].as_str()?.replace('-', "");
    let rebuilt = format!("{}{}{}", masked.get(..6)?, birth, masked.get(14..)?);
    (!rebuilt.contains('*')).then_some(rebuilt)
}

fn assert_holds_no_part(what: &str, text: &str) {
    assert!(
        !text.contains(NUMBER),
        "{what} holds the whole number: {text}"
    );
    assert!(
        !text.contains(REGION),
        "{what} holds the region code: {text}"
    );
    assert!(
        !text.contains(BIRTH_DIGITS),
        "{what} holds the birth-date digits: {text}"
    );
    assert!(!text.contains(TAIL), "{what} holds the last four: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_non_owner_is_shown_cannot_be_completed_into_the_number() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s).await;
        for (who, reader) in [
            ("administrator", &c.admin),
            ("district reviewer", &c.reviewer),
            ("auditor", &c.auditor),
        ] {
            let one =
                serde_json::to_value(s.get_person(reader, c.person_id).await.unwrap()).unwrap();
            let listed = s
                .list_persons(reader, &ListFilter::default(), Paging::new(None, None))
                .await
                .unwrap();
            let listed = serde_json::to_value(&listed.items[0]).unwrap();
            for view in [&one, &listed] {
                assert_eq!(
                    view["resident_id_masked"], "4****************X",
                    "{who}: {view}"
                );
                assert_eq!(
                    view.get("resident_id"),
                    None,
                    "{who} is not the owner: {view}"
                );
                assert_ne!(rebuilt(view).as_deref(), Some(NUMBER), "{who}: {view}");
                let unknown = known_characters(view).iter().filter(|k| !**k).count();
                // Five more region digits and three of the sequence at least.
                assert!(
                    unknown >= 8,
                    "{who} learns all but {unknown} characters: {view}"
                );
                let text = view.to_string();
                assert!(!text.contains(NUMBER) && !text.contains(REGION) && !text.contains(TAIL));
            }
        }

        // The year of birth for whoever needs no more; the full date for
        // those who act on the record.
        let audited =
            serde_json::to_value(s.get_person(&c.auditor, c.person_id).await.unwrap()).unwrap();
        assert_eq!(audited["birth_date"], serde_json::Value::Null);
        assert_eq!(audited["birth_year"], 1988);
        assert_eq!(audited["may_reveal_resident_id"], false);
        let reviewed = s.get_person(&c.reviewer, c.person_id).await.unwrap();
        assert_eq!(
            reviewed.birth_date.map(|d| d.to_string()).as_deref(),
            Some("1988-06-12")
        );
        assert!(reviewed.may_reveal_resident_id);

        // The owner sees their own number whole.
        let own = s.get_person(&c.owner, c.person_id).await.unwrap();
        assert_eq!(own.resident_id.as_deref(), Some(NUMBER));

        // Audit entries (creation, an edit) hold the mask and the year only.
        s.update_person(
            &c.reviewer,
            c.person_id,
            &PersonInput {
                full_name: "陈思远".into(),
                district: Some("nanshan".into()),
                birth_date: Some("1988-06-12".into()),
                resident_id: Some(NUMBER.into()),
                email: Some("chen@example.cn".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let log = s.audit_entries(&c.auditor, 0, 100).await.unwrap();
        let person_entries: Vec<_> = log
            .entries
            .iter()
            .filter(|e| e.entity == "person")
            .collect();
        assert_eq!(person_entries.len(), 2);
        for entry in person_entries {
            for side in [&entry.before, &entry.after].into_iter().flatten() {
                assert_holds_no_part("an audit entry", &side.to_string());
                assert_eq!(side["birth_date"], serde_json::Value::Null);
            }
        }
    })
    .await;
}

/// Every column of every row of `table`, as text (`CAST … AS TEXT` reads
/// any column type on both backends), with its column's name.
async fn raw_cells(db: &TestDb, table: &str) -> Vec<(String, String)> {
    let conn = db.store.db();
    let backend = conn.get_database_backend();
    let columns_sql = match db.backend() {
        Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
        Backend::Postgres => format!(
            "SELECT column_name AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
    };
    let columns: Vec<String> = conn
        .query_all_raw(Statement::from_string(backend, columns_sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect();
    assert!(!columns.is_empty(), "{table} has columns");
    let mut cells = Vec::new();
    for column in columns {
        let rows = conn
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT CAST({column} AS TEXT) AS v FROM {table}"),
            ))
            .await
            .unwrap();
        for row in rows {
            if let Some(value) = row.try_get::<Option<String>>("", "v").unwrap() {
                cells.push((column.clone(), value));
            }
        }
    }
    cells
}

async fn execute(db: &TestDb, sql: &str) {
    let conn = db.store.db();
    conn.execute_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn find_by_number(s: &Services, actor: &Actor, q: &str) -> Vec<i64> {
    s.list_persons(
        actor,
        &ListFilter {
            district: None,
            q: Some(q.into()),
        },
        Paging::new(None, None),
    )
    .await
    .unwrap()
    .items
    .iter()
    .map(|p| p.id)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_neither_the_number_nor_its_parts() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s).await;
        s.seal_audit_log().await.unwrap();

        let cells = raw_cells(db, "persons").await;
        assert!(
            !cells
                .iter()
                .any(|(column, _)| column == "resident_id_masked"),
            "the clear parts column is gone"
        );
        for (column, value) in &cells {
            assert!(!value.contains(NUMBER), "persons.{column} holds the number");
            assert!(
                !value.contains(REGION),
                "persons.{column} holds the region code"
            );
            assert!(
                !value.contains(BIRTH_DIGITS),
                "persons.{column} holds the birth digits"
            );
            // Ciphertext (base64) and the hash (hex) are random-looking text
            // in which four given digits can occur by chance.
            if column != "resident_id_cipher" && column != "resident_id_hash" {
                assert!(
                    !value.contains(TAIL),
                    "persons.{column} holds the last four: {value}"
                );
            }
        }
        let hash = &cells
            .iter()
            .find(|(c, _)| c == "resident_id_hash")
            .unwrap()
            .1;
        assert_eq!(hash.len(), 64);
        use sha2::Digest;
        assert_ne!(
            hash,
            &hex::encode(sha2::Sha256::digest(NUMBER.as_bytes())),
            "a keyed hash, not one anyone can compute for every candidate number"
        );
        for table in ["audit_log", "audit_queue"] {
            for (column, value) in raw_cells(db, table).await {
                if column != "hash" && column != "prev_hash" {
                    assert_holds_no_part(&format!("{table}.{column}"), &value);
                }
            }
        }

        // A search by the whole number finds its person (exact match on the
        // keyed hash), within the reader's scope; a part finds nothing.
        assert_eq!(
            find_by_number(&s, &c.admin, NUMBER).await,
            vec![c.person_id]
        );
        assert_eq!(
            find_by_number(&s, &c.reviewer, &NUMBER.to_lowercase()).await,
            vec![c.person_id]
        );
        assert!(
            find_by_number(&s, &c.other_reviewer, NUMBER)
                .await
                .is_empty()
        );
        assert!(find_by_number(&s, &c.admin, REGION).await.is_empty());
        assert!(
            find_by_number(&s, &c.admin, "110105194912310021")
                .await
                .is_empty()
        );

        // A database stored the old way (masked column: first six and last
        // four beside the clear birth date; no hash) is migrated: the
        // column is dropped, and the hash is computed at start-up.
        // (m0026 made the hash unique since: it is rolled back with m0011.)
        execute(db, "DROP INDEX persons_resident_id_hash_unique").await;
        execute(db, "ALTER TABLE persons DROP COLUMN resident_id_hash").await;
        execute(
            db,
            "ALTER TABLE persons ADD COLUMN resident_id_masked varchar",
        )
        .await;
        execute(
            db,
            "UPDATE persons SET resident_id_masked = '440305********101X'",
        )
        .await;
        execute(
            db,
            "DELETE FROM seaql_migrations WHERE version IN \
             ('m0011_resident_id_search', 'm0026_one_person_per_resident_id')",
        )
        .await;
        // Opened as `opcity` opens it: migrated on a connection of its own,
        // not on a pooled one that may still hold the schema it read before
        // the columns were changed by hand.
        opcity_store::Store::open(&db.url)
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
        let cells = raw_cells(db, "persons").await;
        assert!(
            !cells
                .iter()
                .any(|(column, _)| column == "resident_id_masked")
        );
        assert!(
            !cells.iter().any(|(column, _)| column == "resident_id_hash"),
            "no hash before start-up"
        );
        assert!(find_by_number(&s, &c.admin, NUMBER).await.is_empty());
        assert_eq!(s.backfill_resident_id_hashes().await.unwrap(), 1);
        assert_eq!(
            s.backfill_resident_id_hashes().await.unwrap(),
            0,
            "idempotent"
        );
        let cells = raw_cells(db, "persons").await;
        assert_eq!(
            &cells
                .iter()
                .find(|(c, _)| c == "resident_id_hash")
                .unwrap()
                .1,
            hash
        );
        assert_eq!(
            find_by_number(&s, &c.admin, NUMBER).await,
            vec![c.person_id]
        );
        let view = s.get_person(&c.auditor, c.person_id).await.unwrap();
        assert_eq!(
            view.resident_id_masked.as_deref(),
            Some("4****************X")
        );

        // Audit entries written the old way cannot be rewritten (the chain),
        // so they are redacted when read: the mask cut to its first and last
        // characters, the birth date to its year.
        let old_view = serde_json::json!({
            "id": c.person_id,
            "full_name": "陈思远",
            "birth_date": "1988-06-12",
            "resident_id_masked": "440305********101X",
        });
        let tx = db.store.begin().await.unwrap();
        opcity_store::audit::append(
            &tx,
            s.now(),
            opcity_store::audit::Change {
                actor: "account:1",
                action: "person.update",
                entity: "person",
                entity_id: c.person_id.to_string(),
                before: Some(old_view.clone()),
                after: Some(old_view),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let newest = s
            .audit_entries(&c.auditor, 0, 1)
            .await
            .unwrap()
            .entries
            .remove(0);
        for side in [&newest.before, &newest.after] {
            let side = side.as_ref().unwrap();
            assert_eq!(side["resident_id_masked"], "4****************X");
            assert_eq!(side["birth_date"], serde_json::Value::Null);
            assert_eq!(side["birth_year"], 1988);
            assert_eq!(side["full_name"], "陈思远");
            assert_holds_no_part("an old audit entry as read", &side.to_string());
        }
        assert!(
            s.verify_audit_log().await.unwrap().problems.is_empty(),
            "stored entries unchanged"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveal_is_audited_and_refused_to_those_who_may_not() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s).await;
        let reveals = async |s: &Services| {
            s.audit_entries(&c.admin, 0, 1000)
                .await
                .unwrap()
                .entries
                .into_iter()
                .filter(|e| e.action == "person.reveal_resident_id")
                .collect::<Vec<_>>()
        };

        for (who, reader) in [
            ("auditor", &c.auditor),
            ("another district's reviewer", &c.other_reviewer),
            ("another founder", &c.other_founder),
        ] {
            assert!(
                matches!(
                    s.reveal_resident_id(reader, c.person_id).await,
                    Err(ServiceError::Forbidden)
                ),
                "{who} may not reveal"
            );
        }
        assert!(reveals(&s).await.is_empty(), "a refusal writes nothing");
        assert!(matches!(
            s.reveal_resident_id(&c.admin, 999_999).await,
            Err(ServiceError::NotFound { .. })
        ));

        for (who, reader) in [
            ("district reviewer", &c.reviewer),
            ("administrator", &c.admin),
            ("owner", &c.owner),
        ] {
            let revealed = s.reveal_resident_id(reader, c.person_id).await.unwrap();
            assert_eq!(revealed.resident_id, NUMBER, "{who}");
            assert_eq!(revealed.person_id, c.person_id);
        }
        let entries = reveals(&s).await;
        assert_eq!(entries.len(), 3);
        let mut actors: Vec<_> = entries.iter().map(|e| e.actor.clone()).collect();
        actors.sort();
        let mut expected: Vec<_> = [&c.reviewer, &c.admin, &c.owner]
            .iter()
            .map(|a| a.audit_label())
            .collect();
        expected.sort();
        assert_eq!(actors, expected);
        for entry in &entries {
            assert_eq!(entry.entity, "person");
            assert_eq!(entry.entity_id, c.person_id.to_string());
            let after = entry.after.as_ref().unwrap();
            assert_eq!(after["resident_id_masked"], "4****************X");
            assert_holds_no_part("a reveal's audit entry", &after.to_string());
        }
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());

        // A person without a number on file has nothing to reveal.
        let bare = s
            .create_person(
                &c.admin,
                &PersonInput {
                    full_name: "李明".into(),
                    district: Some("nanshan".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(!bare.may_reveal_resident_id);
        assert!(matches!(
            s.reveal_resident_id(&c.reviewer, bare.id).await,
            Err(ServiceError::NotFound { .. })
        ));
    })
    .await;
}
