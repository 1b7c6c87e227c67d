//! The applications guard (`opcity_store::applications`), on SQLite and
//! PostgreSQL: a move applies only to the row as it was read (its state
//! and its form), alone or in a group; the form changes only while the
//! application is open to its applicant; an instalment is paid once.

use chrono::{NaiveDate, Utc};
use opcity_domain::application::State;
use opcity_store::Store;
use opcity_store::applications::{
    self, DecidedMove, Draft, Move, MoveSets, SubmittedMove, move_decided, move_one,
    move_submitted, update_form_if_editable,
};
use opcity_store::entity::{account, application, person};
use opcity_store::sea_orm::{ActiveModelTrait, Set};
use opcity_testkit::each_backend;

/// A founder with a person in Nanshan: (account id, person id).
async fn applicant(store: &Store, name: &str) -> (i64, i64) {
    let now = Utc::now();
    let tx = store.begin().await.unwrap();
    let account = account::ActiveModel {
        username: Set(name.to_owned()),
        display_name: Set(name.to_owned()),
        password_hash: Set("x".to_owned()),
        role: Set("founder".to_owned()),
        district: Set(None),
        locale: Set("en".to_owned()),
        disabled: Set(false),
        created_at: Set(now),
        email: Set(None),
        email_notifications: Set(false),
        email_since: Set(None),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .unwrap();
    let person = person::ActiveModel {
        account_id: Set(Some(account.id)),
        full_name: Set(name.to_owned()),
        district: Set(Some("nanshan".to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (account.id, person.id)
}

/// A fresh draft of `who`.
async fn draft(store: &Store, who: (i64, i64)) -> application::Model {
    let tx = store.begin().await.unwrap();
    let app = applications::create(
        &tx,
        &Draft {
            programme: "sz.housing.subsidy",
            person_id: Some(who.1),
            enterprise_id: None,
            district: "nanshan",
            requested_fen: None,
            created_by: who.0,
            idempotency_key: None,
            form_data: "{}".to_owned(),
            actor: "test",
            at: Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app
}

async fn stored(store: &Store, id: i64) -> application::Model {
    applications::find(store.db(), id).await.unwrap().unwrap()
}

fn to(app: &application::Model, state: State) -> Move<'_> {
    Move {
        app,
        to: state,
        at: Utc::now(),
    }
}

#[tokio::test]
async fn a_move_from_a_stale_read_moves_nothing() {
    each_backend(async |db| {
        let store = &db.store;
        let who = applicant(store, "mover").await;
        // A state changed since read.
        let read = draft(store, who).await;
        let tx = store.begin().await.unwrap();
        let moved = move_one(&tx, to(&read, State::Submitted), MoveSets::Nothing)
            .await
            .unwrap()
            .expect("the row is as read");
        assert_eq!(moved.state, "submitted");
        let again = move_one(&tx, to(&read, State::Withdrawn), MoveSets::Nothing)
            .await
            .unwrap();
        assert!(
            again.is_none(),
            "a second move from the same read is refused"
        );
        tx.commit().await.unwrap();
        assert_eq!(stored(store, read.id).await.state, "submitted");

        // A form changed since read (the one change without a move).
        let read = draft(store, who).await;
        let tx = store.begin().await.unwrap();
        let edited = update_form_if_editable(&tx, &read, r#"{"a":"b"}"#.into(), Utc::now())
            .await
            .unwrap()
            .expect("a draft is editable");
        assert_eq!(edited.form_data, r#"{"a":"b"}"#);
        let deadline = NaiveDate::from_ymd_opt(2099, 1, 1).unwrap();
        let stale = move_one(
            &tx,
            to(&read, State::Submitted),
            MoveSets::ReturnDeadline(deadline),
        )
        .await
        .unwrap();
        assert!(stale.is_none(), "a move decided on the old form is refused");
        tx.commit().await.unwrap();
        let now = stored(store, read.id).await;
        assert_eq!((now.state.as_str(), now.return_deadline), ("draft", None));
    })
    .await;
}

#[tokio::test]
async fn a_group_move_moves_only_the_rows_as_read() {
    each_backend(async |db| {
        let store = &db.store;
        let who = applicant(store, "grouper").await;
        let (a, b, c) = (
            draft(store, who).await,
            draft(store, who).await,
            draft(store, who).await,
        );
        // `b` moves on before the group is written.
        let tx = store.begin().await.unwrap();
        move_one(&tx, to(&b, State::Submitted), MoveSets::Nothing)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        let submitted = |app| SubmittedMove {
            mv: to(app, State::DistrictReview),
            explanation: r#"{"pack":{}}"#.to_owned(),
            pack_version: Some("v1".to_owned()),
        };
        let tx = store.begin().await.unwrap();
        let moved = move_submitted(&tx, &[submitted(&a), submitted(&b), submitted(&c)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(moved.keys().copied().collect::<Vec<_>>(), vec![a.id, c.id]);
        for id in [a.id, c.id] {
            let now = stored(store, id).await;
            assert_eq!(now.state, "district_review");
            assert_eq!(now.pack_version.as_deref(), Some("v1"));
            assert!(now.submitted_at.is_some());
            assert_eq!(moved[&id], now, "the group answers the rows as stored");
        }
        let untouched = stored(store, b.id).await;
        assert_eq!(
            (untouched.state.as_str(), untouched.submitted_at),
            ("submitted", None)
        );

        // The same for approvals: `a` as read before the group moved it.
        let fresh_c = stored(store, c.id).await;
        let decided = |app| DecidedMove {
            mv: to(app, State::Approved),
            approved_fen: None,
            budget_id: None,
        };
        let tx = store.begin().await.unwrap();
        let locked = applications::lock_unchanged(&tx, &[&a, &fresh_c])
            .await
            .unwrap();
        assert_eq!(locked.into_iter().collect::<Vec<_>>(), vec![c.id]);
        let moved = move_decided(&tx, &[decided(&a), decided(&fresh_c)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(moved.keys().copied().collect::<Vec<_>>(), vec![c.id]);
        assert!(stored(store, c.id).await.decided_at.is_some());
        assert_eq!(stored(store, a.id).await.state, "district_review");
    })
    .await;
}

#[tokio::test]
async fn the_form_changes_only_while_open_to_the_applicant() {
    each_backend(async |db| {
        let store = &db.store;
        let who = applicant(store, "editor").await;
        let read = draft(store, who).await;
        let tx = store.begin().await.unwrap();
        move_one(&tx, to(&read, State::Submitted), MoveSets::Nothing)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        let submitted = stored(store, read.id).await;
        let tx = store.begin().await.unwrap();
        let locked = applications::lock(&tx, read.id).await.unwrap().unwrap();
        assert_eq!(locked, submitted);
        let edited = update_form_if_editable(&tx, &locked, r#"{"a":"b"}"#.into(), Utc::now())
            .await
            .unwrap();
        assert!(edited.is_none(), "a submitted form is not editable");
        tx.commit().await.unwrap();
        assert_eq!(stored(store, read.id).await.form_data, "{}");
    })
    .await;
}

#[tokio::test]
async fn an_instalment_is_paid_once() {
    each_backend(async |db| {
        let store = &db.store;
        let who = applicant(store, "payee").await;
        let app = draft(store, who).await;
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let tx = store.begin().await.unwrap();
        applications::schedule(&tx, app.id, &[(day, 100), (day, 200)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let due = applications::due(store.db(), day).await.unwrap();
        assert_eq!(due.iter().map(|d| d.seq).collect::<Vec<_>>(), vec![1, 2]);
        let tx = store.begin().await.unwrap();
        assert!(applications::pay(&tx, due[0].id, Utc::now()).await.unwrap());
        assert!(
            !applications::pay(&tx, due[0].id, Utc::now()).await.unwrap(),
            "paid already"
        );
        assert_eq!(applications::scheduled_left(&tx, app.id).await.unwrap(), 1);
        applications::cancel_scheduled(&tx, app.id).await.unwrap();
        assert!(
            !applications::pay(&tx, due[1].id, Utc::now()).await.unwrap(),
            "a cancelled instalment is not paid"
        );
        assert_eq!(applications::scheduled_left(&tx, app.id).await.unwrap(), 0);
        tx.commit().await.unwrap();
        let statuses: Vec<String> = applications::instalments(store.db(), app.id)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.status)
            .collect();
        assert_eq!(statuses, ["paid", "cancelled"]);
    })
    .await;
}
