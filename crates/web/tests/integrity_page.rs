//! The integrity view and the dashboard's benefits, as staff see them, on
//! both backends: the administrator finds an enterprise holding a
//! programme twice, by name, with each grant's path; the dashboard counts
//! holders and amounts by programme; a founder may not open the view.

use opcity_domain::Role;
use opcity_services::grants::GrantInput;
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_double_holdings_and_founders_may_not_look() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let founder = app
            .founder(
                &admin,
                FounderSpec::young_ai("lin", 1).named("Lin Bo", "Lin Robotics"),
            )
            .await;
        let today = opcity_domain::today_in_shanghai(s.now());
        for source in ["decision SZ-1", "decision SZ-2"] {
            s.record_grant(
                &admin,
                &GrantInput {
                    subject: format!("enterprise:{}", founder.enterprise_id),
                    programme: "sz.voucher.model".into(),
                    from: today.to_string(),
                    to: None,
                    source: source.into(),
                },
            )
            .await
            .unwrap();
        }

        let staff = app.sign_in("admin").await.in_language("en");
        let page = staff.get("/integrity").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("data-kind=\"duplicate\""), "{html}");
        assert!(html.contains("Lin Robotics · Model voucher"), "{html}");
        assert!(html.contains("decision SZ-2"), "{html}");
        assert!(html.contains("id=\"no-shared\""), "{html}");
        let earlier = today.pred_opt().unwrap();
        let html = staff
            .get(&format!("/integrity?as_of={earlier}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"no-duplicates\""), "{html}");

        let dashboard = staff.get("/dashboard").await.text().await.unwrap();
        assert!(
            dashboard.contains("<tr data-programme=\"sz.voucher.model\"><td>Model voucher</td><td class=\"num\">1</td>"),
            "{dashboard}"
        );

        let lin = app.sign_in("lin").await.in_language("en");
        assert_eq!(lin.get("/integrity").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            lin.get("/api/v1/integrity").await.status(),
            StatusCode::FORBIDDEN
        );
    })
    .await;
}
