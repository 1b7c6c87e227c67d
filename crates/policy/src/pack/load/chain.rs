//! Packs that extend packs: a province's, a city's on it, a district's on
//! that. The chain is loaded root first into one pack. A child replaces
//! an ancestor's parameter or programme only where its `overrides` says
//! so (a silent redefinition is a load error naming both files), adds
//! programmes (listed before its ancestors'), tops up their figures, and makes
//! exceptions to their amount rules, the more specific pack's taking
//! precedence, as Catala's exceptions do.

use super::*;
use crate::pack::files::ExceptionFile;

/// How long a chain may be (province → city → district is three).
const MAX_DEPTH: usize = 8;

/// One pack of a chain: its files, and its `pack.yaml` parsed.
pub(super) struct Layer {
    pub sources: Sources,
    pub file: PackFile,
}

impl Layer {
    pub fn pack_src(&self) -> &Source {
        self.sources
            .pack
            .as_ref()
            .expect("a layer is made once its pack.yaml parsed")
    }
}

impl Loader {
    /// The chain from the root to `top`, each ancestor found by `parent`;
    /// `None` when one is missing, does not parse or closes a cycle.
    pub(super) fn chain(&mut self, top: Layer, parent: ParentSources<'_>) -> Option<Vec<Layer>> {
        let mut chain = vec![top];
        while let Some(parent_id) = chain.last().and_then(|l| l.file.extends.clone()) {
            let child = chain.last().expect("the loop has a child").pack_src();
            let ids = || {
                let mut ids: Vec<&str> = chain.iter().map(|l| l.file.id.as_str()).collect();
                ids.push(&parent_id);
                ids.join(" → ")
            };
            let problem = if chain.iter().any(|l| l.file.id == parent_id) {
                Some(format!("`extends` makes a cycle: {}", ids()))
            } else if chain.len() == MAX_DEPTH {
                Some(format!(
                    "a chain of packs is at most {MAX_DEPTH} long: {}",
                    ids()
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                self.error(LoadErrorKind::Invalid, child, "extends", "extends", message);
                return None;
            }
            let Some(sources) = parent(&parent_id) else {
                self.error(
                    LoadErrorKind::UnknownReference,
                    child,
                    "extends",
                    "extends",
                    format!(
                        "extends `{parent_id}`, which is not here: neither a pack directory of that name beside this one nor a pack built into opcity"
                    ),
                );
                return None;
            };
            let sources = self.classify(&format!("{parent_id}/"), sources);
            let Some(src) = &sources.pack else {
                self.errors.push(LoadError {
                    kind: LoadErrorKind::MissingFile,
                    file: format!("{parent_id}/{PACK_FILE}"),
                    line: None,
                    column: None,
                    key: String::new(),
                    message: "a pack needs pack.yaml".into(),
                });
                return None;
            };
            let file = self.parse::<PackFile>(src)?;
            if file.id != parent_id {
                self.error(
                    LoadErrorKind::Invalid,
                    src,
                    "id",
                    "id",
                    format!("is `{}`, but it was found as `{parent_id}`", file.id),
                );
                return None;
            }
            chain.push(Layer { sources, file });
        }
        chain.reverse();
        Some(chain)
    }

    /// Every parameter of the chain, sorted by name; indexes into this list
    /// are what compiled rules hold. A child's parameter replaces an
    /// ancestor's of the same name only when listed in its overrides, and
    /// keeps its unit.
    pub(super) fn merged_parameters(&mut self, layers: &[Layer]) -> Vec<Parameter> {
        let mut merged: BTreeMap<String, (Parameter, String)> = BTreeMap::new();
        for layer in layers {
            let own = self.parameters(&layer.sources.parameters, &layer.file.id);
            let listed = &layer.file.overrides.parameters;
            for (i, name) in listed.iter().enumerate() {
                let key = format!("overrides.parameters[{i}]");
                self.overridden(layer, &key, name, "parameter", merged.contains_key(name), {
                    own.iter().any(|(p, _)| p.name == *name)
                });
            }
            for (param, src) in own {
                match merged.get(&param.name) {
                    Some((old, file)) if !listed.contains(&param.name) => {
                        let message = format!(
                            "parameter `{}` is already defined in {file} (pack {}); list it under `overrides.parameters` in pack.yaml to replace it",
                            param.name, old.pack
                        );
                        self.error(
                            LoadErrorKind::Shadow,
                            src,
                            &param.name,
                            &param.name,
                            message,
                        );
                    }
                    Some((old, file)) if old.unit != param.unit => {
                        let message = format!(
                            "overrides `{}` in {}, but {file} defines it in {}: the rules that read it need the same unit",
                            param.name,
                            param.unit.name(),
                            old.unit.name()
                        );
                        self.error(LoadErrorKind::Type, src, &param.name, &param.name, message);
                    }
                    _ => {
                        merged.insert(param.name.clone(), (param, src.path.clone()));
                    }
                }
            }
        }
        merged.into_values().map(|(p, _)| p).collect()
    }

    /// Checks one name a pack lists under `overrides`.
    fn overridden(
        &mut self,
        layer: &Layer,
        key: &str,
        name: &str,
        what: &str,
        inherited: bool,
        defined_here: bool,
    ) {
        let problem = if !inherited {
            Some(format!(
                "{what} `{name}` is listed as overridden, but no pack this one extends defines it"
            ))
        } else if !defined_here {
            Some(format!(
                "{what} `{name}` is listed as overridden, but this pack does not define it"
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            self.error(
                LoadErrorKind::UnknownReference,
                layer.pack_src(),
                key,
                name,
                message,
            );
        }
    }

    /// Compiles one pack's programmes with its own and its ancestors'
    /// common conditions, merges them into the chain's, and attaches its
    /// exceptions.
    pub(super) fn layer_programmes<'s>(
        &mut self,
        layer: &'s Layer,
        env: &mut Env,
        merged: &mut Vec<(Programme, &'s Source)>,
    ) {
        let src = layer.pack_src();
        let commons = &layer.file.common_conditions;
        env.window = self.window(src, "effective", layer.file.effective);
        let person = self.common(src, "common_conditions.person", &commons.person, env);
        let enterprise = self.common(
            src,
            "common_conditions.enterprise",
            &commons.enterprise,
            env,
        );
        env.common_person.extend(person);
        env.common_enterprise.extend(enterprise);
        let defined: Vec<(Programme, &Source)> = layer
            .sources
            .programmes
            .iter()
            .filter_map(|src| {
                let file = self.parse::<ProgrammeFile>(src)?;
                self.programme(file, src, env, &layer.file.id)
                    .map(|p| (p, src))
            })
            .collect();
        let inherited: HashMap<String, usize> = merged
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.id.clone(), i))
            .collect();
        let listed = &layer.file.overrides.programmes;
        for (i, id) in listed.iter().enumerate() {
            let key = format!("overrides.programmes[{i}]");
            let here = defined.iter().any(|(p, _)| p.id == *id);
            self.overridden(
                layer,
                &key,
                id,
                "programme",
                inherited.contains_key(id),
                here,
            );
        }
        let mut added = Vec::new();
        let mut replaced: HashMap<&str, &Source> = HashMap::new();
        for (mut p, psrc) in defined {
            match inherited.get(&p.id) {
                Some(_) if replaced.contains_key(p.id.as_str()) => {
                    let message = format!(
                        "programme `{}` is also defined in {}",
                        p.id,
                        replaced[p.id.as_str()].path
                    );
                    self.error(LoadErrorKind::Duplicate, psrc, "id", &p.id, message);
                }
                Some(&i) if listed.contains(&p.id) => {
                    // The ancestors' exceptions to the programme still apply
                    // to the rule that replaces it.
                    p.exceptions = std::mem::take(&mut merged[i].0.exceptions);
                    let id = listed.iter().find(|id| **id == p.id).expect("listed");
                    replaced.insert(id.as_str(), psrc);
                    merged[i] = (p, psrc);
                }
                Some(&i) => {
                    let (old, file) = &merged[i];
                    let message = format!(
                        "programme `{}` is already defined in {} (pack {}); list it under `overrides.programmes` in pack.yaml to replace it",
                        p.id, file.path, old.pack
                    );
                    self.error(LoadErrorKind::Shadow, psrc, "id", &p.id, message);
                }
                None => added.push((p, psrc)),
            }
        }
        for (i, id) in layer.file.catalogue.iter().enumerate() {
            if let Some(&at) = inherited.get(id) {
                let message = format!(
                    "`{id}` comes from pack {}; a pack's catalogue lists only the programmes it adds",
                    merged[at].0.pack
                );
                self.error(
                    LoadErrorKind::Invalid,
                    src,
                    &format!("catalogue[{i}]"),
                    id,
                    message,
                );
            }
        }
        let ordered = self.catalogue(src, &layer.file.catalogue, added, &|id| {
            inherited.contains_key(id)
        });
        merged.extend(ordered);
        for (i, e) in layer.file.exceptions.iter().enumerate() {
            self.exception(layer, i, e, env, merged);
        }
    }

    /// Attaches one of `layer`'s exceptions to its programme, ahead of the
    /// ancestors' (the more specific pack's takes precedence).
    fn exception(
        &mut self,
        layer: &Layer,
        i: usize,
        e: &ExceptionFile,
        env: &Env,
        merged: &mut [(Programme, &Source)],
    ) {
        let src = layer.pack_src();
        let key = format!("exceptions[{i}]");
        if !is_name(&e.name) {
            self.error(
                LoadErrorKind::Invalid,
                src,
                &format!("{key}.name"),
                &e.name,
                "exception names are lowercase letters, digits and `_`".into(),
            );
        }
        let Some(target) = merged.iter().position(|(p, _)| p.id == e.programme) else {
            self.error(
                LoadErrorKind::UnknownReference,
                src,
                &format!("{key}.programme"),
                &e.programme,
                format!(
                    "no programme `{}` in this pack or the packs it extends",
                    e.programme
                ),
            );
            return;
        };
        let condition = ConditionFile {
            name: e.name.clone(),
            when: e.when.clone(),
            citation: None,
        };
        let when = self.condition(src, &format!("{key}.when"), &condition, env);
        let amount = self.amount(src, &e.amount, env);
        let programme = &mut merged[target].0;
        if let Some(other) = programme
            .exceptions
            .iter()
            .find(|x| x.pack == layer.file.id)
        {
            let message = format!(
                "`{}` and `{}` are both exceptions to `{}` in this pack: where both hold neither takes precedence; make them one exception",
                other.name, e.name, e.programme
            );
            self.error(LoadErrorKind::Conflict, src, &key, &e.name, message);
            return;
        }
        if let (Some(when), false) = (when, matches!(amount, Amount::None)) {
            programme.exceptions.insert(
                0,
                Exception {
                    name: e.name.clone(),
                    pack: layer.file.id.clone(),
                    citation: e.citation.clone(),
                    when,
                    amount,
                },
            );
        }
    }

    /// Ties each top-up to the programme it tops up, now that the whole
    /// chain's programmes are known: its figure builds on the base's, and
    /// it holds only where the base's conditions on the case do.
    /// `order` is the chain's pack ids, root first: a top-up builds on its
    /// own pack's programmes or an ancestor's, never a descendant's.
    pub(super) fn top_ups(&mut self, merged: &mut [(Programme, &Source)], order: &[&str]) {
        let depth = |pack: &str| order.iter().position(|id| *id == pack);
        let index: HashMap<String, usize> = merged
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.id.clone(), i))
            .collect();
        for i in 0..merged.len() {
            let Some(base_id) = merged[i].0.tops_up.clone() else {
                continue;
            };
            let problem = match index.get(&base_id) {
                None => Err(format!(
                    "tops up `{base_id}`, which neither this pack nor one it extends defines"
                )),
                Some(&b) if b == i => Err("a programme cannot top up itself".to_owned()),
                Some(&b) if merged[b].0.tops_up.is_some() => Err(format!(
                    "`{base_id}` is itself a top-up; top up the programme it tops up"
                )),
                Some(&b) if merged[b].0.beneficiary != merged[i].0.beneficiary => {
                    Err(format!("`{base_id}` is for a different beneficiary"))
                }
                Some(&b) if !gives_figure(&merged[b].0.amount) => {
                    Err(format!("`{base_id}` gives no figure to top up"))
                }
                Some(&b) if depth(&merged[b].0.pack) > depth(&merged[i].0.pack) => Err(format!(
                    "`{base_id}` comes from pack {}, which extends this one; a pack tops up its own or an ancestor's programmes",
                    merged[b].0.pack
                )),
                Some(&b) => Ok(b),
            };
            let src = merged[i].1;
            match problem {
                Err(message) => self.error(
                    LoadErrorKind::UnknownReference,
                    src,
                    "tops_up.programme",
                    &base_id,
                    message,
                ),
                Ok(b) => {
                    let citation = merged[b].0.citation.clone();
                    let p = &mut merged[i].0;
                    if let Amount::TopUp { base, .. } = &mut p.amount {
                        *base = b;
                    }
                    p.conditions.insert(
                        1,
                        Condition {
                            name: "base_eligible".into(),
                            citation,
                            test: Test::BaseEligible(b),
                        },
                    );
                }
            }
        }
    }
}

/// Whether an amount rule gives an amount or a ceiling to top up.
fn gives_figure(amount: &Amount) -> bool {
    !matches!(amount, Amount::None | Amount::TopUp { .. })
}
