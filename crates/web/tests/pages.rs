//! The portal's pages over plain HTTP (no browser): CSRF on every form,
//! validation messages beside their fields with nothing written, redirects to
//! sign-in, access by role and district, and the language of every page. The
//! real server over a fresh database on each backend.

use opcity_domain::{District, Role};
use opcity_services::Actor;
use opcity_services::registry::communities::CommunityInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::registry::{ListFilter, Paging};
use opcity_testkit::app::TEST_PASSWORD;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

const USCC_A: &str = "91440300708461136T";
const USCC_B: &str = "914403001922038216";

/// A client that does not follow redirects and keeps no cookies.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `<input>` tag that has `name="{name}"`.
fn input_tag<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

/// The `value` attribute of the input named `name`.
fn input_value(html: &str, name: &str) -> Option<String> {
    let tag = input_tag(html, name)?;
    let from = tag.find("value=\"")? + "value=\"".len();
    let len = tag[from..].find('"')?;
    Some(tag[from..from + len].to_owned())
}

/// The text directly inside the element with `id` (up to its first child tag).
fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let from = at + html[at..].find('>')? + 1;
    let len = html[from..].find('<')?;
    Some(html[from..from + len].trim().to_owned())
}

fn html_lang(html: &str) -> Option<String> {
    let from = html.find("<html lang=\"")? + "<html lang=\"".len();
    let len = html[from..].find('"')?;
    Some(html[from..from + len].to_owned())
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
    })
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// `opcity_session=…` for `username`, signed in through the API.
async fn session_pair(app: &TestApp, username: &str) -> String {
    let r = bare()
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({ "username": username, "password": TEST_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = cookie_value(&set_cookies(&r), "opcity_session").expect("session cookie");
    format!("opcity_session={token}")
}

async fn audit_entries(app: &TestApp) -> i64 {
    app.services.verify_audit_log().await.unwrap().entries
}

async fn enterprise_count(app: &TestApp, admin: &Actor) -> u64 {
    app.services
        .list_enterprises(admin, &ListFilter::default(), Paging::new(None, None))
        .await
        .unwrap()
        .total
}

fn enterprise_input(uscc: &str, district: &str) -> EnterpriseInput {
    EnterpriseInput {
        uscc: uscc.into(),
        name: "测试智能科技有限公司".into(),
        district: district.into(),
        ai_business: Some(true),
        ..Default::default()
    }
}

/// The sign-in form's CSRF cookie and the token in the form.
async fn login_form(app: &TestApp, query: &str) -> (String, String, String) {
    let r = bare()
        .get(app.url(&format!("/login{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies = set_cookies(&r);
    let html = r.text().await.unwrap();
    let cookie = cookie_value(&cookies, "opcity_guest_csrf").expect("login CSRF cookie");
    let field = input_value(&html, "_csrf").expect("_csrf field");
    (cookie, field, html)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_form_uses_a_double_submit_cookie() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;

        let r = bare().get(app.url("/login")).send().await.unwrap();
        let cookies = set_cookies(&r);
        let csrf_cookie = cookies
            .iter()
            .find(|c| c.starts_with("opcity_guest_csrf="))
            .expect("the form sets the CSRF cookie")
            .to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(csrf_cookie.contains(attribute), "{csrf_cookie}");
        }
        let (cookie, field, _) = login_form(&app, "").await;
        assert_eq!(cookie, field, "the form carries the cookie's token");
        assert!(cookie.len() >= 24);

        let good = [
            ("_csrf", field.as_str()),
            ("next", "/home"),
            ("username", "admin"),
            ("password", TEST_PASSWORD),
        ];
        // Without the cookie: refused, no session.
        let r = bare()
            .post(app.url("/login"))
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(cookie_value(&set_cookies(&r), "opcity_session").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("表单已过期或来源无效"), "{html}");
        assert_eq!(html_lang(&html).as_deref(), Some("zh-CN"));

        // A cookie that does not match the field: refused.
        let r = bare()
            .post(app.url("/login"))
            .header("cookie", "opcity_guest_csrf=forged-forged-forged-forged")
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // The cookie without the field: refused.
        let r = bare()
            .post(app.url("/login"))
            .header("cookie", format!("opcity_guest_csrf={cookie}"))
            .form(&[("username", "admin"), ("password", TEST_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // A wrong password: 401, the message, the username kept.
        let r = bare()
            .post(app.url("/login"))
            .header("cookie", format!("opcity_guest_csrf={cookie}"))
            .form(&[
                ("_csrf", field.as_str()),
                ("next", "/home"),
                ("username", "admin"),
                ("password", "wrong"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let html = r.text().await.unwrap();
        assert_eq!(
            element_text(&html, "login-error").as_deref(),
            Some("用户名或密码错误。")
        );
        assert_eq!(input_value(&html, "username").as_deref(), Some("admin"));
        assert_eq!(
            input_value(&html, "_csrf").as_deref(),
            Some(field.as_str()),
            "the same token serves the next attempt"
        );

        // Both: signed in, sent on, the one-time cookie removed.
        let r = bare()
            .post(app.url("/login"))
            .header("cookie", format!("opcity_guest_csrf={cookie}"))
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/home");
        let cookies = set_cookies(&r);
        let session = cookies
            .iter()
            .find(|c| c.starts_with("opcity_session="))
            .expect("session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Lax"),
            "{session}"
        );
        assert_eq!(
            cookie_value(&cookies, "opcity_guest_csrf").as_deref(),
            Some("")
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_posts_without_the_session_token_are_refused_and_write_nothing() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let client = app.sign_in("admin").await;
        let before = audit_entries(&app).await;
        let fields = [
            ("uscc", USCC_A),
            ("name", "测试智能科技有限公司"),
            ("district", "nanshan"),
        ];

        // No `_csrf` (the API's header, which the client sends, does not count
        // for forms), then a wrong one.
        let r = client.post_form("/enterprises", &fields).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("表单已过期或来源无效"));
        let mut forged = fields.to_vec();
        forged.push(("_csrf", "forged"));
        let r = client.post_form("/enterprises", &forged).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Other forms too: community create, token create, sign-out.
        for path in ["/communities", "/persons", "/tokens", "/logout"] {
            let r = client
                .post_form(path, &[("name", "x"), ("full_name", "x")])
                .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(audit_entries(&app).await, before, "nothing was written");
        assert_eq!(enterprise_count(&app, &admin).await, 0);
        assert!(
            app.services
                .list_api_tokens(&admin)
                .await
                .unwrap()
                .is_empty()
        );
        // Still signed in: the refused sign-out did nothing.
        let r = client.get("/home").await;
        assert_eq!(r.status(), StatusCode::OK);

        // With the token it works.
        let mut good = fields.to_vec();
        good.push(("_csrf", client.csrf.as_str()));
        let r = client.post_form("/enterprises", &good).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(location(&r).ends_with("?saved=1"), "{}", location(&r));
        assert_eq!(enterprise_count(&app, &admin).await, 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_forms_come_back_with_messages_beside_fields_and_nothing_written() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let client = app.sign_in("admin").await;
        let before = audit_entries(&app).await;
        let csrf = client.csrf.as_str();

        let r = client
            .post_form(
                "/enterprises",
                &[
                    ("_csrf", csrf),
                    ("uscc", "91440300708461136U"),
                    ("name", "测试智能科技有限公司"),
                    ("district", "nanshan"),
                    ("size", "micro"),
                    ("ai_business", "true"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert_eq!(
            element_text(&html, "f-uscc-error").as_deref(),
            Some("校验码应为 T，实际为 U，请核对。")
        );
        // Beside the field: inside the same `.field` block as the input.
        let block = &html[html.find("<label for=\"f-uscc\"").unwrap()..];
        let field_block = &block[..block.find("<div class=\"field").unwrap_or(block.len())];
        assert!(field_block.contains("id=\"f-uscc-error\""), "{field_block}");
        assert!(html.contains("class=\"field invalid\""));
        assert_eq!(
            input_value(&html, "uscc").as_deref(),
            Some("91440300708461136U")
        );
        assert_eq!(
            input_value(&html, "name").as_deref(),
            Some("测试智能科技有限公司")
        );
        assert!(
            html.contains("<option value=\"nanshan\" selected>"),
            "district kept"
        );
        assert!(
            html.contains("<option value=\"micro\" selected>"),
            "size kept"
        );
        assert!(element_text(&html, "form-errors").is_some());
        assert_eq!(
            input_value(&html, "_csrf").as_deref(),
            Some(csrf),
            "the form can be sent again"
        );

        // Several errors at once, each beside its own field.
        let r = client
            .post_form(
                "/communities",
                &[
                    ("_csrf", csrf),
                    ("name_zh", ""),
                    ("name_en", "Test"),
                    ("district", "atlantis"),
                    ("address", "somewhere"),
                    ("area_m2", "lots"),
                    ("operator_name", "op"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(element_text(&html, "f-area_m2-error").is_some(), "{html}");
        assert_eq!(input_value(&html, "area_m2").as_deref(), Some("lots"));
        assert_eq!(input_value(&html, "name_en").as_deref(), Some("Test"));

        assert_eq!(audit_entries(&app).await, before, "nothing was written");
        assert_eq!(enterprise_count(&app, &admin).await, 0);

        // A taken credit code: 409, beside the field, nothing written.
        app.services
            .create_enterprise(&admin, &enterprise_input(USCC_A, "futian"))
            .await
            .unwrap();
        let before = audit_entries(&app).await;
        let r = client
            .post_form(
                "/enterprises",
                &[
                    ("_csrf", csrf),
                    ("uscc", USCC_A),
                    ("name", "另一家公司"),
                    ("district", "nanshan"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let html = r.text().await.unwrap();
        assert!(element_text(&html, "f-uscc-error").is_some(), "{html}");
        assert_eq!(input_value(&html, "name").as_deref(), Some("另一家公司"));
        assert_eq!(audit_entries(&app).await, before);
        assert_eq!(enterprise_count(&app, &admin).await, 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_strangers_to_sign_in_and_back() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        for (path, next) in [
            ("/home", "%2Fhome"),
            ("/dashboard?x=1", "%2Fdashboard%3Fx%3D1"),
            ("/enterprises", "%2Fenterprises"),
            ("/enterprises/new", "%2Fenterprises%2Fnew"),
            ("/enterprises/1", "%2Fenterprises%2F1"),
            ("/persons/1/edit", "%2Fpersons%2F1%2Fedit"),
            ("/communities", "%2Fcommunities"),
            ("/audit", "%2Faudit"),
        ] {
            let r = bare().get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&r), format!("/login?next={next}"), "{path}");
        }

        // The form carries `next`; signing in goes there.
        let (cookie, field, html) = login_form(&app, "?next=%2Fdashboard%3Fx%3D1").await;
        assert_eq!(
            input_value(&html, "next").as_deref(),
            Some("/dashboard?x=1")
        );
        let sign_in = |next: &'static str| {
            bare()
                .post(app.url("/login"))
                .header("cookie", format!("opcity_guest_csrf={cookie}"))
                .form(&[
                    ("_csrf", field.clone()),
                    ("next", next.to_owned()),
                    ("username", "admin".to_owned()),
                    ("password", TEST_PASSWORD.to_owned()),
                ])
                .send()
        };
        let r = sign_in("/dashboard?x=1").await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/dashboard?x=1");

        // Never to another site.
        for evil in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
        ] {
            let r = sign_in(evil).await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{evil:?}");
            assert_eq!(location(&r), "/home", "{evil:?}");
        }
        // Nor through the sign-in form's own `next` field.
        let (_, _, html) = login_form(&app, "?next=%2F%09%2Fevil.example").await;
        assert_eq!(input_value(&html, "next").as_deref(), Some("/home"));
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_outside_ones_scope_are_forbidden_pages() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account(
            "rev.longgang",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        app.account(
            "rev.nanshan",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        let founder = app.account("founder", Role::Founder, None).await;
        app.services
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "创业者".into(),
                    account_id: Some(founder.account_id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let nanshan = app
            .services
            .create_enterprise(&admin, &enterprise_input(USCC_A, "nanshan"))
            .await
            .unwrap()
            .id;

        let longgang = app.sign_in("rev.longgang").await;
        let before = audit_entries(&app).await;
        for path in [
            format!("/enterprises/{nanshan}"),
            format!("/enterprises/{nanshan}/edit"),
        ] {
            let r = longgang.get(&path).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
            let html = r.text().await.unwrap();
            assert!(html.contains("您没有权限访问此内容。"), "{html}");
            assert!(!html.contains("测试智能科技有限公司"), "nothing leaks");
            assert_eq!(html_lang(&html).as_deref(), Some("zh-CN"));
        }
        let r = longgang
            .post_form(
                &format!("/enterprises/{nanshan}"),
                &[
                    ("_csrf", longgang.csrf.as_str()),
                    ("uscc", USCC_A),
                    ("name", "改名"),
                    ("district", "longgang"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // A reviewer cannot register enterprises at all.
        let r = longgang
            .post_form(
                "/enterprises",
                &[
                    ("_csrf", longgang.csrf.as_str()),
                    ("uscc", USCC_B),
                    ("name", "新公司"),
                    ("district", "longgang"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = longgang.get("/audit").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(audit_entries(&app).await, before, "nothing was written");

        // The reviewer of its district sees it; a missing record is a 404 page.
        let reviewer = app.sign_in("rev.nanshan").await;
        let r = reviewer.get(&format!("/enterprises/{nanshan}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("测试智能科技有限公司"));
        let r = reviewer.get("/enterprises/999999").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.text().await.unwrap().contains("找不到该记录。"));

        // A founder who did not found it: forbidden too.
        let founder = app.sign_in("founder").await;
        let r = founder.get(&format!("/enterprises/{nanshan}")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_landing_page_is_public_and_shows_the_plan_targets() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.services
            .create_community(
                &admin,
                &CommunityInput {
                    name_zh: "前海社区".into(),
                    name_en: "Qianhai".into(),
                    district: "nanshan".into(),
                    address: "前海".into(),
                    area_m2: 15_500,
                    operator_name: "运营".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let r = bare().get(app.url("/")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        for id in [
            "target-communities_at_area",
            "target-community_area_m2",
            "target-ai_startups",
            "target-ai_professionals",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        let area = &html[html.find("id=\"target-community_area_m2\"").unwrap()..];
        assert!(
            area[..area.find("</div></div>").unwrap()].contains("15,500"),
            "{area}"
        );
        assert!(html.contains("id=\"sign-in\""));
        assert!(!html.contains("id=\"logout\""));
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "nothing from other hosts"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_declares_its_language() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        let session = session_pair(&app, "admin").await;
        let pages = [
            "/",
            "/login",
            "/home",
            "/dashboard",
            "/communities",
            "/communities/new",
            "/enterprises",
            "/enterprises/new",
            "/persons",
            "/persons/new",
            "/audit",
            "/enterprises/999999",
        ];
        for (cookie, accept, want) in [
            (None, None, "zh-CN"),
            (Some("en"), None, "en"),
            (Some("zh-CN"), Some("en-GB,en;q=0.9"), "zh-CN"),
            (None, Some("en-GB,en;q=0.9"), "en"),
        ] {
            for path in pages {
                let cookies = match cookie {
                    Some(tag) => format!("{session}; opcity_lang={tag}"),
                    None => session.clone(),
                };
                let mut request = bare().get(app.url(path)).header("cookie", cookies);
                if let Some(accept) = accept {
                    request = request.header("accept-language", accept);
                }
                let r = request.send().await.unwrap();
                let html = r.text().await.unwrap();
                assert_eq!(
                    html_lang(&html).as_deref(),
                    Some(want),
                    "{path} with {cookie:?}/{accept:?}"
                );
                let other = if want == "en" { "zh-CN" } else { "en" };
                assert!(
                    html.contains(&format!("id=\"lang-switch\" href=\"/lang/{other}?next=")),
                    "{path}: the switch offers the other language"
                );
            }
        }

        // The switch sets the cookie and returns to the page it was on.
        let r = bare()
            .get(app.url("/lang/en?next=%2Fenterprises%3Fq%3Dx"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/enterprises?q=x");
        let cookies = set_cookies(&r);
        assert_eq!(cookie_value(&cookies, "opcity_lang").as_deref(), Some("en"));
        // Unknown tags fall back to Chinese; other sites are never a target.
        let r = bare().get(app.url("/lang/xx?next=/")).send().await.unwrap();
        assert_eq!(
            cookie_value(&set_cookies(&r), "opcity_lang").as_deref(),
            Some("zh-CN")
        );
        for evil in [
            "%2F%2Fevil.example%2F",
            "https%3A%2F%2Fevil.example%2F",
            "%2F%5Cevil.example%2F",
            "%2F%09%2Fevil.example%2F",
            "%2F%0A%2Fevil.example%2F",
        ] {
            let r = bare()
                .get(app.url(&format!("/lang/en?next={evil}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{evil}");
            assert_eq!(location(&r), "/", "{evil}");
        }
        app.stop().await;
    })
    .await;
}

/// Page numbers far past the end are empty pages, not server errors (they
/// once overflowed the row offset and made the server panic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_page_numbers_are_empty_pages() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.services
            .create_enterprise(&admin, &enterprise_input(USCC_A, "nanshan"))
            .await
            .unwrap();
        let session = session_pair(&app, "admin").await;
        for path in [
            "/enterprises?page=18446744073709551615",
            "/persons?page=9223372036854775807",
            "/communities?page=200000000000000000",
            "/audit?page=368934881474191033",
            "/audit?page=18446744073709551615",
        ] {
            let r = bare()
                .get(app.url(path))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let html = r.text().await.unwrap();
            assert!(!html.contains("测试智能科技有限公司"), "{path}: empty");
        }
        for path in [
            "/api/v1/enterprises?page=18446744073709551615",
            "/api/v1/persons?page=9223372036854775807&per_page=100",
            "/api/v1/audit?page=18446744073709551615&per_page=100",
        ] {
            let r = bare()
                .get(app.url(path))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let body: serde_json::Value = r.json().await.unwrap();
            let items = body
                .get("items")
                .or_else(|| body.get("entries"))
                .and_then(|v| v.as_array())
                .unwrap_or_else(|| panic!("{path}: {body}"));
            assert!(items.is_empty(), "{path}: {body}");
        }
        app.stop().await;
    })
    .await;
}

/// Messages name districts in the reader's language, never by their id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_name_districts_not_ids() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let community = app
            .services
            .create_community(
                &admin,
                &CommunityInput {
                    name_zh: "南山社区".into(),
                    name_en: "Nanshan".into(),
                    district: "nanshan".into(),
                    address: "南山".into(),
                    area_m2: 1_000,
                    operator_name: "运营".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let client = app.sign_in("admin").await;
        let community_id = community.id.to_string();
        let r = client
            .post_form(
                "/enterprises",
                &[
                    ("_csrf", client.csrf.as_str()),
                    ("uscc", USCC_A),
                    ("name", "福田公司"),
                    ("district", "futian"),
                    ("community_id", community_id.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert_eq!(
            element_text(&html, "f-community_id-error").as_deref(),
            Some("该社区位于其他区（南山区），请选择本区社区。")
        );

        // The API: the message names the district, the parameters keep its id.
        let mut body =
            serde_json::json!({ "uscc": USCC_A, "name": "Futian Co", "district": "futian" });
        body["community_id"] = community.id.into();
        let problem: serde_json::Value = client
            .in_language("en")
            .post_json("/api/v1/enterprises", &body)
            .await;
        assert_eq!(
            problem["errors"][0]["message"],
            "That community is in another district (Nanshan); choose one in this district."
        );
        assert_eq!(problem["errors"][0]["params"]["district"], "nanshan");
        app.stop().await;
    })
    .await;
}

/// Each registry page offers "new" and "edit" only to those the writes
/// would allow: the form behind a link opens, and a form not linked is
/// refused, whoever asks.
#[tokio::test]
async fn registry_pages_offer_only_the_forms_the_viewer_may_use() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let users = [
            ("admin", Role::MunicipalAdmin, None),
            ("auditor", Role::Auditor, None),
            ("investor", Role::Investor, None),
            ("provider", Role::ServiceProvider, None),
            (
                "rev.nanshan",
                Role::DistrictReviewer,
                Some(District::Nanshan),
            ),
            (
                "rev.longgang",
                Role::DistrictReviewer,
                Some(District::Longgang),
            ),
            ("founder", Role::Founder, None),
        ];
        for (name, role, district) in users.iter().skip(1) {
            app.account(name, *role, *district).await;
        }
        let community = app
            .services
            .create_community(
                &admin,
                &CommunityInput {
                    name_zh: "南山社区".into(),
                    name_en: "Nanshan".into(),
                    district: "nanshan".into(),
                    address: "南山".into(),
                    area_m2: 1_000,
                    operator_name: "运营".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let enterprise = app
            .services
            .create_enterprise(&admin, &enterprise_input(USCC_A, "nanshan"))
            .await
            .unwrap()
            .id;
        let person = app
            .services
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "创业者".into(),
                    district: Some("nanshan".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let records = [
            ("/communities", community),
            ("/enterprises", enterprise),
            ("/persons", person),
        ];
        let mut offered = std::collections::HashSet::new();
        for (name, role, _) in users {
            let client = app.sign_in(name).await;
            let get = async |path: String| {
                let r = client.get(&path).await;
                (r.status(), r.text().await.unwrap())
            };
            for (list, id) in records {
                let (status, html) = get(list.to_owned()).await;
                let new = status == StatusCode::OK && html.contains(r#"id="new-record""#);
                let (status, _) = get(format!("{list}/new")).await;
                let expected = if new {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, expected, "{name}: {list}/new, linked: {new}");

                let (status, html) = get(format!("{list}/{id}")).await;
                let edit = status == StatusCode::OK && html.contains(r#"id="edit-record""#);
                let (status, _) = get(format!("{list}/{id}/edit")).await;
                if edit {
                    assert_eq!(status, StatusCode::OK, "{name}: {list}/{id}/edit");
                } else {
                    assert!(
                        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                        "{name}: {list}/{id}/edit is {status} though not linked"
                    );
                }
                if new {
                    offered.insert((role, list, "new"));
                }
                if edit {
                    offered.insert((role, list, "edit"));
                }
            }
        }
        // Administrators may do everything; readers only read.
        for (list, _) in records {
            assert!(
                offered.contains(&(Role::MunicipalAdmin, list, "new")),
                "{list}"
            );
            assert!(
                offered.contains(&(Role::MunicipalAdmin, list, "edit")),
                "{list}"
            );
        }
        for reader in [Role::Auditor, Role::Investor, Role::ServiceProvider] {
            assert!(
                !offered.iter().any(|(role, _, _)| *role == reader),
                "{reader:?} is offered {offered:?}"
            );
        }
        // A district's reviewer edits what lies in it, not another's.
        assert!(offered.contains(&(Role::DistrictReviewer, "/persons", "edit")));
        app.stop().await;
    })
    .await;
}
