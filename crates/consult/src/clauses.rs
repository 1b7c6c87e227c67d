//! The clause files of a pack (`<pack>/clauses/*.yaml`): the plan's text
//! split into clauses with stable ids, each joined to the pack's programmes
//! that cite it. A clause set loads whole or not at all: every id unique and
//! under the pack's id, every measure 0–10, every programme the pack itself
//! defines (not one it inherits from a pack it extends, whose own clauses
//! cite it) in the pack and cited by a clause of its own measure.

use chrono::NaiveDate;
use opcity_policy::Pack;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// Words in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    #[serde(default)]
    pub zh: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

/// The language of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh` or `en`; anything else is not a language of the portal.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Validity {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One clause of a source text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    /// `<pack>/m<measure>[.<part>]`, stable across versions.
    pub id: String,
    /// The plan's measure (1–10); 0 for the preamble and targets.
    pub measure: u8,
    /// The section of the official notice, where it is known.
    #[serde(default)]
    pub notice_section: Option<String>,
    pub title: Text,
    pub text: Text,
    /// The pack's programmes this clause provides for.
    #[serde(default)]
    pub programmes: Vec<String>,
    /// Synonyms and everyday words for what the clause is about.
    #[serde(default)]
    pub keywords: Words,
}

/// One clause file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseFile {
    pub version: String,
    pub region: String,
    /// What the clauses cite: the official notice, and the summary followed.
    pub source: Text,
    /// Which language is a translation, and what prevails.
    pub translation: Text,
    /// Where a person finds a human adviser.
    pub adviser: Text,
    pub valid: Validity,
    pub clauses: Vec<Clause>,
}

/// A pack's clauses, checked against the pack.
#[derive(Debug, Clone)]
pub struct ClauseSet {
    pub pack: String,
    pub files: Vec<ClauseFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClauseError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("the pack has no clause files (expected {0}/*.yaml)")]
    Empty(String),
}

impl ClauseSet {
    /// Loads `<dir>/clauses/*.yaml` and checks them against `pack`.
    pub fn load(dir: &Path, pack: &Pack) -> Result<ClauseSet, ClauseError> {
        let clause_dir = dir.join("clauses");
        let entries = std::fs::read_dir(&clause_dir).map_err(|e| ClauseError::Read {
            path: clause_dir.display().to_string(),
            message: e.to_string(),
        })?;
        let mut texts = Vec::new();
        for path in entries.filter_map(|entry| entry.ok().map(|e| e.path())) {
            if path.extension().is_none_or(|x| x != "yaml") {
                continue;
            }
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| ClauseError::Read {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            texts.push((shown, text));
        }
        ClauseSet::from_texts(&clause_dir.display().to_string(), texts, pack)
    }

    /// Parses clause files given as `(path, text)` pairs (in order of path)
    /// and checks them against `pack`; `origin` names where they came from
    /// when there are none.
    pub fn from_texts(
        origin: &str,
        mut texts: Vec<(String, String)>,
        pack: &Pack,
    ) -> Result<ClauseSet, ClauseError> {
        if texts.is_empty() {
            return Err(ClauseError::Empty(origin.to_owned()));
        }
        texts.sort_by(|a, b| a.0.cmp(&b.0));
        let files = texts
            .iter()
            .map(|(path, text)| parse(path, text))
            .collect::<Result<Vec<_>, _>>()?;
        let set = ClauseSet {
            pack: pack.id().to_owned(),
            files,
        };
        set.check(pack)?;
        Ok(set)
    }

    pub fn clauses(&self) -> impl Iterator<Item = (&ClauseFile, &Clause)> {
        self.files
            .iter()
            .flat_map(|f| f.clauses.iter().map(move |c| (f, c)))
    }

    fn check(&self, pack: &Pack) -> Result<(), ClauseError> {
        let invalid = |message: String| ClauseError::Invalid {
            path: format!("{}/clauses", pack.id()),
            message,
        };
        let mut ids = BTreeSet::new();
        let mut cited = BTreeSet::new();
        for (_, clause) in self.clauses() {
            if !ids.insert(clause.id.as_str()) {
                return Err(invalid(format!("clause `{}` twice", clause.id)));
            }
            if !is_clause_id(pack.id(), &clause.id, clause.measure) {
                return Err(invalid(format!(
                    "clause id `{}` is not `{}/m{}` or `{}/m{}.<part>`",
                    clause.id,
                    pack.id(),
                    clause.measure,
                    pack.id(),
                    clause.measure
                )));
            }
            if clause.measure > 10 {
                return Err(invalid(format!("clause `{}`: measure over 10", clause.id)));
            }
            for id in &clause.programmes {
                let Some(programme) = pack.programme(id) else {
                    return Err(invalid(format!(
                        "clause `{}` names `{id}`, which is not a programme of the pack",
                        clause.id
                    )));
                };
                if programme.measure != clause.measure {
                    return Err(invalid(format!(
                        "clause `{}` (measure {}) names `{id}`, which cites measure {}",
                        clause.id, clause.measure, programme.measure
                    )));
                }
                cited.insert(id.as_str());
            }
        }
        if let Some(p) = pack
            .programmes()
            .iter()
            .find(|p| p.pack == pack.id() && !cited.contains(p.id.as_str()))
        {
            return Err(invalid(format!(
                "programme `{}` is cited by no clause",
                p.id
            )));
        }
        Ok(())
    }
}

fn parse(path: &str, text: &str) -> Result<ClauseFile, ClauseError> {
    let de = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| ClauseError::Invalid {
        path: path.to_owned(),
        message: format!("{}: {}", e.path(), e.inner()),
    })
}

/// `pack/m4`, `pack/m4.2` or `pack/m0.targets` for measure 4 (or 0).
fn is_clause_id(pack: &str, id: &str, measure: u8) -> bool {
    let Some(rest) = id
        .strip_prefix(pack)
        .and_then(|r| r.strip_prefix("/m"))
        .and_then(|r| r.strip_prefix(&measure.to_string()))
    else {
        return false;
    };
    match rest.strip_prefix('.') {
        None => rest.is_empty(),
        Some(part) => {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_ids_name_their_measure() {
        assert!(is_clause_id("sz", "sz/m4", 4));
        assert!(is_clause_id("sz", "sz/m4.2", 4));
        assert!(is_clause_id("sz", "sz/m0.targets", 0));
        assert!(!is_clause_id("sz", "sz/m4", 5));
        assert!(!is_clause_id("sz", "sz/m41", 4));
        assert!(!is_clause_id("sz", "sz/m4.", 4));
        assert!(!is_clause_id("sz", "other/m4", 4));
        assert!(!is_clause_id("sz", "sz/m4.A", 4));
    }
}
