//! The registry and accounts story, run on SQLite and (when configured)
//! PostgreSQL: what each role may do, what bad input gets, and that refused
//! changes write nothing.

use opcity_domain::{District, Role};
use opcity_services::accounts::NewAccount;
use opcity_services::registry::communities::CommunityInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::registry::{ListFilter, Paging};
use opcity_services::{ServiceError, Services};
use opcity_store::entity::{enterprise, person};
use opcity_store::sea_orm::{EntityTrait, PaginatorTrait};
use opcity_testkit::account;
use opcity_testkit::{TestDb, each_backend};

fn services(db: &TestDb) -> Services {
    opcity_testkit::services(db)
}

fn community(district: &str, area: i64) -> CommunityInput {
    CommunityInput {
        name_zh: "测试社区".into(),
        name_en: "Test Community".into(),
        district: district.into(),
        address: "测试路1号".into(),
        area_m2: area,
        operator_name: "运营方".into(),
        operator_account_id: None,
        opened_on: Some("2026-03-01".into()),
    }
}

fn enterprise_input(uscc: &str, district: &str) -> EnterpriseInput {
    EnterpriseInput {
        uscc: uscc.into(),
        name: "测试智能科技有限公司".into(),
        registered_date: Some("2025-06-01".into()),
        district: district.into(),
        size: Some("micro".into()),
        ai_business: Some(true),
        ..Default::default()
    }
}

const USCC_A: &str = "91440300708461136T";
const USCC_B: &str = "914403001922038216";

fn fields(err: ServiceError) -> Vec<(String, &'static str)> {
    match err {
        ServiceError::Validation(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn audit_len(s: &Services) -> i64 {
    s.verify_audit_log().await.unwrap().entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn founder_registers_and_scoping_holds() {
    each_backend(async |db| {
        let s = services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let nanshan = account(
            &s,
            "rev.nanshan",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        let longgang = account(
            &s,
            "rev.longgang",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        let founder_account = account(&s, "founder", Role::Founder, None).await;
        let other_account = account(&s, "other", Role::Founder, None).await;

        let c = s
            .create_community(&admin, &community("nanshan", 12_000))
            .await
            .unwrap();
        assert!(c.reaches_target_area);
        let person = s
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "陈思远".into(),
                    district: Some("nanshan".into()),
                    birth_date: Some("1949-12-31".into()),
                    resident_id: Some("11010519491231002x".into()),
                    account_id: Some(founder_account.account_id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            person.resident_id_masked.as_deref(),
            Some("1****************X")
        );
        assert_eq!(person.resident_id, None, "the admin is not the owner");

        // Signing in again picks up the person link.
        let founder = s.system_actor(founder_account.account_id).await.unwrap();
        assert_eq!(founder.person_id, Some(person.id));
        let own = s.get_person(&founder, person.id).await.unwrap();
        assert_eq!(own.resident_id.as_deref(), Some("11010519491231002X"));

        let stored = person::Entity::find_by_id(person.id)
            .one(db.store.db())
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.resident_id_cipher.unwrap().contains("19491231"));

        let mut input = enterprise_input(USCC_A, "nanshan");
        input.community_id = Some(c.id);
        let e = s.create_enterprise(&founder, &input).await.unwrap();
        assert_eq!(e.founders, vec![person.id]);
        assert!(e.in_opc_community);
        let founder = s.system_actor(founder_account.account_id).await.unwrap();
        assert_eq!(founder.enterprise_ids, vec![e.id]);

        // District scoping: Nanshan's reviewer sees it, Longgang's does not.
        assert!(s.get_enterprise(&nanshan, e.id).await.is_ok());
        assert!(matches!(
            s.get_enterprise(&longgang, e.id).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.update_enterprise(&longgang, e.id, &input).await,
            Err(ServiceError::Forbidden)
        ));
        let listed = s
            .list_enterprises(&longgang, &ListFilter::default(), Paging::default())
            .await
            .unwrap();
        assert_eq!(listed.total, 0);
        let listed = s
            .list_enterprises(&nanshan, &ListFilter::default(), Paging::default())
            .await
            .unwrap();
        assert_eq!(listed.total, 1);

        // A founder sees only their own records.
        let other = s.system_actor(other_account.account_id).await.unwrap();
        assert!(matches!(
            s.get_person(&other, person.id).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.get_enterprise(&other, e.id).await,
            Err(ServiceError::Forbidden)
        ));
        assert_eq!(
            s.list_persons(&other, &ListFilter::default(), Paging::default())
                .await
                .unwrap()
                .total,
            0
        );

        // A reviewer cannot move a record out of their district.
        let mut moved = input.clone();
        moved.district = "longgang".into();
        moved.community_id = None;
        assert!(matches!(
            s.update_enterprise(&nanshan, e.id, &moved).await,
            Err(ServiceError::Forbidden)
        ));

        // The founder edits their enterprise; the audit log has before and after.
        let mut renamed = input.clone();
        renamed.name = "新名称科技有限公司".into();
        let updated = s.update_enterprise(&founder, e.id, &renamed).await.unwrap();
        assert_eq!(updated.name, "新名称科技有限公司");
        let page = s.audit_entries(&admin, 0, 1).await.unwrap();
        let last = &page.entries[0];
        assert_eq!(last.action, "enterprise.update");
        assert_eq!(
            last.before.as_ref().unwrap()["name"],
            "测试智能科技有限公司"
        );
        assert_eq!(last.after.as_ref().unwrap()["name"], "新名称科技有限公司");
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_writes_nothing() {
    each_backend(async |db| {
        let s = services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        s.create_enterprise(&admin, &enterprise_input(USCC_A, "nanshan"))
            .await
            .unwrap();
        let before_audit = audit_len(&s).await;
        let before_rows = enterprise::Entity::find()
            .count(db.store.db())
            .await
            .unwrap();

        let mut bad = enterprise_input("91440300708461136U", "shekou");
        bad.registered_date = Some("2026-02-30".into());
        bad.size = Some("huge".into());
        let err = s.create_enterprise(&admin, &bad).await.unwrap_err();
        assert_eq!(
            fields(err),
            vec![
                ("uscc".to_owned(), "uscc_check"),
                ("registered_date".to_owned(), "invalid_date"),
                ("district".to_owned(), "unknown_district"),
                ("size".to_owned(), "not_one_of"),
            ]
        );

        let dup = s
            .create_enterprise(&admin, &enterprise_input(USCC_A, "futian"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                dup,
                ServiceError::Conflict {
                    code: opcity_services::ErrorCode::UsccTaken,
                    field: Some("uscc")
                }
            ),
            "{dup:?}"
        );

        let mut wrong_place = enterprise_input(USCC_B, "futian");
        let c = s
            .create_community(&admin, &community("nanshan", 5_000))
            .await
            .unwrap();
        wrong_place.community_id = Some(c.id);
        let err = s.create_enterprise(&admin, &wrong_place).await.unwrap_err();
        assert_eq!(
            fields(err),
            vec![("community_id".to_owned(), "community_district_mismatch")]
        );

        let err = s
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "x".into(),
                    birth_date: Some("1990-01-01".into()),
                    degree_date: Some("1989-07-01".into()),
                    resident_id: Some("110105194912310021".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(err),
            vec![
                ("degree_date".to_owned(), "before_birth"),
                ("resident_id".to_owned(), "resident_id_check")
            ]
        );

        assert_eq!(
            enterprise::Entity::find()
                .count(db.store.db())
                .await
                .unwrap(),
            before_rows
        );
        // Only the community above was written.
        assert_eq!(audit_len(&s).await, before_audit + 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sessions_throttling_and_tokens() {
    each_backend(async |db| {
        let s = services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;

        let session = s
            .sign_in("admin", "correct horse battery", None)
            .await
            .unwrap();
        let (actor, csrf) = s.session_actor(&session.token).await.unwrap();
        assert_eq!(actor.account_id, admin.account_id);
        assert_eq!(csrf, session.csrf_token);
        s.sign_out(&session.token).await.unwrap();
        assert!(matches!(
            s.session_actor(&session.token).await,
            Err(ServiceError::Unauthenticated)
        ));

        assert!(matches!(
            s.sign_in("nobody", "whatever", None).await,
            Err(ServiceError::BadCredentials)
        ));
        for _ in 0..5 {
            assert!(matches!(
                s.sign_in("admin", "wrong password", None).await,
                Err(ServiceError::BadCredentials)
            ));
        }
        // With no address to tell clients apart, the username waits now,
        // even with the right password.
        assert!(matches!(
            s.sign_in("admin", "correct horse battery", None).await,
            Err(ServiceError::Throttled { .. })
        ));

        let (token, secret) = s.create_api_token(&admin, "treasury export").await.unwrap();
        assert!(secret.starts_with(&token.prefix));
        assert_eq!(
            s.token_actor(&secret).await.unwrap().via_token,
            Some(token.id)
        );
        s.revoke_api_token(&admin, token.id).await.unwrap();
        assert!(matches!(
            s.token_actor(&secret).await,
            Err(ServiceError::Unauthenticated)
        ));

        let dup = s
            .create_account(
                Some(&admin),
                NewAccount {
                    username: "admin".into(),
                    display_name: "again".into(),
                    password: "another long password".into(),
                    role: Role::Auditor,
                    district: None,
                    locale: "zh-CN".into(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(dup.code(), "username_taken");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_loads_once_and_feeds_the_dashboard() {
    each_backend(async |db| {
        let s = services(db);
        let report = s.load_demo(7).await.unwrap();
        assert_eq!(report.logins.len(), 9);
        assert!(report.persons >= 250, "{}", report.persons);
        assert!(report.enterprises >= 100);
        let mut roles: Vec<_> = report.logins.iter().map(|l| l.role.id()).collect();
        roles.sort();
        roles.dedup();
        assert_eq!(roles.len(), 7, "one account per role");
        assert_eq!(
            s.load_demo(7).await.unwrap_err().code(),
            "database_not_empty"
        );

        let admin = s
            .sign_in("admin", &report.logins[0].password, None)
            .await
            .unwrap()
            .actor;
        let dash = s.dashboard(&admin).await.unwrap();
        assert_eq!(dash.communities, 8);
        let area = dash
            .targets
            .iter()
            .find(|t| t.id == "community_area_m2")
            .unwrap();
        assert_eq!(area.value, 116_900);
        assert!(!area.met);
        let at_area = dash
            .targets
            .iter()
            .find(|t| t.id == "communities_at_area")
            .unwrap();
        assert_eq!(at_area.value, 5);
        // Vouchers: the founder's wallet and the providers' consoles live.
        let login = |name: &str| {
            report
                .logins
                .iter()
                .find(|l| l.username == name)
                .unwrap()
                .password
                .clone()
        };
        let founder = s
            .sign_in("founder", &login("founder"), None)
            .await
            .unwrap()
            .actor;
        let wallet = s.wallet(&founder, founder.enterprise_ids[0]).await.unwrap();
        assert!(wallet.wallets[0].available_fen > 0, "{wallet:?}");
        assert_eq!(wallet.open_holds.len(), 1);
        let reviews: Vec<Option<&str>> = wallet
            .history
            .iter()
            .filter(|h| h.transfer.kind == "capture")
            .map(|h| h.review.as_deref())
            .collect();
        assert_eq!(reviews, [Some("disputed"), Some("confirmed"), None]);
        for name in ["provider", "provider.model"] {
            let vendor = s.sign_in(name, &login(name), None).await.unwrap().actor;
            let console = s.provider_console(&vendor).await.unwrap();
            assert_eq!(console.provider.status, "approved");
            assert!(console.receivables.iter().any(|r| r.captured_fen > 0));
        }
        let disputes = s.voucher_disputes(&admin).await.unwrap();
        assert_eq!(disputes.len(), 1);
        assert!(disputes[0].resolution.is_none());
        assert!(s.reconcile_vouchers(&admin).await.unwrap().clean);
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}
