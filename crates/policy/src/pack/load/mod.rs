//! Loading a pack: parse every file, resolve every name, compile every
//! condition, and collect every problem. A pack loads whole or not at all.

use super::files::{
    AmountFile, ConditionFile, PackFile, ParametersFile, ProgrammeFile, TestsFile, WindowFile,
};
use super::model::{
    Amount, Beneficiary, Condition, Criterion, Delivery, Evidence, Exception, Kind, Pack, PackTest,
    Parameter, Programme, Test, Window,
};
use crate::error::{LoadError, LoadErrorKind, join_path, missing_field, without_position};
use crate::expr::{ExprErrorKind, ParamInfo, Unit, compile};
use crate::facts::{Fact, FactType};
use opcity_domain::Fen;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Where a pack keeps each kind of file.
const PARAMETERS: &str = "parameters";
const PROGRAMMES: &str = "programmes";
const TESTS: &str = "tests";
const PACK_FILE: &str = "pack.yaml";

mod amount;
mod catalogue;
mod chain;
use chain::Layer;
mod programme;

/// The sources of the pack an `extends` names, if it can be found.
pub type ParentSources<'r> = &'r dyn Fn(&str) -> Option<Vec<(String, String)>>;

impl Pack {
    /// Reads a pack directory: `pack.yaml` and the `*.yaml` files in
    /// `parameters/`, `programmes/` and `tests/`, and the same of every
    /// pack it extends, each a directory of that id beside it. This is the
    /// crate's only filesystem access; everything else works on the texts
    /// ([`Pack::from_sources`]).
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Pack, Vec<LoadError>> {
        Pack::load_dir_with(dir, &|_| None)
    }

    /// As [`Pack::load_dir`], with `elsewhere` giving the sources of a pack
    /// it extends that is not beside it.
    pub fn load_dir_with(
        dir: impl AsRef<Path>,
        elsewhere: ParentSources<'_>,
    ) -> Result<Pack, Vec<LoadError>> {
        // `.` has no parent; its absolute path does.
        let dir = &std::fs::canonicalize(dir.as_ref()).unwrap_or_else(|_| dir.as_ref().into());
        let parent = |id: &str| {
            let beside = dir.parent().map(|parent| parent.join(id));
            match beside.filter(|path| path.join(PACK_FILE).is_file()) {
                Some(path) => read_dir_sources(&path).ok(),
                None => elsewhere(id),
            }
        };
        let sources = read_dir_sources(dir)?;
        Pack::from_sources_with(sources, &parent)
    }

    /// Builds a pack from `(path, text)` pairs, paths relative to the pack
    /// (`pack.yaml`, `programmes/x.yaml`, …). Pure. A pack that extends
    /// another does not load this way ([`Pack::from_sources_with`]).
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Pack, Vec<LoadError>> {
        Pack::from_sources_with(sources, &|_| None)
    }

    /// As [`Pack::from_sources`], with `parent` giving the sources of each
    /// pack named by an `extends` (only the files [`Pack::reads`]). Pure if
    /// `parent` is.
    pub fn from_sources_with(
        sources: Vec<(String, String)>,
        parent: ParentSources<'_>,
    ) -> Result<Pack, Vec<LoadError>> {
        Loader::default().load(sources, parent)
    }

    /// Whether the file at `path` (relative to the pack) is one the engine
    /// reads, for a caller holding a pack's folder together with other
    /// files (its `clauses/`, say) to hand [`Pack::from_sources`] only these.
    pub fn reads(path: &str) -> bool {
        let folder = path.split_once('/').map(|(dir, _)| dir);
        path.ends_with(".yaml")
            && (path == PACK_FILE || matches!(folder, Some(PARAMETERS | PROGRAMMES | TESTS)))
    }
}

/// The engine's files of one pack directory, as `(path, text)`.
fn read_dir_sources(dir: &Path) -> Result<Vec<(String, String)>, Vec<LoadError>> {
    let mut names = vec![PACK_FILE.to_owned()];
    let mut errors = Vec::new();
    for sub in [PARAMETERS, PROGRAMMES, TESTS] {
        // A missing folder is an empty one; from_sources reports what
        // that leaves undefined.
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            match entry {
                Ok(e) if e.file_name().to_string_lossy().ends_with(".yaml") => {
                    names.push(format!("{sub}/{}", e.file_name().to_string_lossy()));
                }
                Ok(_) => {}
                Err(e) => errors.push(io_error(sub, &e)),
            }
        }
    }
    let mut sources = Vec::with_capacity(names.len());
    for name in names {
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(text) => sources.push((name, text)),
            Err(e) => errors.push(io_error(&name, &e)),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

fn io_error(file: &str, e: &std::io::Error) -> LoadError {
    LoadError {
        kind: LoadErrorKind::Io,
        file: file.to_owned(),
        line: None,
        column: None,
        key: String::new(),
        message: e.to_string(),
    }
}

struct Source {
    path: String,
    text: String,
}

/// The files of a pack, by kind, each kind sorted by path so that loading
/// does not depend on the order a directory was listed in.
#[derive(Default)]
struct Sources {
    pack: Option<Source>,
    parameters: Vec<Source>,
    programmes: Vec<Source>,
    tests: Vec<Source>,
}

#[derive(Default)]
struct Loader {
    errors: Vec<LoadError>,
}

/// Names resolved so far, for compiling conditions and amounts.
struct Env {
    window: Window,
    params: HashMap<String, ParamInfo>,
    common_person: Vec<(String, Option<String>, crate::expr::Compiled)>,
    common_enterprise: Vec<(String, Option<String>, crate::expr::Compiled)>,
}

impl Loader {
    fn error(
        &mut self,
        kind: LoadErrorKind,
        src: &Source,
        key: &str,
        needle: &str,
        message: String,
    ) {
        let (line, column) = locate(&src.text, needle).unzip();
        self.errors.push(LoadError {
            kind,
            file: src.path.clone(),
            line,
            column,
            key: key.to_owned(),
            message,
        });
    }

    fn load(
        mut self,
        sources: Vec<(String, String)>,
        parent: ParentSources<'_>,
    ) -> Result<Pack, Vec<LoadError>> {
        let top = self.classify("", sources);
        let top_file = match &top.pack {
            Some(src) => self.parse::<PackFile>(src),
            None => {
                self.errors.push(LoadError {
                    kind: LoadErrorKind::MissingFile,
                    file: PACK_FILE.into(),
                    line: None,
                    column: None,
                    key: String::new(),
                    message: "a pack needs pack.yaml".into(),
                });
                None
            }
        };
        let Some(top_file) = top_file else {
            // Still report what is wrong with the parameters.
            self.parameters(&top.parameters, "");
            return Err(self.errors);
        };
        let Some(layers) = self.chain(
            Layer {
                sources: top,
                file: top_file,
            },
            parent,
        ) else {
            return Err(self.errors);
        };
        let parameters = self.merged_parameters(&layers);
        let mut env = Env {
            // Each pack's own, from layer_programmes on.
            window: Window {
                from: chrono::NaiveDate::MIN,
                to: chrono::NaiveDate::MAX,
            },
            params: parameters
                .iter()
                .enumerate()
                .map(|(index, p)| {
                    (
                        p.name.clone(),
                        ParamInfo {
                            index,
                            unit: p.unit,
                        },
                    )
                })
                .collect(),
            common_person: Vec::new(),
            common_enterprise: Vec::new(),
        };
        let mut programmes: Vec<(Programme, &Source)> = Vec::new();
        let mut depth = Vec::new();
        for (k, layer) in layers.iter().enumerate() {
            self.layer_programmes(layer, &mut env, &mut programmes);
            depth.resize(programmes.len(), k);
        }
        // The most specific pack's programmes first, as a founder reads
        // them: the district's, then the city's, then the province's.
        let mut by_depth: Vec<_> = depth.into_iter().zip(programmes).collect();
        by_depth.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
        let mut programmes: Vec<_> = by_depth.into_iter().map(|(_, p)| p).collect();
        let order: Vec<&str> = layers.iter().map(|l| l.file.id.as_str()).collect();
        self.top_ups(&mut programmes, &order);
        self.exclusions(&mut programmes);
        for (p, _) in &mut programmes {
            p.flagged_in_conditions = flagged_in_conditions(p, &parameters);
        }
        let programme_index: HashMap<String, usize> = programmes
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.id.clone(), i))
            .collect();
        let top = layers.last().expect("a chain holds its top pack");
        let tests = self.tests(&top.sources.tests, &programme_index);
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let parameter_index = env.params.into_iter().map(|(k, v)| (k, v.index)).collect();
        let programmes: Vec<Programme> = programmes.into_iter().map(|(p, _)| p).collect();
        let lineage = layers
            .iter()
            .map(|l| crate::PackRef {
                id: l.file.id.clone(),
                version: l.file.version.clone(),
            })
            .collect();
        let top_file = layers
            .into_iter()
            .last()
            .expect("a chain holds its top pack")
            .file;
        Ok(Pack {
            id: top_file.id,
            version: top_file.version,
            lineage,
            region: top_file.region.unwrap_or_else(|| top_file.title.clone()),
            title: top_file.title,
            source: top_file.source,
            effective: env.window,
            json: crate::write::PackJson::new(&programmes),
            programmes,
            parameters,
            tests,
            programme_index,
            parameter_index,
        })
    }

    /// Sorts a pack's files by kind; `prefix` goes before each path in
    /// what errors name (an ancestor's id and `/`).
    fn classify(&mut self, prefix: &str, sources: Vec<(String, String)>) -> Sources {
        let mut out = Sources::default();
        for (path, text) in sources {
            let folder = path.split_once('/').map(|(dir, _)| dir.to_owned());
            let is_pack_file = path == PACK_FILE;
            let src = Source {
                path: format!("{prefix}{path}"),
                text,
            };
            match folder.as_deref() {
                None if is_pack_file && out.pack.is_none() => out.pack = Some(src),
                Some(PARAMETERS) => out.parameters.push(src),
                Some(PROGRAMMES) => out.programmes.push(src),
                Some(TESTS) => out.tests.push(src),
                _ => self.error(
                    LoadErrorKind::UnexpectedFile,
                    &src,
                    "",
                    "",
                    "not a pack file: expected pack.yaml, parameters/, programmes/ or tests/"
                        .into(),
                ),
            }
        }
        for list in [&mut out.parameters, &mut out.programmes, &mut out.tests] {
            list.sort_by(|a, b| a.path.cmp(&b.path));
        }
        out
    }

    fn parse<T: DeserializeOwned>(&mut self, src: &Source) -> Option<T> {
        // A schema-free pass first, so that a YAML syntax error is told apart
        // from a value that does not fit the schema.
        if let Err(e) = serde_norway::from_str::<serde::de::IgnoredAny>(&src.text) {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unzip();
            self.errors.push(LoadError {
                kind: LoadErrorKind::Syntax,
                file: src.path.clone(),
                line,
                column,
                key: String::new(),
                message: yaml_message(&e),
            });
            return None;
        }
        let de = serde_norway::Deserializer::from_str(&src.text);
        match serde_path_to_error::deserialize(de) {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(yaml_error(&src.path, &e));
                None
            }
        }
    }

    fn window(&mut self, src: &Source, key: &str, w: WindowFile) -> Window {
        if w.from > w.to {
            self.error(
                LoadErrorKind::Invalid,
                src,
                key,
                "effective",
                format!("window ends ({}) before it starts ({})", w.to.0, w.from.0),
            );
        }
        Window {
            from: w.from.0,
            to: w.to.0,
        }
    }

    /// One pack's parameters, sorted by name, each with its file.
    fn parameters<'s>(
        &mut self,
        sources: &'s [Source],
        pack: &str,
    ) -> Vec<(Parameter, &'s Source)> {
        let mut params: BTreeMap<String, (Parameter, &'s Source)> = BTreeMap::new();
        for src in sources {
            let Some(file) = self.parse::<ParametersFile>(src) else {
                continue;
            };
            for (name, def) in file {
                if !is_name(&name) {
                    self.error(
                        LoadErrorKind::Invalid,
                        src,
                        &name,
                        &name,
                        "parameter names are lowercase letters, digits and `_`".into(),
                    );
                }
                if def.values.is_empty() {
                    self.error(
                        LoadErrorKind::Invalid,
                        src,
                        &format!("{name}.values"),
                        &name,
                        "a parameter needs at least one dated value".into(),
                    );
                }
                if params.contains_key(&name) {
                    self.error(
                        LoadErrorKind::Duplicate,
                        src,
                        &name,
                        &name,
                        format!("parameter `{name}` is defined twice"),
                    );
                    continue;
                }
                let flag_note = def
                    .flagged
                    .as_ref()
                    .map(|why| format!("{name} is not confirmed from a primary text: {why}"));
                let param = Parameter {
                    name: name.clone(),
                    pack: pack.to_owned(),
                    description: def.description,
                    unit: def.unit,
                    reference: def.reference,
                    flagged: def.flagged,
                    flag_note,
                    values: def.values.into_iter().map(|(d, v)| (d.0, v)).collect(),
                };
                params.insert(name, (param, src));
            }
        }
        params.into_values().collect()
    }
}

/// The flagged parameters `p`'s conditions read, each once.
pub(crate) fn flagged_in_conditions(p: &Programme, parameters: &[Parameter]) -> Vec<usize> {
    let mut flagged: Vec<usize> = p
        .conditions
        .iter()
        .filter_map(|c| match &c.test {
            Test::Expr(compiled) => Some(compiled.params.iter().copied()),
            _ => None,
        })
        .flatten()
        .filter(|&i| parameters[i].flagged.is_some())
        .collect();
    flagged.sort_unstable();
    flagged.dedup();
    flagged
}

fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Turns a serde error into a load error with the key path and position.
fn yaml_error(file: &str, e: &serde_path_to_error::Error<serde_norway::Error>) -> LoadError {
    let inner = e.inner();
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let (line, column) = inner.location().map(|l| (l.line(), l.column())).unzip();
    let message = yaml_message(inner);
    // The path of an unknown key ends with it; a missing key is reported at
    // the enclosing map, so the name in the message completes the path.
    let missing = missing_field(&message).map(|name| join_path(&path, name));
    let (kind, key) = if message.starts_with("unknown field `") {
        (LoadErrorKind::UnknownKey, path)
    } else if let Some(key) = missing {
        (LoadErrorKind::MissingKey, key)
    } else {
        (LoadErrorKind::Type, path)
    };
    LoadError {
        kind,
        file: file.to_owned(),
        line,
        column,
        key,
        message,
    }
}

/// serde_norway's message without the key path it puts in front and the
/// position it appends (both are kept separately).
fn yaml_message(e: &serde_norway::Error) -> String {
    let text = e.to_string();
    let text = without_position(&text);
    match text.split_once(": ") {
        Some((path, rest)) if !path.contains(char::is_whitespace) => rest.to_owned(),
        _ => text.to_owned(),
    }
}

/// Line and column (1-based, in characters) of the first occurrence of
/// `needle`. Serde keeps no positions for values that parsed, so semantic
/// errors are placed by finding their text; `None` when it is not there.
fn locate(text: &str, needle: &str) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    text.find(needle).map(|offset| line_col(text, offset))
}

fn locate_in_expression(text: &str, expr: &str, char_pos: usize) -> Option<(usize, usize)> {
    let start = text.find(expr)?;
    let within = expr
        .char_indices()
        .nth(char_pos)
        .map_or(expr.len(), |(b, _)| b);
    Some(line_col(text, start + within))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
