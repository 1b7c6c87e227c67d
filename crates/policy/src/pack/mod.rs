//! Policy packs: the file format, loading, and the loaded model.

pub(crate) mod files;
mod load;
pub use load::ParentSources;
pub(crate) mod model;
