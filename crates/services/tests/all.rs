//! Every integration test of this crate, as one binary: `cargo test -p
//! opcity-services --test all NAME` runs one file's tests by its module name.

mod account_admin;
mod applications_story;
mod bulk_import;
mod bulk_import_spaces;
mod consult_story;
mod delivery_story;
mod feedback_limit;
mod four_eyes;
mod housing_allocator;
mod information_requests;
mod integrity_story;
mod interests;
mod mail_story;
mod matching_story;
mod outcome_story;
mod own_record;
mod picking;
mod policy_drafts;
mod race_regressions;
mod recheck_story;
mod regions_story;
mod registry_story;
mod resident_id_story;
mod sign_in_throttle;
mod sign_up_story;
mod space_amendments;
mod space_request_fits;
mod spaces_story;
mod voucher_delivery_storm;
mod voucher_story;
mod workbench;
mod workload;
