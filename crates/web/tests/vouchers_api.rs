//! The voucher API over HTTP on both backends: an administrator issues, a
//! provider (bearer token) registers, is approved and redeems; replays answer
//! 200 with the first result; refusals are problem details with stable codes;
//! the enterprise disputes; settlement withholds the dispute until an
//! administrator upholds it (201, replay 200, another decision 409);
//! settlement downloads; reconciliation is clean.

use opcity_domain::{District, Role};
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TRAINING: &str = "sz.voucher.training";

/// A founder with a startup enterprise in Nanshan; returns its id.
async fn founder_enterprise(app: &TestApp) -> i64 {
    let admin = app.account("registrar", Role::MunicipalAdmin, None).await;
    let spec = FounderSpec::young_ai("founder", 0).locale("zh-CN");
    let spec = FounderSpec {
        person: PersonInput {
            full_name: "林晨曦".into(),
            ..spec.person
        },
        enterprise: EnterpriseInput {
            uscc: "91440300708461136T".into(),
            name: "深蓝智算科技有限公司".into(),
            registered_date: Some("2025-06-01".into()),
            ..spec.enterprise
        },
        ..spec
    };
    app.founder(&admin, spec).await.enterprise_id
}

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_redeem_vouchers_over_the_api() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let enterprise = founder_enterprise(&app).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let vendor = app.account("vendor", Role::ServiceProvider, None).await;
        let admin = app.sign_in("admin").await;
        let founder = app.sign_in("founder").await;
        let (_, secret) = app.services.create_api_token(&vendor, "billing").await.unwrap();
        let api = reqwest::Client::new();
        let bearer = format!("Bearer {secret}");
        let valid_until = opcity_domain::today_in_shanghai(chrono::Utc::now()) + chrono::Days::new(30);

        // Issue, then replay: 201 then 200 with the same wallet.
        let issue = json!({ "enterprise_id": enterprise, "kind": TRAINING, "amount_fen": 2_000_000,
                            "valid_until": valid_until, "transfer_id": "application:1" });
        let (status, first) = json_of(admin.post("/api/v1/vouchers/issue", &issue).await).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let (status, again) = json_of(admin.post("/api/v1/vouchers/issue", &issue).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["wallet"], first["wallet"]);
        assert_eq!(again["replayed"], true);

        // The provider registers itself with its token; the administrator approves.
        let (status, p) = json_of(
            api.post(app.url("/api/v1/providers"))
                .header("authorization", &bearer)
                .json(&json!({ "name": "鹏城算力", "category": "compute", "kinds": [TRAINING] }))
                .send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        let hold = json!({ "transfer_id": "inv-7-hold", "enterprise_id": enterprise, "kind": TRAINING,
                           "amount_fen": 400_000, "use": "model_training", "reference": "INV-7",
                           "contract_amount_fen": 1_000_000 });
        let post = |path: &str, body: &Value| {
            api.post(app.url(path)).header("authorization", &bearer).header("accept-language", "en").json(body).send()
        };
        let (status, problem) = json_of(post("/api/v1/provider/holds", &hold).await.unwrap()).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("provider_not_approved")));
        let (status, _) = json_of(
            admin.post(&format!("/api/v1/providers/{}/decision", p["id"]), &json!({ "decision": "approve", "kinds": [TRAINING] })).await,
        ).await;
        assert_eq!(status, StatusCode::OK);

        // Hold: 201, replay 200 with the same transfer, another body 409.
        let (status, h) = json_of(post("/api/v1/provider/holds", &hold).await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{h}");
        assert_eq!(h["phase"], "pending");
        let (status, h2) = json_of(post("/api/v1/provider/holds", &hold).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((h2["id"].clone(), h2["created_at"].clone()), (h["id"].clone(), h["created_at"].clone()));
        let mut other = hold.clone();
        other["amount_fen"] = json!(1);
        let (status, problem) = json_of(post("/api/v1/provider/holds", &other).await.unwrap()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(problem["code"], "transfer_id_reused");
        assert_eq!(problem["errors"][0]["field"], "transfer_id");
        // Over 60% of the contract (a startup's share): refused, named field.
        let mut greedy = hold.clone();
        greedy["transfer_id"] = json!("inv-7-more");
        greedy["amount_fen"] = json!(200_001);
        let (status, problem) = json_of(post("/api/v1/provider/holds", &greedy).await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["code"], "exceeds_contract_share");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("¥6,000.00"), "{problem}");
        // Unknown field and a negative amount.
        let mut typo = hold.clone();
        typo["amount"] = json!(5);
        let (status, problem) = json_of(post("/api/v1/provider/holds", &typo).await.unwrap()).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")));

        // Captures: above the hold 409, zero 422, unknown hold 404, part 201.
        let capture = |amount: Value, hold: &str| json!({ "transfer_id": "inv-7-cap", "hold_id": hold, "amount_fen": amount });
        let (status, problem) = json_of(post("/api/v1/provider/captures", &capture(json!(400_001), "inv-7-hold")).await.unwrap()).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("capture_exceeds_hold")));
        let (status, problem) = json_of(post("/api/v1/provider/captures", &capture(json!(0), "inv-7-hold")).await.unwrap()).await;
        assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount_not_positive")));
        let (status, _) = json_of(post("/api/v1/provider/captures", &capture(json!(1), "nope")).await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, c) = json_of(post("/api/v1/provider/captures", &capture(json!(250_000), "inv-7-hold")).await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        let (status, problem) = json_of(
            post("/api/v1/provider/voids", &json!({ "transfer_id": "inv-7-void", "hold_id": "inv-7-hold" })).await.unwrap(),
        ).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("hold_already_resolved")));

        // A batch in one commit.
        let batch = json!({ "ops": [
            { "op": "hold", "transfer_id": "b-1", "enterprise_id": enterprise, "kind": TRAINING, "amount_fen": 10_000,
              "use": "model_training", "reference": "INV-8", "contract_amount_fen": 100_000 },
            { "op": "capture", "transfer_id": "b-2", "hold_id": "b-1", "amount_fen": 10_000 }
        ]});
        let (status, results) = json_of(post("/api/v1/provider/batch", &batch).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{results}");
        assert_eq!(results, json!([{ "id": "b-1", "created": true }, { "id": "b-2", "created": true }]));
        // Refusals inside a batch name the op, with a message; nothing is written.
        let hold_op = |id: &str, amount: Value| json!({ "op": "hold", "transfer_id": id, "enterprise_id": enterprise,
            "kind": TRAINING, "amount_fen": amount, "use": "model_training", "reference": "INV-9", "contract_amount_fen": 100_000 });
        let refusals = [
            (json!([hold_op("b-3", json!(10_000)), { "op": "capture", "transfer_id": "b-4", "hold_id": "b-3", "amount_fen": 10_001 }]),
             StatusCode::CONFLICT, "capture_exceeds_hold", "ops[1]"),
            (json!([{ "op": "capture", "transfer_id": "b-4", "hold_id": "nope", "amount_fen": 1 }]),
             StatusCode::NOT_FOUND, "not_found", "ops[0]"),
            (json!([hold_op("b-3", json!(1)), hold_op("b-3", json!(1))]),
             StatusCode::UNPROCESSABLE_ENTITY, "duplicate_in_batch", "ops[1].transfer_id"),
            (json!([hold_op("b-3", json!(i64::MAX))]),
             StatusCode::UNPROCESSABLE_ENTITY, "amount_above_maximum", "ops[0].amount_fen"),
        ];
        for (ops, want_status, want_code, want_field) in refusals {
            let (status, problem) = json_of(post("/api/v1/provider/batch", &json!({ "ops": ops })).await.unwrap()).await;
            assert_eq!(status, want_status, "{problem}");
            let error = &problem["errors"][0];
            assert_eq!(error["code"], want_code, "{problem}");
            let field = error["field"].as_str().unwrap();
            assert!(field == want_field || field.starts_with(&format!("{want_field}.")), "{problem}");
            let message = error["message"].as_str().unwrap();
            assert!(!message.is_empty() && !message.contains("[?]"), "{problem}");
        }
        let (_, wallet) = json_of(founder.get(&format!("/api/v1/enterprises/{enterprise}/wallet")).await).await;
        assert!(!wallet.to_string().contains("\"b-3\""), "a refused batch wrote {wallet}");

        // A founder's token cannot redeem; the founder sees the wallet and confirms.
        let (status, _) = json_of(founder.post("/api/v1/provider/holds", &hold).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, wallet) = json_of(founder.get(&format!("/api/v1/enterprises/{enterprise}/wallet")).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(wallet["wallets"][0]["available_fen"], 2_000_000 - 260_000);
        assert_eq!(wallet["wallets"][0]["held_fen"], 0);
        let (status, review) = json_of(
            founder.post("/api/v1/vouchers/uses/inv-7-cap/review", &json!({ "decision": "disputed", "comment": "only 200 GPU-hours delivered" })).await,
        ).await;
        assert_eq!((status, review["decision"].as_str()), (StatusCode::OK, Some("disputed")));

        // Settlement: CSV with BOM and the disputed line; XLSX; JSON totals.
        let today = opcity_domain::today_in_shanghai(chrono::Utc::now());
        let url = |format: &str| app.url(&format!("/api/v1/providers/{}/settlement?from={today}&to={today}&format={format}", p["id"]));
        let (status, report) = json_of(api.get(url("json")).header("authorization", &bearer).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((report["total_fen"].as_i64(), report["disputed_fen"].as_i64(), report["payable_fen"].as_i64()),
                   (Some(260_000), Some(250_000), Some(10_000)));
        // Dates chrono parses but no instant can hold are refused by field, not a 500.
        let far = app.url(&format!("/api/v1/providers/{}/settlement?from=%2B262142-12-31&to=%2B262142-12-31", p["id"]));
        let (status, problem) = json_of(api.get(far).header("authorization", &bearer).send().await.unwrap()).await;
        assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("out_of_range")), "{problem}");
        let csv = api.get(url("csv")).header("authorization", &bearer).send().await.unwrap();
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let bytes = csv.bytes().await.unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        assert!(String::from_utf8_lossy(&bytes).contains(",250000,2500.00,disputed"));
        let xlsx = api.get(url("xlsx")).header("authorization", &bearer).send().await.unwrap();
        assert_eq!(xlsx.status(), StatusCode::OK);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
        let (status, _) = json_of(founder.http.get(url("json")).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The administrator upholds the dispute: 201, replay 200, another decision 409.
        let resolution = json!({ "outcome": "upheld", "comment": "delivery log checked" });
        let path = app.url("/api/v1/vouchers/uses/inv-7-cap/resolution");
        let (status, problem) = json_of(founder.http.post(&path).json(&resolution).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (status, r) = json_of(admin.http.post(&path).json(&resolution).send().await.unwrap()).await;
        assert_eq!((status, r["outcome"].as_str()), (StatusCode::CREATED, Some("upheld")), "{r}");
        let (status, r) = json_of(admin.http.post(&path).json(&resolution).send().await.unwrap()).await;
        assert_eq!((status, r["replayed"].as_bool()), (StatusCode::OK, Some(true)));
        let (status, problem) = json_of(
            admin.http.post(&path).header("accept-language", "en").json(&json!({ "outcome": "reversed" })).send().await.unwrap(),
        ).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("dispute_already_resolved")));
        assert_eq!(problem["title"], "The dispute was already resolved");
        let (_, disputes) = json_of(admin.get("/api/v1/vouchers/disputes").await).await;
        assert_eq!(disputes[0]["resolution"]["outcome"], "upheld", "{disputes}");
        let (_, report) = json_of(api.get(url("json")).header("authorization", &bearer).send().await.unwrap()).await;
        assert_eq!((report["disputed_fen"].as_i64(), report["payable_fen"].as_i64()), (Some(0), Some(260_000)));

        // Administrators: pools and a clean reconciliation; documented paths.
        let (_, pools) = json_of(admin.get("/api/v1/vouchers/pools").await).await;
        assert_eq!(pools[0]["spent_fen"], 260_000);
        let (_, rec) = json_of(admin.get("/api/v1/vouchers/reconciliation").await).await;
        assert_eq!(rec["clean"], true, "{rec}");
        let (_, doc) = json_of(api.get(app.url("/api/v1/openapi.json")).send().await.unwrap()).await;
        for path in ["/api/v1/provider/holds", "/api/v1/provider/batch", "/api/v1/enterprises/{id}/wallet",
                     "/api/v1/providers/{id}/settlement", "/api/v1/vouchers/reconciliation",
                     "/api/v1/vouchers/disputes", "/api/v1/vouchers/uses/{transfer_id}/resolution"] {
            assert!(doc["paths"][path].is_object(), "{path} undocumented");
        }
        app.stop().await;
    })
    .await;
}
