//! The spaces, housing, instrument and voucher pages offer a form or button
//! exactly when its post would not be refused: for every role, each form a
//! page draws posts without a 403, and each form it does not draw is
//! refused with 403, with inputs that pass validation (so that the refusal,
//! if any, is authorization's). Each viewer gets fresh records (requests,
//! offers, agreements, a lease, bookings), so what one viewer's posts change
//! does not decide what the next is offered. The real server over a fresh
//! database on each backend.

use opcity_domain::{District, Role};
use opcity_policy::Pack;
use opcity_services::registry::communities::CommunityInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::vouchers::KINDS;
use opcity_testkit::app::Client;
use opcity_testkit::fixtures::{self, FounderSpec};
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;

type Body = Vec<(&'static str, String)>;

async fn post(app: &TestApp, c: &Client, path: &str, body: &Body) -> StatusCode {
    let mut form = body.clone();
    form.push(("_csrf", c.csrf.clone()));
    c.http
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
}

/// The id a form's redirect names (`…id=N`), the form posted by `c`.
async fn create(app: &TestApp, c: &Client, path: &str, body: Body) -> i64 {
    let mut form = body;
    form.push(("_csrf", c.csrf.clone()));
    let r = c.http.post(app.url(path)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    to.rsplit("id=").next().unwrap().parse().unwrap()
}

/// The page as `c` sees it; a page refused shows no form.
async fn page(app: &TestApp, c: &Client, path: &str) -> String {
    let r = c.http.get(app.url(path)).send().await.unwrap();
    if r.status() == StatusCode::OK {
        r.text().await.unwrap()
    } else {
        String::new()
    }
}

fn body(fields: &[(&'static str, &str)]) -> Body {
    fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

/// One form or button a page may draw (`marker`, its element id on the
/// page at `page`), and the posts it could send: drawn ⇔ some post is not
/// refused with 403.
struct Probe {
    page: String,
    marker: String,
    posts: Vec<(String, Body)>,
}

fn probe(page: &str, marker: String, posts: Vec<(String, Body)>) -> Probe {
    Probe {
        page: page.to_owned(),
        marker,
        posts,
    }
}

/// What stays across the viewers: the sites, the instruments, a provider.
struct World {
    community: i64,
    building: i64,
    floor: i64,
    firm: i64,
    firm_longgang: i64,
    approval_instrument: i64,
    open_instrument: i64,
    provider: i64,
}

const NANSHAN: Option<District> = Some(District::Nanshan);
const LONGGANG: Option<District> = Some(District::Longgang);

/// The cast: those who manage (a site, a district, everything), those who
/// hold (a founder, an institution's lab) and those who only read.
const USERS: [(&str, Role, Option<District>); 9] = [
    ("operator", Role::CommunityOperator, None),
    ("rev.nanshan", Role::DistrictReviewer, NANSHAN),
    ("admin", Role::MunicipalAdmin, None),
    ("founder", Role::Founder, None),
    ("lab", Role::ServiceProvider, None),
    ("operator.none", Role::CommunityOperator, None),
    ("rev.longgang", Role::DistrictReviewer, LONGGANG),
    ("investor", Role::Investor, None),
    ("auditor", Role::Auditor, None),
];

async fn world(app: &TestApp) -> World {
    let mut accounts = std::collections::HashMap::new();
    for (name, role, district) in USERS.into_iter().filter(|u| u.0 != "founder") {
        accounts.insert(name, app.account(name, role, district).await);
    }
    let admin = app.sign_in("admin").await;
    let s = &app.services;
    // The community the operator runs, in Nanshan.
    let bay = CommunityInput {
        name_zh: "湾区社区".into(),
        name_en: "Bay".into(),
        operator_name: "运营方".into(),
        operator_account_id: Some(accounts["operator"].account_id),
        address: "1号".into(),
        district: "nanshan".into(),
        area_m2: 1_000,
        ..Default::default()
    };
    let community = s.create_community(&admin.actor, &bay).await.unwrap().id;
    let firm = app
        .founder(&admin.actor, FounderSpec::young_ai("founder", 1))
        .await
        .enterprise_id;
    let elsewhere = EnterpriseInput {
        uscc: fixtures::uscc(2),
        name: "龙岗智能".into(),
        district: "longgang".into(),
        ..Default::default()
    };
    let firm_longgang = s
        .create_enterprise(&admin.actor, &elsewhere)
        .await
        .unwrap()
        .id;
    let site = format!("?community_id={community}");
    let building = create(
        app,
        &admin,
        &format!("/spaces/buildings{site}"),
        body(&[
            ("community_id", &community.to_string()),
            ("district", "nanshan"),
            ("name", "A座"),
            ("address", "1号"),
        ]),
    )
    .await;
    let floor = create(
        app,
        &admin,
        &format!("/spaces/floors{site}"),
        body(&[
            ("building_id", &building.to_string()),
            ("level", "1"),
            ("label", "1F"),
        ]),
    )
    .await;
    let lab = app.sign_in("lab").await;
    let approval_instrument = create(app, &lab, "/instruments", instrument("true")).await;
    let open_instrument = create(app, &lab, "/instruments", instrument("false")).await;
    let provider = app
        .services
        .register_provider(
            &lab.actor,
            &opcity_services::vouchers::providers::ProviderInput {
                name: "算力所".into(),
                uscc: None,
                category: "compute".into(),
                kinds: vec!["sz.voucher.training".into()],
                account_id: None,
            },
        )
        .await
        .unwrap()
        .id;
    World {
        community,
        building,
        floor,
        firm,
        firm_longgang,
        approval_instrument,
        open_instrument,
        provider,
    }
}

fn instrument(requires_approval: &str) -> Body {
    body(&[
        ("name", "A100"),
        ("kind", "gpu_server"),
        ("institution", "深圳大学"),
        ("district", "nanshan"),
        ("slot_minutes", "60"),
        ("opens", "00:00"),
        ("closes", "24:00"),
        ("open_days", "1234567"),
        ("requires_approval", requires_approval),
        ("cancel_notice_hours", "1"),
        ("no_show_grace_minutes", "15"),
    ])
}

fn unit(w: &World, code: String) -> Body {
    let mut b = body(&[
        ("kind", "desk"),
        ("area_m2", "6"),
        ("capacity", "2"),
        ("list_rent_yuan", "1,200"),
        ("discounted_rent_yuan", "600"),
    ]);
    b.push(("floor_id", w.floor.to_string()));
    b.push(("code", code));
    b
}

const START: &str = "2031-01-01";
const END: &str = "2032-01-01";

/// The records viewer number `k` acts on, made fresh for them, and the
/// probes of every form the pages may draw over them.
async fn probes(
    app: &TestApp,
    w: &World,
    (k, viewer_enterprises): (usize, &[i64]),
    today: chrono::NaiveDate,
) -> Vec<Probe> {
    let admin = app.sign_in("admin").await;
    let founder = app.sign_in("founder").await;
    let site = format!("/spaces/inventory?community_id={}", w.community);
    let inv = format!("?community_id={}", w.community);
    let mut units = Vec::new();
    for n in 0..3 {
        let path = format!("/spaces/units{inv}");
        units.push(create(app, &admin, &path, unit(w, format!("R{k}-{n}"))).await);
    }
    let request = async || {
        create(
            app,
            &founder,
            "/spaces/requests",
            body(&[
                ("enterprise_id", &w.firm.to_string()),
                ("community_id", &w.community.to_string()),
                ("kind", "desk"),
                ("team_size", "2"),
                ("wanted_from", START),
                ("months", "12"),
            ]),
        )
        .await
    };
    let offer = async |request: i64, unit: i64| {
        create(
            app,
            &admin,
            "/spaces/offers",
            body(&[
                ("request_id", &request.to_string()),
                ("unit_id", &unit.to_string()),
                ("start", START),
                ("end", END),
            ]),
        )
        .await
    };
    let offered = offer(request().await, units[0]).await;
    let active = offer(request().await, units[1]).await;
    let path = format!("/spaces/agreements/{active}/accept");
    assert_eq!(
        post(app, &founder, &path, &vec![]).await,
        StatusCode::SEE_OTHER
    );
    let waiting = request().await;
    // A floor the site has none of waits; the city proposes to change it,
    // so the holder has a proposal to answer and its site one to withdraw.
    let floor = app
        .services
        .request_space(
            &founder.actor,
            &opcity_services::spaces::agreements::SpaceRequestInput {
                enterprise_id: Some(w.firm),
                community_id: Some(w.community),
                kind: "floor".into(),
                team_size: 1,
                wanted_from: START.into(),
                months: 12,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let proposal = app
        .services
        .propose_space_change(
            &admin.actor,
            floor,
            &opcity_services::spaces::agreements::AmendmentInput {
                kind: "floor".into(),
                team_size: 1,
                wanted_from: START.into(),
                months: 6,
                reason: "Six months is what the site can promise.".into(),
            },
        )
        .await
        .unwrap()
        .id;

    let housing_unit = create(
        app,
        &admin,
        "/housing/units",
        body(&[
            ("district", "nanshan"),
            ("address", "2号"),
            ("code", &format!("H{k}")),
            ("kind", "room"),
            ("area_m2", "20"),
            ("market_rent_yuan", "3,000"),
        ]),
    )
    .await;
    let tenant = app
        .services
        .create_person(
            &admin.actor,
            &PersonInput {
                full_name: format!("租户{k}"),
                district: Some("nanshan".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let lease = create(
        app,
        &admin,
        "/housing/leases",
        body(&[
            ("housing_unit_id", &housing_unit.to_string()),
            ("person_id", &tenant.to_string()),
            ("start", START),
            ("months", "1"),
        ]),
    )
    .await;

    let housing_units: Vec<i64> = app
        .services
        .list_housing_units(&admin.actor, None, None)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();

    // Bookings a day apart for each viewer, at 09:00 Shanghai time.
    let day = |n: u64| today + chrono::Days::new(30 + 3 * k as u64 + n);
    let slot = |instrument: i64, n: u64, enterprise: i64| {
        let d = day(n);
        (
            format!("/instruments/{instrument}/bookings"),
            body(&[
                ("enterprise_id", &enterprise.to_string()),
                ("start", &format!("{d}T01:00:00+00:00")),
                ("end", &format!("{d}T02:00:00+00:00")),
                ("date", &d.to_string()),
            ]),
        )
    };
    let (path, b) = slot(w.approval_instrument, 0, w.firm);
    let pending = create(app, &founder, &path, b).await;
    let (path, b) = slot(w.open_instrument, 0, w.firm);
    let confirmed = create(app, &founder, &path, b).await;

    let on = |path: String, fields: &[(&'static str, &str)]| (path, body(fields));
    let agreement = |id: i64, action: &str| format!("/spaces/agreements/{id}/{action}");
    let lease_path = |action: &str| format!("/housing/leases/{lease}/{action}");
    let booking = |id: i64, action: &str| format!("/bookings/{id}/{action}");
    let (spaces, housing, instruments) = ("/spaces", "/housing", "/instruments");
    let mut all = vec![
        probe(
            spaces,
            "space-request-form".into(),
            vec![on(
                "/spaces/requests".into(),
                &[
                    ("enterprise_id", &w.firm.to_string()),
                    ("community_id", &w.community.to_string()),
                    ("kind", "office"),
                    ("team_size", "2"),
                    ("wanted_from", START),
                    ("months", "12"),
                ],
            )],
        ),
        probe(
            spaces,
            "offer-form".into(),
            vec![on(
                "/spaces/offers".into(),
                &[
                    ("request_id", &waiting.to_string()),
                    ("unit_id", &units[2].to_string()),
                    ("start", START),
                    ("end", END),
                ],
            )],
        ),
        probe(
            spaces,
            "serve-form".into(),
            vec![on(
                "/spaces/serve".into(),
                &[
                    ("unit_id", &units[2].to_string()),
                    ("start", START),
                    ("end", END),
                ],
            )],
        ),
        probe(
            spaces,
            "propose-form".into(),
            vec![on(
                "/spaces/proposals".into(),
                &[
                    ("for_request", &waiting.to_string()),
                    ("kind", "desk"),
                    ("team_size", "1"),
                    ("wanted_from", START),
                    ("months", "12"),
                    ("reason", "A desk seats one here."),
                ],
            )],
        ),
        probe(
            housing,
            "allocator-nanshan".into(),
            vec![on(
                "/housing/allocators/nanshan".into(),
                &[("housing_allocator", "district_reviewer")],
            )],
        ),
        probe(
            spaces,
            format!("withdraw-request-{waiting}"),
            vec![on(format!("/spaces/requests/{waiting}/withdraw"), &[])],
        ),
        probe(
            spaces,
            format!("end-{active}"),
            vec![on(agreement(active, "end"), &[("on", "2031-06-01")])],
        ),
        probe(
            spaces,
            format!("move-{active}"),
            vec![on(
                agreement(active, "move"),
                &[
                    ("unit_id", &units[0].to_string()),
                    ("on", "2031-06-01"),
                    ("end", END),
                ],
            )],
        ),
        probe(
            &site,
            "building-form".into(),
            vec![on(
                format!("/spaces/buildings{inv}"),
                &[
                    ("community_id", &w.community.to_string()),
                    ("district", "nanshan"),
                    ("name", "B座"),
                    ("address", "2号"),
                ],
            )],
        ),
        probe(
            &site,
            "floor-form".into(),
            vec![on(
                format!("/spaces/floors{inv}"),
                &[
                    ("building_id", &w.building.to_string()),
                    ("level", &(10 + k).to_string()),
                    ("label", "F"),
                ],
            )],
        ),
        probe(
            &site,
            "unit-form".into(),
            vec![(format!("/spaces/units{inv}"), unit(w, format!("P{k}")))],
        ),
        // Allocating may name any housing unit (the form lists those the
        // viewer manages).
        probe(
            housing,
            "lease-form".into(),
            housing_units
                .iter()
                .map(|u| {
                    on(
                        "/housing/leases".into(),
                        &[
                            ("housing_unit_id", &u.to_string()),
                            ("person_id", &tenant.to_string()),
                            ("start", "2031-06-01"),
                            ("months", "1"),
                        ],
                    )
                })
                .collect(),
        ),
        probe(
            housing,
            "housing-unit-form".into(),
            ["nanshan", "longgang"]
                .into_iter()
                .map(|district| {
                    on(
                        "/housing/units".into(),
                        &[
                            ("district", district),
                            ("address", "3号"),
                            ("code", &format!("HU{k}-{district}")),
                            ("kind", "room"),
                            ("area_m2", "20"),
                            ("market_rent_yuan", "3,000"),
                        ],
                    )
                })
                .collect(),
        ),
        probe(
            housing,
            format!("move-in-{lease}"),
            vec![on(lease_path("move-in"), &[])],
        ),
        probe(
            housing,
            format!("renew-{lease}"),
            vec![on(lease_path("renew"), &[("months", "1")])],
        ),
        probe(
            housing,
            format!("move-out-{lease}"),
            vec![on(lease_path("move-out"), &[("on", "2031-01-15")])],
        ),
        probe(
            instruments,
            "instrument-form".into(),
            vec![("/instruments".into(), instrument("false"))],
        ),
        probe(
            instruments,
            format!("check-in-{confirmed}"),
            vec![on(booking(confirmed, "check-in"), &[])],
        ),
    ];
    for action in ["accept", "decline", "withdraw"] {
        let marker = format!("{action}-{offered}");
        all.push(probe(
            spaces,
            marker,
            vec![on(agreement(offered, action), &[])],
        ));
    }
    for action in ["accept", "decline", "withdraw"] {
        all.push(probe(
            spaces,
            format!("{action}-change-{proposal}"),
            vec![on(format!("/spaces/proposals/{proposal}/{action}"), &[])],
        ));
    }
    for action in ["approve", "reject", "cancel"] {
        let marker = format!("{action}-{pending}");
        all.push(probe(
            instruments,
            marker,
            vec![on(booking(pending, action), &[])],
        ));
    }
    // A slot's form names one of the viewer's own enterprises, in its
    // select: those are the posts it could send (none without one).
    let day_page = format!("/instruments/{}?date={}", w.open_instrument, day(1));
    let own = viewer_enterprises.iter();
    all.push(probe(
        &day_page,
        "book-0900".into(),
        own.map(|e| slot(w.open_instrument, 1, *e)).collect(),
    ));
    all.extend(voucher_probes(w, k, today, &app.services.pack()));
    // The counter's hold, by the customer's credit code: an approved
    // provider's form.
    let customer = app
        .services
        .get_enterprise(&admin.actor, w.firm)
        .await
        .unwrap()
        .uscc;
    let transfer = format!("t:till:{k}");
    all.push(probe(
        "/vouchers",
        "hold-form".into(),
        vec![(
            "/provider/holds".into(),
            body(&[
                ("transfer_id", &transfer),
                ("uscc", &customer),
                ("kind", "sz.voucher.training"),
                ("use", "model_training"),
                ("amount_yuan", "1"),
                ("contract_amount_yuan", "10"),
                ("reference", "R-1"),
            ]),
        )],
    ));
    all
}

/// The administrators' voucher forms, posted with every kind for every
/// authority (the city's pool for the city's kinds, each district's for
/// the districts'), to enterprises of two districts.
fn voucher_probes(w: &World, k: usize, today: chrono::NaiveDate, pack: &Pack) -> Vec<Probe> {
    use chrono::Datelike;
    let until = (today + chrono::Days::new(20)).to_string();
    let mut issue = Vec::new();
    let mut fund = Vec::new();
    for kind in &KINDS {
        for firm in [w.firm, w.firm_longgang] {
            issue.push((
                "/vouchers/issue".to_owned(),
                vec![
                    ("transfer_id", format!("t:issue:{k}:{}:{firm}", kind.id)),
                    ("enterprise_id", firm.to_string()),
                    ("kind", kind.id.to_owned()),
                    ("amount_yuan", "1".to_owned()),
                    ("valid_until", until.clone()),
                ],
            ));
        }
        let authorities: &[&str] = if kind.is_municipal(pack) {
            &[""]
        } else {
            &["nanshan", "longgang"]
        };
        for district in authorities {
            fund.push((
                "/vouchers/fund".to_owned(),
                vec![
                    ("kind", kind.id.to_owned()),
                    ("year", today.year().to_string()),
                    ("district", (*district).to_owned()),
                    ("amount_yuan", "1".to_owned()),
                ],
            ));
        }
    }
    let decide = vec![(
        format!("/providers/{}/decision", w.provider),
        body(&[("decision", "approve"), ("kind.sz.voucher.training", "on")]),
    )];
    vec![
        probe("/vouchers", "issue-form".into(), issue),
        probe("/vouchers", "fund-form".into(), fund),
        probe(
            "/vouchers",
            "run-jobs".into(),
            vec![("/vouchers/jobs".into(), vec![])],
        ),
        probe("/vouchers", format!("decide-{}", w.provider), decide),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_offer_exactly_the_forms_that_are_allowed() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let w = world(&app).await;
        let today = opcity_domain::today_in_shanghai(app.services.now());
        let mut failures = Vec::new();
        let mut offered = std::collections::BTreeSet::new();
        for (k, (name, _, _)) in USERS.iter().enumerate() {
            let viewer = app.sign_in(name).await;
            let probes = probes(&app, &w, (k, &viewer.actor.enterprise_ids), today).await;
            let mut pages = std::collections::HashMap::new();
            for p in &probes {
                if !pages.contains_key(&p.page) {
                    pages.insert(p.page.clone(), page(&app, &viewer, &p.page).await);
                }
            }
            for p in &probes {
                let drawn = pages[&p.page].contains(&format!("id=\"{}\"", p.marker));
                let mut statuses = Vec::new();
                for (path, b) in &p.posts {
                    statuses.push(post(&app, &viewer, path, b).await);
                }
                let allowed = statuses.iter().any(|s| *s != StatusCode::FORBIDDEN);
                if drawn != allowed {
                    failures.push(format!(
                        "{name}: {} on {} drawn: {drawn}, posts: {statuses:?}",
                        p.marker, p.page
                    ));
                }
                if drawn {
                    let kind = p.marker.split(|c: char| c.is_ascii_digit()).next().unwrap();
                    offered.insert((*name, kind.trim_end_matches('-').to_owned()));
                }
            }
            // The next viewer's request must be first in the queue.
            let admin = app.sign_in("admin").await;
            let mut waiting = app
                .services
                .list_space_requests(&admin.actor, &Default::default())
                .await
                .unwrap();
            waiting.retain(|r| r.status == "waiting" && (r.kind == "desk" || r.kind == "floor"));
            for r in waiting {
                app.services
                    .withdraw_space_request(&admin.actor, r.id)
                    .await
                    .unwrap();
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // The probes are not vacuous: those who manage see the forms.
        for (name, form) in [
            ("admin", "issue-form"),
            ("rev.nanshan", "offer-form"),
            ("operator", "building-form"),
            ("founder", "space-request-form"),
            ("founder", "accept"),
            ("admin", "propose-form"),
            ("founder", "accept-change"),
            ("operator", "withdraw-change"),
            ("admin", "allocator-nanshan"),
            ("lab", "approve"),
            ("lab", "hold-form"),
            ("rev.nanshan", "fund-form"),
        ] {
            assert!(
                offered.contains(&(name, form.to_owned())),
                "{name} {form}: {offered:?}"
            );
        }
        app.stop().await;
    })
    .await;
}
