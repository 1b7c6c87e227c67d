//! Policy consultation: a pack's source texts as clauses with stable ids,
//! indexed in memory with tantivy (BM25; jieba for Chinese, a stemmer for
//! English), answers that only quote the clauses they cite, abstention when
//! the clauses do not cover the question, and the evaluation set's metrics.
//! Pure: no clock, no storage, no network; the only I/O is reading the pack's
//! `clauses/` files and an evaluation file.

pub mod analysis;
mod answer;
pub mod clauses;
pub mod eval;
mod index;
pub mod question;

pub use answer::{Citation, Consultation, cited};
pub use clauses::{ClauseError, ClauseSet, Lang, Text};
pub use eval::{EvalReport, EvalSet};
pub use index::{Hit, IndexError, Library, Retrieval};
pub use question::{MAX_CHARS, QuestionError};

/// Loads `<dir>/clauses` for `pack` and indexes it.
pub fn load(dir: &std::path::Path, pack: &opcity_policy::Pack) -> Result<Library, LoadError> {
    let set = ClauseSet::load(dir, pack)?;
    Ok(Library::build(set, pack)?)
}

/// Indexes clause files given as `(path, text)` pairs for `pack` (a pack
/// held in memory); `origin` names them in errors.
pub fn load_texts(
    origin: &str,
    texts: Vec<(String, String)>,
    pack: &opcity_policy::Pack,
) -> Result<Library, LoadError> {
    let set = ClauseSet::from_texts(origin, texts, pack)?;
    Ok(Library::build(set, pack)?)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Clauses(#[from] ClauseError),
    #[error(transparent)]
    Index(#[from] IndexError),
}
