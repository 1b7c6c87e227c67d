//! Pure domain types shared by every opcity crate.
//!
//! Architecture invariant: nothing in this crate performs I/O, reads the clock
//! implicitly, or knows about storage or HTTP. Everything here is a value type
//! or a pure function, so it can be used from the policy engine and tested
//! exhaustively.

pub mod application;
pub mod civil_date;
pub mod district;
pub mod money;
pub mod resident_id;
pub mod role;
pub mod uscc;

pub use civil_date::{add_years, age_on, today_in_shanghai};
pub use district::{District, HousingAllocator};
pub use money::Fen;
pub use resident_id::{ResidentId, ResidentIdError};
pub use role::Role;
pub use uscc::{Uscc, UsccError};
