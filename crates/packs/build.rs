//! `include_dir!` tracks the files it embeds but not files added later: a
//! pack file created or removed under `policies/` rebuilds the crate.

fn main() {
    println!("cargo:rerun-if-changed=../../policies");
}
