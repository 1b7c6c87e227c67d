//! Loading a pack: parse every file, resolve every name, compile every
//! condition, and collect every problem. A pack loads whole or not at all.

use super::files::{
    AmountFile, ConditionFile, PackFile, ParametersFile, ProgrammeFile, TestsFile, WindowFile,
};
use super::model::{
    Amount, Beneficiary, Condition, Criterion, Evidence, Pack, PackTest, Parameter, Programme,
    Test, Window,
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

impl Pack {
    /// Reads a pack directory: `pack.yaml` and the `*.yaml` files in
    /// `parameters/`, `programmes/` and `tests/`. This is the crate's only
    /// filesystem access; everything else works on the texts
    /// ([`Pack::from_sources`]).
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Pack, Vec<LoadError>> {
        let dir = dir.as_ref();
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
            Pack::from_sources(sources)
        } else {
            Err(errors)
        }
    }

    /// Builds a pack from `(path, text)` pairs, paths relative to the pack
    /// (`pack.yaml`, `programmes/x.yaml`, …). Pure.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Pack, Vec<LoadError>> {
        Loader::default().load(sources)
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

    fn load(mut self, sources: Vec<(String, String)>) -> Result<Pack, Vec<LoadError>> {
        let sources = self.classify(sources);
        let pack_file = match &sources.pack {
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
        let parameters = self.parameters(&sources.parameters);
        let (Some(pack_file), Some(pack_src)) = (pack_file, &sources.pack) else {
            return Err(self.errors);
        };
        let window = self.window(pack_src, "effective", pack_file.effective);
        let mut env = Env {
            window,
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
        env.common_person = self.common(
            pack_src,
            "common_conditions.person",
            &pack_file.common_conditions.person,
            &env,
        );
        env.common_enterprise = self.common(
            pack_src,
            "common_conditions.enterprise",
            &pack_file.common_conditions.enterprise,
            &env,
        );
        let defined: Vec<(Programme, &Source)> = sources
            .programmes
            .iter()
            .filter_map(|src| {
                let file = self.parse::<ProgrammeFile>(src)?;
                self.programme(file, src, &env).map(|p| (p, src))
            })
            .collect();
        let mut programmes = self.catalogue(pack_src, &pack_file.catalogue, defined);
        self.exclusions(&mut programmes);
        let programme_index: HashMap<String, usize> = programmes
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.id.clone(), i))
            .collect();
        let tests = self.tests(&sources.tests, &programme_index);
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let parameter_index = env.params.into_iter().map(|(k, v)| (k, v.index)).collect();
        let programmes: Vec<Programme> = programmes.into_iter().map(|(p, _)| p).collect();
        Ok(Pack {
            id: pack_file.id,
            version: pack_file.version,
            title: pack_file.title,
            source: pack_file.source,
            effective: window,
            json: crate::write::PackJson::new(&programmes),
            programmes,
            parameters,
            tests,
            programme_index,
            parameter_index,
        })
    }

    fn classify(&mut self, sources: Vec<(String, String)>) -> Sources {
        let mut out = Sources::default();
        for (path, text) in sources {
            let src = Source { path, text };
            let folder = src.path.split_once('/').map(|(dir, _)| dir);
            match folder {
                None if src.path == PACK_FILE && out.pack.is_none() => out.pack = Some(src),
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

    /// All parameters, sorted by name; indexes into this list are what
    /// compiled rules hold.
    fn parameters(&mut self, sources: &[Source]) -> Vec<Parameter> {
        let mut params: BTreeMap<String, Parameter> = BTreeMap::new();
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
                let param = Parameter {
                    name: name.clone(),
                    description: def.description,
                    unit: def.unit,
                    reference: def.reference,
                    values: def.values.into_iter().map(|(d, v)| (d.0, v)).collect(),
                };
                params.insert(name, param);
            }
        }
        params.into_values().collect()
    }

    fn common(
        &mut self,
        src: &Source,
        key: &str,
        conditions: &[ConditionFile],
        env: &Env,
    ) -> Vec<(String, Option<String>, crate::expr::Compiled)> {
        conditions
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let compiled = self.condition(src, &format!("{key}[{i}].when"), c, env)?;
                Some((c.name.clone(), c.citation.clone(), compiled))
            })
            .collect()
    }

    fn condition(
        &mut self,
        src: &Source,
        key: &str,
        c: &ConditionFile,
        env: &Env,
    ) -> Option<crate::expr::Compiled> {
        let lookup = |name: &str| env.params.get(name).copied();
        match compile(&c.when, &lookup) {
            Ok(compiled) => Some(compiled),
            Err(e) => {
                let kind = match e.kind {
                    ExprErrorKind::UndefinedFact => LoadErrorKind::UndefinedFact,
                    ExprErrorKind::UndefinedParameter => LoadErrorKind::UndefinedParameter,
                    ExprErrorKind::Syntax | ExprErrorKind::Type => LoadErrorKind::Expression,
                };
                let at = locate_in_expression(&src.text, &c.when, e.pos)
                    .or_else(|| locate(&src.text, &c.name));
                let (line, column) = at.unzip();
                self.errors.push(LoadError {
                    kind,
                    file: src.path.clone(),
                    line,
                    column,
                    key: key.to_owned(),
                    message: format!(
                        "{} (in `{}`, at character {})",
                        e.message,
                        c.when,
                        e.pos + 1
                    ),
                });
                None
            }
        }
    }

    fn programme(&mut self, f: ProgrammeFile, src: &Source, env: &Env) -> Option<Programme> {
        let errors_before = self.errors.len();
        let measure = format!("measure {}", f.measure);
        let effective = match f.effective {
            Some(w) => self.window(src, "effective", w),
            None => env.window,
        };
        let mut conditions = vec![Condition {
            name: "in_effect".into(),
            citation: measure.clone(),
            test: Test::InEffect,
        }];
        let common = match f.beneficiary {
            Beneficiary::Person => &env.common_person,
            Beneficiary::Enterprise => {
                let present =
                    compile("has_enterprise()", &|_| None).expect("built-in condition compiles");
                conditions.push(Condition {
                    name: "enterprise_present".into(),
                    citation: measure.clone(),
                    test: Test::Expr(present),
                });
                &env.common_enterprise
            }
        };
        for (name, citation, compiled) in common {
            conditions.push(Condition {
                name: name.clone(),
                citation: citation.clone().unwrap_or_else(|| measure.clone()),
                test: Test::Expr(compiled.clone()),
            });
        }
        for (i, c) in f.conditions.iter().enumerate() {
            if let Some(compiled) = self.condition(src, &format!("conditions[{i}].when"), c, env) {
                conditions.push(Condition {
                    name: c.name.clone(),
                    citation: c.citation.clone().unwrap_or_else(|| measure.clone()),
                    test: Test::Expr(compiled),
                });
            }
        }
        conditions.push(if f.one_time {
            Condition {
                name: "not_granted_before".into(),
                citation: measure.clone(),
                test: Test::NotGrantedBefore,
            }
        } else {
            Condition {
                name: "no_active_grant".into(),
                citation: measure.clone(),
                test: Test::NoActiveGrant,
            }
        });
        self.unique_condition_names(src, &conditions);
        let amount = match &f.amount {
            Some(a) => self.amount(src, a, env),
            None => Amount::None,
        };
        let duration = f
            .duration
            .as_deref()
            .and_then(|name| self.param(src, "duration", name, Unit::Months, env));
        if duration.is_some() && matches!(amount, Amount::Monthly { .. }) {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "duration",
                "duration",
                "a monthly amount already gives the months; drop `duration`".into(),
            );
        }
        let evidence = self.evidence(src, &f);
        let rubric = self.rubric(src, &f);
        let second_review_above = f.second_review_above_fen.map(Fen);
        if second_review_above.is_some_and(|fen| fen.positive().is_none()) {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "second_review_above_fen",
                "second_review_above_fen",
                "must be a positive amount".into(),
            );
        }
        (self.errors.len() == errors_before).then_some(Programme {
            id: f.id,
            title: f.title,
            description: f.description,
            measure: f.measure,
            citation: f.citation,
            beneficiary: f.beneficiary,
            kind: f.kind,
            effective,
            one_time: f.one_time,
            exclusion_groups: f.exclusion_groups,
            evidence,
            rubric,
            decided_by: f.decided_by,
            second_review_above,
            conditions,
            amount,
            duration,
        })
    }

    fn unique_condition_names(&mut self, src: &Source, conditions: &[Condition]) {
        for (i, c) in conditions.iter().enumerate() {
            if conditions[..i].iter().any(|earlier| earlier.name == c.name) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "conditions",
                    &c.name,
                    format!(
                        "condition name `{}` is used twice (built-in names: in_effect, enterprise_present, not_granted_before, no_active_grant, not_excluded_by_grant)",
                        c.name
                    ),
                );
            }
        }
    }

    fn evidence(&mut self, src: &Source, f: &ProgrammeFile) -> Vec<Evidence> {
        let mut out: Vec<Evidence> = Vec::with_capacity(f.evidence.len());
        for e in &f.evidence {
            if out.iter().any(|seen| seen.id == e.id) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "evidence",
                    &e.id,
                    format!("evidence id `{}` is used twice", e.id),
                );
            }
            out.push(Evidence {
                id: e.id.clone(),
                title: e.title.clone(),
                kind: e.kind,
            });
        }
        out
    }

    fn rubric(&mut self, src: &Source, f: &ProgrammeFile) -> Vec<Criterion> {
        let mut out: Vec<Criterion> = Vec::with_capacity(f.rubric.len());
        for c in &f.rubric {
            if out.iter().any(|seen| seen.id == c.id) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "rubric",
                    &c.id,
                    format!("rubric criterion `{}` is used twice", c.id),
                );
            }
            if !(1..=100).contains(&c.max) {
                self.error(
                    LoadErrorKind::Invalid,
                    src,
                    "rubric",
                    &c.id,
                    format!("criterion `{}`: `max` must be 1 to 100", c.id),
                );
            }
            out.push(Criterion {
                id: c.id.clone(),
                title: c.title.clone(),
                max: c.max,
            });
        }
        out
    }

    /// Resolves a parameter named in an amount rule and checks its unit.
    fn param(
        &mut self,
        src: &Source,
        key: &str,
        name: &str,
        unit: Unit,
        env: &Env,
    ) -> Option<usize> {
        match env.params.get(name) {
            None => {
                self.error(
                    LoadErrorKind::UndefinedParameter,
                    src,
                    key,
                    name,
                    format!("undefined parameter `{name}`"),
                );
                None
            }
            Some(info) if info.unit != unit => {
                self.error(
                    LoadErrorKind::Type,
                    src,
                    key,
                    name,
                    format!(
                        "parameter `{name}` is in {}, this needs {}",
                        info.unit.name(),
                        unit.name()
                    ),
                );
                None
            }
            Some(info) => Some(info.index),
        }
    }

    fn amount(&mut self, src: &Source, a: &AmountFile, env: &Env) -> Amount {
        let given = [
            a.fixed.is_some(),
            a.ceiling.is_some(),
            a.tiered.is_some(),
            a.monthly.is_some(),
            a.contract_share.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "amount",
                "amount:",
                "give exactly one of fixed, ceiling, tiered, monthly, contract_share".into(),
            );
            return Amount::None;
        }
        let rule = if let Some(name) = &a.fixed {
            self.param(src, "amount.fixed", name, Unit::Fen, env)
                .map(Amount::Fixed)
        } else if let Some(name) = &a.ceiling {
            self.param(src, "amount.ceiling", name, Unit::Fen, env)
                .map(Amount::Ceiling)
        } else if let Some(m) = &a.monthly {
            let monthly = self.param(src, "amount.monthly.monthly", &m.monthly, Unit::Fen, env);
            let months = self.param(src, "amount.monthly.months", &m.months, Unit::Months, env);
            monthly
                .zip(months)
                .map(|(monthly, months)| Amount::Monthly { monthly, months })
        } else if let Some(c) = &a.contract_share {
            let key = "amount.contract_share";
            let share = self.param(src, key, &c.share, Unit::Percent, env);
            let startup_share = match &c.startup_share {
                None => Some(None),
                Some(name) => self.param(src, key, name, Unit::Percent, env).map(Some),
            };
            let cap = self.param(src, key, &c.cap, Unit::Fen, env);
            share
                .zip(cap)
                .zip(startup_share)
                .map(|((share, cap), startup_share)| Amount::ContractShare {
                    share,
                    startup_share,
                    cap,
                })
        } else {
            let t = a.tiered.as_ref().expect("exactly one rule is given");
            self.tiered(src, &t.by, t.figure, &t.tiers, env)
        };
        // On error the problem is already recorded and the pack will not load.
        rule.unwrap_or(Amount::None)
    }

    fn tiered(
        &mut self,
        src: &Source,
        by: &str,
        figure: super::files::Figure,
        tiers: &BTreeMap<String, String>,
        env: &Env,
    ) -> Option<Amount> {
        let Some(fact) = Fact::from_name(by) else {
            self.error(
                LoadErrorKind::UndefinedFact,
                src,
                "amount.tiered.by",
                by,
                format!("undefined fact `{by}`"),
            );
            return None;
        };
        let FactType::Enum(t) = fact.fact_type() else {
            self.error(
                LoadErrorKind::Type,
                src,
                "amount.tiered.by",
                by,
                format!("`{by}` is not an enum fact; tiers need one (degree, district, size)"),
            );
            return None;
        };
        let mut slots = vec![None; t.names().len()];
        let mut ok = true;
        for (word, param) in tiers {
            let key = format!("amount.tiered.tiers.{word}");
            let index = self.param(src, &key, param, Unit::Fen, env);
            match t.index_of(word) {
                Some(i) => slots[usize::from(i)] = index,
                None => {
                    ok = false;
                    self.error(
                        LoadErrorKind::UnknownReference,
                        src,
                        &key,
                        word,
                        format!("`{word}` is not a value of {by} ({})", t.names().join(", ")),
                    );
                }
            }
            ok &= index.is_some();
        }
        ok.then_some(Amount::Tiered {
            fact,
            figure,
            tiers: slots,
        })
    }

    /// Orders programmes as the catalogue lists them and checks that the
    /// catalogue and the files agree.
    fn catalogue<'s>(
        &mut self,
        pack_src: &Source,
        catalogue: &[String],
        defined: Vec<(Programme, &'s Source)>,
    ) -> Vec<(Programme, &'s Source)> {
        let mut by_id: HashMap<String, (Programme, &'s Source)> = HashMap::new();
        for (p, src) in defined {
            if by_id.contains_key(&p.id) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "id",
                    &p.id,
                    format!("programme `{}` is defined in more than one file", p.id),
                );
                continue;
            }
            by_id.insert(p.id.clone(), (p, src));
        }
        let mut ordered = Vec::with_capacity(catalogue.len());
        for (i, id) in catalogue.iter().enumerate() {
            match by_id.remove(id) {
                Some(entry) => ordered.push(entry),
                None if catalogue[..i].contains(id) => self.error(
                    LoadErrorKind::Duplicate,
                    pack_src,
                    &format!("catalogue[{i}]"),
                    id,
                    format!("`{id}` is listed twice"),
                ),
                None => self.error(
                    LoadErrorKind::UnknownReference,
                    pack_src,
                    &format!("catalogue[{i}]"),
                    id,
                    format!("no programme file defines `{id}` (or it has errors)"),
                ),
            }
        }
        let mut unlisted: Vec<_> = by_id.into_values().collect();
        unlisted.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        for (p, src) in unlisted {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "id",
                &p.id,
                format!(
                    "programme `{}` is not listed in pack.yaml's catalogue",
                    p.id
                ),
            );
        }
        ordered
    }

    /// Adds the mutual-exclusion condition to every programme in a group.
    fn exclusions(&mut self, programmes: &mut [(Programme, &Source)]) {
        let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (p, _) in programmes.iter() {
            for g in &p.exclusion_groups {
                groups.entry(g.as_str()).or_default().push(p.id.clone());
            }
        }
        let mut rules = Vec::with_capacity(programmes.len());
        for (p, src) in programmes.iter() {
            let mut others: Vec<String> = Vec::new();
            for g in &p.exclusion_groups {
                let members = &groups[g.as_str()];
                if members.len() < 2 {
                    self.error(
                        LoadErrorKind::UnknownReference,
                        src,
                        "exclusion_groups",
                        g,
                        format!("exclusion group `{g}` has no other programme"),
                    );
                }
                others.extend(members.iter().filter(|id| **id != p.id).cloned());
            }
            others.sort_unstable();
            others.dedup();
            rules.push((!others.is_empty()).then(|| Condition {
                name: "not_excluded_by_grant".into(),
                citation: format!("measure {}", p.measure),
                test: Test::NotExcludedByGrant(others),
            }));
        }
        for ((p, _), rule) in programmes.iter_mut().zip(rules) {
            p.conditions.extend(rule);
        }
    }

    fn tests(&mut self, sources: &[Source], programmes: &HashMap<String, usize>) -> Vec<PackTest> {
        let mut out = Vec::new();
        for src in sources {
            let Some(file) = self.parse::<TestsFile>(src) else {
                continue;
            };
            for (i, t) in file.into_iter().enumerate() {
                for id in t.expect.keys().filter(|id| !programmes.contains_key(*id)) {
                    self.error(
                        LoadErrorKind::UnknownReference,
                        src,
                        &format!("[{i}].expect.{id}"),
                        id,
                        format!("no programme `{id}`"),
                    );
                }
                for (g, grant) in t.case.granted.iter().enumerate() {
                    if !programmes.contains_key(&grant.programme) {
                        self.error(
                            LoadErrorKind::UnknownReference,
                            src,
                            &format!("[{i}].case.granted[{g}].programme"),
                            &grant.programme,
                            format!("no programme `{}`", grant.programme),
                        );
                    }
                }
                let facts = t
                    .expect
                    .values()
                    .flat_map(|e| e.missing_facts.iter().flatten());
                for name in facts.filter(|n| Fact::from_name(n).is_none()) {
                    self.error(
                        LoadErrorKind::UndefinedFact,
                        src,
                        &format!("[{i}].expect"),
                        name,
                        format!("`{name}` is not a fact"),
                    );
                }
                out.push(PackTest {
                    name: t.name,
                    file: src.path.clone(),
                    as_of: t.as_of.0,
                    case: t.case,
                    expect: t.expect.into_iter().collect(),
                });
            }
        }
        out
    }
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
