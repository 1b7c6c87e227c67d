//! `opcity mail send-pending` through the built binary against the test SMTP
//! sink: an opted-in account's notification is mailed once; without
//! `smtp_url`, or with it but without `mail_from`, the command says which
//! setting is missing.

use opcity_domain::Role;
use opcity_services::Services;
use opcity_services::accounts::{NewAccount, SettingsChange};
use opcity_services::crypto::DataKey;
use opcity_store::Store;
use opcity_store::entity::notification;
use opcity_store::sea_orm::{ActiveModelTrait, Set};
use opcity_testkit::SmtpSink;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

async fn opcity(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opcity"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("OPCITY_PACK_DIR")
        .env("OPCITY_LOG_LEVEL", "warn")
        .envs(env.iter().copied());
    // Blocking, off the runtime's workers: the sink answers meanwhile.
    tokio::task::spawn_blocking(move || command.output().expect("runs opcity"))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_pending_mails_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let db = ["--database-url", url.as_str()];
    let out = opcity(dir.path(), &[&["migrate"][..], &db].concat(), &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // An account that opted in, and a notification for it.
    let store = Store::open(&url).await.unwrap();
    let key = DataKey::from_base64(&DataKey::generate_base64()).unwrap();
    let s = Services::new(store.clone(), key, opcity_testkit::shenzhen_pack());
    let view = s
        .create_account(
            None,
            NewAccount {
                username: "ana".into(),
                display_name: "Ana".into(),
                password: "correct horse battery".into(),
                role: Role::Founder,
                district: None,
                locale: "en".into(),
            },
        )
        .await
        .unwrap();
    let ana = s.system_actor(view.id).await.unwrap();
    s.update_account_settings(
        &ana,
        SettingsChange {
            email: Some(Some("ana@example.org".into())),
            email_notifications: Some(true),
            locale: None,
        },
    )
    .await
    .unwrap();
    notification::ActiveModel {
        account_id: Set(view.id),
        kind: Set("may_qualify".into()),
        programme: Set(Some("sz.housing.subsidy".into())),
        subject: Set(Some("person:1".into())),
        created_at: Set(s.now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(store.db())
    .await
    .unwrap();
    store.close().await.unwrap();

    let args = [&["mail", "send-pending"][..], &db].concat();
    let out = opcity(dir.path(), &args, &[]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("smtp_url is not set"),
        "{}",
        text(&out.stderr)
    );

    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let out = opcity(dir.path(), &args, &[("OPCITY_SMTP_URL", smtp.as_str())]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("mail_from"),
        "{}",
        text(&out.stderr)
    );

    let env = [
        ("OPCITY_SMTP_URL", smtp.as_str()),
        ("OPCITY_MAIL_FROM", "OPC <noreply@opc.example.org>"),
        ("OPCITY_PUBLIC_BASE_URL", "https://opc.example.org"),
    ];
    let out = opcity(dir.path(), &args, &env).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("sent 1 e-mails; 0 failed"),
        "{}",
        text(&out.stdout)
    );
    let out = opcity(dir.path(), &args, &env).await;
    assert!(
        text(&out.stdout).starts_with("sent 0 e-mails"),
        "{}",
        text(&out.stdout)
    );

    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["ana@example.org".to_owned()]);
    assert!(
        mails[0].subject().contains("You may now qualify for"),
        "{}",
        mails[0].subject()
    );
    assert!(mails[0].text().contains("https://opc.example.org/home"));
}
