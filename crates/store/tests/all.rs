//! Every integration test of this crate, as one binary: `cargo test -p
//! opcity-store --test all NAME` runs one file's tests by its module name.

mod account_guards;
mod application_guards;
mod audit_chain;
mod budget_storm;
mod entitlement_and_outbox_guards;
mod grant_guards;
mod holding_transitions;
mod interval_guards;
mod ledger_storm;
mod lookup_indexes;
mod policy_draft_guards;
mod registry_guards;
