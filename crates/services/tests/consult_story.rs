//! Consultation in the services: questions reach the log masked, and the
//! clause index follows the pack when it is reloaded.

use opcity_packs::PackSource;
use opcity_services::ServiceError;
use opcity_services::consult::Lang;
use opcity_testkit::TestDb;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What a subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn today() -> chrono::NaiveDate {
    "2026-06-01".parse().unwrap()
}

#[tokio::test]
async fn questions_reach_the_log_with_id_and_phone_numbers_masked() {
    let db = TestDb::sqlite().await;
    let s = opcity_testkit::services(&db);
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let question = "我的身份证号440301199001011234，电话13800138000，能领租房补贴吗？";
    s.consult(None, question, Lang::Zh, today(), None)
        .await
        .unwrap();

    let written = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(written.contains("consultation"), "{written}");
    assert!(written.contains("440**************4"), "{written}");
    assert!(written.contains("138*******0"), "{written}");
    assert!(!written.contains("440301199001011234"), "{written}");
    assert!(!written.contains("13800138000"), "{written}");
    db.cleanup().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_reload_rebuilds_the_clauses_or_switches_consultation_off() {
    let db = TestDb::sqlite().await;
    let s = opcity_testkit::services(&db);
    let dir = tempfile::tempdir().unwrap();
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026");
    copy_dir(&pack, dir.path());
    let question = "How much is the housing subsidy per month?";

    // A clause reworded in the new pack is what answers afterwards.
    let file = dir.path().join("clauses/action-plan.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "it is one or the other.",
            "it is one or the other (reloaded).",
        ),
    )
    .unwrap();
    s.reload_pack(&PackSource::Dir(dir.path().into())).unwrap();
    let view = s
        .consult(None, question, Lang::En, today(), None)
        .await
        .unwrap();
    assert!(
        view.citations
            .iter()
            .any(|c| c.quote.ends_with("(reloaded).")),
        "{view:?}"
    );

    // Clauses that no longer load: no answer from the old ones.
    std::fs::write(&file, text.replace("measure: 4", "measure: 40")).unwrap();
    s.reload_pack(&PackSource::Dir(dir.path().into())).unwrap();
    let refused = s.consult(None, question, Lang::En, today(), None).await;
    assert!(
        matches!(refused, Err(ServiceError::Unavailable(_))),
        "{refused:?}"
    );
    db.cleanup().await;
}
