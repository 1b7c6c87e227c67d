//! The voucher pages over HTTP: the administrator's pools and forms, the
//! provider's registration and console, the enterprise's wallet with its
//! confirm / dispute form; stable element ids for the browser tests.

use opcity_domain::Role;
use opcity_services::vouchers::redeem::{CaptureInput, HoldInput};
use opcity_testkit::{FounderSpec, TestApp, TestDb};
use reqwest::StatusCode;

async fn text(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    (status, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_console_and_pools_pages() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let s = &app.services;
    let admin_actor = app.account("admin", Role::MunicipalAdmin, None).await;
    let spec = FounderSpec::young_ai("founder", 0)
        .locale("zh-CN")
        .uscc("91440300708461136T")
        .named("林晨曦", "深蓝智算科技有限公司");
    let enterprise = app.founder(&admin_actor, spec).await.enterprise_id;
    let vendor = app.account("vendor", Role::ServiceProvider, None).await;
    let today = opcity_domain::today_in_shanghai(chrono::Utc::now());

    // The provider registers through the page (CSRF-checked form).
    let provider = app.sign_in("vendor").await;
    let (status, html) = text(provider.in_language("en").get("/vouchers").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"provider-register-form\""), "{html}");
    let form = [
        ("_csrf", provider.csrf.as_str()),
        ("name", "鹏城算力服务有限公司"),
        ("category", "compute"),
        ("kind.sz.voucher.training", "on"),
    ];
    let no_csrf = provider.post_form("/providers/register", &form[1..]).await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let r = provider.post_form("/providers/register", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/vouchers?done=registered");
    let (_, html) = text(provider.get("/vouchers?done=registered").await).await;
    assert!(html.contains("data-status=\"pending\""));
    assert!(html.contains("id=\"voucher-done\""));

    // The administrator sees kinds, pools, providers and the forms; approves.
    let admin = app.sign_in("admin").await;
    let (_, html) = text(admin.in_language("en").get("/vouchers").await).await;
    for id in [
        "voucher-kinds",
        "pools",
        "reconciliation",
        "issue-form",
        "fund-form",
        "run-jobs",
        "providers",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(html.contains("data-clean=\"true\""));
    let p = s.my_provider(&vendor).await.unwrap().unwrap();
    let r = admin
        .post_form(
            &format!("/providers/{}/decision", p.id),
            &[
                ("_csrf", admin.csrf.as_str()),
                ("decision", "approve"),
                ("kind.sz.voucher.training", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The enterprise is picked by name: the form suggests it.
    let (_, html) = text(admin.get("/vouchers").await).await;
    let suggested = format!("深蓝智算科技有限公司 · #{enterprise}");
    assert!(
        html.contains(&format!("<option value=\"{suggested}\">")),
        "{html}"
    );
    // Issuing through the form: a bad amount and a name that matches
    // nothing are named beside their fields, with what was typed kept; a
    // good one issues, to an enterprise typed as part of its name.
    let until = (today + chrono::Days::new(20)).to_string();
    let issue = |firm: &'static str, amount: &'static str| {
        vec![
            ("_csrf", admin.csrf.clone()),
            ("_form", "issue-form".to_owned()),
            ("transfer_id", "form:issue-1".to_owned()),
            ("enterprise_id", firm.to_owned()),
            ("kind", "sz.voucher.training".to_owned()),
            ("amount_yuan", amount.to_owned()),
            ("valid_until", until.clone()),
        ]
    };
    let (status, html) = text(
        admin
            .in_language("en")
            .post_form("/vouchers/issue", &issue("浅绿", "12.345"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"voucher-error\"") && html.contains("data-field=\"amount_fen\""),
        "{html}"
    );
    assert!(html.contains("id=\"issue-amount-error\""), "{html}");
    assert!(html.contains("id=\"issue-enterprise-error\""), "{html}");
    assert!(
        html.contains("Nothing you may see matches “浅绿”"),
        "{html}"
    );
    assert!(
        html.contains("value=\"浅绿\""),
        "the typed name is kept: {html}"
    );
    assert!(
        html.contains("value=\"12.345\""),
        "the amount is kept: {html}"
    );
    let r = admin
        .post_form("/vouchers/issue", &issue("深蓝智算", "10,000"))
        .await;
    assert_eq!(r.headers()["location"], "/vouchers?done=issued");
    // A double submission of the same form is a replay: issued once.
    admin
        .post_form("/vouchers/issue", &issue("深蓝智算", "10,000"))
        .await;
    let pools = s.voucher_pools(&admin_actor).await.unwrap();
    assert_eq!(pools[0].reserved_fen, 1_000_000);

    // The provider holds and captures through the services; the console shows it.
    s.place_hold(
        &vendor,
        &HoldInput {
            transfer_id: "h-1".into(),
            enterprise_id: enterprise,
            kind: "sz.voucher.training".into(),
            amount_fen: 300_000,
            use_kind: "model_training".into(),
            reference: "HT-9".into(),
            contract_amount_fen: Some(1_000_000),
            timeout_secs: None,
        },
    )
    .await
    .unwrap();
    // The second hold is placed at the counter, by the customer's credit
    // code (shown on their wallet): a code that is malformed or names no
    // enterprise is named beside its field, as typed, and holds nothing.
    let (_, html) = text(provider.get("/vouchers").await).await;
    assert!(html.contains("id=\"hold-form\""), "{html}");
    let counter = |code: &str| {
        vec![
            ("_csrf", provider.csrf.clone()),
            ("_form", "hold-form".to_owned()),
            ("transfer_id", "h-2".to_owned()),
            ("uscc", code.to_owned()),
            ("kind", "sz.voucher.training".to_owned()),
            ("use", "model_training".to_owned()),
            ("amount_yuan", "1,000".to_owned()),
            ("contract_amount_yuan", "10,000".to_owned()),
            ("reference", "HT-9".to_owned()),
        ]
    };
    let unknown = opcity_testkit::fixtures::uscc(77);
    for (code, message) in [
        ("9144030070846", "18 characters"),
        (
            unknown.as_str(),
            "No enterprise is registered under this credit code",
        ),
    ] {
        let r = provider
            .in_language("en")
            .post_form("/provider/holds", &counter(code))
            .await;
        let (status, html) = text(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains("id=\"hold-uscc-error\""), "{html}");
        assert!(html.contains(message), "{html}");
        assert!(html.contains(&format!("value=\"{code}\"")), "kept: {html}");
        assert!(html.contains("value=\"HT-9\""), "kept: {html}");
    }
    let r = provider
        .post_form("/provider/holds", &counter(" 91440300708461136t "))
        .await;
    assert_eq!(r.headers()["location"], "/vouchers?done=held");
    s.capture_hold(
        &vendor,
        &CaptureInput {
            transfer_id: "c-1".into(),
            hold_id: "h-1".into(),
            amount_fen: None,
        },
    )
    .await
    .unwrap();
    let (_, html) = text(provider.get("/vouchers").await).await;
    for id in [
        "receivables",
        "open-holds",
        "capture-h-2",
        "void-h-2",
        "settlement-form",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    // The console names the customer of each hold and line, not a number.
    let row = |html: &str, id: &str| {
        let at = html
            .find(&format!("data-transfer=\"{id}\""))
            .unwrap_or_else(|| panic!("row {id}: {html}"));
        html[at..at + html[at..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row(&html, "h-2").contains("深蓝智算科技有限公司"), "{html}");
    assert!(row(&html, "c-1").contains("深蓝智算科技有限公司"), "{html}");
    // Void the open hold from the console.
    let r = provider
        .post_form(
            "/provider/holds/h-2/void",
            &[
                ("_csrf", provider.csrf.as_str()),
                ("transfer_id", "form:void-1"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/vouchers?done=voided");
    let csv = provider
        .get(&format!(
            "/vouchers/settlement?provider_id={}&from={today}&to={today}&format=csv",
            p.id
        ))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text().await.unwrap().contains("c-1,h-1,"));

    // The founder's wallet: the code to give at a counter, balances and
    // the confirm / dispute form.
    let me = app.sign_in("founder").await;
    let (_, html) = text(me.in_language("en").get("/vouchers").await).await;
    assert!(html.contains("91440300708461136T"), "{html}");
    assert!(html.contains(&format!("id=\"wallet-{enterprise}\"")));
    assert!(html.contains("data-available=\"700000\""), "{html}");
    assert!(html.contains("id=\"confirm-c-1\"") && html.contains("id=\"dispute-c-1\""));
    // The wallet names the provider that was paid; an issue has none.
    assert!(row(&html, "c-1").contains("鹏城算力服务有限公司"), "{html}");
    assert!(html.contains(">Provider<"), "{html}");
    // Disputing needs a comment; then it is recorded once.
    let (status, html) = text(
        me.in_language("en")
            .post_form(
                "/vouchers/uses/c-1/review",
                &[
                    ("_csrf", me.csrf.as_str()),
                    ("decision", "disputed"),
                    ("comment", ""),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("data-field=\"comment\""));
    let r = me
        .post_form(
            "/vouchers/uses/c-1/review",
            &[
                ("_csrf", me.csrf.as_str()),
                ("decision", "confirmed"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/vouchers?done=reviewed");
    let (_, html) = text(me.get("/vouchers").await).await;
    assert!(!html.contains("id=\"confirm-c-1\""));
    assert!(html.contains("已确认"));

    // A settlement download is offered only to whom may read it: the
    // administrator, not a district's reviewer (issue 14).
    let settlement = format!("/vouchers/settlement?provider_id={}&", p.id);
    let (_, html) = text(admin.get("/vouchers").await).await;
    assert!(html.contains(&settlement), "{html}");
    app.account(
        "reviewer",
        Role::DistrictReviewer,
        Some(opcity_domain::District::Nanshan),
    )
    .await;
    let reviewer = app.sign_in("reviewer").await;
    let (status, html) = text(reviewer.get("/vouchers").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("data-provider=\"{}\"", p.id)),
        "{html}"
    );
    assert!(!html.contains(&settlement), "{html}");

    // Roles without vouchers get no page; signed-out viewers go to sign-in.
    app.account("investor", Role::Investor, None).await;
    let investor = app.sign_in("investor").await;
    assert_eq!(
        investor.get("/vouchers").await.status(),
        StatusCode::FORBIDDEN
    );
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anonymous.get(app.url("/vouchers")).send().await.unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    app.stop().await;
    db.cleanup().await;
}
