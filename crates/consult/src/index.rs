//! The clause index: one tantivy document per clause, in memory, with a
//! Chinese field (jieba) and an English field (stemmed), each holding the
//! clause's title, text and keywords and the titles and descriptions of the
//! programmes that cite it. Ranking is tantivy's BM25; beside the index each
//! script keeps its vocabulary (term → clauses holding it), which corrects
//! English typos to a known term and measures how much of a question a
//! clause covers (see [`Retrieval`]).

use crate::analysis::{Analysis, Script, terms};
use crate::clauses::{Clause, ClauseSet, Text};
use opcity_policy::Pack;
use std::collections::{BTreeSet, HashMap};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

/// How many clauses a retrieval ranks.
pub const RANKED: usize = 5;

/// One clause as the index holds it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub clause: Clause,
    /// The pack's programme titles for this clause, in the clause's order.
    pub programme_titles: Vec<Text>,
}

/// A question term and what it matched in the vocabulary.
#[derive(Debug, Clone)]
pub struct QueryTerm {
    /// As analysed from the question.
    pub term: String,
    /// The vocabulary term it stands for (itself, or the nearest spelling).
    pub matched: Option<String>,
    /// Inverse document frequency: how much of the question this term is.
    pub weight: f32,
}

/// A ranked clause and the share of the question it covers.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Position in [`Library::entries`].
    pub entry: usize,
    /// The clause's measure.
    pub measure: u8,
    pub score: f32,
    /// Sum of the weights of the question's content terms the clause holds,
    /// over the sum of all their weights (0 when there are none).
    pub coverage: f32,
    /// Which content terms (by position in [`Retrieval::terms`]) it holds.
    pub covers: BTreeSet<usize>,
}

/// The outcome of searching: the question's content terms and the clauses
/// ranked by BM25, best first.
#[derive(Debug, Clone)]
pub struct Retrieval {
    pub script: Script,
    pub terms: Vec<QueryTerm>,
    pub hits: Vec<Hit>,
}

#[derive(Default)]
struct Vocabulary {
    /// term → the entries holding it.
    terms: HashMap<String, BTreeSet<usize>>,
    /// English only: each word as written → its stem.
    spellings: HashMap<String, String>,
}

/// A pack's clauses, indexed.
pub struct Library {
    pack: String,
    pack_version: String,
    entries: Vec<Entry>,
    files: Vec<crate::clauses::ClauseFile>,
    reader: IndexReader,
    ordinal: Field,
    zh: Field,
    en: Field,
    vocabularies: [Vocabulary; 2],
    analysis: Analysis,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("pack", &self.pack)
            .field("clauses", &self.entries.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the clause index: {0}")]
pub struct IndexError(#[from] tantivy::TantivyError);

fn slot(script: Script) -> usize {
    match script {
        Script::Han => 0,
        Script::Latin => 1,
    }
}

impl Library {
    /// Indexes `set` (checked against `pack`) in memory.
    pub fn build(set: ClauseSet, pack: &Pack) -> Result<Library, IndexError> {
        let mut schema = Schema::builder();
        let ordinal = schema.add_u64_field("ordinal", STORED | INDEXED);
        let text = |name: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(name)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let zh = schema.add_text_field("zh", text(Script::Han.tokenizer()));
        let en = schema.add_text_field("en", text(Script::Latin.tokenizer()));
        let index = Index::create_in_ram(schema.build());
        let analysis = Analysis::new(
            set.clauses()
                .flat_map(|(_, c)| c.keywords.zh.iter().map(String::as_str)),
        );
        for script in [Script::Han, Script::Latin] {
            index
                .tokenizers()
                .register(script.tokenizer(), analysis.analyzer(script));
        }
        let mut entries = Vec::new();
        for (_, clause) in set.clauses() {
            let programme_titles = clause
                .programmes
                .iter()
                .filter_map(|id| pack.programme(id))
                .map(|p| Text {
                    zh: p.title.zh.clone(),
                    en: p.title.en.clone(),
                })
                .collect();
            entries.push(Entry {
                clause: clause.clone(),
                programme_titles,
            });
        }
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        let mut vocabularies = [Vocabulary::default(), Vocabulary::default()];
        let mut analyzers = [
            analysis.analyzer(Script::Han),
            analysis.analyzer(Script::Latin),
        ];
        for (i, entry) in entries.iter().enumerate() {
            let zh_text = document_text(entry, pack, |t| &t.zh, &entry.clause.keywords.zh);
            let en_text = document_text(entry, pack, |t| &t.en, &entry.clause.keywords.en);
            for (script, body) in [(Script::Han, &zh_text), (Script::Latin, &en_text)] {
                let vocabulary = &mut vocabularies[slot(script)];
                for term in terms(&mut analyzers[slot(script)], script, body) {
                    vocabulary.terms.entry(term).or_default().insert(i);
                }
            }
            vocabularies[slot(Script::Latin)]
                .spellings
                .extend(analysis.spellings(&en_text));
            writer.add_document(doc!(
                ordinal => i as u64,
                zh => zh_text,
                en => en_text,
            ))?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Library {
            pack: set.pack.clone(),
            pack_version: pack.version().to_owned(),
            entries,
            files: set.files,
            reader,
            ordinal,
            zh,
            en,
            vocabularies,
            analysis,
        })
    }

    pub fn pack(&self) -> &str {
        &self.pack
    }

    pub fn pack_version(&self) -> &str {
        &self.pack_version
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn files(&self) -> &[crate::clauses::ClauseFile] {
        &self.files
    }

    pub fn entry(&self, clause_id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.clause.id == clause_id)
    }

    /// Ranks the clauses for `question` (already checked by
    /// [`crate::question::check`]): BM25 over the question's terms (English
    /// ones corrected to the nearest known spelling), then each clause's
    /// coverage of the question's units.
    pub fn retrieve(&self, question: &str) -> Result<Retrieval, IndexError> {
        let script = Script::of(question);
        let vocabulary = &self.vocabularies[slot(script)];
        let written: HashMap<String, String> = match script {
            Script::Latin => self
                .analysis
                .spellings(question)
                .into_iter()
                .map(|(word, stem)| (stem, word))
                .collect(),
            Script::Han => HashMap::new(),
        };
        let known = |term: String| {
            if vocabulary.terms.contains_key(&term) {
                Some(term)
            } else if script == Script::Latin {
                nearest_spelling(vocabulary, written.get(&term).unwrap_or(&term))
            } else {
                None
            }
        };
        let mut ranked: BTreeSet<String> = BTreeSet::new();
        for term in terms(&mut self.analysis.analyzer(script), script, question) {
            ranked.extend(known(term));
        }
        let n = self.entries.len();
        let mut units: Vec<QueryTerm> = Vec::new();
        let mut holders: Vec<Vec<bool>> = Vec::new();
        for unit in self.analysis.units(script, question) {
            let matched = known(unit.clone());
            let held: Vec<bool> = (0..n)
                .map(|e| vocabulary.holds(e, matched.as_deref().unwrap_or(&unit), script))
                .collect();
            let df = held.iter().filter(|h| **h).count() as f32;
            units.push(QueryTerm {
                term: unit,
                matched,
                weight: (1.0 + (n as f32 - df + 0.5) / (df + 0.5)).ln(),
            });
            holders.push(held);
        }
        let field = match script {
            Script::Han => self.zh,
            Script::Latin => self.en,
        };
        let clauses: Vec<(Occur, Box<dyn Query>)> = ranked
            .iter()
            .map(|m| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, m),
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Should, q)
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Retrieval {
                script,
                terms: units,
                hits: Vec::new(),
            });
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(RANKED).order_by_score(),
        )?;
        let total: f32 = units.iter().map(|t| t.weight).sum();
        let mut hits = Vec::new();
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            let Some(entry) = document
                .get_first(self.ordinal)
                .and_then(|v| v.as_u64())
                .map(|o| o as usize)
            else {
                continue;
            };
            let covers: BTreeSet<usize> = (0..units.len()).filter(|&i| holders[i][entry]).collect();
            let held: f32 = covers.iter().map(|&i| units[i].weight).sum();
            hits.push(Hit {
                entry,
                measure: self.entries[entry].clause.measure,
                score,
                coverage: if total > 0.0 { held / total } else { 0.0 },
                covers,
            });
        }
        Ok(Retrieval {
            script,
            terms: units,
            hits,
        })
    }
}

impl Vocabulary {
    /// Whether clause `entry` holds `unit`: as a term, or (Chinese) as a
    /// sequence of its terms of two characters or more, with at most one
    /// single character left over in a unit of three or more ("本科生" is
    /// held by a clause holding "本科").
    fn holds(&self, entry: usize, unit: &str, script: Script) -> bool {
        let has = |t: &str| self.terms.get(t).is_some_and(|h| h.contains(&entry));
        if has(unit) {
            return true;
        }
        if script == Script::Latin {
            return false;
        }
        let chars: Vec<char> = unit.chars().collect();
        let n = chars.len();
        // reach[i][s]: the first i characters tile with s single characters.
        let mut reach = vec![[false; 2]; n + 1];
        reach[0][0] = true;
        for i in 0..n {
            for s in 0..2 {
                if !reach[i][s] {
                    continue;
                }
                if s == 0 && n >= 3 {
                    reach[i + 1][1] = true;
                }
                for j in i + 2..=n {
                    let piece: String = chars[i..j].iter().collect();
                    if has(&piece) {
                        reach[j][s] = true;
                    }
                }
            }
        }
        reach[n][0] || reach[n][1]
    }
}

/// What a clause's document holds in one language.
fn document_text(
    entry: &Entry,
    pack: &Pack,
    pick: impl Fn(&Text) -> &String,
    keywords: &[String],
) -> String {
    let mut parts: Vec<&str> = vec![pick(&entry.clause.title), pick(&entry.clause.text)];
    parts.extend(keywords.iter().map(String::as_str));
    let descriptions: Vec<Text> = entry
        .clause
        .programmes
        .iter()
        .filter_map(|id| pack.programme(id))
        .map(|p| Text {
            zh: p.description.zh.clone(),
            en: p.description.en.clone(),
        })
        .collect();
    parts.extend(entry.programme_titles.iter().map(&pick).map(String::as_str));
    parts.extend(descriptions.iter().map(&pick).map(String::as_str));
    parts.join("\n")
}

/// The stem of the known English word nearest to a misspelt one: within one
/// edit for five letters or more, two for eight or more; the most widely
/// held on a tie. Shorter words are not corrected (too many neighbours).
fn nearest_spelling(vocabulary: &Vocabulary, word: &str) -> Option<String> {
    let len = word.chars().count();
    let limit = match len {
        0..=4 => return None,
        5..=7 => 1,
        _ => 2,
    };
    vocabulary
        .spellings
        .iter()
        .filter(|(known, _)| known.chars().count().abs_diff(len) <= limit)
        .filter_map(|(known, stem)| {
            let d = edit_distance(word, known);
            let held = vocabulary.terms.get(stem).map_or(0, BTreeSet::len);
            (d <= limit).then_some((d, std::cmp::Reverse(held), stem))
        })
        .min()
        .map(|(_, _, stem)| stem.clone())
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpositions_and_single_edits_are_one_step() {
        assert_eq!(edit_distance("subsidy", "subsdiy"), 1);
        assert_eq!(edit_distance("housing", "husing"), 1);
        assert_eq!(edit_distance("loan", "loan"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
