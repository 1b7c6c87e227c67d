//! The role × action × resource table, and the list scopes agreeing with it.

use super::*;
use Action::*;
use District::*;

fn actor(role: Role) -> Actor {
    Actor {
        account_id: 10,
        username: role.id().into(),
        display_name: role.id().into(),
        role,
        district: (role == Role::DistrictReviewer).then_some(Nanshan),
        person_id: (role == Role::Founder).then_some(100),
        enterprise_ids: if role == Role::Founder {
            vec![200]
        } else {
            vec![]
        },
        community_ids: if role == Role::CommunityOperator {
            vec![300]
        } else {
            vec![]
        },
        locale: "en".into(),
        via_token: None,
        declared: Default::default(),
    }
}

const OWN_PERSON: Resource = Resource::Person {
    id: Some(100),
    district: Some(Nanshan),
};
const OTHER_PERSON_HERE: Resource = Resource::Person {
    id: Some(101),
    district: Some(Nanshan),
};
const OTHER_PERSON_THERE: Resource = Resource::Person {
    id: Some(102),
    district: Some(Longgang),
};
const OWN_ENTERPRISE: Resource = Resource::Enterprise {
    id: Some(200),
    district: Nanshan,
    community_id: Some(300),
};
const ENTERPRISE_THERE: Resource = Resource::Enterprise {
    id: Some(201),
    district: Longgang,
    community_id: None,
};
/// A voucher of a municipal kind in the founder's own enterprise (Nanshan).
const OWN_WALLET: Resource = Resource::VoucherWallet {
    enterprise_id: 200,
    district: Nanshan,
    municipal: true,
};
/// A district smart voucher in Nanshan.
const DISTRICT_WALLET: Resource = Resource::VoucherWallet {
    enterprise_id: 202,
    district: Nanshan,
    municipal: false,
};
const WALLET_THERE: Resource = Resource::VoucherWallet {
    enterprise_id: 201,
    district: Longgang,
    municipal: false,
};
const COMMUNITY_RUN: Resource = Resource::Community {
    id: Some(300),
    district: Nanshan,
};
const COMMUNITY_THERE: Resource = Resource::Community {
    id: Some(301),
    district: Longgang,
};

const PREMISES_RUN: Resource = Resource::Premises {
    community_id: Some(300),
    district: Nanshan,
};
const PREMISES_THERE: Resource = Resource::Premises {
    community_id: Some(301),
    district: Longgang,
};
const PREMISES_OUTSIDE_HERE: Resource = Resource::Premises {
    community_id: None,
    district: Nanshan,
};
const INSTRUMENT_OWN: Resource = Resource::Instrument {
    community_id: None,
    manager: Some(10),
};
const INSTRUMENT_IN_COMMUNITY: Resource = Resource::Instrument {
    community_id: Some(300),
    manager: Some(11),
};
const HOLDING_OWN: Resource = Resource::Holding {
    enterprise_id: Some(200),
    person_id: None,
    district: Some(Nanshan),
};
const HOLDING_OWN_PERSON: Resource = Resource::Holding {
    enterprise_id: None,
    person_id: Some(100),
    district: None,
};
const HOLDING_THERE: Resource = Resource::Holding {
    enterprise_id: Some(201),
    person_id: None,
    district: Some(Longgang),
};

/// An enterprise application started by the founder for their enterprise.
const APPLICATION_OWN_ENTERPRISE: Resource = Resource::Application {
    district: Nanshan,
    person_id: Some(100),
    enterprise_id: Some(200),
    draft: false,
};
/// The founder named as applicant for another founder's enterprise.
const APPLICATION_OTHERS_ENTERPRISE: Resource = Resource::Application {
    district: Nanshan,
    person_id: Some(100),
    enterprise_id: Some(202),
    draft: false,
};
const APPLICATION_OTHER_PERSON: Resource = Resource::Application {
    district: Nanshan,
    person_id: Some(101),
    enterprise_id: None,
    draft: false,
};
/// Another person's draft in the reviewer's own district.
const APPLICATION_DRAFT_HERE: Resource = Resource::Application {
    district: Nanshan,
    person_id: Some(101),
    enterprise_id: None,
    draft: true,
};
const APPLICATION_DRAFT_OWN: Resource = Resource::Application {
    district: Nanshan,
    person_id: Some(100),
    enterprise_id: None,
    draft: true,
};
/// Another founder's enterprise in the reviewer's district.
const HOLDING_OTHERS_ENTERPRISE: Resource = Resource::Holding {
    enterprise_id: Some(202),
    person_id: None,
    district: Some(Nanshan),
};
const HOLDING_OWN_PERSON_OTHERS_ENTERPRISE: Resource = Resource::Holding {
    enterprise_id: Some(202),
    person_id: Some(100),
    district: Some(Nanshan),
};

/// The role × action matrix: every role against every kind of record.
/// Columns: founder, operator, reviewer (Nanshan), admin, provider, investor, auditor.
#[test]
fn role_action_matrix() {
    #[rustfmt::skip]
    let cases: &[(Action, Resource, [bool; 7])] = &[
        (Read,   OWN_PERSON,              [true,  false, true,  true, false, false, true ]),
        (Update, OWN_PERSON,              [true,  false, true,  true, false, false, false]),
        (Read,   OTHER_PERSON_HERE,       [false, false, true,  true, false, false, true ]),
        (Update, OTHER_PERSON_THERE,      [false, false, false, true, false, false, false]),
        (Read,   OTHER_PERSON_THERE,      [false, false, false, true, false, false, true ]),
        (Create, Resource::Person { id: None, district: Some(Nanshan) },
                                          [false, false, false, true, false, false, false]),
        // The full birth date and the reveal of the whole resident id.
        (Read,   Resource::PersonalData { person_id: 100, district: Some(Nanshan) },
                                          [true,  false, true,  true, false, false, false]),
        (Read,   Resource::PersonalData { person_id: 101, district: Some(Nanshan) },
                                          [false, false, true,  true, false, false, false]),
        (Read,   Resource::PersonalData { person_id: 102, district: Some(Longgang) },
                                          [false, false, false, true, false, false, false]),
        (Read,   Resource::PersonalData { person_id: 103, district: None },
                                          [false, false, false, true, false, false, false]),
        (Update, Resource::PersonalData { person_id: 100, district: Some(Nanshan) },
                                          [false, false, false, true, false, false, false]),
        (Read,   OWN_ENTERPRISE,          [true,  true,  true,  true, false, true,  true ]),
        (Update, OWN_ENTERPRISE,          [true,  false, true,  true, false, false, false]),
        (Read,   ENTERPRISE_THERE,        [false, false, false, true, false, true,  true ]),
        (Update, ENTERPRISE_THERE,        [false, false, false, true, false, false, false]),
        (Create, Resource::Enterprise { id: None, district: Nanshan, community_id: None },
                                          [true,  false, false, true, false, false, false]),
        (Read,   COMMUNITY_THERE,         [true,  true,  true,  true, true,  true,  true ]),
        (Update, COMMUNITY_RUN,           [false, true,  true,  true, false, false, false]),
        (Update, COMMUNITY_THERE,         [false, false, false, true, false, false, false]),
        (Create, Resource::Community { id: None, district: Nanshan },
                                          [false, false, true,  true, false, false, false]),
        (Read,   Resource::AuditLog,      [false, false, false, true, false, false, true ]),
        (Create, Resource::Account,       [false, false, false, true, false, false, false]),
        (Read,   Resource::Dashboard,     [true,  true,  true,  true, true,  true,  true ]),
        (Read,   Resource::BatchEvaluation, [true, true,  true,  true, true,  true,  true ]),
        (Create, Resource::BatchEvaluation, [false, false, false, true, false, false, false]),
        (Update, Resource::ApiToken { owner: 10 }, [true, true, true, true, true, true, false]),
        (Update, Resource::ApiToken { owner: 11 }, [false, false, false, true, false, false, false]),
        (Update, Resource::AccountSettings { owner: 10 }, [true, true, true, true, true, true, true]),
        (Read,   Resource::AccountSettings { owner: 11 }, [false, false, false, true, false, false, false]),
        (Update, Resource::AccountSettings { owner: 11 }, [false, false, false, true, false, false, false]),
        (Create, Resource::Application { district: Nanshan, person_id: Some(100), enterprise_id: None, draft: true },
                                          [true,  false, false, true, false, false, false]),
        (Update, Resource::Application { district: Nanshan, person_id: Some(101), enterprise_id: Some(200), draft: false },
                                          [true,  false, true,  true, false, false, false]),
        (Read,   Resource::Application { district: Longgang, person_id: Some(102), enterprise_id: None, draft: false },
                                          [false, false, false, true, false, false, true ]),
        // Ownership: the subject is the enterprise when one is named.
        (Create, APPLICATION_OWN_ENTERPRISE,
                                          [true,  false, false, true, false, false, false]),
        (Update, APPLICATION_OWN_ENTERPRISE,
                                          [true,  false, true,  true, false, false, false]),
        (Create, APPLICATION_OTHERS_ENTERPRISE,
                                          [false, false, false, true, false, false, false]),
        (Read,   APPLICATION_OTHERS_ENTERPRISE,
                                          [false, false, true,  true, false, false, true ]),
        (Update, APPLICATION_OTHERS_ENTERPRISE,
                                          [false, false, true,  true, false, false, false]),
        (Create, APPLICATION_OTHER_PERSON,
                                          [false, false, false, true, false, false, false]),
        (Read,   APPLICATION_OTHER_PERSON,
                                          [false, false, true,  true, false, false, true ]),
        // Drafts are the applicant's until submitted.
        (Read,   APPLICATION_DRAFT_HERE,  [false, false, false, true, false, false, true ]),
        (Update, APPLICATION_DRAFT_HERE,  [false, false, false, true, false, false, false]),
        (Update, APPLICATION_DRAFT_OWN,   [true,  false, false, true, false, false, false]),
        (Update, Resource::ApplicationEvidence { person_id: Some(100), enterprise_id: None },
                                          [true,  false, false, true, false, false, false]),
        (Update, Resource::ApplicationEvidence { person_id: Some(100), enterprise_id: Some(200) },
                                          [true,  false, false, true, false, false, false]),
        (Update, Resource::ApplicationEvidence { person_id: Some(101), enterprise_id: None },
                                          [false, false, false, true, false, false, false]),
        (Update, Resource::ApplicationEvidence { person_id: Some(100), enterprise_id: Some(201) },
                                          [false, false, false, true, false, false, false]),
        (Read,   Resource::Budget,        [false, false, true,  true, false, false, true ]),
        (Update, Resource::Budget,        [false, false, false, true, false, false, false]),
        (Read,   Resource::PolicyDraft,   [false, false, false, true, false, false, true ]),
        (Create, Resource::PolicyDraft,   [false, false, false, true, false, false, false]),
        (Update, Resource::PolicyDraft,   [false, false, false, true, false, false, false]),
        // Spaces, housing and instruments. Provider's account is 10 in this table.
        (Read,   PREMISES_RUN,            [true,  true,  true,  true, true,  true,  true ]),
        (Update, PREMISES_RUN,            [false, true,  true,  true, false, false, false]),
        (Create, PREMISES_RUN,            [false, true,  true,  true, false, false, false]),
        (Update, PREMISES_THERE,          [false, false, false, true, false, false, false]),
        (Update, PREMISES_OUTSIDE_HERE,   [false, false, true,  true, false, false, false]),
        (Read,   INSTRUMENT_OWN,          [true,  true,  true,  true, true,  true,  true ]),
        (Create, INSTRUMENT_OWN,          [false, false, false, true, true,  false, false]),
        (Update, INSTRUMENT_OWN,          [false, false, false, true, true,  false, false]),
        (Update, INSTRUMENT_IN_COMMUNITY, [false, true,  false, true, false, false, false]),
        (Read,   HOLDING_OWN,             [true,  false, true,  true, false, false, true ]),
        (Create, HOLDING_OWN,             [true,  false, false, true, false, false, false]),
        (Update, HOLDING_OWN,             [true,  false, false, true, false, false, false]),
        (Update, HOLDING_OWN_PERSON,      [true,  false, false, true, false, false, false]),
        (Read,   HOLDING_THERE,           [false, false, false, true, false, false, true ]),
        // Ownership: another founder's enterprise, or own person with it.
        (Create, HOLDING_OTHERS_ENTERPRISE, [false, false, false, true, false, false, false]),
        (Update, HOLDING_OTHERS_ENTERPRISE, [false, false, false, true, false, false, false]),
        (Read,   HOLDING_OTHERS_ENTERPRISE, [false, false, true,  true, false, false, true ]),
        (Create, HOLDING_OWN_PERSON_OTHERS_ENTERPRISE,
                                          [false, false, false, true, false, false, false]),
        (Create, Resource::Holding { enterprise_id: None, person_id: Some(101), district: Some(Nanshan) },
                                          [false, false, false, true, false, false, false]),
        (Create, Resource::Holding { enterprise_id: None, person_id: None, district: Some(Nanshan) },
                                          [false, false, false, true, false, false, false]),
        // Grants by the subject's district.
        (Create, Resource::Grant { district: Some(Nanshan) },
                                          [false, false, true,  true, false, false, false]),
        (Create, Resource::Grant { district: Some(Longgang) },
                                          [false, false, false, true, false, false, false]),
        (Create, Resource::Grant { district: None },
                                          [false, false, false, true, false, false, false]),
        (Read,   Resource::Grant { district: Some(Nanshan) },
                                          [false, false, false, true, false, false, true ]),
        // Siting an instrument: in a community only by its operator.
        (Create, Resource::InstrumentSite { community_id: None },
                                          [false, false, false, true, true,  false, false]),
        (Create, Resource::InstrumentSite { community_id: Some(300) },
                                          [false, true,  false, true, false, false, false]),
        (Create, Resource::InstrumentSite { community_id: Some(301) },
                                          [false, false, false, true, false, false, false]),
        (Update, Resource::InstrumentSite { community_id: Some(300) },
                                          [false, false, false, true, false, false, false]),
        (Read,   OWN_WALLET,              [true,  false, true,  true, false, false, true ]),
        (Update, OWN_WALLET,              [true,  false, false, true, false, false, false]),
        (Create, OWN_WALLET,              [false, false, false, true, false, false, false]),
        (Create, DISTRICT_WALLET,         [false, false, true,  true, false, false, false]),
        (Read,   WALLET_THERE,            [false, false, false, true, false, false, true ]),
        (Create, WALLET_THERE,            [false, false, false, true, false, false, false]),
        (Read,   Resource::VoucherPool { district: None },
                                          [false, false, true,  true, false, false, true ]),
        (Create, Resource::VoucherPool { district: None },
                                          [false, false, false, true, false, false, false]),
        (Create, Resource::VoucherPool { district: Some(Nanshan) },
                                          [false, false, true,  true, false, false, false]),
        (Update, Resource::VoucherPool { district: Some(Longgang) },
                                          [false, false, false, true, false, false, false]),
        (Create, Resource::Provider { account_id: Some(10), approved: false },
                                          [false, false, false, true, true,  false, false]),
        (Read,   Resource::Provider { account_id: Some(10), approved: false },
                                          [false, false, false, true, true,  false, true ]),
        (Update, Resource::Provider { account_id: Some(10), approved: false },
                                          [false, false, false, true, false, false, false]),
        (Read,   Resource::Provider { account_id: Some(11), approved: false },
                                          [false, false, false, true, false, false, true ]),
        (Read,   Resource::Provider { account_id: Some(11), approved: true },
                                          [true,  true,  true,  true, true,  true,  true ]),
        (Create, Resource::Provider { account_id: Some(11), approved: false },
                                          [false, false, false, true, false, false, false]),
        (Create, Resource::ProviderLedger { account_id: 10 },
                                          [false, false, false, true, true,  false, false]),
        (Read,   Resource::ProviderLedger { account_id: 10 },
                                          [false, false, false, true, true,  false, true ]),
        (Create, Resource::ProviderLedger { account_id: 11 },
                                          [false, false, false, true, false, false, false]),
    ];
    // The columns above are in `Role::ALL`'s order.
    let roles = Role::ALL;
    let mut mismatches = Vec::new();
    for (action, resource, expected) in cases {
        for (role, want) in roles.iter().zip(expected) {
            let got = authorize(&actor(*role), *action, *resource).is_ok();
            if got != *want {
                mismatches.push(format!(
                    "{role:?} {action:?} {resource:?}: got {got}, want {want}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn allocation_scopes_follow_the_same_rules() {
    assert!(allocation_scope(&actor(Role::Auditor)).all);
    let founder = allocation_scope(&actor(Role::Founder));
    assert_eq!(
        (founder.enterprise_ids, founder.person_id, founder.all),
        (vec![200], Some(100), false)
    );
    assert_eq!(
        allocation_scope(&actor(Role::CommunityOperator)).community_ids,
        vec![300]
    );
    assert_eq!(
        allocation_scope(&actor(Role::DistrictReviewer)).district,
        Some(Nanshan)
    );
    assert_eq!(
        allocation_scope(&actor(Role::ServiceProvider)).manager_account,
        Some(10)
    );
    assert_eq!(
        allocation_scope(&actor(Role::Investor)),
        AllocationScope::default()
    );
}

/// The application scope lists exactly what `authorize` lets a
/// non-founder read: district and draft variants of every role.
#[test]
fn application_scopes_follow_the_same_rules() {
    let roles = [
        Role::CommunityOperator,
        Role::DistrictReviewer,
        Role::MunicipalAdmin,
        Role::ServiceProvider,
        Role::Investor,
        Role::Auditor,
    ];
    for role in roles {
        let a = actor(role);
        let scope = application_scope(&a);
        for district in District::ALL {
            for draft in [false, true] {
                let record = Resource::Application {
                    district,
                    person_id: Some(101),
                    enterprise_id: Some(202),
                    draft,
                };
                let listed = scope.is_some_and(|s| {
                    s.district.is_none_or(|d| d == district) && (s.drafts || !draft)
                });
                assert_eq!(
                    listed,
                    authorize(&a, Read, record).is_ok(),
                    "{role:?} {district:?} draft={draft}"
                );
            }
        }
    }
    assert_eq!(application_scope(&actor(Role::Founder)), None);
}

#[test]
fn list_scopes_follow_the_same_rules() {
    assert_eq!(
        list_scope(&actor(Role::DistrictReviewer), Listing::Persons),
        ListScope::District(Nanshan)
    );
    assert_eq!(
        list_scope(&actor(Role::Founder), Listing::Persons),
        ListScope::Ids(vec![100])
    );
    assert_eq!(
        list_scope(&actor(Role::Founder), Listing::Enterprises),
        ListScope::Ids(vec![200])
    );
    assert_eq!(
        list_scope(&actor(Role::CommunityOperator), Listing::Enterprises),
        ListScope::Communities(vec![300])
    );
    assert_eq!(
        list_scope(&actor(Role::ServiceProvider), Listing::Persons),
        ListScope::Nothing
    );
    assert_eq!(
        list_scope(&actor(Role::Auditor), Listing::Persons),
        ListScope::All
    );
}
