//! Every integration test of this crate, as one binary: `cargo test -p
//! opcity-policy --test all NAME` runs one file's tests by its module name.

mod batch_bounds;
mod fast_output;
mod malformed_packs;
mod pack_chain;
mod population;
mod shenzhen_pack;
mod shipped;
mod whatif;
