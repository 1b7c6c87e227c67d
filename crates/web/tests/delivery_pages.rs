//! What an accepted approval became, as people see it: the founder's
//! application page and home name the delivery (a voucher in the wallet,
//! never "Paying"), and the district's allocator serves an approved housing
//! request from the housing page's queue, the lease form filled in for it.

use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication, ReviewInput};
use opcity_services::{Actor, Services};
use opcity_testkit::{FounderSpec, TestApp, each_backend, review, supply_evidence};
use reqwest::StatusCode;

/// The `value` of the input named `name` in `html`.
fn value_of(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    let value = tag.split("value=\"").nth(1)?;
    Some(value[..value.find('"')?].to_owned())
}

/// `founder`'s application for `programme`, submitted, decided by
/// `deciders` in turn (the last approves; any before forward) and accepted.
async fn accepted(
    s: &Services,
    founder: &Actor,
    programme: &str,
    enterprise_id: Option<i64>,
    deciders: &[&Actor],
    amount_fen: Option<i64>,
) -> i64 {
    let app = s
        .create_application(
            founder,
            &NewApplication {
                programme: programme.into(),
                enterprise_id,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    supply_evidence(s, founder, app.id).await;
    s.submit_application(founder, app.id).await.unwrap();
    let (last, forwarders) = deciders.split_last().unwrap();
    for f in forwarders {
        let forward = ReviewInput {
            decision: Decision::Forward,
            ..review(Decision::Approve, None)
        };
        s.review_application(f, app.id, &forward).await.unwrap();
    }
    s.review_application(last, app.id, &review(Decision::Approve, amount_fen))
        .await
        .unwrap();
    s.accept_offer(founder, app.id).await.unwrap();
    app.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voucher_is_shown_in_the_wallet_not_as_paying() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let reviewer = app
            .account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app.founder(&admin, FounderSpec::young_ai("vera", 1)).await;
        let year = chrono::Datelike::year(&opcity_domain::today_in_shanghai(s.now()));
        s.create_budget(
            &admin,
            &BudgetInput {
                programme: "sz.voucher.model".into(),
                year,
                authority: "municipal".into(),
                total_fen: 500_000_000,
            },
        )
        .await
        .unwrap();
        let enterprise = founder.actor.enterprise_ids[0];
        let id = accepted(
            s,
            &founder.actor,
            "sz.voucher.model",
            Some(enterprise),
            &[&reviewer, &admin],
            Some(80_000_000),
        )
        .await;

        let vera = app.sign_in("vera").await.in_language("en");
        let page = vera.get(&format!("/applications/{id}")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("data-delivery=\"voucher\""), "{html}");
        assert!(html.contains("data-status=\"issued\""), "{html}");
        assert!(html.contains("Voucher in your wallet"), "{html}");
        assert!(!html.contains(">Paying<"), "a voucher is not paid: {html}");
        assert!(
            html.contains("¥800,000.00") || html.contains("800,000"),
            "{html}"
        );

        let home = vera.get("/home").await.text().await.unwrap();
        assert!(home.contains("id=\"my-holdings\""), "{home}");
        assert!(home.contains("data-benefit=\"voucher\""), "{home}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_serves_approved_housing_from_its_queue() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let reviewer = app
            .account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app.founder(&admin, FounderSpec::young_ai("hua", 2)).await;
        let person = founder.actor.person_id.unwrap();
        let unit = opcity_testkit::nanshan_flat(s, &admin, "A-101").await;
        let id = accepted(
            s,
            &founder.actor,
            "sz.housing.transitional",
            None,
            &[&reviewer],
            None,
        )
        .await;
        let request = s
            .housing_requests(&reviewer)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.application_id == id)
            .expect("the reviewer sees the request");

        let desk = app.sign_in("reviewer").await.in_language("en");
        let queue = desk.get("/housing").await.text().await.unwrap();
        assert!(
            queue.contains(&format!("id=\"housing-request-{}\"", request.id)),
            "{queue}"
        );
        let filled = desk
            .get(&format!("/housing?request={}", request.id))
            .await
            .text()
            .await
            .unwrap();
        // The tenant is named, not numbered.
        let tenant = format!("{} · #{person}", request.person_name);
        assert_eq!(value_of(&filled, "person_id"), Some(tenant.clone()));
        assert!(
            filled.contains(&format!("<option value=\"{}\" selected>", request.id)),
            "the request is chosen: {filled}"
        );
        let months = request.months.to_string();
        let start = request.wanted_from.to_string();
        let unit_id = unit.to_string();
        let request_id = request.id.to_string();
        // A name that matches nobody is named beside the field.
        let nobody = desk
            .post_form(
                "/housing/leases",
                &[
                    ("_csrf", desk.csrf.as_str()),
                    ("_form", "lease-form"),
                    ("housing_unit_id", unit_id.as_str()),
                    ("person_id", "无名氏"),
                    ("start", start.as_str()),
                    ("months", months.as_str()),
                ],
            )
            .await;
        assert_eq!(nobody.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = nobody.text().await.unwrap();
        assert!(html.contains("id=\"f-person_id-error\""), "{html}");
        assert!(html.contains("value=\"无名氏\""), "{html}");
        let person_id = tenant;
        let posted = desk
            .post_form(
                "/housing/leases",
                &[
                    ("_csrf", desk.csrf.as_str()),
                    ("housing_unit_id", unit_id.as_str()),
                    ("person_id", person_id.as_str()),
                    ("start", start.as_str()),
                    ("months", months.as_str()),
                    ("request_id", request_id.as_str()),
                ],
            )
            .await;
        assert_eq!(posted.status(), StatusCode::SEE_OTHER);

        // Served once: the founder's application says so, and a second
        // lease for the same request is refused.
        let hua = app.sign_in("hua").await.in_language("en");
        let html = hua
            .get(&format!("/applications/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("data-delivery=\"housing\""), "{html}");
        assert!(html.contains("data-status=\"allocated\""), "{html}");
        let again = desk
            .post_form(
                "/housing/leases",
                &[
                    ("_csrf", desk.csrf.as_str()),
                    ("housing_unit_id", unit_id.as_str()),
                    ("person_id", person_id.as_str()),
                    ("start", start.as_str()),
                    ("months", "1"),
                    ("request_id", request_id.as_str()),
                ],
            )
            .await;
        assert_ne!(again.status(), StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_is_answered_and_decided_on_the_application_page() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let reviewers = [
            app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
                .await,
            app.account("reviewer2", Role::DistrictReviewer, Some(District::Nanshan))
                .await,
        ];
        let spec = FounderSpec::young_ai("mei", 3);
        let mut older = spec.person.clone();
        let founder = app.founder(&admin, spec).await;
        opcity_testkit::nanshan_housing_budget(s, &admin, 10_000_000).await;
        let id = opcity_testkit::housing_application(s, &founder.actor, "m").await;
        let submitted = s.submit_application(&founder.actor, id).await.unwrap();
        let result = submitted.explanation.unwrap().result;
        let amount = result.monthly_fen.unwrap().0 * result.months.unwrap();
        for r in &reviewers {
            s.review_application(r, id, &review(Decision::Approve, Some(amount)))
                .await
                .unwrap();
        }
        s.accept_offer(&founder.actor, id).await.unwrap();
        older.birth_date = Some("1980-01-01".into());
        s.update_person(&admin, founder.actor.person_id.unwrap(), &older)
            .await
            .unwrap();
        let today = opcity_domain::today_in_shanghai(s.now());
        assert_eq!(s.recheck_entitlements(today).await.unwrap().flagged, 1);
        let path = format!("/applications/{id}");

        // The founder sees why, in their language, and answers.
        let mei = app.sign_in("mei").await.in_language("en");
        let html = mei.get(&path).await.text().await.unwrap();
        assert!(html.contains("id=\"flags\""), "{html}");
        assert!(html.contains("data-condition=\"young\""), "{html}");
        assert!(html.contains("Aged 35 or under"), "{html}");
        assert!(html.contains("id=\"flag-respond\""), "{html}");
        assert!(!html.contains("id=\"flag-decide\""), "{html}");
        let answered = mei
            .post_form(
                &format!("{path}/flag-response"),
                &[
                    ("_csrf", mei.csrf.as_str()),
                    ("_form", "flag-form"),
                    ("response", "My birth date was entered wrongly."),
                ],
            )
            .await;
        assert_eq!(answered.status(), StatusCode::SEE_OTHER);

        // The reviewer who decided sees the answer and decides; a
        // confirmation without a note is refused beside the note, the
        // choice kept, nothing decided.
        let desk = app.sign_in("reviewer2").await.in_language("en");
        let html = desk.get(&path).await.text().await.unwrap();
        assert!(
            html.contains("My birth date was entered wrongly."),
            "{html}"
        );
        assert!(html.contains("id=\"flag-decide\""), "{html}");
        let refused = desk
            .post_form(
                &format!("{path}/flag-decision"),
                &[
                    ("_csrf", desk.csrf.as_str()),
                    ("_form", "flag-form"),
                    ("decision", "confirm"),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"note-error\""), "{html}");
        assert!(
            html.contains("value=\"confirm\" checked"),
            "the choice is kept: {html}"
        );
        let lifted = desk
            .post_form(
                &format!("{path}/flag-decision"),
                &[
                    ("_csrf", desk.csrf.as_str()),
                    ("_form", "flag-form"),
                    ("decision", "lift"),
                ],
            )
            .await;
        assert_eq!(lifted.status(), StatusCode::SEE_OTHER);
        let html = mei.get(&path).await.text().await.unwrap();
        assert!(html.contains("data-status=\"lifted\""), "{html}");
        assert!(!html.contains("id=\"flag-respond\""), "{html}");
    })
    .await;
}
