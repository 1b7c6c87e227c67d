//! What spans files: the catalogue's order and agreement with the
//! programme files, exclusion groups, and the pack's own tests.

use super::*;

impl Loader {
    /// Orders a pack's new programmes as its catalogue lists them and
    /// checks that the catalogue and the files agree; ids `inherited` from
    /// an ancestor are reported by the caller.
    pub(super) fn catalogue<'s>(
        &mut self,
        pack_src: &Source,
        catalogue: &[String],
        defined: Vec<(Programme, &'s Source)>,
        inherited: &dyn Fn(&str) -> bool,
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
            if inherited(id) {
                continue;
            }
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
    pub(super) fn exclusions(&mut self, programmes: &mut [(Programme, &Source)]) {
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

    pub(super) fn tests(
        &mut self,
        sources: &[Source],
        programmes: &HashMap<String, usize>,
    ) -> Vec<PackTest> {
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
