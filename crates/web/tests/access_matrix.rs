//! The role × operation matrix, generated from the OpenAPI document (issue
//! 14, proof): every documented operation is called by every kind of
//! caller over the demo data, on the demo founder's own records (his person,
//! his enterprise and its wallet, his submitted application, his token). The
//! callers include the ownership and district variants: another founder in
//! the same district, and the reviewer of another district.
//!
//! The oracle is [`ACCESS`], one reviewed line per operation: who may get
//! past authorisation. A refused caller must get 401 (anonymous), 403 or
//! 404 (a record it may not know of), never a success, a conflict or a
//! validation message about a record it may not touch; an allowed caller
//! must not get 401 or 403. Nobody ever gets a 5xx. An operation in the
//! document but not in [`ACCESS`] (a new route) fails the test, as does a
//! line for an operation the document no longer has.

use opcity_domain::District;
use opcity_services::applications::NewApplication;
use opcity_testkit::app::Client;
use opcity_testkit::{TestApp, each_backend, fixtures};
use opcity_web::api::{ApiDoc, PUBLIC_OPERATIONS};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use utoipa::OpenApi;

/// The callers, by the letter [`ACCESS`] uses.
const CALLERS: [(char, &str); 9] = [
    ('f', "the demo founder (his own records)"),
    ('x', "another founder in the same district"),
    ('o', "the community operator"),
    ('h', "the reviewer of the founder's district"),
    ('t', "the reviewer of another district"),
    ('a', "the municipal administrator"),
    ('p', "a service provider"),
    ('i', "an investor"),
    ('u', "an auditor"),
];

/// Who may get past authorisation, by operation: the letters of
/// [`CALLERS`], `*` for every signed-in caller. Public operations (no
/// sign-in) are `*` too; the document says which they are.
#[rustfmt::skip]
const ACCESS: &[(&str, &str)] = &[
    // Accounts: one's own session, settings and tokens; accounts of
    // others are the administrator's (auditors read them).
    ("create_session", "*"), ("delete_session", "*"),
    ("me", "*"), ("update_me", "*"), ("my_entitlements", "*"),
    ("my_notifications", "*"), ("read_notifications", "*"), ("my_inbox", "*"),
    ("list_tokens", "*"), ("create_token", "fxohtapi"), ("revoke_token", "fa"),
    ("list_accounts", "au"), ("create_account", "a"),
    // Registry: everyone reads communities and the lists (scoped to what
    // each may see); a person's record is theirs, their district's and the
    // city's; investors also read enterprises. Operators edit the community
    // they run.
    ("district_settings", "*"), ("set_district_settings", "a"),
    ("list_communities", "*"), ("get_community", "*"),
    ("create_community", "ha"), ("update_community", "oha"),
    ("list_persons", "*"), ("get_person", "fhau"), ("create_person", "a"),
    ("update_person", "fha"), ("reveal_resident_id", "fha"),
    ("list_enterprises", "*"), ("get_enterprise", "fhaiu"),
    ("create_enterprise", "fxa"), ("update_enterprise", "fha"),
    // Reports.
    ("districts", "*"), ("dashboard", "*"), ("audit_log", "au"), ("audit_verify", "au"), ("integrity", "au"),
    // Applications: the applicant's side (form, documents, submit, accept,
    // withdraw, appeal) is the applicant's, administrators acting on his
    // behalf only for the evidence; the review is the district's and the
    // city's; the city alone decides appeals and claws back.
    ("create_application", "fa"), ("list_applications", "*"), ("review_queue", "htau"),
    // The workbench: staff who see a queue export it and keep views; who
    // works a case is the district's and the city's to say; anyone who
    // may read the case may ask whom it can go to (a founder hears nobody).
    ("export_queue", "htau"), ("assign_case", "ha"), ("case_workers", "fhau"),
    ("saved_views", "htau"), ("save_view", "htau"), ("delete_view", "htau"),
    ("get_application", "fhau"), ("update_form", "fa"), ("upload_document", "fa"),
    ("download_document", "fhau"), ("submit_application", "f"),
    ("review_application", "ha"), ("accept_offer", "f"), ("withdraw_application", "f"),
    ("appeal_application", "f"), ("decide_appeal", "a"), ("claw_back", "a"),
    ("decide_flag", "ha"), ("respond_to_flag", "f"), ("decision_letters", "fhau"),
    ("ask_applicant", "ha"), ("answer_reviewer", "f"),
    ("list_budgets", "htau"), ("create_budget", "a"), ("fund_budget", "a"),
    ("export_disbursements", "htau"),
    // The policy engine is public, its batch path for signed-in callers.
    ("list_regions", "*"), ("list_programmes", "*"), ("get_programme", "*"), ("get_parameter", "*"),
    ("eligibility", "*"), ("eligibility_batch", "*"),
    // Drafts of policy changes: the city writes them, auditors read them.
    ("list_policy_drafts", "au"), ("get_policy_draft", "au"), ("create_policy_draft", "a"),
    ("update_policy_draft", "a"), ("add_policy_draft_change", "a"), ("remove_policy_draft_change", "a"),
    ("withdraw_policy_draft", "a"), ("simulate_policy_draft", "a"),
    ("submit_policy_draft", "a"), ("send_back_policy_draft", "a"), ("publish_policy_draft", "a"),
    // Consultation is public; a founder's answer adds the engine's results.
    ("consult", "*"),
    // Workspace: the founder asks and accepts; the district (the demo desk
    // is in a Nanshan community the demo operator does not run) and the city
    // offer and manage.
    ("create_building", "ha"), ("create_floor", "ha"), ("create_unit", "ha"),
    ("get_unit", "*"), ("update_unit", "ha"), ("inventory", "*"),
    ("list_requests", "*"), ("request_space", "fa"), ("withdraw_request", "fha"),
    ("offer_space", "ha"), ("serve_waitlist", "ha"),
    ("propose_space_change", "ha"), ("accept_space_change", "fa"),
    ("decline_space_change", "fa"), ("withdraw_space_change", "ha"),
    ("list_agreements", "*"), ("get_agreement", "fhau"),
    ("accept_space_offer", "fa"), ("decline_offer", "fa"), ("withdraw_offer", "ha"),
    ("end_agreement", "ha"), ("move_agreement", "ha"),
    // Housing: allocated by the district and the city.
    ("list_housing_units", "*"), ("create_housing_unit", "ha"), ("update_housing_unit", "ha"),
    ("list_leases", "*"), ("list_housing_requests", "*"), ("allocate_housing", "ha"), ("get_lease", "fhau"),
    ("move_in", "ha"), ("renew_lease", "ha"), ("move_out", "ha"), ("occupancy", "*"),
    // Instruments: the demo GPU is managed by the demo provider; managers
    // (and the operator of a community it stands in) book on a holder's
    // behalf and decide bookings.
    ("list_instruments", "*"), ("create_instrument", "ap"), ("get_instrument", "*"),
    ("update_instrument", "ap"), ("instrument_day", "*"), ("instrument_calendar", "*"),
    ("my_calendar", "*"), ("list_bookings", "*"), ("book_instrument", "foap"),
    ("get_booking", "fohapu"), ("approve_booking", "oap"), ("reject_booking", "oap"),
    ("cancel_booking", "foap"), ("check_in", "foap"),
    ("list_grants", "fhau"), ("record_grant", "ha"),
    // Vouchers: the city issues and funds municipal kinds; the holder
    // confirms or disputes a use; providers redeem as themselves.
    ("voucher_kinds", "*"), ("issue_voucher", "a"), ("list_pools", "htau"),
    ("fund_pool", "a"), ("claw_back_voucher", "a"), ("reconciliation", "htau"),
    ("run_jobs", "a"), ("review_use", "fa"), ("list_disputes", "htau"),
    ("resolve_dispute", "a"), ("wallet", "fhau"),
    ("list_providers", "*"), ("register_provider", "ap"), ("get_provider", "*"),
    ("decide_provider", "a"), ("settlement", "apu"), ("provider_console", "p"),
    ("place_hold", "p"), ("capture_hold", "p"), ("void_hold", "p"), ("provider_batch", "p"),
];

struct World {
    app: TestApp,
    callers: Vec<(char, Client)>,
    /// Path parameter values by the path's first segments.
    ids: BTreeMap<&'static str, String>,
    /// Body field values by field name.
    fields: Map<String, Value>,
    /// Whole bodies for operations whose fields need more than a name's
    /// value (dates of different forms, kinds, codes that must be new).
    bodies: BTreeMap<&'static str, Value>,
    /// Query strings for operations that need one beyond their required
    /// parameters.
    queries: BTreeMap<&'static str, String>,
}

fn allowed(id: &str, caller: char) -> bool {
    let rule = ACCESS
        .iter()
        .find(|(op, _)| *op == id)
        .map(|(_, who)| *who)
        .unwrap_or_else(|| panic!("operation {id} has no line in ACCESS: add one"));
    rule == "*" || rule.contains(caller)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_for_every_caller() {
    each_backend(async |db| {
        let world = world(db).await;
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut failures = Vec::new();
        let mut seen = Vec::new();
        for (path, method, operation) in operations(&doc) {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            seen.push(id.clone());
            if id == SIGN_IN {
                continue;
            }
            let query = match world.queries.get(id.as_str()) {
                Some(query) => query.clone(),
                None => query(&doc, &operation, &world.fields),
            };
            let url = world
                .app
                .url(&format!("{}{query}", fill_path(&path, &world.ids)));
            let content = &operation["requestBody"]["content"];
            let body = match content["application/json"]["schema"].as_object() {
                Some(_) if world.bodies.contains_key(id.as_str()) => {
                    Body::Json(world.bodies[id.as_str()].clone())
                }
                Some(schema) => Body::Json(sample(
                    &doc,
                    &Value::Object(schema.clone()),
                    &world.fields,
                    0,
                )),
                None if content["multipart/form-data"].is_object() => Body::Upload,
                None => Body::None,
            };
            let public = PUBLIC_OPERATIONS.contains(&id.as_str());
            // Anonymous first, then refused callers, then allowed ones: an
            // allowed change (say, a withdrawal) must not hide whether a
            // refused caller was refused.
            let anonymous = reqwest::Client::new();
            let status = send(&anonymous, &method, &url, &body).await;
            check(&mut failures, &id, '-', public, status);
            let mut order: Vec<&(char, Client)> = world.callers.iter().collect();
            order.sort_by_key(|(c, _)| allowed(&id, *c));
            for (caller, client) in order {
                let status = send(&client.http, &method, &url, &body).await;
                check(&mut failures, &id, *caller, allowed(&id, *caller), status);
            }
        }
        for (op, _) in ACCESS {
            if !seen.iter().any(|s| s == op) {
                failures.push(format!("{op}: in ACCESS but not in the document"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        world.app.stop().await;
    })
    .await;
}

fn check(failures: &mut Vec<String>, id: &str, caller: char, allowed: bool, status: u16) {
    let ok = match (allowed, caller) {
        _ if status >= 500 => false,
        (false, '-') => status == 401,
        (false, _) => matches!(status, 403 | 404),
        (true, _) => !matches!(status, 401 | 403),
    };
    if !ok {
        let who = CALLERS
            .iter()
            .find(|(c, _)| *c == caller)
            .map_or("anonymous", |(_, who)| who);
        let expected = if allowed { "allowed" } else { "refused" };
        failures.push(format!("{id}: {who} ({expected}) got {status}"));
    }
}

/// The status of one call.
async fn send(client: &reqwest::Client, method: &Method, url: &str, body: &Body) -> u16 {
    let mut request = client.request(method.clone(), url);
    request = match body {
        Body::None => request,
        Body::Json(value) => request.json(value),
        Body::Upload => {
            let pdf = reqwest::multipart::Part::bytes(opcity_testkit::TINY_PDF).file_name("a.pdf");
            let form = reqwest::multipart::Form::new()
                .text("evidence", "business_plan")
                .part("file", pdf);
            request.multipart(form)
        }
    };
    request.send().await.expect("send").status().as_u16()
}

/// What an operation is sent.
#[derive(Debug)]
enum Body {
    None,
    Json(Value),
    /// A document upload: one small PDF.
    Upload,
}

const METHODS: [(&str, Method); 5] = [
    ("get", Method::GET),
    ("put", Method::PUT),
    ("post", Method::POST),
    ("delete", Method::DELETE),
    ("patch", Method::PATCH),
];

/// Signing in is proven by the world itself (every caller signs in through
/// it); called here with a sample body it would only be refused.
const SIGN_IN: &str = "create_session";
/// Signing out ends the caller's session, so it is called last.
const SIGN_OUT: &str = "delete_session";

/// The document's operations, signing out last.
fn operations(doc: &Value) -> Vec<(String, Method, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (name, method) in &METHODS {
            if let Some(operation) = item.get(*name) {
                out.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    out.sort_by_key(|(_, _, operation)| operation["operationId"] == SIGN_OUT);
    out
}

/// The path with each `{parameter}` replaced by the world's record for that
/// template up to the parameter (`/api/v1/applications/{id}` names the
/// application, `/api/v1/applications/{id}/documents/{document}` its document).
fn fill_path(path: &str, ids: &BTreeMap<&'static str, String>) -> String {
    let (mut template, mut out) = (String::new(), String::new());
    for segment in path.trim_start_matches('/').split('/') {
        template.push('/');
        template.push_str(segment);
        out.push('/');
        if segment.starts_with('{') {
            let value = ids
                .get(template.as_str())
                .unwrap_or_else(|| panic!("no record for {template}: add one to the world"));
            out.push_str(value);
        } else {
            out.push_str(segment);
        }
    }
    out
}

/// The operation's required query parameters, from the world's fields or
/// their schemas (`?from=…&to=…`), or nothing.
fn query(doc: &Value, operation: &Value, fields: &Map<String, Value>) -> String {
    let pairs: Vec<String> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query" && p["required"] == true)
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            let value = match fields.get(name) {
                Some(value) => value.clone(),
                None => sample(doc, &p["schema"], fields, 0),
            };
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            format!("{name}={text}")
        })
        .collect();
    match pairs.is_empty() {
        true => String::new(),
        false => format!("?{}", pairs.join("&")),
    }
}

/// A body that matches `schema`: the world's value for a known field name,
/// else the schema's example, first enumerated value or a plain value of
/// its type. Required properties only, so the body is small and valid.
fn sample(doc: &Value, schema: &Value, fields: &Map<String, Value>, depth: usize) -> Value {
    assert!(depth < 8, "schema nests too deep: {schema}");
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return sample(doc, &doc["components"]["schemas"][name], fields, depth + 1);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|a| a.first()) {
            return sample(doc, first, fields, depth + 1);
        }
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .cloned()
            .unwrap_or(Value::Null),
        kind => kind.clone(),
    };
    match kind.as_str().unwrap_or("object") {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(value) = fields.get(name) {
                    out.insert(name.clone(), value.clone());
                } else if required.contains(&name.as_str()) {
                    out.insert(name.clone(), sample(doc, property, fields, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => json!([]),
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "string" if schema["format"] == "date" => json!("2026-12-15"),
        "string" if schema["format"] == "date-time" => json!("2026-12-15T10:00:00+08:00"),
        "string" => json!("x"),
        _ => Value::Null,
    }
}

/// A request that must succeed in setting up the world; its JSON answer.
async fn call(client: &Client, method: Method, url: String, body: Value) -> Value {
    let response = client
        .http
        .request(method, &url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url} {body}: {status} {answer}");
    answer
}

/// The id of the first row of an entity that `keep` keeps.
async fn first<E>(app: &TestApp, keep: impl Fn(&E::Model) -> bool) -> E::Model
where
    E: opcity_store::sea_orm::EntityTrait,
{
    E::find()
        .all(app.services.store().db())
        .await
        .unwrap()
        .into_iter()
        .find(keep)
        .expect("a demo record")
}

/// The demo data, the founder's records, another founder, and a client
/// signed in for every caller.
async fn world(db: &opcity_testkit::TestDb) -> World {
    use opcity_store::entity::{
        budget, community, housing_unit, instrument, provider, space_floor, space_unit,
    };
    let app = TestApp::spawn(db).await;
    let report = app.services.load_demo(2).await.unwrap();
    let password = |name: &str| {
        report
            .logins
            .iter()
            .find(|l| l.username == name)
            .map(|l| l.password.clone())
            .unwrap_or_else(|| panic!("demo login {name}"))
    };
    let founder = app.sign_in_with("founder", &password("founder")).await;
    let admin = app.sign_in_with("admin", &password("admin")).await;
    let provider_login = app.sign_in_with("provider", &password("provider")).await;
    let person_id = founder.actor.person_id.expect("the founder's person");
    let enterprise_id = founder.actor.enterprise_ids[0];
    let person = app
        .services
        .get_person(&founder.actor, person_id)
        .await
        .unwrap();
    let here: District = person.district.expect("the founder's district");
    // Seed 2 puts the demo founder in Nanshan, where the demo's housing and
    // its first community (desks, the GPU) are.
    assert_eq!(
        here,
        District::Nanshan,
        "the demo founder moved: pick a seed"
    );
    let there = if here == District::Nanshan {
        District::Longgang
    } else {
        District::Nanshan
    };
    fixtures::founder_with_enterprise(&app.services, &admin.actor, "other", 900).await;
    let url = |path: &str| app.url(path);

    // The founder's application, submitted with its evidence.
    let application = app
        .services
        .create_application(
            &founder.actor,
            &NewApplication {
                programme: "sz.voucher.model".into(),
                enterprise_id: Some(enterprise_id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    opcity_testkit::supply_evidence(&app.services, &founder.actor, application.id).await;
    let detail = app
        .services
        .get_application(&founder.actor, application.id)
        .await
        .unwrap();
    let document_id = detail.documents.first().map(|d| d.id).expect("a document");
    app.services
        .submit_application(&founder.actor, application.id)
        .await
        .unwrap();

    // His token, a desk request and its offer, a lease and a booking.
    let token = call(
        &founder,
        Method::POST,
        url("/api/v1/tokens"),
        json!({"name": "matrix"}),
    )
    .await;
    let desk = first::<space_unit::Entity>(&app, |u| u.kind == "desk").await;
    let request = call(
        &founder,
        Method::POST,
        url("/api/v1/space/requests"),
        json!({
            "enterprise_id": enterprise_id, "community_id": desk.community_id,
            "kind": "desk", "team_size": 1, "wanted_from": "2027-01-01", "months": 6,
        }),
    )
    .await;
    let agreement = call(&admin, Method::POST, url("/api/v1/space/offers"), json!({
        "request_id": request["id"], "unit_id": desk.id, "start": "2027-01-01", "end": "2027-07-01",
    })).await;
    // A request for an office still waiting, and a change proposed to it.
    let office_request = call(
        &founder,
        Method::POST,
        url("/api/v1/space/requests"),
        json!({
            "enterprise_id": enterprise_id, "community_id": desk.community_id,
            "kind": "office", "team_size": 1, "wanted_from": "2027-01-01", "months": 6,
        }),
    )
    .await;
    let proposal = call(
        &admin,
        Method::POST,
        url(&format!(
            "/api/v1/space/requests/{}/proposals",
            office_request["id"]
        )),
        json!({
            "kind": "office", "team_size": 1, "wanted_from": "2027-01-01", "months": 12,
            "reason": "A year is the shortest term here.",
        }),
    )
    .await;
    let home = first::<housing_unit::Entity>(&app, |u| u.district == here.id()).await;
    let lease = call(
        &admin,
        Method::POST,
        url("/api/v1/housing/leases"),
        json!({
            "housing_unit_id": home.id, "person_id": person_id, "start": "2027-01-01", "months": 6,
        }),
    )
    .await;
    let gpu = first::<instrument::Entity>(&app, |i| !i.requires_approval).await;
    let booking = call(
        &founder,
        Method::POST,
        url("/api/v1/bookings"),
        json!({
            "instrument_id": gpu.id, "enterprise_id": enterprise_id,
            "start": "2027-01-04T10:00", "end": "2027-01-04T11:00",
        }),
    )
    .await;
    let wallet = app
        .services
        .wallet(&founder.actor, enterprise_id)
        .await
        .unwrap();
    let capture = wallet
        .history
        .iter()
        .find(|h| h.transfer.kind == "capture" && h.review.is_none())
        .expect("a use waiting for the founder's word");
    let provider_account = provider_login.actor.account_id;
    let registration = first::<provider::Entity>(&app, |p| p.account_id == provider_account).await;
    let budget = first::<budget::Entity>(&app, |_| true).await;
    let community = first::<community::Entity>(&app, |c| c.district == here.id()).await;
    let floor = first::<space_floor::Entity>(&app, |f| f.id == desk.floor_id).await;
    let floor_building = floor.building_id;
    let world_admin = admin.actor.clone();
    let draft = app
        .services
        .create_policy_draft(
            &world_admin,
            &opcity_services::policy_drafts::DraftInput {
                title: "Matrix draft".into(),
                reason: "Matrix".into(),
                source_document: "Matrix notice".into(),
            },
        )
        .await
        .unwrap();
    let today = opcity_domain::today_in_shanghai(app.services.now());
    let draft = app
        .services
        .add_policy_draft_change(
            &world_admin,
            draft.id,
            1,
            &opcity_services::policy_drafts::ChangeInput {
                kind: "parameter".into(),
                effective_from: today.to_string(),
                parameter: Some("youth_max_age".into()),
                value: Some(40),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let reviewer = |d: District| format!("reviewer.{}", d.id());
    let mut callers = vec![('f', founder), ('x', app.sign_in("other").await)];
    callers.push((
        'o',
        app.sign_in_with("operator", &password("operator")).await,
    ));
    callers.push((
        'h',
        app.sign_in_with(&reviewer(here), &password(&reviewer(here)))
            .await,
    ));
    callers.push((
        't',
        app.sign_in_with(&reviewer(there), &password(&reviewer(there)))
            .await,
    ));
    callers.push(('a', admin));
    callers.push(('p', provider_login));
    callers.push((
        'i',
        app.sign_in_with("investor", &password("investor")).await,
    ));
    callers.push(('u', app.sign_in_with("auditor", &password("auditor")).await));

    let id = |v: &Value| {
        v["id"]
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| panic!("{v}"))
    };
    let ids: BTreeMap<&'static str, String> = [
        ("/api/v1/tokens/{id}", id(&token["token"])),
        ("/api/v1/applications/{id}", application.id.to_string()),
        (
            "/api/v1/applications/queue/export/{format}",
            "csv".to_owned(),
        ),
        // No view of that id: its owner would get 404, everyone else 403.
        ("/api/v1/applications/views/{id}", "1".to_owned()),
        (
            "/api/v1/applications/{id}/documents/{document}",
            document_id.to_string(),
        ),
        ("/api/v1/budgets/{id}", budget.id.to_string()),
        ("/api/v1/programmes/{id}", "sz.voucher.model".to_owned()),
        ("/api/v1/parameters/{name}", "youth_max_age".to_owned()),
        ("/api/v1/communities/{id}", community.id.to_string()),
        ("/api/v1/persons/{id}", person_id.to_string()),
        ("/api/v1/enterprises/{id}", enterprise_id.to_string()),
        ("/api/v1/space/units/{id}", desk.id.to_string()),
        ("/api/v1/space/requests/{id}", id(&request)),
        ("/api/v1/space/agreements/{id}", id(&agreement)),
        ("/api/v1/space/proposals/{id}", id(&proposal)),
        ("/api/v1/district-settings/{district}", "nanshan".to_owned()),
        ("/api/v1/housing/units/{id}", home.id.to_string()),
        ("/api/v1/housing/leases/{id}", id(&lease)),
        ("/api/v1/instruments/{id}", gpu.id.to_string()),
        ("/api/v1/bookings/{id}", id(&booking)),
        (
            "/api/v1/vouchers/uses/{transfer_id}",
            capture.transfer.id.clone(),
        ),
        ("/api/v1/providers/{id}", registration.id.to_string()),
        ("/api/v1/policy-drafts/{id}", draft.id.to_string()),
        (
            "/api/v1/policy-drafts/{id}/changes/{change_id}",
            draft.changes[0].id.to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let mut fields = Map::new();
    fields.insert("enterprise_id".into(), json!(enterprise_id));
    fields.insert("person_id".into(), json!(person_id));
    fields.insert("programme".into(), json!("sz.voucher.model"));
    fields.insert("district".into(), json!(here.id()));
    fields.insert(
        "subject".into(),
        json!(format!("enterprise:{enterprise_id}")),
    );
    fields.insert("community_id".into(), json!(community.id));
    fields.insert("unit_id".into(), json!(desk.id));
    fields.insert("housing_unit_id".into(), json!(home.id));
    fields.insert("instrument_id".into(), json!(gpu.id));
    fields.insert("request_id".into(), request["id"].clone());
    fields.insert("from".into(), json!("2027-01-01"));
    fields.insert("to".into(), json!("2027-12-31"));
    fields.insert("date".into(), json!("2027-01-04"));
    fields.insert("revision".into(), json!(draft.revision));
    let kind = "sz.voucher.model";
    let enterprise_uscc = app
        .services
        .get_enterprise(&world_admin, enterprise_id)
        .await
        .unwrap()
        .uscc;
    let instrument = json!({
        "name": "Matrix scope", "kind": "other", "institution": "Matrix lab",
        "district": here.id(), "opens": "09:00", "closes": "18:00", "open_days": "12345",
        "slot_minutes": 60, "cancel_notice_hours": 1, "no_show_grace_minutes": 10,
        "requires_approval": false,
    });
    let unit = |code: &str| {
        json!({
            "floor_id": desk.floor_id, "code": code, "kind": "desk", "area_m2": 5,
            "capacity": 1, "list_rent_fen": 100_000, "discounted_rent_fen": 50_000,
        })
    };
    let housing = |code: &str| {
        json!({
            "code": code, "kind": "room", "district": here.id(), "address": "Matrix Road 1",
            "area_m2": 20, "market_rent_fen": 300_000,
        })
    };
    let hold = json!({
        "transfer_id": "matrix-hold", "enterprise_id": enterprise_id, "kind": kind,
        "amount_fen": 100, "use": "api_usage", "reference": "M-1",
    });
    let mut with_op = hold.clone();
    with_op["op"] = json!("hold");
    with_op["transfer_id"] = json!("matrix-batch-hold");
    let bodies: BTreeMap<&'static str, Value> = [
        ("create_account", json!({
            "username": "matrix.new", "display_name": "Matrix", "role": "founder",
            "password": "a long and unusual matrix passphrase",
        })),
        ("create_budget", json!({
            "programme": "sz.funding.kunpeng_reward", "authority": here.id(), "year": 2030,
            "total_fen": 100_000,
        })),
        ("record_grant", json!({
            "subject": format!("enterprise:{enterprise_id}"), "programme": "sz.voucher.model",
            "source": "matrix", "from": "2027-01-01",
        })),
        ("create_enterprise", json!({"uscc": fixtures::uscc(901), "name": "Matrix AI", "district": here.id()})),
        ("update_enterprise", json!({"uscc": enterprise_uscc, "name": "Matrix AI", "district": here.id()})),
        ("allocate_housing", json!({
            "housing_unit_id": home.id, "person_id": person_id, "start": "2027-08-01", "months": 1,
        })),
        ("move_out", json!({"on": "2027-03-01"})),
        ("end_agreement", json!({"on": "2027-03-01"})),
        ("move_agreement", json!({"unit_id": desk.id, "on": "2027-03-01", "end": "2027-07-01"})),
        ("create_housing_unit", housing("M-H1")),
        ("update_housing_unit", housing(&home.code)),
        ("create_instrument", instrument.clone()),
        // Where it stands and who manages it, so the update (a whole
        // replacement) neither moves it nor takes it from its manager.
        ("update_instrument", {
            let mut same = instrument;
            same["community_id"] = json!(gpu.community_id);
            same["district"] = json!(gpu.district);
            same["manager_account_id"] = json!(gpu.manager_account_id);
            same
        }),
        ("set_district_settings", json!({"housing_allocator": "district_reviewer"})),
        ("propose_space_change", json!({
            "kind": "office", "team_size": 1, "wanted_from": "2027-01-01", "months": 9,
            "reason": "matrix",
        })),
        ("offer_space", json!({
            "request_id": request["id"], "unit_id": desk.id, "start": "2027-01-01", "end": "2027-07-01",
        })),
        ("request_space", json!({
            "enterprise_id": enterprise_id, "community_id": desk.community_id, "kind": "desk",
            "team_size": 1, "wanted_from": "2027-02-01", "months": 3,
        })),
        ("create_unit", unit("M-D1")),
        ("update_unit", unit(&desk.code)),
        ("book_instrument", json!({
            "instrument_id": gpu.id, "enterprise_id": enterprise_id,
            "start": "2027-01-05T10:00", "end": "2027-01-05T11:00",
        })),
        ("issue_voucher", json!({
            "enterprise_id": enterprise_id, "kind": kind, "amount_fen": 100, "valid_until": "2027-06-30",
        })),
        ("fund_pool", json!({"kind": kind, "year": 2027, "amount_fen": 100})),
        ("claw_back_voucher", json!({
            "enterprise_id": enterprise_id, "kind": kind, "amount_fen": 1, "reason": "matrix",
            "transfer_id": "matrix-claw",
        })),
        ("resolve_dispute", json!({"outcome": "upheld"})),
        ("review_use", json!({"decision": "confirmed"})),
        ("register_provider", json!({"name": "Matrix compute", "category": "compute", "kinds": [kind]})),
        ("decide_provider", json!({"decision": "approve", "kinds": [kind]})),
        ("serve_waitlist", json!({"unit_id": desk.id, "start": "2027-01-01", "end": "2027-07-01"})),
        ("create_floor", json!({"building_id": floor_building, "level": 9, "label": "9F"})),
        ("place_hold", hold),
        ("provider_batch", json!({"ops": [with_op]})),
    ]
    .into_iter()
    .collect();
    let queries: BTreeMap<&'static str, String> =
        [("inventory", format!("?community_id={}", community.id))]
            .into_iter()
            .collect();
    World {
        app,
        callers,
        ids,
        fields,
        bodies,
        queries,
    }
}
