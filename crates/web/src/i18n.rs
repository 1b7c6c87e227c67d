//! Interface text in Chinese (default) and English, from `locales/*.toml`.
//! Keys are flat (`nav.dashboard`); `{name}` placeholders are filled by [`tf`].

use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Zh,
    En,
}

impl Locale {
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        match tag {
            "zh-CN" | "zh" => Some(Locale::Zh),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The locale named first in an `Accept-Language` header that we speak.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        header.split(',').find_map(|part| {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                Some(Locale::Zh)
            } else if tag.starts_with("en") {
                Some(Locale::En)
            } else {
                None
            }
        })
    }

    pub fn other(self) -> Locale {
        match self {
            Locale::Zh => Locale::En,
            Locale::En => Locale::Zh,
        }
    }
}

type Messages = opcity_services::locale_files::Texts;

fn parse(source: &str, name: &str) -> Messages {
    let mut out = Messages::new();
    opcity_services::locale_files::read_into(&format!("{name}.toml"), source, &mut out);
    out
}

/// The catalogues, one file per area of the product under
/// `locales/{zh-CN,en}/`; each area adds its pair here.
type Catalogue = (&'static str, &'static str, &'static str);

const CATALOGUES: &[Catalogue] = &[
    (
        "core",
        include_str!("../../../locales/zh-CN/core.toml"),
        include_str!("../../../locales/en/core.toml"),
    ),
    (
        "applications",
        include_str!("../../../locales/zh-CN/applications.toml"),
        include_str!("../../../locales/en/applications.toml"),
    ),
    (
        "vouchers",
        include_str!("../../../locales/zh-CN/vouchers.toml"),
        include_str!("../../../locales/en/vouchers.toml"),
    ),
    (
        "spaces",
        include_str!("../../../locales/zh-CN/spaces.toml"),
        include_str!("../../../locales/en/spaces.toml"),
    ),
    (
        "settings",
        include_str!("../../../locales/zh-CN/settings.toml"),
        include_str!("../../../locales/en/settings.toml"),
    ),
    (
        "help",
        include_str!("../../../locales/zh-CN/help.toml"),
        include_str!("../../../locales/en/help.toml"),
    ),
    (
        "import",
        include_str!("../../../locales/zh-CN/import.toml"),
        include_str!("../../../locales/en/import.toml"),
    ),
    (
        "policy",
        include_str!("../../../locales/zh-CN/policy.toml"),
        include_str!("../../../locales/en/policy.toml"),
    ),
    // Rendered by opcity-services; listed so the key test covers them.
    (
        "mail",
        include_str!("../../../locales/zh-CN/mail.toml"),
        include_str!("../../../locales/en/mail.toml"),
    ),
];

fn merged(pick: fn(&Catalogue) -> &'static str, tag: &str) -> Messages {
    let mut all = Messages::new();
    for entry in CATALOGUES {
        for (key, text) in parse(pick(entry), &format!("{tag}/{}", entry.0)) {
            assert!(
                all.insert(key.clone(), text).is_none(),
                "locales/{tag}: key {key} defined twice"
            );
        }
    }
    all
}

static ZH: LazyLock<Messages> = LazyLock::new(|| merged(|e| e.1, "zh-CN"));
static EN: LazyLock<Messages> = LazyLock::new(|| merged(|e| e.2, "en"));

fn messages(locale: Locale) -> &'static Messages {
    match locale {
        Locale::Zh => &ZH,
        Locale::En => &EN,
    }
}

/// Shown where a key is missing from both catalogues (a test keeps them in
/// step, so this only appears during development).
const MISSING: &str = "[?]";

/// The text for `key` in `locale`.
pub fn t(locale: Locale, key: &str) -> &'static str {
    match messages(locale)
        .get(key)
        .or_else(|| messages(locale.other()).get(key))
    {
        Some(text) => text.as_str(),
        None => {
            tracing::warn!(key, locale = locale.tag(), "missing interface text");
            MISSING
        }
    }
}

/// Whether a key exists (for optional texts such as per-code problem titles).
pub fn has(locale: Locale, key: &str) -> bool {
    messages(locale).contains_key(key)
}

/// Like [`t`], with `{name}` placeholders replaced.
pub fn tf<'a>(
    locale: Locale,
    key: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut text = t(locale, key).to_owned();
    for (name, value) in params {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let mut zh: Vec<_> = ZH.keys().collect();
        let mut en: Vec<_> = EN.keys().collect();
        zh.sort();
        en.sort();
        let only_zh: Vec<_> = zh.iter().filter(|k| !EN.contains_key(**k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !ZH.contains_key(**k)).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only zh: {only_zh:?}; only en: {only_en:?}"
        );
    }

    #[test]
    fn accept_language_picks_the_first_spoken_locale() {
        assert_eq!(
            Locale::from_accept_language("fr-FR,en-GB;q=0.8,zh;q=0.5"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("zh-CN,zh;q=0.9"),
            Some(Locale::Zh)
        );
        assert_eq!(Locale::from_accept_language("de"), None);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            tf(Locale::En, "field.too_long", [("max", "100")]),
            "At most 100 characters."
        );
    }
}
