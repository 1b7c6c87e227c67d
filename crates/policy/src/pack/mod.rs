//! Policy packs: the file format, loading, and the loaded model.

pub(crate) mod files;
mod load;
pub(crate) mod model;
