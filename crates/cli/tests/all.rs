//! Every integration test of this crate, as one binary: `cargo test -p
//! opcity-cli --test all NAME` runs one file's tests by its module name.

mod consult_cli;
mod crash_safety;
mod entitlements_cli;
mod import_cli;
mod mail_cli;
mod parquet_cli;
mod platform_cli;
mod policy_cli;
mod vouchers_cli;
