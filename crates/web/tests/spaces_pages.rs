//! The spaces and instrument pages over HTTP (no JavaScript): one allocation
//! (operator keeps inventory, founder requests, operator offers, founder
//! accepts) and one instrument booking (with the refusal of a taken slot),
//! through the same forms a browser submits, by their stable element ids.

use opcity_domain::Role;
use opcity_services::registry::communities::CommunityInput;
use opcity_testkit::app::Client;
use opcity_testkit::{FounderSpec, TestApp, TestDb};
use reqwest::StatusCode;

const USCC: &str = "91440300708461136T";

async fn post(c: &Client, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = fields.to_vec();
    form.push(("_csrf", c.csrf.clone()));
    c.in_language("en").post_form(path, &form).await
}

async fn get(c: &Client, path: &str) -> String {
    let response = c.in_language("en").get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

/// Where a form's redirect goes.
fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "expected a redirect");
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The id a redirect names (`…&id=N`).
fn id_in(location: &str) -> i64 {
    location.rsplit("id=").next().unwrap().parse().unwrap()
}

/// The table row of space request `id` in `html`.
fn request_row(html: &str, id: i64) -> &str {
    html.split(&format!("id=\"request-{id}\""))
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row for request {id}"))
}

/// Records, as a title's delivery would, that `enterprise` holds the
/// support item `priority_industrial_space` from today on.
async fn hold_priority_space(app: &TestApp, enterprise: i64) {
    use opcity_store::grants::{Benefit, NewGrant, Rule, insert_guarded};
    let now = app.services.now();
    let tx = app.services.store().begin().await.unwrap();
    let subject = format!("enterprise:{enterprise}");
    let grant = NewGrant {
        subject: &subject,
        programme: "sz.talent.high_level",
        from: opcity_domain::today_in_shanghai(now),
        to: None,
        source: "test",
        at: now,
        benefit: Benefit::Support,
        amount_fen: None,
        quantity: None,
        detail: "priority_industrial_space",
        district: None,
    };
    let rule = Rule {
        one_time: false,
        excluded_by: &[],
        cap_fen: None,
    };
    insert_guarded(&tx, grant, rule).await.unwrap();
    tx.commit().await.unwrap();
}

async fn setup(app: &TestApp) -> (i64, i64) {
    let admin = app.account("admin", Role::MunicipalAdmin, None).await;
    let operator = app.account("operator", Role::CommunityOperator, None).await;
    app.account("lab", Role::ServiceProvider, None).await;
    let community = app
        .services
        .create_community(
            &admin,
            &CommunityInput {
                name_zh: "湾区社区".into(),
                name_en: "Bay".into(),
                district: "nanshan".into(),
                address: "1号".into(),
                area_m2: 10_000,
                operator_name: "运营方".into(),
                operator_account_id: Some(operator.account_id),
                opened_on: None,
            },
        )
        .await
        .unwrap();
    let spec = FounderSpec::young_ai("founder", 0)
        .locale("zh-CN")
        .uscc(USCC)
        .named("林晨曦", "晨曦智能");
    let firm = app.founder(&admin, spec).await.enterprise_id;
    (community.id, firm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_allocation_through_the_pages() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let (community, firm) = setup(&app).await;
    let operator = app.sign_in("operator").await;
    let founder = app.sign_in("founder").await;

    // The operator enters inventory: building, floor, unit.
    let site = format!("/spaces/inventory?community_id={community}");
    let html = get(&operator, &site).await;
    assert!(html.contains("id=\"building-form\""));
    let query = format!("?community_id={community}");
    let building = id_in(&location(
        &post(
            &operator,
            &format!("/spaces/buildings{query}"),
            &[
                ("community_id", community.to_string()),
                ("district", "nanshan".into()),
                ("name", "A座".into()),
                ("address", "科技园1号".into()),
            ],
        )
        .await,
    ));
    let floor = id_in(&location(
        &post(
            &operator,
            &format!("/spaces/floors{query}"),
            &[
                ("building_id", building.to_string()),
                ("level", "3".into()),
                ("label", "3F".into()),
            ],
        )
        .await,
    ));
    let unit = id_in(&location(
        &post(
            &operator,
            &format!("/spaces/units{query}"),
            &[
                ("floor_id", floor.to_string()),
                ("kind", "desk".into()),
                ("code", "D-01".into()),
                ("area_m2", "6".into()),
                ("capacity", "2".into()),
                ("list_rent_yuan", "1,200".into()),
                ("discounted_rent_yuan", "600".into()),
            ],
        )
        .await,
    ));
    // Rents are typed in yuan; one that is not an amount is refused beside
    // its field, what was typed kept, nothing added.
    let refused = post(
        &operator,
        &format!("/spaces/units{query}"),
        &[
            ("_form", "unit-form".to_owned()),
            ("floor_id", floor.to_string()),
            ("kind", "desk".into()),
            ("code", "D-02".into()),
            ("area_m2", "6".into()),
            ("capacity", "1".into()),
            ("list_rent_yuan", "1,2x0".into()),
            ("discounted_rent_yuan", "600".into()),
        ],
    )
    .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"f-list_rent_yuan-error\""), "{html}");
    assert!(html.contains("value=\"1,2x0\""), "{html}");
    assert!(html.contains("href=\"#f-list_rent_yuan\""), "{html}");
    let html = get(&operator, &site).await;
    assert!(!html.contains(">D-02<"));
    assert!(html.contains(&format!("id=\"unit-{unit}\"")));
    assert!(html.contains("Inventoried area: 6 m²"));

    // The founder asks for a desk.
    let html = get(&founder, "/spaces").await;
    assert!(html.contains("id=\"space-request-form\""));
    let to = location(
        &post(
            &founder,
            "/spaces/requests",
            &[
                ("enterprise_id", firm.to_string()),
                ("community_id", community.to_string()),
                ("kind", "desk".into()),
                ("team_size", "2".into()),
                ("wanted_from", "2026-09-01".into()),
                ("months", "12".into()),
            ],
        )
        .await,
    );
    let request = id_in(&to);
    let html = get(&founder, &to).await;
    assert!(html.contains("id=\"result\""), "{html}");
    let row = request_row(&html, request);
    assert!(row.contains("class=\"position\">1<"), "{row}");
    assert!(!row.contains("badge priority"), "{row}");
    // Once the enterprise holds a title's priority industrial space, the
    // operator's list says so beside its place.
    hold_priority_space(&app, firm).await;
    let html = get(&operator, &to).await;
    let row = request_row(&html, request);
    assert!(
        row.contains("badge priority") && row.contains(">Priority<"),
        "{row}"
    );
    // The operator picks the unit by what it is, never by its number.
    assert!(
        html.contains("<select id=\"f-unit_id\" name=\"unit_id\""),
        "{html}"
    );
    assert!(html.contains("D-01 · Desk · 2 seats"), "{html}");
    // The operator reads who asked by name, never a number.
    assert!(
        row.contains(">晨曦智能<") && !row.contains("Enterprise #"),
        "{row}"
    );

    // A bad offer comes back with the reason beside nothing written.
    let bad = post(
        &operator,
        "/spaces/offers",
        &[
            ("request_id", request.to_string()),
            ("unit_id", unit.to_string()),
            ("start", "2026-09-01".into()),
            ("end", "2026-08-01".into()),
            ("_form", "offer-form".into()),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("id=\"form-errors\"") && html.contains("The end must come after the start."),
        "{html}"
    );
    // The summary links to the field by its label; the offer form keeps
    // what was typed with the message beside the field, and the other
    // forms on the page stay empty.
    let form_of = |id: &str| {
        let start = html.find(&format!("id=\"{id}\"")).unwrap();
        let end = html[start..].find("</form>").unwrap();
        html[start..start + end].to_owned()
    };
    assert!(html.contains("href=\"#f-end\""), "{html}");
    let offer_form = form_of("offer-form");
    assert!(offer_form.contains("value=\"2026-08-01\""), "{offer_form}");
    assert!(offer_form.contains("id=\"f-end-error\""), "{offer_form}");
    let serve_form = form_of("serve-form");
    assert!(!serve_form.contains("2026-08-01"), "{serve_form}");
    assert!(!serve_form.contains("-error\""), "{serve_form}");

    let offer = id_in(&location(
        &post(
            &operator,
            "/spaces/offers",
            &[
                ("request_id", request.to_string()),
                ("unit_id", unit.to_string()),
                ("start", "2026-09-01".into()),
                ("end", "2027-09-01".into()),
            ],
        )
        .await,
    ));
    let html = get(&founder, "/spaces").await;
    assert!(
        html.contains(&format!("id=\"accept-{offer}\"")),
        "the holder is offered the unit"
    );
    let accepted =
        location(&post(&founder, &format!("/spaces/agreements/{offer}/accept"), &[]).await);
    let html = get(&founder, &accepted).await;
    assert!(
        html.contains(&format!("id=\"agreement-{offer}\" data-status=\"active\"")),
        "{html}"
    );
    assert!(html.contains("2026-09-01 – 2027-09-01"));
    app.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instrument_booking_through_the_pages() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let (_, firm) = setup(&app).await;
    let lab = app.sign_in("lab").await;
    let founder = app.sign_in("founder").await;

    let html = get(&lab, "/instruments").await;
    assert!(html.contains("id=\"instrument-form\""));
    let fields = [
        ("name", "A100"),
        ("kind", "gpu_server"),
        ("institution", "深圳大学"),
        ("district", "nanshan"),
        ("slot_minutes", "60"),
        ("opens", "09:00"),
        ("closes", "21:00"),
        ("open_days", "12345"),
        ("quota_hours_week", "4"),
        ("requires_approval", "false"),
        ("cancel_notice_hours", "24"),
        ("no_show_grace_minutes", "15"),
    ];
    let fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    let instrument = id_in(&location(&post(&lab, "/instruments", &fields).await));

    let html = get(&founder, "/instruments").await;
    assert!(html.contains(&format!("id=\"instrument-{instrument}\"")));
    let day = format!("/instruments/{instrument}?date=2030-05-06");
    let html = get(&founder, &day).await;
    assert!(html.contains("id=\"book-0900\""), "{html}");
    assert!(html.contains("id=\"calendar-link\""));
    let slot = [
        ("enterprise_id", firm.to_string()),
        ("start", "2030-05-06T01:00:00+00:00".into()),
        ("end", "2030-05-06T02:00:00+00:00".into()),
        ("date", "2030-05-06".into()),
    ];
    let to = location(
        &post(
            &founder,
            &format!("/instruments/{instrument}/bookings"),
            &slot,
        )
        .await,
    );
    let html = get(&founder, &to).await;
    assert!(html.contains("id=\"booking-result\""), "{html}");
    assert!(html.contains("id=\"slot-0900\" data-free=\"false\""));
    assert!(
        !html.contains("id=\"book-0900\""),
        "a held slot has no booking form"
    );

    // The same slot again (a stale page): refused, naming the held interval.
    let again = post(
        &founder,
        &format!("/instruments/{instrument}/bookings"),
        &slot,
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let html = again.text().await.unwrap();
    assert!(html.contains("The instrument is booked from 2030-05-06T09:00:00+08:00 until 2030-05-06T10:00:00+08:00"), "{html}");

    // Listed under the founder's bookings with a cancel button.
    let html = get(&founder, "/instruments").await;
    assert!(html.contains("data-status=\"confirmed\""));
    assert!(html.contains("2030-05-06 09:00 – 10:00"));
    app.stop().await;
    db.cleanup().await;
}
