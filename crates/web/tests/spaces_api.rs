//! The spaces, housing and instruments API over HTTP on both backends:
//! a booking and its conflict as problem details naming the held interval in
//! Shanghai time, bad input refused with the reason and nothing written,
//! iCalendar export, and the OpenAPI document.

use opcity_domain::Role;
use opcity_services::registry::communities::CommunityInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

const USCC: &str = "91440300708461136T";

/// The founder of 晨曦智能 in Nanshan.
async fn founder(app: &TestApp, admin: &opcity_services::Actor) -> i64 {
    let spec = FounderSpec::young_ai("founder", 0).locale("zh-CN");
    let spec = FounderSpec {
        person: PersonInput {
            full_name: "林晨曦".into(),
            ..spec.person
        },
        enterprise: EnterpriseInput {
            uscc: USCC.into(),
            name: "晨曦智能".into(),
            ..spec.enterprise
        },
        ..spec
    };
    app.founder(admin, spec).await.enterprise_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_conflicts_and_bad_input_over_http() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("lab", Role::ServiceProvider, None).await;
        let firm = founder(&app, &admin).await;
        let lab = app.sign_in("lab").await;
        let me = app.sign_in("founder").await;

        let created = lab.post("/api/v1/instruments", &json!({
                "name": "A100", "kind": "gpu_server", "institution": "深圳大学", "district": "nanshan",
                "slot_minutes": 60, "opens": "09:00", "closes": "21:00", "open_days": "12345",
                "quota_hours_week": 2, "requires_approval": false, "cancel_notice_hours": 24, "no_show_grace_minutes": 15
            })).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let inst: Value = created.json().await.unwrap();
        let id = inst["id"].as_i64().unwrap();

        let book = |start: &str, end: &str| json!({ "instrument_id": id, "enterprise_id": firm, "start": start, "end": end });
        let ok = me.post("/api/v1/bookings", &book("2030-05-06T09:00:00+08:00", "2030-05-06T10:00:00+08:00")).await;
        assert_eq!(ok.status(), StatusCode::CREATED);
        let booking: Value = ok.json().await.unwrap();
        assert_eq!(booking["start_at"], "2030-05-06T01:00:00Z");
        assert_eq!(booking["start_local"], "2030-05-06 09:00");

        let entries = app.services.verify_audit_log().await.unwrap().entries;
        // The same slot again: 409 naming the held interval in Shanghai time.
        let clash = me.in_language("en").post("/api/v1/bookings", &book("2030-05-06T09:00", "2030-05-06T10:00")).await;
        assert_eq!(clash.status(), StatusCode::CONFLICT);
        let body: Value = clash.json().await.unwrap();
        assert_eq!(body["code"], "instrument_slot_taken");
        assert_eq!(body["errors"][0]["params"]["held_from"], "2030-05-06T09:00:00+08:00");
        assert_eq!(body["errors"][0]["params"]["held_until"], "2030-05-06T10:00:00+08:00");
        assert_eq!(body["errors"][0]["message"], format!("The instrument is booked from 2030-05-06T09:00:00+08:00 until 2030-05-06T10:00:00+08:00 (#{}).", booking["id"]));
        // Outside opening hours, over the quota, end before start: 422 with the reason.
        for (start, end, code) in [
            ("2030-05-06T21:00", "2030-05-06T22:00", "outside_opening_hours"),
            ("2030-05-06T10:00", "2030-05-06T12:00", "over_quota"),
            ("2030-05-06T12:00", "2030-05-06T11:00", "ends_before_start"),
        ] {
            let bad = me.post("/api/v1/bookings", &book(start, end)).await;
            assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY, "{code}");
            let body: Value = bad.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], code, "{body}");
        }
        assert_eq!(app.services.verify_audit_log().await.unwrap().entries, entries, "refusals write nothing");

        // Calendar export.
        let ics = me.get(&format!("/api/v1/instruments/{id}/calendar.ics")).await;
        assert_eq!(ics.headers()["content-type"], "text/calendar; charset=utf-8");
        let text = ics.text().await.unwrap();
        assert!(text.contains("DTSTART:20300506T010000Z\r\n"), "{text}");
        let mine = me.get("/api/v1/bookings/calendar.ics").await.text().await.unwrap();
        assert_eq!(mine.matches("BEGIN:VEVENT").count(), 1);

        // Housing: the pack's limit, with the reason.
        let community = app.services.create_community(&admin, &CommunityInput {
            name_zh: "湾区社区".into(), name_en: "Bay".into(), district: "nanshan".into(), address: "1号".into(),
            area_m2: 10_000, operator_name: "运营方".into(), operator_account_id: None, opened_on: None,
        }).await.unwrap();
        let admin_http = app.sign_in("admin").await;
        let unit: Value = admin_http.post_json("/api/v1/housing/units", &json!({
            "district": "nanshan", "community_id": community.id, "address": "人才公寓", "code": "A-1", "kind": "bed", "area_m2": 8, "market_rent_fen": 100000
        })).await;
        let person = me.actor.person_id.unwrap();
        let long = admin_http.post("/api/v1/housing/leases", &json!({
            "housing_unit_id": unit["id"], "person_id": person, "start": "2026-09-01", "months": 40
        })).await;
        assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = long.json().await.unwrap();
        assert_eq!((body["errors"][0]["code"].as_str(), body["errors"][0]["params"]["max"].as_str()), (Some("lease_too_long"), Some("36")));
        let lease = admin_http.post("/api/v1/housing/leases", &json!({
            "housing_unit_id": unit["id"], "person_id": person, "start": "2026-09-01", "months": 12
        })).await;
        assert_eq!(lease.status(), StatusCode::CREATED);
        let lease: Value = lease.json().await.unwrap();
        assert_eq!(lease["monthly_rent_fen"], 60000);
        let grants: Value = me.get_json(&format!("/api/v1/grants?subject=person:{person}")).await;
        assert_eq!(grants[0]["programme"], "sz.housing.transitional");

        // The document describes the new endpoints.
        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
        for path in ["/api/v1/bookings", "/api/v1/space/agreements/{id}/move", "/api/v1/housing/leases", "/api/v1/instruments/{id}/calendar.ics", "/api/v1/grants"] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        assert!(doc["components"]["schemas"]["BookingView"].is_object());
        app.stop().await;
    })
    .await;
}
