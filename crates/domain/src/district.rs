//! Shenzhen's ten districts, with the ids the policy spec fixes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum District {
    Futian,
    Luohu,
    Yantian,
    Nanshan,
    Baoan,
    Longgang,
    Longhua,
    Pingshan,
    Guangming,
    Dapeng,
}

impl District {
    pub const ALL: [District; 10] = [
        District::Futian,
        District::Luohu,
        District::Yantian,
        District::Nanshan,
        District::Baoan,
        District::Longgang,
        District::Longhua,
        District::Pingshan,
        District::Guangming,
        District::Dapeng,
    ];

    /// The stable id used in the API, the database and the policy pack.
    /// `const` so that compile-time tables (the policy engine's enum words)
    /// can be built from it.
    pub const fn id(self) -> &'static str {
        match self {
            District::Futian => "futian",
            District::Luohu => "luohu",
            District::Yantian => "yantian",
            District::Nanshan => "nanshan",
            District::Baoan => "baoan",
            District::Longgang => "longgang",
            District::Longhua => "longhua",
            District::Pingshan => "pingshan",
            District::Guangming => "guangming",
            District::Dapeng => "dapeng",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            District::Futian => "福田区",
            District::Luohu => "罗湖区",
            District::Yantian => "盐田区",
            District::Nanshan => "南山区",
            District::Baoan => "宝安区",
            District::Longgang => "龙岗区",
            District::Longhua => "龙华区",
            District::Pingshan => "坪山区",
            District::Guangming => "光明区",
            District::Dapeng => "大鹏新区",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            District::Futian => "Futian",
            District::Luohu => "Luohu",
            District::Yantian => "Yantian",
            District::Nanshan => "Nanshan",
            District::Baoan => "Bao'an",
            District::Longgang => "Longgang",
            District::Longhua => "Longhua",
            District::Pingshan => "Pingshan",
            District::Guangming => "Guangming",
            District::Dapeng => "Dapeng",
        }
    }

    /// The four districts where the plan starts (measure 1).
    pub fn is_first_wave(self) -> bool {
        matches!(
            self,
            District::Nanshan | District::Longgang | District::Futian | District::Guangming
        )
    }
}

impl fmt::Display for District {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown district `{0}`")]
pub struct UnknownDistrict(pub String);

impl FromStr for District {
    type Err = UnknownDistrict;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        District::ALL
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or_else(|| UnknownDistrict(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_parse_and_serde() {
        for d in District::ALL {
            assert_eq!(d.id().parse::<District>(), Ok(d));
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.id())
            );
        }
        assert!("shekou".parse::<District>().is_err());
    }
}

/// Who allocates a district's transitional housing in its OPC communities
/// (a district setting; units outside communities are always the
/// district's): its reviewers, or each community's operator.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum HousingAllocator {
    #[default]
    DistrictReviewer,
    CommunityOperator,
}

impl HousingAllocator {
    pub const ALL: [HousingAllocator; 2] = [
        HousingAllocator::DistrictReviewer,
        HousingAllocator::CommunityOperator,
    ];

    /// The stable id used in the API and the database.
    pub const fn id(self) -> &'static str {
        match self {
            HousingAllocator::DistrictReviewer => "district_reviewer",
            HousingAllocator::CommunityOperator => "community_operator",
        }
    }
}

impl FromStr for HousingAllocator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HousingAllocator::ALL
            .into_iter()
            .find(|a| a.id() == s)
            .ok_or_else(|| format!("unknown housing allocator: {s}"))
    }
}
