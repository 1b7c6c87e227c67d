//! Authorisation: the one place that decides who may do what.
//!
//! Architecture invariant: every service function that reads or changes a
//! record calls [`authorize`] (for one record) or a scope ([`list_scope`],
//! [`application_scope`], [`allocation_scope`], for lists) before touching
//! it; the tests below keep the scopes equal to [`authorize`]. [`permits`]
//! is the same decision without an error, for pages that offer a form only
//! to those the write would allow. The web crate never grants access itself:
//! where a page picks what to show by role, the service call behind it
//! still decides.

use crate::error::ServiceError;
use opcity_domain::{District, Role};

/// Who is acting: a signed-in account (by session or API token), with what
/// the authorisation rules need to know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The district of a district reviewer.
    pub district: Option<District>,
    /// The person record of a founder.
    pub person_id: Option<i64>,
    /// Enterprises the founder founded.
    pub enterprise_ids: Vec<i64>,
    /// Communities a community operator runs.
    pub community_ids: Vec<i64>,
    pub locale: String,
    pub via_token: Option<i64>,
}

impl Actor {
    /// How the audit log names this actor.
    pub fn audit_label(&self) -> String {
        match self.via_token {
            Some(token) => format!("account:{}/token:{token}", self.account_id),
            None => format!("account:{}", self.account_id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
}

/// The record being acted on, with the facts that decide access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Community {
        id: Option<i64>,
        district: District,
    },
    Person {
        id: Option<i64>,
        district: Option<District>,
    },
    Enterprise {
        id: Option<i64>,
        district: District,
        community_id: Option<i64>,
    },
    /// What identifies a person beyond what every reader of their record
    /// sees (the resident id masked, the year of birth): Read = the full
    /// birth date and revealing the whole resident id number (an audited
    /// action). For the person themself and those who act on their record:
    /// their district's reviewer and administrators; not auditors.
    PersonalData {
        person_id: i64,
        district: Option<District>,
    },
    /// Accounts of other people (creating, listing, disabling).
    Account,
    AuditLog,
    Dashboard,
    /// Many cases evaluated against the pack at once (Read): any signed-in
    /// account; it reads nothing but the cases it is sent.
    BatchEvaluation,
    /// An API token owned by an account.
    ApiToken {
        owner: i64,
    },
    /// An account's own settings (e-mail address, notifications, language).
    AccountSettings {
        owner: i64,
    },
    /// An application for a programme, by a person or for an enterprise.
    /// Its subject is the enterprise when one is named, else the person:
    /// a founder acts on it only for a subject of their own (their person
    /// record, or an enterprise they represent or control as the registry's
    /// founder link records). Reviewers see it only once submitted (`draft`:
    /// never submitted yet).
    Application {
        district: District,
        person_id: Option<i64>,
        enterprise_id: Option<i64>,
        draft: bool,
    },
    /// The applicant's side of an application: its form and its documents
    /// (Update = edit them). For the applicant, and for administrators acting
    /// on the applicant's behalf; never for reviewers.
    ApplicationEvidence {
        person_id: Option<i64>,
        enterprise_id: Option<i64>,
    },
    /// A programme budget (figures and funding).
    Budget,
    /// Workspace or housing inventory and the allocations made from it (offers,
    /// agreements, leases): in an OPC community, run by its operator, or (no
    /// community) elsewhere in a district, run by the district.
    Premises {
        community_id: Option<i64>,
        district: District,
    },
    /// A shared instrument and its bookings, managed by the institution's
    /// account (`manager`) or the operator of the community it stands in.
    Instrument {
        community_id: Option<i64>,
        manager: Option<i64>,
    },
    /// Where an instrument stands. Create = site one there (list it, or move
    /// it there): in an OPC community (`Some`) for that community's operator;
    /// outside any community for an institution.
    InstrumentSite {
        community_id: Option<i64>,
    },
    /// The beneficiary's side of an allocation: a person's or enterprise's
    /// requests, acceptances, bookings and granted benefits.
    Holding {
        enterprise_id: Option<i64>,
        person_id: Option<i64>,
        district: Option<District>,
    },
    /// Granted benefits recorded by hand, for a subject of `district`
    /// (`None`: a person without one). Create = record one.
    Grant {
        district: Option<District>,
    },
    /// An enterprise's voucher wallet. Create = issue a voucher into it
    /// (`municipal`: the voucher kind is decided by the city, not the
    /// district); Update = confirm or dispute a use of it.
    VoucherWallet {
        enterprise_id: i64,
        district: District,
        municipal: bool,
    },
    /// A voucher pool (a budget) and the ledger around it: read the pools,
    /// fund them, claw back, run the lifecycle jobs. `district: None` is a
    /// municipal pool.
    VoucherPool {
        district: Option<District>,
    },
    /// A service provider's registration, acting through `account_id`.
    /// Create = register; Update = approve or suspend.
    Provider {
        account_id: Option<i64>,
        approved: bool,
    },
    /// A provider's redemptions (holds, captures, voids) and its settlement
    /// reports. Create = redeem vouchers as that provider.
    ProviderLedger {
        account_id: i64,
    },
}

/// Allows `actor` when either rule allows it: an allocation is seen by its
/// holder (a [`Resource::Holding`]) and by whoever manages what it allocates.
pub fn authorize_either(
    actor: &Actor,
    first: (Action, Resource),
    second: (Action, Resource),
) -> Result<(), ServiceError> {
    authorize(actor, first.0, first.1).or_else(|_| authorize(actor, second.0, second.1))
}

/// Allows or refuses `action` on `resource` for `actor`.
pub fn authorize(actor: &Actor, action: Action, resource: Resource) -> Result<(), ServiceError> {
    if permits(actor, action, resource) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

fn in_district(actor: &Actor, district: Option<District>) -> bool {
    actor.district.is_some() && actor.district == district
}

fn runs_community(actor: &Actor, community_id: Option<i64>) -> bool {
    actor.role == Role::CommunityOperator
        && community_id.is_some_and(|c| actor.community_ids.contains(&c))
}

/// Operators run their communities' premises; a district reviewer runs every
/// premises of the district (including other industrial space).
fn manages_premises(actor: &Actor, community_id: Option<i64>, district: District) -> bool {
    runs_community(actor, community_id)
        || (actor.role == Role::DistrictReviewer && in_district(actor, Some(district)))
}

fn manages_instrument(actor: &Actor, community_id: Option<i64>, manager: Option<i64>) -> bool {
    (actor.role == Role::ServiceProvider && manager == Some(actor.account_id))
        || runs_community(actor, community_id)
}

/// The actor's own person record.
fn own_person(actor: &Actor, person_id: Option<i64>) -> bool {
    person_id.is_some() && person_id == actor.person_id
}

/// An enterprise the actor represents or controls (the registry's founder link).
fn own_enterprise(actor: &Actor, enterprise_id: Option<i64>) -> bool {
    enterprise_id.is_some_and(|e| actor.enterprise_ids.contains(&e))
}

/// Whether every party named is the founder's own: what a founder may ask
/// for on someone's behalf (an application, a request, a booking).
fn all_own(actor: &Actor, enterprise_id: Option<i64>, person_id: Option<i64>) -> bool {
    actor.role == Role::Founder
        && (enterprise_id.is_some() || person_id.is_some())
        && (enterprise_id.is_none() || own_enterprise(actor, enterprise_id))
        && (person_id.is_none() || own_person(actor, person_id))
}

/// A founder holds an allocation when any of its holders is theirs; creating
/// one needs every party named to be theirs.
fn holds(
    actor: &Actor,
    action: Action,
    enterprise_id: Option<i64>,
    person_id: Option<i64>,
) -> bool {
    match action {
        Action::Create => all_own(actor, enterprise_id, person_id),
        Action::Read | Action::Update => {
            actor.role == Role::Founder
                && (own_enterprise(actor, enterprise_id) || own_person(actor, person_id))
        }
    }
}

/// A founder acts on an application when its subject is theirs: the
/// enterprise when one is named (whoever started it), else the person.
/// Starting one needs every party named to be theirs.
fn applies(
    actor: &Actor,
    action: Action,
    enterprise_id: Option<i64>,
    person_id: Option<i64>,
) -> bool {
    actor.role == Role::Founder
        && match (action, enterprise_id) {
            (Action::Create, _) => all_own(actor, enterprise_id, person_id),
            (_, Some(_)) => own_enterprise(actor, enterprise_id),
            (_, None) => own_person(actor, person_id),
        }
}

/// Whether [`authorize`] would allow `action` on `resource` for `actor`:
/// for pages deciding which forms and buttons to offer.
pub fn permits(actor: &Actor, action: Action, resource: Resource) -> bool {
    use Action::*;
    use Resource::*;
    use Role::*;
    match (actor.role, resource) {
        (MunicipalAdmin, _) => true,
        (
            role,
            PersonalData {
                person_id,
                district,
            },
        ) => {
            action == Read
                && match role {
                    Founder => actor.person_id == Some(person_id),
                    DistrictReviewer => in_district(actor, district),
                    _ => false,
                }
        }
        // Everyone keeps their own settings, auditors included.
        (_, AccountSettings { owner }) => owner == actor.account_id,
        (Auditor, _) => action == Read,
        (_, Dashboard | BatchEvaluation) => action == Read,
        (_, ApiToken { owner }) => owner == actor.account_id,
        (
            _,
            Premises {
                community_id,
                district,
            },
        ) => action == Read || manages_premises(actor, community_id, district),
        (
            _,
            Instrument {
                community_id,
                manager,
            },
        ) => action == Read || manages_instrument(actor, community_id, manager),
        (
            _,
            Holding {
                enterprise_id,
                person_id,
                district,
            },
        ) => {
            holds(actor, action, enterprise_id, person_id)
                || (action == Read
                    && actor.role == DistrictReviewer
                    && in_district(actor, district))
        }
        (_, InstrumentSite { community_id }) => {
            action == Create
                && match community_id {
                    Some(_) => runs_community(actor, community_id),
                    None => actor.role == ServiceProvider,
                }
        }
        (_, Grant { district }) => {
            action == Create && actor.role == DistrictReviewer && in_district(actor, district)
        }

        (
            role,
            VoucherWallet {
                enterprise_id,
                district,
                municipal,
            },
        ) => match (role, action) {
            (Founder, Read | Update) => actor.enterprise_ids.contains(&enterprise_id),
            (DistrictReviewer, Read) => in_district(actor, Some(district)),
            (DistrictReviewer, Create) => !municipal && in_district(actor, Some(district)),
            _ => false,
        },
        (DistrictReviewer, VoucherPool { district }) => {
            action == Read || (district.is_some() && in_district(actor, district))
        }
        (_, VoucherPool { .. }) => false,
        (_, Provider { approved, .. }) if action == Read && approved => true,
        (ServiceProvider, Provider { account_id, .. }) => {
            action != Update && account_id == Some(actor.account_id)
        }
        (_, Provider { .. }) => false,
        (ServiceProvider, ProviderLedger { account_id }) => account_id == actor.account_id,
        (_, ProviderLedger { .. }) => false,

        (DistrictReviewer, Community { district, .. }) => {
            action == Read || in_district(actor, Some(district))
        }
        (DistrictReviewer, Person { district, .. }) => {
            action != Create && in_district(actor, district)
        }
        (DistrictReviewer, Enterprise { district, .. }) => {
            action != Create && in_district(actor, Some(district))
        }

        (Founder, Community { .. }) => action == Read,
        (Founder, Person { id, .. }) => action != Create && id.is_some() && id == actor.person_id,
        (Founder, Enterprise { id, .. }) => match action {
            // A founder registers their own enterprise; the service links them.
            Create => actor.person_id.is_some(),
            Read | Update => id.is_some_and(|id| actor.enterprise_ids.contains(&id)),
        },

        (CommunityOperator, Community { id, .. }) => {
            action == Read
                || (action == Update && id.is_some_and(|id| actor.community_ids.contains(&id)))
        }
        (CommunityOperator, Enterprise { community_id, .. }) => {
            action == Read && community_id.is_some_and(|c| actor.community_ids.contains(&c))
        }

        (ServiceProvider | Investor, Community { .. }) => action == Read,
        (Investor, Enterprise { .. }) => action == Read,

        (
            Founder,
            Application {
                person_id,
                enterprise_id,
                ..
            },
        ) => applies(actor, action, enterprise_id, person_id),
        (
            Founder,
            ApplicationEvidence {
                person_id,
                enterprise_id,
            },
        ) => action == Update && applies(actor, action, enterprise_id, person_id),
        (
            DistrictReviewer,
            Application {
                district, draft, ..
            },
        ) => !draft && action != Create && in_district(actor, Some(district)),
        (DistrictReviewer, Budget) => action == Read,
        (_, Application { .. } | ApplicationEvidence { .. } | Budget) => false,

        (_, Account | AuditLog) => false,
        (ServiceProvider | CommunityOperator | Investor, Person { .. }) => false,
        (ServiceProvider, Enterprise { .. }) => false,
    }
}

/// Which allocations (space requests and agreements, leases, bookings) an
/// actor may list: everything, or those matching any of the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocationScope {
    pub all: bool,
    /// Held by these enterprises (a founder's own).
    pub enterprise_ids: Vec<i64>,
    /// Held by this person (a founder's own record).
    pub person_id: Option<i64>,
    /// On premises of these communities (their operator).
    pub community_ids: Vec<i64>,
    /// On any premises of this district (its reviewer).
    pub district: Option<District>,
    /// Instruments managed by this account (an institution).
    pub manager_account: Option<i64>,
}

/// The allocation scope of `actor`; records outside it are never loaded.
pub fn allocation_scope(actor: &Actor) -> AllocationScope {
    use Role::*;
    match actor.role {
        MunicipalAdmin | Auditor => AllocationScope {
            all: true,
            ..Default::default()
        },
        Founder => AllocationScope {
            enterprise_ids: actor.enterprise_ids.clone(),
            person_id: actor.person_id,
            ..Default::default()
        },
        CommunityOperator => AllocationScope {
            community_ids: actor.community_ids.clone(),
            ..Default::default()
        },
        DistrictReviewer => AllocationScope {
            district: actor.district,
            ..Default::default()
        },
        ServiceProvider => AllocationScope {
            manager_account: Some(actor.account_id),
            ..Default::default()
        },
        Investor => AllocationScope::default(),
    }
}

/// Which applications an actor may list (the review queue, the treasury's
/// instalments): those of one district or of all, with or without drafts.
/// `None`: none at all. Agrees with [`authorize`]'s `Read` of
/// [`Resource::Application`] for every record outside a founder's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplicationScope {
    /// Only this district's; `None`: every district's.
    pub district: Option<District>,
    /// Drafts (never submitted) included.
    pub drafts: bool,
}

/// The application scope of `actor`; records outside it are never loaded.
pub fn application_scope(actor: &Actor) -> Option<ApplicationScope> {
    use Role::*;
    match actor.role {
        MunicipalAdmin | Auditor => Some(ApplicationScope {
            district: None,
            drafts: true,
        }),
        DistrictReviewer => actor.district.map(|d| ApplicationScope {
            district: Some(d),
            drafts: false,
        }),
        Founder | CommunityOperator | ServiceProvider | Investor => None,
    }
}

/// Which records of a kind an actor may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    All,
    District(District),
    Ids(Vec<i64>),
    /// Enterprises sited in these communities.
    Communities(Vec<i64>),
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Communities,
    Persons,
    Enterprises,
}

/// The scope of a list query for `actor`; records outside it are never loaded.
pub fn list_scope(actor: &Actor, listing: Listing) -> ListScope {
    use Role::*;
    match (actor.role, listing) {
        (MunicipalAdmin | Auditor, _) => ListScope::All,
        (_, Listing::Communities) => ListScope::All,
        (DistrictReviewer, _) => actor
            .district
            .map_or(ListScope::Nothing, ListScope::District),
        (Founder, Listing::Persons) => actor
            .person_id
            .map_or(ListScope::Nothing, |p| ListScope::Ids(vec![p])),
        (Founder, Listing::Enterprises) => ListScope::Ids(actor.enterprise_ids.clone()),
        (CommunityOperator, Listing::Enterprises) => {
            ListScope::Communities(actor.community_ids.clone())
        }
        (Investor, Listing::Enterprises) => ListScope::All,
        (CommunityOperator | Investor | ServiceProvider, Listing::Persons) => ListScope::Nothing,
        (ServiceProvider, Listing::Enterprises) => ListScope::Nothing,
    }
}

#[cfg(test)]
mod tests {
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
        let roles = [
            Role::Founder,
            Role::CommunityOperator,
            Role::DistrictReviewer,
            Role::MunicipalAdmin,
            Role::ServiceProvider,
            Role::Investor,
            Role::Auditor,
        ];
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
}
