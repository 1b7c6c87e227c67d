//! The consultation page over HTTP: the form, quoted clauses, an
//! abstention, refused questions beside their field (escaped, never run),
//! and a founder's own results.

use opcity_domain::Role;
use opcity_testkit::{FounderSpec, TestApp, TestDb, each_backend};
use reqwest::StatusCode;

async fn page(app: &TestApp, query: &str, language: &str) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .get(app.url(&format!("/consult{query}")))
        .header("accept-language", language)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn q(text: &str) -> String {
    format!("?q={}", urlencoding::encode(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_quotes_clauses_abstains_and_refuses_in_both_languages() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;

    let (status, html) = page(&app, "", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<label for=\"q\">Your question</label>"),
        "{html}"
    );
    assert!(html.contains("maxlength=\"500\""));
    assert!(html.contains("href=\"/consult\""), "in the navigation");
    assert!(
        !html.contains("id=\"answer\""),
        "no answer before a question"
    );

    let (status, html) = page(&app, &q("How much is the housing subsidy per month?"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"clause-shenzhen-2026-m4.2\""), "{html}");
    assert!(html.contains("<code>shenzhen-2026/m4.2</code>"));
    assert!(html.contains("1,250 yuan before tax"), "the English quote");
    assert!(html.contains("href=\"/self-check#result-sz.housing.subsidy\""));
    assert!(
        !html.contains("id=\"your-results\""),
        "anonymous: no engine results"
    );

    let (status, html) = page(&app, &q("租房补贴每个月多少钱？"), "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("每月税前1250元"), "the Chinese quote: {html}");
    assert!(
        html.contains("第4项措施") || html.contains("措施（4）"),
        "{html}"
    );

    let (status, html) = page(&app, &q("How do I renew my passport?"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"abstained\""), "{html}");
    assert!(html.contains("human adviser"));
    assert!(!html.contains("class=\"card citation\""));

    // Refused: 400, the message beside the field, what was typed kept and
    // escaped.
    let (status, html) = page(&app, &q("<script>alert(1)</script>"), "en").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"q-error\" role=\"alert\""), "{html}");
    assert!(html.contains("The question holds HTML markup or script"));
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "never echoed as markup"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let (status, html) = page(&app, "?q=", "zh-CN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("请输入问题。"), "{html}");
    let (status, html) = page(&app, &q(&"补".repeat(501)), "zh-CN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("问题最多500个字符"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_sees_the_engines_results_beside_the_clauses() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.founder(&admin, FounderSpec::young_ai("founder", 1))
            .await;
        let founder = app.sign_in("founder").await.in_language("en");
        let html = founder
            .text(&format!(
                "/consult{}",
                q("How much is the housing subsidy per month?")
            ))
            .await;
        assert!(html.contains("id=\"your-results\""), "{html}");
        assert!(html.contains("id=\"result-sz.housing.subsidy\""), "{html}");
        assert!(html.contains("data-status=\"eligible\""), "{html}");
    })
    .await;
}
