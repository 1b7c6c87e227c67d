//! The fact vocabulary fixed by the spec: which facts a condition may read, and
//! their types.
//!
//! Facts are an enum rather than strings so that a compiled condition reads a
//! case field through a `match`, never through a name lookup. The variants are
//! declared in the alphabetical order of their full names, so iterating a
//! [`FactSet`] yields `missing_facts` already sorted.

use crate::case::{Case, Hukou};
use chrono::NaiveDate;
use opcity_domain::District;
use serde::{Serialize, Serializer};

/// A fact conditions may use. `person.id` and `enterprise.uscc` identify the
/// case and are deliberately not facts: no programme depends on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    EnterpriseAiBusiness,
    EnterpriseConsortiumLead,
    EnterpriseDemonstrationProject,
    EnterpriseDistrict,
    EnterpriseGovDeployedProduct,
    EnterpriseInOpcCommunity,
    EnterpriseRegisteredDate,
    EnterpriseSize,
    PersonBirthDate,
    PersonDegreeDate,
    PersonHighLevelTalent,
    PersonHighestDegree,
    PersonHukouShenzhenSince,
    PersonIsFounder,
    PersonKunpengSelected,
    PersonOverseasDegree,
    PersonWorksInAi,
}

/// The type of a fact, as the condition language sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Bool,
    Date,
    /// A date that may be known to be absent (`hukou_shenzhen_since: null`).
    NullableDate,
    Enum(EnumType),
}

/// The closed sets of words some facts take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumType {
    Degree,
    District,
    Size,
}

impl EnumType {
    /// The variant names, in the order of their indexes.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            EnumType::Degree => &["none", "associate", "bachelor", "master", "doctorate"],
            EnumType::District => &DISTRICT_IDS,
            EnumType::Size => &["micro", "small", "medium", "large"],
        }
    }

    pub fn index_of(self, name: &str) -> Option<u8> {
        self.names()
            .iter()
            .position(|n| *n == name)
            .map(|i| i as u8)
    }
}

/// District ids in `District::ALL` order, which is also the enum's
/// declaration order (so `district as u8` indexes this table).
const DISTRICT_IDS: [&str; 10] = {
    let mut ids = [""; 10];
    let mut i = 0;
    while i < 10 {
        ids[i] = District::ALL[i].id();
        i += 1;
    }
    ids
};

impl Fact {
    pub const ALL: [Fact; 17] = [
        Fact::EnterpriseAiBusiness,
        Fact::EnterpriseConsortiumLead,
        Fact::EnterpriseDemonstrationProject,
        Fact::EnterpriseDistrict,
        Fact::EnterpriseGovDeployedProduct,
        Fact::EnterpriseInOpcCommunity,
        Fact::EnterpriseRegisteredDate,
        Fact::EnterpriseSize,
        Fact::PersonBirthDate,
        Fact::PersonDegreeDate,
        Fact::PersonHighLevelTalent,
        Fact::PersonHighestDegree,
        Fact::PersonHukouShenzhenSince,
        Fact::PersonIsFounder,
        Fact::PersonKunpengSelected,
        Fact::PersonOverseasDegree,
        Fact::PersonWorksInAi,
    ];

    /// The name used in conditions and in `missing_facts`.
    pub fn name(self) -> &'static str {
        match self {
            Fact::EnterpriseAiBusiness => "enterprise.ai_business",
            Fact::EnterpriseConsortiumLead => "enterprise.consortium_lead",
            Fact::EnterpriseDemonstrationProject => "enterprise.demonstration_project",
            Fact::EnterpriseDistrict => "enterprise.district",
            Fact::EnterpriseGovDeployedProduct => "enterprise.gov_deployed_product",
            Fact::EnterpriseInOpcCommunity => "enterprise.in_opc_community",
            Fact::EnterpriseRegisteredDate => "enterprise.registered_date",
            Fact::EnterpriseSize => "enterprise.size",
            Fact::PersonBirthDate => "person.birth_date",
            Fact::PersonDegreeDate => "person.degree_date",
            Fact::PersonHighLevelTalent => "person.high_level_talent",
            Fact::PersonHighestDegree => "person.highest_degree",
            Fact::PersonHukouShenzhenSince => "person.hukou_shenzhen_since",
            Fact::PersonIsFounder => "person.is_founder",
            Fact::PersonKunpengSelected => "person.kunpeng_selected",
            Fact::PersonOverseasDegree => "person.overseas_degree",
            Fact::PersonWorksInAi => "person.works_in_ai",
        }
    }

    pub fn fact_type(self) -> FactType {
        match self {
            Fact::EnterpriseRegisteredDate | Fact::PersonBirthDate | Fact::PersonDegreeDate => {
                FactType::Date
            }
            Fact::PersonHukouShenzhenSince => FactType::NullableDate,
            Fact::PersonHighestDegree => FactType::Enum(EnumType::Degree),
            Fact::EnterpriseDistrict => FactType::Enum(EnumType::District),
            Fact::EnterpriseSize => FactType::Enum(EnumType::Size),
            _ => FactType::Bool,
        }
    }

    pub fn from_name(name: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The value of one fact in one case, as explanations show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValue {
    Bool(bool),
    Date(NaiveDate),
    /// A date known to be absent (serializes as `null`).
    NoDate,
    /// Index into the enum type's names.
    Enum(EnumType, u8),
}

impl Serialize for FactValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FactValue::Bool(b) => s.serialize_bool(*b),
            FactValue::Date(d) => d.serialize(s),
            FactValue::NoDate => s.serialize_none(),
            FactValue::Enum(t, i) => s.serialize_str(t.names()[usize::from(*i)]),
        }
    }
}

impl Fact {
    /// The fact's value in `case`; `None` when it is missing, which includes
    /// every enterprise fact of a case without an enterprise.
    pub fn value(self, case: &Case) -> Option<FactValue> {
        use FactValue::{Bool, Date, Enum};
        let p = &case.person;
        let e = case.enterprise.as_ref();
        match self {
            Fact::EnterpriseAiBusiness => e?.ai_business.map(Bool),
            Fact::EnterpriseConsortiumLead => e?.consortium_lead.map(Bool),
            Fact::EnterpriseDemonstrationProject => e?.demonstration_project.map(Bool),
            Fact::EnterpriseDistrict => e?.district.map(|d| Enum(EnumType::District, d as u8)),
            Fact::EnterpriseGovDeployedProduct => e?.gov_deployed_product.map(Bool),
            Fact::EnterpriseInOpcCommunity => e?.in_opc_community.map(Bool),
            Fact::EnterpriseRegisteredDate => e?.registered_date.map(Date),
            Fact::EnterpriseSize => e?.size.map(|z| Enum(EnumType::Size, z as u8)),
            Fact::PersonBirthDate => p.birth_date.map(Date),
            Fact::PersonDegreeDate => p.degree_date.map(Date),
            Fact::PersonHighLevelTalent => p.high_level_talent.map(Bool),
            Fact::PersonHighestDegree => p.highest_degree.map(|g| Enum(EnumType::Degree, g as u8)),
            Fact::PersonHukouShenzhenSince => p.hukou_shenzhen_since.map(|h| match h {
                Hukou::ShenzhenSince(d) => Date(d),
                Hukou::NotShenzhen => FactValue::NoDate,
            }),
            Fact::PersonIsFounder => p.is_founder.map(Bool),
            Fact::PersonKunpengSelected => p.kunpeng_selected.map(Bool),
            Fact::PersonOverseasDegree => p.overseas_degree.map(Bool),
            Fact::PersonWorksInAi => p.works_in_ai.map(Bool),
        }
    }
}

impl Serialize for Fact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A set of facts as a bit mask: unions are what three-valued evaluation does
/// most, and they cost one `or` this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactSet(u32);

impl FactSet {
    pub const EMPTY: FactSet = FactSet(0);

    pub fn of(fact: Fact) -> FactSet {
        FactSet(fact.bit())
    }

    pub fn union(self, other: FactSet) -> FactSet {
        FactSet(self.0 | other.0)
    }

    pub fn insert(&mut self, fact: Fact) {
        self.0 |= fact.bit();
    }

    pub fn contains(self, fact: Fact) -> bool {
        self.0 & fact.bit() != 0
    }

    /// The facts in name order.
    pub fn iter(self) -> impl Iterator<Item = Fact> {
        Fact::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl Serialize for FactSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_declared_in_name_order() {
        let names: Vec<_> = Fact::ALL.iter().map(|f| f.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for (i, f) in Fact::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "ALL must follow declaration order");
            assert_eq!(Fact::from_name(f.name()), Some(*f));
        }
    }

    #[test]
    fn enum_indexes_follow_the_names() {
        use crate::case::{Degree, Size};
        assert_eq!(
            EnumType::Degree.names()[Degree::Doctorate as usize],
            "doctorate"
        );
        assert_eq!(EnumType::Degree.names()[Degree::None as usize], "none");
        assert_eq!(EnumType::Size.names()[Size::Large as usize], "large");
        assert_eq!(
            EnumType::District.names()[District::Dapeng as usize],
            "dapeng"
        );
    }

    #[test]
    fn fact_set_iterates_sorted() {
        let mut set = FactSet::of(Fact::PersonWorksInAi);
        set.insert(Fact::EnterpriseSize);
        set.insert(Fact::PersonBirthDate);
        let names: Vec<_> = set.iter().map(Fact::name).collect();
        assert_eq!(
            names,
            ["enterprise.size", "person.birth_date", "person.works_in_ai"]
        );
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["enterprise.size","person.birth_date","person.works_in_ai"]"#
        );
    }
}
