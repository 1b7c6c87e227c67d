//! The public self-check page over HTTP.

use opcity_testkit::{TestApp, TestDb};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_check_shows_results_reasons_and_bad_dates() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let client = reqwest::Client::new();

    let blank = client
        .get(app.url("/self-check"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(blank.status(), StatusCode::OK);
    let html = blank.text().await.unwrap();
    assert!(html.contains("id=\"self-check-form\""));
    assert!(
        !html.contains("id=\"results\""),
        "no results before a submission"
    );

    let query = "birth_date=1995-03-01&highest_degree=master&degree_date=2023-07-01&hukou=none&works_in_ai=true\
                 &is_founder=true&as_of=2026-06-01";
    let html = client
        .get(app.url(&format!("/self-check?{query}")))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Results on 2026-06-01"), "{html}");
    let card = |id: &str| {
        let start = html
            .find(&format!("id=\"result-{id}\""))
            .unwrap_or_else(|| panic!("{id} missing"));
        html[start..].split("</article>").next().unwrap().to_owned()
    };
    let subsidy = card("sz.housing.subsidy");
    assert!(subsidy.contains("data-status=\"eligible\""));
    assert!(subsidy.contains("¥1,250.00 a month for 24 months"));
    // No company: enterprise programmes are not for this person.
    assert!(card("sz.voucher.model").contains("data-status=\"ineligible\""));
    // Without a Shenzhen hukou, the hukou subsidy fails on the right condition.
    assert!(
        card("sz.talent.hukou_subsidy").contains("Hukou moved to Shenzhen on or after 1 Jan 2026")
    );
    // Unknown Kunpeng selection: the page asks for it.
    let kunpeng = card("sz.funding.kunpeng_reward");
    assert!(kunpeng.contains("data-status=\"undetermined\""));
    assert!(kunpeng.contains("Selected Kunpeng youth project"));

    // Having received the housing subsidy rules out transitional housing.
    let html = client
        .get(app.url(&format!(
            "/self-check?{query}&granted_sz.housing.subsidy=on"
        )))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("id=\"result-sz.housing.transitional\"").unwrap();
    assert!(
        html[start..]
            .split("</article>")
            .next()
            .unwrap()
            .contains("data-status=\"ineligible\"")
    );

    // An impossible date is named beside its field, in Chinese by default.
    let bad = client
        .get(app.url("/self-check?birth_date=1995-02-30&works_in_ai=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"birth_date-error\""), "{html}");
    assert!(html.contains("lang=\"zh-CN\""));
    app.stop().await;
    db.cleanup().await;
}
