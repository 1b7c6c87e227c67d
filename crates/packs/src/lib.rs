//! The policy packs opcity ships, and where the pack in force is read from.
//!
//! Every pack under the workspace's `policies/` is compiled into the binary
//! (`include_dir`), so `opcity serve` started anywhere has its rules and its
//! clauses. A pack directory named by `--pack` or `OPCITY_PACK_DIR` is read
//! from disk instead: a pack under review, or a local change, reloaded on
//! SIGHUP. Either way the engine gets the same texts, through
//! [`Pack::from_sources`] for the rules and [`opcity_consult::load_texts`]
//! for the clauses.

use include_dir::{Dir, File, include_dir};
use opcity_consult::{ClauseError, Library};
use opcity_policy::{LoadError, LoadErrorKind, Pack};
use std::fmt;
use std::path::{Path, PathBuf};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../policies");

/// The pack served when none is configured.
pub const DEFAULT: &str = "shenzhen-2026";

/// Where a pack is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    /// A pack directory (`pack.yaml`, `parameters/`, …, `clauses/`), read
    /// afresh on every load.
    Dir(PathBuf),
    /// A pack compiled into the binary, by id.
    Embedded(&'static str),
}

/// A pack named on the command line or in the configuration that is
/// neither a directory nor built in.
#[derive(Debug, thiserror::Error)]
#[error("{given} is neither a pack directory nor a pack built into opcity (built in: {})", built_in().join(", "))]
pub struct UnknownPack {
    pub given: String,
}

impl Default for PackSource {
    fn default() -> PackSource {
        PackSource::Embedded(DEFAULT)
    }
}

impl PackSource {
    /// `given` as a directory when there is one, else as the id of a pack
    /// built in (`shenzhen-2026`).
    pub fn resolve(given: &Path) -> Result<PackSource, UnknownPack> {
        if given.is_dir() {
            return Ok(PackSource::Dir(given.to_owned()));
        }
        given
            .to_str()
            .and_then(embedded)
            .map(|dir| PackSource::Embedded(id_of(dir)))
            .ok_or_else(|| UnknownPack {
                given: given.display().to_string(),
            })
    }

    /// Loads and checks the pack's rules, with the packs it extends: for a
    /// directory, each a directory of that id beside it or else a pack
    /// built in; for a built-in pack, the built-in packs.
    pub fn load(&self) -> Result<Pack, Vec<LoadError>> {
        match self {
            PackSource::Dir(dir) => Pack::load_dir_with(dir, &built_in_rules),
            PackSource::Embedded(id) => {
                let texts = texts(id, Pack::reads).map_err(|path| {
                    vec![LoadError {
                        kind: LoadErrorKind::Io,
                        file: path,
                        line: None,
                        column: None,
                        key: String::new(),
                        message: "not UTF-8".into(),
                    }]
                })?;
                Pack::from_sources_with(texts, &built_in_rules)
            }
        }
    }

    /// The index of the pack's clauses for `pack` (loaded from this
    /// source); `None` when the pack has no `clauses/`.
    pub fn library(&self, pack: &Pack) -> Option<Result<Library, opcity_consult::LoadError>> {
        match self {
            PackSource::Dir(dir) => dir
                .join("clauses")
                .is_dir()
                .then(|| opcity_consult::load(dir, pack)),
            PackSource::Embedded(id) => match texts(id, is_clause_file) {
                Ok(texts) if texts.is_empty() => None,
                Ok(texts) => Some(opcity_consult::load_texts(
                    &format!("{self}/clauses"),
                    texts,
                    pack,
                )),
                Err(path) => Some(Err(ClauseError::Read {
                    path,
                    message: "not UTF-8".into(),
                }
                .into())),
            },
        }
    }
}

impl fmt::Display for PackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackSource::Dir(dir) => write!(f, "{}", dir.display()),
            PackSource::Embedded(id) => write!(f, "{id} (built in)"),
        }
    }
}

/// The ids of the packs built in, in order.
pub fn built_in() -> Vec<&'static str> {
    EMBEDDED.dirs().map(id_of).collect()
}

fn embedded(id: &str) -> Option<&'static Dir<'static>> {
    EMBEDDED.dirs().find(|dir| id_of(dir) == id)
}

fn id_of(dir: &'static Dir<'static>) -> &'static str {
    dir.path().to_str().unwrap_or_default()
}

/// The rule files of built-in pack `id`, for a pack that extends it.
fn built_in_rules(id: &str) -> Option<Vec<(String, String)>> {
    embedded(id)?;
    texts(id, Pack::reads).ok()
}

fn is_clause_file(path: &str) -> bool {
    path.starts_with("clauses/") && path.ends_with(".yaml")
}

/// The texts of pack `id`'s files that `keep` selects, by path relative to
/// the pack; `Err` names a file that is not UTF-8.
fn texts(id: &str, keep: fn(&str) -> bool) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    if let Some(dir) = embedded(id) {
        collect(dir, &mut files);
    }
    let prefix = format!("{id}/");
    let mut texts = Vec::new();
    for file in files {
        let full = file.path().to_string_lossy();
        let path = full.strip_prefix(&prefix).unwrap_or(&full);
        if !keep(path) {
            continue;
        }
        let text = file.contents_utf8().ok_or_else(|| full.to_string())?;
        texts.push((path.to_owned(), text.to_owned()));
    }
    Ok(texts)
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<&'static File<'static>>) {
    out.extend(dir.files());
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(id: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies")
            .join(id)
    }

    #[test]
    fn every_pack_in_the_checkout_is_built_in() {
        let mut on_disk: Vec<String> = std::fs::read_dir(checkout(""))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        assert_eq!(built_in(), on_disk);
        assert!(built_in().contains(&DEFAULT));
    }

    #[test]
    fn a_built_in_pack_is_the_pack_on_disk() {
        for id in built_in() {
            let dir = PackSource::Dir(checkout(id));
            let embedded = PackSource::resolve(Path::new(id)).unwrap();
            assert_eq!(embedded, PackSource::Embedded(id));
            let (from_disk, built_in) = (dir.load().unwrap(), embedded.load().unwrap());
            assert_eq!(from_disk.version(), built_in.version());
            let ids =
                |p: &Pack| -> Vec<String> { p.programmes().iter().map(|p| p.id.clone()).collect() };
            assert_eq!(ids(&from_disk), ids(&built_in));
            assert_eq!(from_disk.parameters().len(), built_in.parameters().len());
            assert_eq!(from_disk.tests().len(), built_in.tests().len());
            assert!(built_in.run_tests().iter().all(|t| t.passed()), "{id}");
            let clauses =
                |s: &PackSource, p: &Pack| s.library(p).map(|l| l.unwrap().entries().len());
            assert_eq!(clauses(&dir, &from_disk), clauses(&embedded, &built_in));
        }
    }

    /// A pack directory extends a pack beside it, else a built-in one: a
    /// district's pack under review anywhere still finds its city's.
    #[test]
    fn a_parent_is_found_beside_the_pack_else_built_in() {
        let review = tempfile::tempdir().unwrap();
        let copy = review.path().join("longgang-2026");
        let copied = std::process::Command::new("cp")
            .arg("-r")
            .args([checkout("longgang-2026"), copy.clone()])
            .status()
            .unwrap();
        assert!(copied.success());
        let pack = PackSource::Dir(copy.clone()).load().unwrap();
        let chain: Vec<&str> = pack.lineage().iter().map(|l| l.id.as_str()).collect();
        assert_eq!(chain, ["guangdong-2026", "shenzhen-2026", "longgang-2026"]);
        // A Shenzhen pack beside it, with its own version, comes first.
        let beside = review.path().join("shenzhen-2026");
        std::fs::create_dir(&beside).unwrap();
        let text = std::fs::read_to_string(checkout("shenzhen-2026").join("pack.yaml")).unwrap();
        std::fs::write(
            beside.join("pack.yaml"),
            text.replace("2026.1.0", "2026.9.9").replace(
                "catalogue:",
                "catalogue: []
unused:",
            ),
        )
        .unwrap();
        let errors = PackSource::Dir(copy).load().unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.file == "shenzhen-2026/pack.yaml" && e.key == "unused"),
            "{errors:#?}"
        );
    }

    #[test]
    fn a_directory_comes_before_a_built_in_pack_and_nothing_else_is_a_pack() {
        let dir = checkout(DEFAULT);
        assert_eq!(PackSource::resolve(&dir).unwrap(), PackSource::Dir(dir));
        let e = PackSource::resolve(Path::new("/no/such/pack")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/no/such/pack is neither a pack directory nor a pack built into opcity (built in: guangdong-2026, hubei-2026, jinan-2026, longgang-2026, shandong-2026, shenzhen-2026, wuhan-2026)"
        );
        assert_eq!(
            PackSource::default().to_string(),
            "shenzhen-2026 (built in)"
        );
    }

    #[test]
    fn a_directory_without_clauses_has_no_library() {
        let tmp = tempfile::tempdir().unwrap();
        let pack = PackSource::default().load().unwrap();
        assert!(PackSource::Dir(tmp.path().into()).library(&pack).is_none());
    }
}
