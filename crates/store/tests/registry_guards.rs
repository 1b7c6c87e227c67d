//! The registry guard (`opcity_store::registry`), on SQLite and PostgreSQL:
//! one person per account, a credit code names one enterprise, a founder
//! link is unique, a community's operator exists, an edit keeps the
//! account and (when none is given) the resident id, and the search-hash
//! backfill writes a hash only where none is.

use chrono::Utc;
use opcity_store::accounts::{self, NewAccount};
use opcity_store::registry::{
    self, CommunityFields, EnterpriseFields, PersonFields, SealedResidentId,
};
use opcity_store::{Store, StoreError};
use opcity_testkit::each_backend;

async fn account(store: &Store, username: &str) -> i64 {
    let tx = store.begin().await.unwrap();
    let a = accounts::insert_account(
        &tx,
        NewAccount {
            username,
            display_name: username,
            password_hash: "x".to_owned(),
            role: "founder",
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

fn person(name: &str) -> PersonFields {
    PersonFields {
        full_name: name.to_owned(),
        district: Some("nanshan".to_owned()),
        ..Default::default()
    }
}

fn enterprise(uscc: &str) -> EnterpriseFields {
    EnterpriseFields {
        uscc: uscc.to_owned(),
        name: format!("Enterprise {uscc}"),
        district: "nanshan".to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_account_has_at_most_one_person_and_keeps_it() {
    each_backend(async |db| {
        let store = &db.store;
        let owner = account(store, "owner").await;
        let tx = store.begin().await.unwrap();
        let first = registry::insert_person(&tx, Some(owner), person("First"), Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let tx = store.begin().await.unwrap();
        let second = registry::insert_person(&tx, Some(owner), person("Second"), Utc::now()).await;
        assert!(
            matches!(&second, Err(e @ StoreError::Unique(_)) if e.is_unique_on("account_id")),
            "{second:?}"
        );
        tx.rollback().await.unwrap();

        let tx = store.begin().await.unwrap();
        let unknown =
            registry::insert_person(&tx, Some(999_999), person("Nobody"), Utc::now()).await;
        assert!(
            matches!(unknown, Err(StoreError::ForeignKey(_))),
            "{unknown:?}"
        );
        tx.rollback().await.unwrap();

        // An edit rewrites the description, never the account.
        let tx = store.begin().await.unwrap();
        let edited = registry::update_person(&tx, first.id, person("Renamed"), Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(edited.full_name, "Renamed");
        assert_eq!(edited.account_id, Some(owner));
        let found = registry::person_of_account(store.db(), owner)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, first.id);
    })
    .await;
}

#[tokio::test]
async fn an_edit_without_a_number_keeps_the_stored_one_and_the_backfill_never_overwrites() {
    each_backend(async |db| {
        let store = &db.store;
        let sealed = SealedResidentId {
            cipher: "cipher-1".to_owned(),
            hash: "hash-1".to_owned(),
        };
        let tx = store.begin().await.unwrap();
        let p = registry::insert_person(
            &tx,
            None,
            PersonFields {
                resident_id: Some(sealed.clone()),
                ..person("Holder")
            },
            Utc::now(),
        )
        .await
        .unwrap();
        let edited = registry::update_person(&tx, p.id, person("Holder"), Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(edited.resident_id_cipher.as_deref(), Some("cipher-1"));
        assert_eq!(edited.resident_id_hash.as_deref(), Some("hash-1"));

        // A hash is written only where none is.
        let tx = store.begin().await.unwrap();
        assert!(
            !registry::set_search_hash_if_missing(&tx, p.id, "other")
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let stored = registry::person(store.db(), p.id).await.unwrap().unwrap();
        assert_eq!(stored.resident_id_hash.as_deref(), Some("hash-1"));
        assert!(
            registry::persons_without_search_hash(store.db(), 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_credit_code_names_one_enterprise() {
    each_backend(async |db| {
        let store = &db.store;
        let tx = store.begin().await.unwrap();
        registry::insert_enterprise(&tx, enterprise("91440300MA5FUSCC01"), Utc::now())
            .await
            .unwrap();
        let other = registry::insert_enterprise(&tx, enterprise("91440300MA5FUSCC02"), Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let tx = store.begin().await.unwrap();
        let twin =
            registry::insert_enterprise(&tx, enterprise("91440300MA5FUSCC01"), Utc::now()).await;
        assert!(
            matches!(&twin, Err(e @ StoreError::Unique(_)) if e.is_unique_on("uscc")),
            "{twin:?}"
        );
        tx.rollback().await.unwrap();

        // Nor may an edit take another's code.
        let tx = store.begin().await.unwrap();
        let taken = registry::update_enterprise(
            &tx,
            other.id,
            enterprise("91440300MA5FUSCC01"),
            Utc::now(),
        )
        .await;
        assert!(
            matches!(&taken, Err(e @ StoreError::Unique(_)) if e.is_unique_on("uscc")),
            "{taken:?}"
        );
        tx.rollback().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_founder_link_is_unique_and_names_an_existing_person() {
    each_backend(async |db| {
        let store = &db.store;
        let now = Utc::now();
        let tx = store.begin().await.unwrap();
        let p = registry::insert_person(&tx, None, person("Founder"), now)
            .await
            .unwrap();
        let e = registry::insert_enterprise(&tx, enterprise("91440300MA5FLINK01"), now)
            .await
            .unwrap();
        registry::link_founder(&tx, p.id, e.id, registry::LEGAL_REPRESENTATIVE, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let tx = store.begin().await.unwrap();
        let again =
            registry::link_founder(&tx, p.id, e.id, registry::LEGAL_REPRESENTATIVE, now).await;
        assert!(matches!(again, Err(StoreError::Unique(_))), "{again:?}");
        tx.rollback().await.unwrap();

        let tx = store.begin().await.unwrap();
        let nobody =
            registry::link_founder(&tx, 999_999, e.id, registry::LEGAL_REPRESENTATIVE, now).await;
        assert!(
            matches!(nobody, Err(StoreError::ForeignKey(_))),
            "{nobody:?}"
        );
        tx.rollback().await.unwrap();

        assert_eq!(
            registry::founders_of(store.db(), e.id).await.unwrap(),
            [p.id]
        );
        assert_eq!(
            registry::enterprises_of_founder(store.db(), p.id)
                .await
                .unwrap(),
            [e.id]
        );
    })
    .await;
}

#[tokio::test]
async fn a_community_is_operated_by_an_existing_account() {
    each_backend(async |db| {
        let store = &db.store;
        let operator = account(store, "operator").await;
        let fields = |operator_account_id| CommunityFields {
            name_zh: "社区".to_owned(),
            name_en: "Community".to_owned(),
            district: "nanshan".to_owned(),
            address: "1 Road".to_owned(),
            area_m2: 12_000,
            operator_name: "Operator".to_owned(),
            operator_account_id,
            opened_on: None,
        };
        let tx = store.begin().await.unwrap();
        let c = registry::insert_community(&tx, fields(Some(operator)), Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            registry::communities_operated_by(store.db(), operator)
                .await
                .unwrap(),
            [c.id]
        );

        let tx = store.begin().await.unwrap();
        let unknown = registry::insert_community(&tx, fields(Some(999_999)), Utc::now()).await;
        assert!(
            matches!(unknown, Err(StoreError::ForeignKey(_))),
            "{unknown:?}"
        );
        tx.rollback().await.unwrap();
        let tx = store.begin().await.unwrap();
        let moved = registry::update_community(&tx, c.id, fields(Some(999_999)), Utc::now()).await;
        assert!(matches!(moved, Err(StoreError::ForeignKey(_))), "{moved:?}");
        tx.rollback().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_list_loads_only_the_rows_in_its_scope() {
    each_backend(async |db| {
        let store = &db.store;
        let now = Utc::now();
        let page = registry::Page {
            offset: 0,
            limit: 10,
        };
        let tx = store.begin().await.unwrap();
        let sited = registry::insert_enterprise(&tx, enterprise("91440300MA5FSCOPE1"), now)
            .await
            .unwrap();
        let c = registry::insert_community(
            &tx,
            CommunityFields {
                name_zh: "社区".to_owned(),
                name_en: "Scope Hub".to_owned(),
                district: "nanshan".to_owned(),
                address: "1 Road".to_owned(),
                area_m2: 1_000,
                operator_name: "Operator".to_owned(),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        let sited = registry::update_enterprise(
            &tx,
            sited.id,
            EnterpriseFields {
                community_id: Some(c.id),
                ..enterprise("91440300MA5FSCOPE1")
            },
            now,
        )
        .await
        .unwrap();
        registry::insert_enterprise(&tx, enterprise("91440300MA5FSCOPE2"), now)
            .await
            .unwrap();
        let holder = registry::insert_person(
            &tx,
            None,
            PersonFields {
                resident_id: Some(SealedResidentId {
                    cipher: "c".to_owned(),
                    hash: "h".to_owned(),
                }),
                ..person("Scoped Holder")
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let in_community = registry::list_enterprises(
            store.db(),
            registry::Scope::Communities(vec![c.id]),
            None,
            None,
            page,
        )
        .await
        .unwrap();
        assert_eq!(in_community.total, 1);
        assert_eq!(in_community.rows[0].id, sited.id);
        let by_code = registry::list_enterprises(
            store.db(),
            registry::Scope::All,
            Some("nanshan"),
            Some("SCOPE2"),
            page,
        )
        .await
        .unwrap();
        assert_eq!(by_code.total, 1);

        // A community scope shows no persons; a hash finds only its holder.
        let none = registry::list_persons(
            store.db(),
            registry::Scope::Communities(vec![c.id]),
            None,
            None,
            page,
        )
        .await
        .unwrap();
        assert_eq!(none.total, 0);
        let by_hash = registry::list_persons(
            store.db(),
            registry::Scope::District("nanshan".to_owned()),
            None,
            Some(registry::PersonSearch::ResidentIdHash("h".to_owned())),
            page,
        )
        .await
        .unwrap();
        assert_eq!(
            by_hash.rows.iter().map(|p| p.id).collect::<Vec<_>>(),
            [holder.id]
        );
        let communities = registry::list_communities(
            store.db(),
            registry::Scope::Communities(vec![c.id]),
            None,
            Some("Scope"),
            page,
        )
        .await
        .unwrap();
        assert_eq!(communities.total, 1);
    })
    .await;
}
