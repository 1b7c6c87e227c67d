//! Bulk import in the portal, on both backends: an administrator uploads a
//! file, reads each problem by row, column name and translated reason
//! (nothing written), uploads a corrected file, confirms it, and finds the
//! records; a confirmation cannot be replayed, nor used by another; the
//! exports download in the import's columns; those who may not import
//! see neither the link nor the page.

use opcity_domain::Role;
use opcity_testkit::app::Client;
use opcity_testkit::{TestApp, each_backend, resident_id};
use reqwest::StatusCode;

async fn upload(client: &Client, kind: &str, name: &str, csv: &str) -> (StatusCode, String) {
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new()
        .text("_csrf", client.csrf.clone())
        .text("kind", kind.to_owned())
        .part("file", part);
    let response = client
        .http
        .post(client.url("/imports/preview"))
        .header("accept-language", "en")
        .multipart(form)
        .send()
        .await
        .expect("send");
    let status = response.status();
    (status, response.text().await.expect("a page"))
}

/// The value of the hidden field `name` in `page`.
fn hidden<'a>(page: &'a str, name: &str) -> &'a str {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name}: {page}"));
    let rest = &page[at + name.len() + 15..];
    &rest[..rest.find('"').expect("a closing quote")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_previews_corrects_and_confirms_a_file() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("admin.two", Role::MunicipalAdmin, None).await;
        app.account("mei", Role::Founder, None).await;
        let admin = app.sign_in("admin").await.in_language("en");

        let list = admin.text("/persons").await;
        assert!(list.contains("id=\"bulk-import\""), "{list}");
        let start = admin.text("/imports").await;
        assert!(start.contains("id=\"import-form\""), "{start}");
        assert!(start.contains("id=\"export-persons-xlsx\""), "{start}");

        let bad = format!(
            "Full name,Resident ID number,Works in AI\nLin Yi,{},maybe\n,{},yes\n",
            resident_id(1),
            resident_id(2)
        );
        let (status, page) = upload(&admin, "persons", "persons.csv", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("id=\"import-problems\""), "{page}");
        assert!(page.contains("Enter yes or no"), "{page}");
        assert!(page.contains("C · Works in AI"), "{page}");
        assert!(page.contains("A · Full name"), "{page}");
        assert!(!page.contains("id=\"import-confirm\""), "{page}");
        assert!(page.contains("Nothing was written"), "{page}");

        let good = format!(
            "Full name,Resident ID number,Works in AI\nLin Yi,{},yes\nChen Er,{},no\n",
            resident_id(1),
            resident_id(2)
        );
        let (status, page) = upload(&admin, "persons", "persons.csv", &good).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("All 2 rows can be imported."), "{page}");
        let sha = hidden(&page, "sha256").to_owned();
        let confirm = [
            ("_csrf", admin.csrf.as_str()),
            ("kind", "persons"),
            ("sha256", sha.as_str()),
        ];
        // Another administrator cannot confirm a file they did not preview.
        let other = app.sign_in("admin.two").await.in_language("en");
        let mut theirs = confirm;
        theirs[0].1 = other.csrf.as_str();
        let refused = other.post_form("/imports/confirm", &theirs).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);

        let done = admin.post_form("/imports/confirm", &confirm).await;
        assert_eq!(done.status(), StatusCode::OK);
        let done = done.text().await.unwrap();
        assert!(done.contains("id=\"import-done\""), "{done}");
        assert!(done.contains("Imported 2 records"), "{done}");
        let list = admin.text("/persons").await;
        assert!(
            list.contains("Lin Yi") && list.contains("Chen Er"),
            "{list}"
        );
        // Confirmed once: a replay finds nothing to import.
        let again = admin.post_form("/imports/confirm", &confirm).await;
        assert_eq!(again.status(), StatusCode::NOT_FOUND);

        let export = admin.get("/imports/persons/export.csv").await;
        assert_eq!(export.status(), StatusCode::OK);
        let text = export.text().await.unwrap();
        assert!(
            text.starts_with("\u{feff}Full name,Resident ID number"),
            "{text}"
        );
        assert!(text.contains("Lin Yi,4****************"), "{text}");

        // A founder may not import: no link, and the page refuses.
        let mei = app.sign_in("mei").await.in_language("en");
        assert_eq!(mei.get("/imports").await.status(), StatusCode::FORBIDDEN);
        let (status, _) = upload(&mei, "persons", "p.csv", &good).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            mei.get("/imports/persons/export.csv").await.status(),
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    })
    .await;
}
