//! sea-orm entities, one module per table. Column meanings are documented on
//! the migration that creates them.

pub mod account;
pub mod api_token;
pub mod application;
pub mod application_document;
pub mod application_event;
pub mod audit_log;
pub mod audit_queue;
pub mod benefit_grant;
pub mod budget;
pub mod budget_movement;
pub mod community;
pub mod disbursement;
pub mod district;
pub mod enterprise;
pub mod entitlement;
pub mod founder;
pub mod housing_lease;
pub mod housing_unit;
pub mod instrument;
pub mod instrument_booking;
pub mod ledger_account;
pub mod ledger_transfer;
pub mod login_failure;
pub mod notification;
pub mod person;
pub mod provider;
pub mod review;
pub mod session;
pub mod space_agreement;
pub mod space_building;
pub mod space_floor;
pub mod space_request;
pub mod space_unit;
pub mod voucher_dispute_resolution;
pub mod voucher_use_review;
