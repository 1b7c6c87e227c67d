//! Policy packs: the file format, loading, and the loaded model.

mod edit;
pub use edit::{ConditionChange, ConditionChangeError, DatedValue, RevisionError};
pub(crate) mod files;
mod load;
pub use load::ParentSources;
pub(crate) mod model;
