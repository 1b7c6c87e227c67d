//! A decision as the founder meets it in the portal, on both backends: the
//! date a decision is expected by; the reviewer's form that will not reject
//! without a reason for the applicant (the message beside its field, what
//! was typed kept); the rejection with its reason, never the internal note,
//! on the founder's workspace and in the inbox; and the decision letter,
//! printable and as PDF, for the applicant and not for another founder.

use opcity_domain::{District, Role};
use opcity_services::applications::NewApplication;
use opcity_testkit::app::Client;
use opcity_testkit::{FounderSpec, TestApp, each_backend, supply_evidence};
use reqwest::StatusCode;

async fn post(c: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("_csrf", c.csrf.as_str()));
    c.in_language("en").post_form(path, &form).await
}

async fn page(c: &Client, path: &str) -> String {
    let response = c.in_language("en").get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

/// The text a PDF's content streams show (`(…) Tj` and `<…> Tj` between
/// `BT` and `ET`, UCS-2 big-endian), line by line: what a reader extracts.
fn pdf_text(pdf: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = pdf;
    while let Some(start) = rest.windows(3).position(|w| w == b"BT\n") {
        let end = start + rest[start..].windows(3).position(|w| w == b"\nET").unwrap();
        lines.extend(shown(&rest[start..end]));
        rest = &rest[end..];
    }
    lines
}

/// The strings shown in one text object.
fn shown(pdf: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < pdf.len() {
        let units = match pdf[i] {
            b'<' if pdf.get(i + 1) != Some(&b'<') => {
                let end = i + pdf[i..].iter().position(|b| *b == b'>').unwrap();
                let hex = std::str::from_utf8(&pdf[i + 1..end]).unwrap();
                i = end + 1;
                (0..hex.len())
                    .step_by(2)
                    .map(|k| u8::from_str_radix(&hex[k..k + 2], 16).unwrap())
                    .collect::<Vec<u8>>()
            }
            b'(' => {
                let mut bytes = Vec::new();
                i += 1;
                while pdf[i] != b')' {
                    if pdf[i] == b'\\' {
                        let octal = &pdf[i + 1..i + 4];
                        if octal.iter().all(u8::is_ascii_digit) {
                            let text = std::str::from_utf8(octal).unwrap();
                            bytes.push(u8::from_str_radix(text, 8).unwrap());
                            i += 4;
                        } else {
                            bytes.push(pdf[i + 1]);
                            i += 2;
                        }
                    } else {
                        bytes.push(pdf[i]);
                        i += 1;
                    }
                }
                i += 1;
                bytes
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if pdf[i..].starts_with(b" Tj") {
            let utf16: Vec<u16> = units
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            lines.push(String::from_utf16(&utf16).unwrap());
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reaches_the_founder_with_its_reason_and_letter() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app.founder(&admin, FounderSpec::young_ai("lin", 1)).await;
        app.founder(&admin, FounderSpec::young_ai("other", 2)).await;
        let draft = s
            .create_application(
                &founder.actor,
                &NewApplication {
                    programme: "sz.housing.subsidy".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        supply_evidence(s, &founder.actor, draft.id).await;
        s.submit_application(&founder.actor, draft.id)
            .await
            .unwrap();
        let id = draft.id;
        let path = format!("/applications/{id}");

        // Waiting: the founder reads when a decision is due.
        let lin = app.sign_in("lin").await;
        let due = opcity_domain::today_in_shanghai(s.now())
            .checked_add_days(chrono::Days::new(20))
            .unwrap();
        let html = page(&lin, &path).await;
        assert!(
            html.contains(&format!(
                "Decision expected by {due} (service standard: 20 days)"
            )),
            "{html}"
        );

        // The reviewer's rejection without a reason for the applicant is
        // refused beside its field, with what was typed kept.
        let reviewer = app.sign_in("reviewer").await;
        let review = format!("{path}/review");
        let refused = post(
            &reviewer,
            &review,
            &[
                ("_form", "review"),
                ("decision", "reject"),
                ("comment", "internal: call the landlord"),
                ("no_conflict_declared", "true"),
            ],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"applicant_reason-error\""), "{html}");
        assert!(
            html.contains("value=\"internal: call the landlord\""),
            "{html}"
        );
        assert!(html.contains("Internal note (reviewers and auditors only)"));
        assert!(
            s.decision_letters(&founder.actor, id)
                .await
                .unwrap()
                .is_empty()
        );

        let done = post(
            &reviewer,
            &review,
            &[
                ("_form", "review"),
                ("decision", "reject"),
                ("applicant_reason", "Your lease is outside Shenzhen."),
                ("comment", "internal: call the landlord"),
                ("no_conflict_declared", "true"),
            ],
        )
        .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);

        // The founder's workspace and inbox: the reason, the letter, never
        // the internal note.
        let home = page(&lin, "/home").await;
        assert!(home.contains("id=\"latest-news\""), "{home}");
        assert!(home.contains("Your lease is outside Shenzhen."), "{home}");
        let inbox = page(&lin, "/inbox").await;
        assert!(
            inbox.contains("data-kind=\"application_rejected\""),
            "{inbox}"
        );
        assert!(
            inbox.contains("Reason: Your lease is outside Shenzhen."),
            "{inbox}"
        );
        let letter_path = format!("{path}/letters/1");
        assert!(
            inbox.contains(&format!("href=\"{letter_path}\"")),
            "{inbox}"
        );
        for html in [&home, &inbox, &page(&lin, &path).await] {
            assert!(
                !html.contains("call the landlord"),
                "internal note shown: {html}"
            );
        }

        // The letter, as a page and as PDF, with its reference number.
        let year = opcity_domain::today_in_shanghai(s.now()).format("%Y");
        let reference = format!("OPC-{year}-{id:06}-1");
        let letter = page(&lin, &letter_path).await;
        assert!(
            letter.contains(&format!("data-reference=\"{reference}\"")),
            "{letter}"
        );
        assert!(letter.contains("has not been approved"), "{letter}");
        assert!(letter.contains("Reason: Your lease is outside Shenzhen."));
        assert!(letter.contains("Nanshan"), "{letter}");
        let pdf = lin
            .in_language("en")
            .get(&format!("{letter_path}/pdf"))
            .await;
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let bytes = pdf.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let text = pdf_text(&bytes).join("\n");
        assert!(text.contains(&format!("Reference: {reference}")), "{text}");
        assert!(
            text.contains("Reason: Your lease is outside Shenzhen."),
            "{text}"
        );
        let zh = lin
            .in_language("zh-CN")
            .get(&format!("{letter_path}/pdf"))
            .await;
        let text = pdf_text(&zh.bytes().await.unwrap()).join("\n");
        assert!(text.contains("审批决定书"), "{text}");
        assert!(text.contains("深圳市南山区"), "{text}");

        // Another founder reads neither the letter nor its PDF; a letter
        // that does not exist is not found.
        let other = app.sign_in("other").await;
        for p in [letter_path.clone(), format!("{letter_path}/pdf")] {
            let r = other.in_language("en").get(&p).await;
            assert!(
                matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{p}: {}",
                r.status()
            );
        }
        let missing = lin
            .in_language("en")
            .get(&format!("{path}/letters/2"))
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    })
    .await;
}
