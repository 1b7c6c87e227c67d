//! The interface texts in `locales/{zh-CN,en}/*.toml`, compiled in, as one
//! flat table by dotted key (`application.state.draft`): the pages' texts
//! (`opcity-web`'s `i18n`) and the e-mails' (`mail`) are read alike.

use std::collections::HashMap;

/// Texts by dotted key.
pub type Texts = HashMap<String, String>;

/// Adds the texts of the TOML file `name` (its `source`) to `out`. The
/// files are part of the build, so a file that does not parse or holds
/// anything but text is a defect of the build: it panics at start-up, and
/// every test that renders a page or a mail catches it.
pub fn read_into(name: &str, source: &str, out: &mut Texts) {
    let table: toml::Table =
        toml::from_str(source).unwrap_or_else(|e| panic!("locales/{name}: {e}"));
    flatten("", &table, out);
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Texts) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            toml::Value::Table(t) => flatten(&full, t, out),
            other => panic!("locale key {full} must be text, found {other}"),
        }
    }
}
