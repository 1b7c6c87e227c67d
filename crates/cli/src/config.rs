//! Layered configuration: built-in defaults, then a TOML file, then
//! `OPCITY_*` environment variables, then command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://FILE` (default) or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Where `serve` listens.
    pub addr: String,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `opcity_web=debug,info`.
    pub log_level: String,
    /// The personal-data key (32 bytes, base64). When absent it is read from
    /// `data_key_file`, which is created on first start.
    pub data_key: Option<String>,
    pub data_key_file: PathBuf,
    /// Mark cookies Secure; set it when the platform is served over TLS.
    pub secure_cookies: bool,
    /// Behind a reverse proxy: take each client's address from the
    /// right-most `X-Forwarded-For` entry (sign-in throttling counts by it).
    pub trust_forwarded_for: bool,
    /// The bearer token a metrics scraper sends; `/metrics` is off without it.
    pub metrics_token: Option<String>,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// The policy pack in force: a pack directory (reloaded on SIGHUP) or
    /// the id of a pack built into the binary. None: the built-in Shenzhen
    /// pack.
    pub pack_dir: Option<PathBuf>,
    /// Where uploaded documents are kept: a directory, `file:///abs/dir`, or
    /// `s3://bucket/prefix` (S3-compatible; endpoint, region and keys from
    /// the `AWS_*` environment variables).
    pub documents_url: String,
    /// The size limit of one uploaded document, in MiB.
    pub document_max_mib: usize,
    /// The SMTP server for e-mail notifications, as lettre reads it:
    /// `smtp://HOST:PORT` (plain), `smtp://USER:PASSWORD@HOST:587?tls=required`
    /// (STARTTLS), `smtps://USER:PASSWORD@HOST` (TLS). None: no e-mail.
    pub smtp_url: Option<String>,
    /// The sender of e-mail notifications, e.g. `深圳 OPC <noreply@example.org>`.
    pub mail_from: Option<String>,
    /// The portal's address as users reach it (`https://opc.example.org`),
    /// for the links in e-mails and single sign-on's return address.
    pub public_base_url: Option<String>,
    /// Single sign-on: the OpenID Connect provider's issuer URL (its
    /// discovery document is read at start). None: no single sign-on.
    pub oidc_issuer: Option<String>,
    /// The client id the provider registered the portal under.
    pub oidc_client_id: Option<String>,
    /// The client secret, when the provider gave one.
    pub oidc_client_secret: Option<String>,
    /// The claim in which the provider gives a resident id it verified
    /// (links a first sign-on to the person recorded with it).
    pub oidc_resident_id_claim: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://opcity.db".to_owned(),
            addr: "127.0.0.1:8080".to_owned(),
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            data_key: None,
            data_key_file: PathBuf::from("opcity.key"),
            secure_cookies: false,
            trust_forwarded_for: false,
            metrics_token: None,
            body_limit_bytes: 1024 * 1024,
            pack_dir: None,
            documents_url: "opcity-documents".to_owned(),
            document_max_mib: 10,
            smtp_url: None,
            mail_from: None,
            public_base_url: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_resident_id_claim: None,
        }
    }
}

/// Flags that override the configuration (only those given).
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack_dir: Option<PathBuf>,
}

/// `OPCITY_*` variables that belong to the test suite (see `opcity-testkit`),
/// not to the platform; CI sets them in the same environment.
const TEST_ONLY_ENV: &[&str] = &[
    "test_postgres_url",
    "require_browser",
    "chromedriver",
    "chromium",
    "oidc_provider_mock",
    "require_oidc",
    "axe_js",
    "require_axe",
    "storm_seed",
];

/// Loads the configuration. `file` is the `--config` flag; without it,
/// `opcity.toml` in the working directory is read when it exists.
pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, Box<figment::Error>> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None => figment = figment.merge(Toml::file("opcity.toml")),
    }
    figment
        .merge(Env::prefixed("OPCITY_").ignore(TEST_ONLY_ENV))
        .merge(Serialized::defaults(overrides))
        .extract()
        .map_err(Box::new)
}

#[cfg(test)]
// figment::Jail fixes the closure's error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("custom.toml", "addr = \"0.0.0.0:9000\"\nlog_format = \"json\"\ndatabase_url = \"sqlite://file.db\"")?;
            jail.set_env("OPCITY_DATABASE_URL", "sqlite://env.db");
            // The test suite's own variables are not configuration.
            jail.set_env("OPCITY_TEST_POSTGRES_URL", "postgres://x@y/z");
            jail.set_env("OPCITY_REQUIRE_BROWSER", "1");
            jail.set_env("OPCITY_CHROMEDRIVER", "/usr/bin/chromedriver");
            jail.set_env("OPCITY_AXE_JS", "/tmp/axe.min.js");
            jail.set_env("OPCITY_REQUIRE_AXE", "1");
            let config = load(Some(Path::new("custom.toml")), &Overrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(config.addr, "0.0.0.0:9000");
            assert_eq!(config.log_format, LogFormat::Json);
            assert_eq!(config.database_url, "sqlite://env.db");
            let flags = Overrides {
                database_url: Some("sqlite://flag.db".into()),
                addr: None,
                pack_dir: None,
            };
            let config = load(Some(Path::new("custom.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(config.database_url, "sqlite://flag.db");
            // No pack named: the built-in one; then the variable, then the flag.
            assert_eq!(config.pack_dir, None);
            jail.set_env("OPCITY_PACK_DIR", "/srv/packs/review");
            let config = load(Some(Path::new("custom.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(config.pack_dir, Some(PathBuf::from("/srv/packs/review")));
            let pack_flag = Overrides {
                pack_dir: Some("shenzhen-2026".into()),
                ..Overrides::default()
            };
            let config = load(None, &pack_flag).map_err(|e| e.to_string())?;
            assert_eq!(config.pack_dir, Some(PathBuf::from("shenzhen-2026")));
            assert_eq!(config.body_limit_bytes, 1024 * 1024);
            assert_eq!(config.smtp_url, None);
            jail.set_env("OPCITY_SMTP_URL", "smtp://127.0.0.1:2525");
            jail.set_env("OPCITY_MAIL_FROM", "OPC <noreply@example.org>");
            jail.set_env("OPCITY_PUBLIC_BASE_URL", "https://opc.example.org");
            let config = load(Some(Path::new("custom.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(config.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
            assert_eq!(
                config.mail_from.as_deref(),
                Some("OPC <noreply@example.org>")
            );
            assert_eq!(
                config.public_base_url.as_deref(),
                Some("https://opc.example.org")
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "databse_url = \"x\"")?;
            assert!(load(Some(Path::new("bad.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }
}
