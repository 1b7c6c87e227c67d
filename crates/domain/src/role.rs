//! Account roles. What each role may do is decided in one place, the
//! services crate's authorisation module; this is only the vocabulary.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Founder,
    CommunityOperator,
    DistrictReviewer,
    MunicipalAdmin,
    ServiceProvider,
    Investor,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Founder,
        Role::CommunityOperator,
        Role::DistrictReviewer,
        Role::MunicipalAdmin,
        Role::ServiceProvider,
        Role::Investor,
        Role::Auditor,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Role::Founder => "founder",
            Role::CommunityOperator => "community_operator",
            Role::DistrictReviewer => "district_reviewer",
            Role::MunicipalAdmin => "municipal_admin",
            Role::ServiceProvider => "service_provider",
            Role::Investor => "investor",
            Role::Auditor => "auditor",
        }
    }

    /// Roles whose authority is limited to one district.
    pub fn is_district_scoped(self) -> bool {
        matches!(self, Role::DistrictReviewer)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.id() == s)
            .ok_or_else(|| format!("unknown role `{s}`"))
    }
}
