//! Test support shared by every crate's tests.
//!
//! [`each_backend`] runs one story against a fresh SQLite database and, when
//! `OPCITY_TEST_POSTGRES_URL` is set (CI always sets it), against a fresh
//! PostgreSQL database too, so every storage and workflow test proves itself
//! on both backends.
//!
//! Also: [`TestApp`] (the real server, accounts, API sign-in), the
//! [`fixtures`] (`account`, `founder_with_enterprise`, `race`, `uscc`),
//! [`services`] and [`two_processes`] (services over a [`TestDb`], as one
//! process or two), [`shenzhen_pack`] (the repository's pack, loaded once),
//! [`workload`] (a seeded concurrent workload checked against a model),
//! [`Browser`] (headless Chromium; prints `SKIPPED` without it unless
//! `OPCITY_REQUIRE_BROWSER=1`) and [`SmtpSink`] (an SMTP server that keeps
//! what it accepts). Used only as a dev-dependency.

use opcity_store::{Backend, Store};
use rand::Rng;
use sea_orm::{ConnectionTrait, Database};

pub const POSTGRES_ENV: &str = "OPCITY_TEST_POSTGRES_URL";

/// A fresh, migrated database that is removed when dropped via [`TestDb::cleanup`].
pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// A fresh directory for uploaded documents, removed on drop.
    pub documents: tempfile::TempDir,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Kept for its `Drop`, which deletes the directory and the database in it.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::open(&url).await.expect("open SQLite test database");
        TestDb {
            store,
            url,
            documents: tempfile::tempdir().expect("temp dir"),
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new database on the server named by `admin_url`, whose user may
    /// create databases.
    pub async fn postgres(admin_url: &str) -> TestDb {
        let name = format!("opcity_test_{:016x}", rand::rng().random::<u64>());
        let admin = Database::connect(admin_url)
            .await
            .expect("connect to PostgreSQL admin database");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(admin_url, &name);
        let store = Store::open(&url)
            .await
            .expect("open PostgreSQL test database");
        TestDb {
            store,
            url,
            documents: tempfile::tempdir().expect("temp dir"),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Closes the store and removes the database.
    pub async fn cleanup(self) {
        self.store.close().await.ok();
        if let Cleanup::Postgres { admin_url, name } = self.cleanup
            && let Ok(admin) = Database::connect(&admin_url).await
        {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let host_end = base
        .rfind('/')
        .filter(|&i| i > base.find("://").map_or(0, |s| s + 2))
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The backends this run tests: SQLite always, PostgreSQL when configured.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())
}

/// Runs `story` once per backend with a fresh database each time.
pub async fn each_backend<F>(story: F)
where
    F: AsyncFn(&TestDb),
{
    let sqlite = TestDb::sqlite().await;
    story(&sqlite).await;
    sqlite.cleanup().await;
    if let Some(url) = postgres_url() {
        let pg = TestDb::postgres(&url).await;
        story(&pg).await;
        pg.cleanup().await;
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5432", "x"),
            "postgres://u:p@h:5432/x"
        );
    }
}

pub mod app;
pub use app::TestApp;

pub mod fixtures;
pub mod workload;
pub use fixtures::{
    Founder, FounderSpec, account, account_in, approval, bay_community, founder,
    founder_with_enterprise, gpu_instrument, housing_application, nanshan_desk, nanshan_flat,
    nanshan_housing_budget, office_beside, race, resident_id, review, uscc,
};

pub mod browser;
pub use browser::Browser;

pub mod oidc;
pub use oidc::OidcProvider;
pub mod smtp;
pub use smtp::SmtpSink;

/// The Shenzhen policy pack from this repository, loaded once per test process.
pub fn shenzhen_pack() -> opcity_policy::Pack {
    static PACK: std::sync::OnceLock<opcity_policy::Pack> = std::sync::OnceLock::new();
    PACK.get_or_init(|| {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026");
        opcity_policy::Pack::load_dir(&dir)
            .unwrap_or_else(|errors| panic!("the Shenzhen pack does not load: {errors:?}"))
    })
    .clone()
}

/// The Shenzhen pack's clause index, built once per test process.
pub fn shenzhen_library() -> std::sync::Arc<opcity_consult::Library> {
    static LIBRARY: std::sync::OnceLock<std::sync::Arc<opcity_consult::Library>> =
        std::sync::OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../policies/shenzhen-2026");
            let library = opcity_consult::load(&dir, &shenzhen_pack())
                .unwrap_or_else(|e| panic!("the Shenzhen clauses do not load: {e}"));
            std::sync::Arc::new(library)
        })
        .clone()
}

/// Services over a test database with a fresh data key, the Shenzhen pack
/// (with consultation over its clauses) and a document store in the database's own temporary directory.
pub fn services(db: &TestDb) -> opcity_services::Services {
    let key = opcity_services::crypto::DataKey::generate_base64();
    services_with_key(db, db.store.clone(), &key)
}

/// [`services`] over `store` (one of `db`'s database) with the data key
/// `key` (base64): what another process of the same deployment has.
pub fn services_with_key(db: &TestDb, store: Store, key: &str) -> opcity_services::Services {
    let key = opcity_services::crypto::DataKey::from_base64(key).expect("a valid data key");
    let documents = opcity_services::applications::DocumentStore::local(
        db.documents.path(),
        opcity_services::applications::evidence::DEFAULT_MAX_BYTES,
    )
    .expect("document store");
    opcity_services::Services::new(store, key, shenzhen_pack())
        .with_documents(documents)
        .with_consultation(shenzhen_library())
}

/// Services over `db` reached at `url` instead of `db.url` (say, through a
/// proxy that a test can cut), with a fresh data key.
pub async fn services_at(db: &TestDb, url: &str) -> opcity_services::Services {
    let store = Store::connect(url)
        .await
        .expect("connect to the test database");
    let key = opcity_services::crypto::DataKey::generate_base64();
    services_with_key(db, store, &key)
}

/// Two deployments' worth of services over `db` with one data key, as two
/// processes would have: each with its own connection pool and its own
/// group committers, so their groups interleave.
pub async fn two_processes(db: &TestDb) -> (opcity_services::Services, opcity_services::Services) {
    let key = opcity_services::crypto::DataKey::generate_base64();
    let other = Store::connect(&db.url)
        .await
        .expect("a second connection pool");
    (
        services_with_key(db, db.store.clone(), &key),
        services_with_key(db, other, &key),
    )
}

/// The smallest file the document checks accept: a PDF header and trailer.
pub const TINY_PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// Supplies every evidence item an application still misses — each form
/// field as text, each document as [`TINY_PDF`] — so a test can submit it.
pub async fn supply_evidence(
    s: &opcity_services::Services,
    actor: &opcity_services::Actor,
    application_id: i64,
) {
    let detail = s
        .get_application(actor, application_id)
        .await
        .expect("read the application");
    let mut form = serde_json::Map::new();
    for item in &detail.missing {
        if item.kind == "field" {
            form.insert(item.id.clone(), "supplied by the test".into());
            continue;
        }
        let upload = opcity_services::applications::Upload {
            evidence_id: item.id.clone(),
            file_name: format!("{}.pdf", item.id),
            content: bytes::Bytes::from_static(TINY_PDF),
        };
        s.upload_document(actor, application_id, &upload)
            .await
            .expect("upload evidence");
    }
    if !form.is_empty() {
        s.update_form(actor, application_id, &form)
            .await
            .expect("fill the form");
    }
}
