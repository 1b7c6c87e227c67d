//! Every integration test of this crate, as one binary: `cargo test -p
//! opcity-web --test all NAME` runs one file's tests by its module name.

mod access_matrix;
mod account_pages;
mod api;
mod application_pages;
mod applications_api;
mod apply_pages;
mod browser;
mod browser_consult;
mod browser_journeys;
mod browser_outcomes;
mod browser_phone;
mod browser_settings;
mod browser_workbench;
mod consult_api;
mod consult_page;
mod delivery_pages;
mod help_pages;
mod integrity_page;
mod offered_forms;
mod openapi_document;
mod outcome_pages;
mod pages;
mod policy_api;
mod resident_ids;
mod robustness;
mod selfcheck_page;
mod settings;
mod spaces_api;
mod spaces_pages;
mod token_pages;
mod unknown_and_uploads;
mod vouchers_api;
mod vouchers_page;
mod workbench_pages;
