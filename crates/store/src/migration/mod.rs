//! Schema migrations, written once with SeaQuery so each backend gets its own
//! dialect; backend-specific SQL appears only where a backend feature is
//! needed (triggers that make the audit log append-only).

use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_entitlements;
mod m0003_applications;
mod m0004_vouchers;
mod m0005_spaces;
mod m0006_documents;
mod m0007_disputes;
mod m0008_audit_queue;
mod m0009_email;
mod m0010_lookup_indexes;
mod m0011_resident_id_search;
mod m0012_login_addresses;
mod m0013_delivery;
mod m0014_eligibility_flags;
mod m0015_recheck_indexes;
mod m0016_workbench;
mod m0017_account_admin;
mod m0018_feedback;
mod m0019_feedback_sender;
mod m0020_sign_up;
mod m0021_single_sign_on;
mod m0022_declared_interests;
mod m0023_application_messages;
mod m0024_space_amendments;
mod m0025_housing_allocator;
mod m0026_one_person_per_resident_id;
mod m0027_import_runs;
mod m0028_policy_drafts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_entitlements::Migration),
            Box::new(m0003_applications::Migration),
            Box::new(m0004_vouchers::Migration),
            Box::new(m0005_spaces::Migration),
            Box::new(m0006_documents::Migration),
            Box::new(m0007_disputes::Migration),
            Box::new(m0008_audit_queue::Migration),
            Box::new(m0009_email::Migration),
            Box::new(m0010_lookup_indexes::Migration),
            Box::new(m0011_resident_id_search::Migration),
            Box::new(m0012_login_addresses::Migration),
            Box::new(m0013_delivery::Migration),
            Box::new(m0014_eligibility_flags::Migration),
            Box::new(m0015_recheck_indexes::Migration),
            Box::new(m0016_workbench::Migration),
            Box::new(m0017_account_admin::Migration),
            Box::new(m0018_feedback::Migration),
            Box::new(m0019_feedback_sender::Migration),
            Box::new(m0020_sign_up::Migration),
            Box::new(m0021_single_sign_on::Migration),
            Box::new(m0022_declared_interests::Migration),
            Box::new(m0023_application_messages::Migration),
            Box::new(m0024_space_amendments::Migration),
            Box::new(m0025_housing_allocator::Migration),
            Box::new(m0026_one_person_per_resident_id::Migration),
            Box::new(m0027_import_runs::Migration),
            Box::new(m0028_policy_drafts::Migration),
        ]
    }
}
