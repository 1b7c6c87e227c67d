//! Administering accounts and changing passwords, on both backends: an
//! administrator account made by an administrator waits for a second one;
//! nobody disables themself; a disabled account's session is refused at
//! once; of two administrators changing one account at once, one does; a
//! password change needs the current password, a strong new one typed
//! twice, and ends every other session.

use opcity_domain::{District, Role};
use opcity_services::account_admin::PasswordChange;
use opcity_services::accounts::NewAccount;
use opcity_services::{ErrorCode, ServiceError, Services};
use opcity_testkit::fixtures::PASSWORD;
use opcity_testkit::{account, each_backend, race};

fn codes(e: ServiceError) -> Vec<(String, &'static str)> {
    match e {
        ServiceError::Validation(fields) => fields.into_iter().map(|f| (f.field, f.code)).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn staff(username: &str, role: Role, district: Option<District>) -> NewAccount {
    NewAccount {
        username: username.into(),
        display_name: format!("{username} (staff)"),
        password: PASSWORD.into(),
        role,
        district,
        locale: "en".into(),
    }
}

async fn session(s: &Services, username: &str, password: &str) -> Result<String, ServiceError> {
    s.sign_in(username, password, None)
        .await
        .map(|issued| issued.token)
}

#[tokio::test]
async fn a_second_administrator_enables_an_administrator() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let first = account(&s, "admin.one", Role::MunicipalAdmin, None).await;
        let second = account(&s, "admin.two", Role::MunicipalAdmin, None).await;
        let auditor = account(&s, "audit", Role::Auditor, None).await;

        // A reviewer made by an administrator works at once.
        let reviewer = s
            .create_account(
                Some(&first),
                staff("rev.n", Role::DistrictReviewer, Some(District::Nanshan)),
            )
            .await
            .unwrap();
        assert!(!reviewer.disabled && !reviewer.awaits_second_admin);
        session(&s, "rev.n", PASSWORD).await.unwrap();

        // An administrator made by one waits for another.
        let third = s
            .create_account(
                Some(&first),
                staff("admin.three", Role::MunicipalAdmin, None),
            )
            .await
            .unwrap();
        assert!(third.disabled && third.awaits_second_admin);
        assert!(matches!(
            session(&s, "admin.three", PASSWORD).await,
            Err(ServiceError::BadCredentials)
        ));
        assert_eq!(
            codes(
                s.set_account_enabled(&first, third.id, true)
                    .await
                    .unwrap_err()
            ),
            [("account".into(), "second_admin_required")]
        );
        let enabled = s
            .set_account_enabled(&second, third.id, true)
            .await
            .unwrap();
        assert!(!enabled.disabled && !enabled.awaits_second_admin);
        session(&s, "admin.three", PASSWORD).await.unwrap();

        // Nobody disables themself; auditors read but do not change.
        assert_eq!(
            codes(
                s.set_account_enabled(&first, first.account_id, false)
                    .await
                    .unwrap_err()
            ),
            [("account".into(), "cannot_disable_self")]
        );
        assert!(matches!(
            s.set_account_enabled(&auditor, reviewer.id, false).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(s.list_accounts(&auditor).await.unwrap().len() >= 5);

        // Disabling ends the reviewer's session at its next request.
        let token = session(&s, "rev.n", PASSWORD).await.unwrap();
        s.session_actor(&token).await.unwrap();
        s.set_account_enabled(&first, reviewer.id, false)
            .await
            .unwrap();
        assert!(matches!(
            s.session_actor(&token).await,
            Err(ServiceError::Unauthenticated)
        ));

        // Two administrators enabling it at once: one does, one is told.
        let outcomes = race(2, |i| {
            let s = s.clone();
            let by = if i == 0 {
                first.clone()
            } else {
                second.clone()
            };
            async move { s.set_account_enabled(&by, reviewer.id, true).await }
        })
        .await;
        let done = outcomes.iter().filter(|o| o.is_ok()).count();
        let told = outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Err(ServiceError::Conflict {
                        code: ErrorCode::AccountChanged,
                        ..
                    })
                )
            })
            .count();
        assert_eq!((done, told), (1, 1), "{outcomes:?}");
        s.seal_audit_log().await.unwrap();
        let log = s.audit_entries(&auditor, 0, 50).await.unwrap();
        let enables = log
            .entries
            .iter()
            .filter(|e| e.action == "account.enable")
            .count();
        assert_eq!(enables, 2);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_checks_the_old_and_ends_other_sessions() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let me = account(&s, "lin.wei", Role::Founder, None).await;
        let here = session(&s, "lin.wei", PASSWORD).await.unwrap();
        let elsewhere = session(&s, "lin.wei", PASSWORD).await.unwrap();
        let change = |current: &str, new: &str, again: &str| PasswordChange {
            current_password: current.into(),
            new_password: new.into(),
            confirm_password: again.into(),
        };
        let strong = "violet tangerine bicycle harbour";
        assert_eq!(
            codes(
                s.change_password(
                    &me,
                    Some(&here),
                    &change("wrong one entirely", strong, strong)
                )
                .await
                .unwrap_err()
            ),
            [("current_password".into(), "wrong_password")]
        );
        assert_eq!(
            codes(
                s.change_password(
                    &me,
                    Some(&here),
                    &change(PASSWORD, "password1234", "password1234")
                )
                .await
                .unwrap_err()
            ),
            [("new_password".into(), "password_too_weak")]
        );
        assert_eq!(
            codes(
                s.change_password(
                    &me,
                    Some(&here),
                    &change(PASSWORD, strong, "violet tangerine")
                )
                .await
                .unwrap_err()
            ),
            [("confirm_password".into(), "passwords_differ")]
        );
        // Nothing changed so far.
        s.session_actor(&elsewhere).await.unwrap();
        s.change_password(&me, Some(&here), &change(PASSWORD, strong, strong))
            .await
            .unwrap();
        s.session_actor(&here).await.unwrap();
        assert!(matches!(
            s.session_actor(&elsewhere).await,
            Err(ServiceError::Unauthenticated)
        ));
        assert!(matches!(
            session(&s, "lin.wei", PASSWORD).await,
            Err(ServiceError::BadCredentials)
        ));
        session(&s, "lin.wei", strong).await.unwrap();
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        s.seal_audit_log().await.unwrap();
        let log = s.audit_entries(&admin, 0, 20).await.unwrap();
        let entry = log
            .entries
            .iter()
            .find(|e| e.action == "account.password")
            .expect("audited");
        let text = serde_json::to_string(&entry.after).unwrap();
        assert!(!text.contains(strong) && !text.contains(PASSWORD), "{text}");
        assert_eq!(entry.after.as_ref().unwrap()["other_sessions_ended"], 1);
    })
    .await;
}

#[tokio::test]
async fn administrators_change_roles_on_what_they_saw() {
    use opcity_services::account_admin::RoleChange;
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let first = account(&s, "first", Role::MunicipalAdmin, None).await;
        let second = account(&s, "second", Role::MunicipalAdmin, None).await;
        let auditor = account(&s, "aud", Role::Auditor, None).await;
        let clerk = s
            .create_account(Some(&first), staff("clerk", Role::Auditor, None))
            .await
            .unwrap();
        let change = |role, district, seen_role, seen_district| RoleChange {
            role,
            district,
            seen_role,
            seen_district,
        };
        let nanshan = Some(District::Nanshan);

        // Only administrators; never one's own; a reviewer needs a district.
        assert!(matches!(
            s.change_account_role(
                &auditor,
                clerk.id,
                &change(Role::Investor, None, Role::Auditor, None)
            )
            .await,
            Err(ServiceError::Forbidden)
        ));
        assert_eq!(
            codes(
                s.change_account_role(
                    &first,
                    first.account_id,
                    &change(Role::Auditor, None, Role::MunicipalAdmin, None)
                )
                .await
                .unwrap_err()
            ),
            [("role".to_owned(), "cannot_change_self")]
        );
        assert_eq!(
            codes(
                s.change_account_role(
                    &first,
                    clerk.id,
                    &change(Role::DistrictReviewer, None, Role::Auditor, None)
                )
                .await
                .unwrap_err()
            ),
            [("district".to_owned(), "reviewer_needs_district")]
        );

        // The clerk becomes Nanshan's reviewer, and acts as one at once.
        let token = session(&s, "clerk", PASSWORD).await.unwrap();
        let view = s
            .change_account_role(
                &first,
                clerk.id,
                &change(Role::DistrictReviewer, nanshan, Role::Auditor, None),
            )
            .await
            .unwrap();
        assert_eq!(
            (view.role, view.district),
            (Role::DistrictReviewer, nanshan)
        );
        let (acting, _) = s.session_actor(&token).await.unwrap();
        assert_eq!(
            (acting.role, acting.district),
            (Role::DistrictReviewer, nanshan)
        );

        // A form that saw the clerk as an auditor is stale now.
        assert!(matches!(
            s.change_account_role(
                &second,
                clerk.id,
                &change(Role::Investor, None, Role::Auditor, None)
            )
            .await,
            Err(ServiceError::Conflict {
                code: ErrorCode::AccountChanged,
                ..
            })
        ));

        // Two administrators at once on what they both saw: one changes it.
        let outcomes = race(2, |i| {
            let s = s.clone();
            let (by, to) = if i == 0 {
                (first.clone(), Role::Investor)
            } else {
                (second.clone(), Role::Auditor)
            };
            let c = change(to, None, Role::DistrictReviewer, nanshan);
            async move { s.change_account_role(&by, clerk.id, &c).await }
        })
        .await;
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "{outcomes:?}"
        );
        let now = outcomes.into_iter().find_map(Result::ok).unwrap().role;

        // Made administrator: disabled until another administrator enables it.
        let view = s
            .change_account_role(
                &first,
                clerk.id,
                &change(Role::MunicipalAdmin, None, now, None),
            )
            .await
            .unwrap();
        assert!(view.disabled && view.awaits_second_admin, "{view:?}");
        assert_eq!(
            codes(
                s.set_account_enabled(&first, clerk.id, true)
                    .await
                    .unwrap_err()
            ),
            [("account".to_owned(), "second_admin_required")]
        );
        assert!(
            !s.set_account_enabled(&second, clerk.id, true)
                .await
                .unwrap()
                .disabled
        );
    })
    .await;
}
