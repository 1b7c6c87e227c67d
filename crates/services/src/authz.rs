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
use opcity_domain::{District, HousingAllocator, Role};

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
    /// The parties this reviewer declared an interest in (the
    /// conflict-of-interest register, `interests`): their cases are not
    /// theirs to decide.
    pub declared: Declared,
}

/// A reviewer's active declarations of interest, by party.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    pub persons: Vec<i64>,
    pub enterprises: Vec<i64>,
}

/// The account id of [`Actor::console`] (accounts are numbered from 1).
const CONSOLE_ACCOUNT: i64 = 0;

impl Actor {
    /// The command line's own authority (`opcity import` without `--as`):
    /// whoever runs it holds the database and its key, so it acts as a city
    /// administrator of no account, audited as `system:console`.
    pub fn console() -> Actor {
        Actor {
            account_id: CONSOLE_ACCOUNT,
            username: "console".into(),
            display_name: "Command line".into(),
            role: Role::MunicipalAdmin,
            district: None,
            person_id: None,
            enterprise_ids: Vec::new(),
            community_ids: Vec::new(),
            locale: "zh-CN".into(),
            via_token: None,
            declared: Declared::default(),
        }
    }

    /// How the audit log names this actor.
    pub fn audit_label(&self) -> String {
        if self.account_id == CONSOLE_ACCOUNT {
            return "system:console".into();
        }
        match self.via_token {
            Some(token) => format!("account:{}/token:{token}", self.account_id),
            None => format!("account:{}", self.account_id),
        }
    }
}

/// The account an audit label names (`account:5`, `account:5/token:2`):
/// the inverse of [`Actor::audit_label`]; `None` for `system:…`.
pub(crate) fn account_in_label(label: &str) -> Option<i64> {
    label
        .strip_prefix("account:")?
        .split('/')
        .next()?
        .parse()
        .ok()
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
    /// Who works the cases of a district (Update = take a case, give it
    /// to someone, or release it; and be given one): its reviewers and
    /// the city's administrators.
    Casework {
        district: District,
    },
    /// The conflict-of-interest register: a reviewer's own declarations
    /// (`owner`); administrators and auditors read everyone's.
    Interests {
        owner: i64,
    },
    /// A programme budget (figures and funding).
    Budget,
    /// Drafts of policy changes and their simulated impact: the city's
    /// administrators write them, auditors read them.
    PolicyDraft,
    /// Workspace or housing inventory and the allocations made from it (offers,
    /// agreements, leases): in an OPC community, run by its operator, or (no
    /// community) elsewhere in a district, run by the district.
    Premises {
        community_id: Option<i64>,
        district: District,
    },
    /// The tenancies of a housing unit (allocating it, moving tenants in
    /// and out, renewing): `by` is who allocates it — the district's
    /// reviewers, or (where the district leaves its communities' housing to
    /// them) the operator of the community it stands in.
    HousingAllocation {
        community_id: Option<i64>,
        district: District,
        by: HousingAllocator,
    },
    /// A district's settings (who allocates its housing): the city sets
    /// them, everyone reads them.
    DistrictSettings,
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
            HousingAllocation {
                community_id,
                district,
                by,
            },
        ) => {
            action == Read
                || match by {
                    HousingAllocator::CommunityOperator => runs_community(actor, community_id),
                    HousingAllocator::DistrictReviewer => {
                        actor.role == DistrictReviewer && in_district(actor, Some(district))
                    }
                }
        }
        (_, DistrictSettings) => action == Read,
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
        // A founder keeps their own record, and enters it when they have none
        // yet (a self-registered account); the record is then theirs.
        (Founder, Person { id, .. }) => match action {
            Create => id.is_none() && actor.person_id.is_none(),
            _ => id.is_some() && id == actor.person_id,
        },
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
        (DistrictReviewer, Casework { district }) => in_district(actor, Some(district)),
        (DistrictReviewer, Interests { owner }) => owner == actor.account_id,
        (_, Interests { .. }) => false,
        (_, Application { .. } | ApplicationEvidence { .. } | Budget | Casework { .. }) => false,

        (_, Account | AuditLog | PolicyDraft) => false,
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
mod tests;
