//! The registry guard: the one place persons, enterprises, OPC communities
//! and the founder link between persons and enterprises are written.
//!
//! `opcity-services` decides (validation, who may act, encryption of the
//! resident id number); this module guards and persists. Its invariants,
//! kept by the database and surfaced as typed errors:
//! - **One person per account.** A person's account is set at creation
//!   ([`insert_person`]) and never changed by an edit ([`update_person`]
//!   does not write it); a second person of one account is
//!   [`StoreError::Unique`] on `account_id`, an unknown account
//!   [`StoreError::ForeignKey`].
//! - **No resident id number in clear.** The store receives only the
//!   ciphertext and the keyed search hash ([`SealedResidentId`]); an edit
//!   without a number keeps the stored one. [`set_search_hash_if_missing`]
//!   writes a hash only where none is, so the start-up backfill is
//!   idempotent and never overwrites a hash written meanwhile.
//! - **A credit code names one enterprise.** A duplicate USCC, at creation
//!   or by an edit, is [`StoreError::Unique`] on `uscc`.
//! - **A founder link is unique.** A person is linked to an enterprise at
//!   most once ([`link_founder`]: [`StoreError::Unique`] on the pair); an
//!   unknown person is [`StoreError::ForeignKey`].
//! - **A community's operator is an existing account**
//!   ([`StoreError::ForeignKey`]).
//!
//! An edit writes every described column at once (the last edit wins, as a
//! form does); `created_at` is written at creation only. Lists load only
//! the rows in the reader's [`Scope`], which the caller decides.

use crate::StoreError;
use crate::entity::{community, enterprise, founder, person};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Set,
};

/// A resident id number as stored: the ciphertext and the keyed hash for
/// exact search, both computed by the caller (which holds the data key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedResidentId {
    pub cipher: String,
    pub hash: String,
}

/// What describes a person (its account is fixed at creation).
#[derive(Debug, Clone, Default)]
pub struct PersonFields {
    pub full_name: String,
    pub district: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub highest_degree: Option<String>,
    pub degree_date: Option<NaiveDate>,
    pub overseas_degree: Option<bool>,
    pub has_shenzhen_hukou: Option<bool>,
    pub hukou_shenzhen_since: Option<NaiveDate>,
    pub works_in_ai: Option<bool>,
    pub kunpeng_selected: Option<bool>,
    pub high_level_talent: Option<bool>,
    /// `None` keeps the stored number (none, at creation).
    pub resident_id: Option<SealedResidentId>,
}

impl PersonFields {
    pub(crate) fn model(self, at: DateTime<Utc>) -> person::ActiveModel {
        let mut model = person::ActiveModel {
            full_name: Set(self.full_name),
            district: Set(self.district),
            email: Set(self.email),
            birth_date: Set(self.birth_date),
            highest_degree: Set(self.highest_degree),
            degree_date: Set(self.degree_date),
            overseas_degree: Set(self.overseas_degree),
            has_shenzhen_hukou: Set(self.has_shenzhen_hukou),
            hukou_shenzhen_since: Set(self.hukou_shenzhen_since),
            works_in_ai: Set(self.works_in_ai),
            kunpeng_selected: Set(self.kunpeng_selected),
            high_level_talent: Set(self.high_level_talent),
            updated_at: Set(at),
            ..Default::default()
        };
        if let Some(sealed) = self.resident_id {
            model.resident_id_cipher = Set(Some(sealed.cipher));
            model.resident_id_hash = Set(Some(sealed.hash));
        }
        model
    }
}

/// The person `id`.
pub async fn person<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<person::Model>, StoreError> {
    Ok(person::Entity::find_by_id(id).one(db).await?)
}

/// The person who signs in with account `account_id`, if any.
pub async fn person_of_account<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Option<person::Model>, StoreError> {
    Ok(person::Entity::find()
        .filter(person::Column::AccountId.eq(account_id))
        .one(db)
        .await?)
}

/// Links account `account_id` to the person whose resident id hashes to
/// `hash`, if that person has no account yet; the person linked, if one was
/// (single sign-on's verified resident id, `services::sso`).
pub async fn link_person_by_resident_id(
    tx: &DatabaseTransaction,
    hash: &str,
    account_id: i64,
) -> Result<Option<i64>, StoreError> {
    let Some(person) = person::Entity::find()
        .filter(person::Column::ResidentIdHash.eq(hash))
        .one(tx)
        .await?
    else {
        return Ok(None);
    };
    let done = person::Entity::update_many()
        .col_expr(
            person::Column::AccountId,
            sea_orm::sea_query::Expr::value(account_id),
        )
        .filter(person::Column::Id.eq(person.id))
        .filter(person::Column::AccountId.is_null())
        .exec(tx)
        .await?;
    Ok((done.rows_affected == 1).then_some(person.id))
}

/// Adds a person signing in with `account_id`; [`StoreError::Unique`] on
/// `account_id` when that account has a person, [`StoreError::ForeignKey`]
/// when it does not exist.
pub async fn insert_person(
    tx: &DatabaseTransaction,
    account_id: Option<i64>,
    fields: PersonFields,
    at: DateTime<Utc>,
) -> Result<person::Model, StoreError> {
    let mut model = fields.model(at);
    model.account_id = Set(account_id);
    model.created_at = Set(at);
    Ok(model.insert(tx).await?)
}

/// Rewrites person `id`'s description; its account is left as it is.
pub async fn update_person(
    tx: &DatabaseTransaction,
    id: i64,
    fields: PersonFields,
    at: DateTime<Utc>,
) -> Result<person::Model, StoreError> {
    let mut model = fields.model(at);
    model.id = Unchanged(id);
    Ok(model.update(tx).await?)
}

/// Up to `limit` persons after id `after`, in id order, whose number is
/// stored without its search hash (stored before the hash existed).
pub async fn persons_without_search_hash<C: ConnectionTrait>(
    db: &C,
    after: i64,
    limit: u64,
) -> Result<Vec<person::Model>, StoreError> {
    Ok(person::Entity::find()
        .filter(person::Column::Id.gt(after))
        .filter(person::Column::ResidentIdCipher.is_not_null())
        .filter(person::Column::ResidentIdHash.is_null())
        .order_by_asc(person::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Stores `hash` as person `id`'s search hash if it still has none;
/// whether it did.
pub async fn set_search_hash_if_missing(
    tx: &DatabaseTransaction,
    id: i64,
    hash: &str,
) -> Result<bool, StoreError> {
    let done = person::Entity::update_many()
        .col_expr(person::Column::ResidentIdHash, Expr::value(hash.to_owned()))
        .filter(person::Column::Id.eq(id))
        .filter(person::Column::ResidentIdHash.is_null())
        .exec(tx)
        .await?;
    Ok(done.rows_affected > 0)
}

/// What describes an enterprise.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseFields {
    /// The checked Unified Social Credit Code.
    pub uscc: String,
    pub name: String,
    pub registered_date: Option<NaiveDate>,
    pub district: String,
    pub community_id: Option<i64>,
    pub size: Option<String>,
    pub ai_business: Option<bool>,
    pub gov_deployed_product: Option<bool>,
    pub demonstration_project: Option<bool>,
    pub consortium_lead: Option<bool>,
}

impl EnterpriseFields {
    pub(crate) fn model(self, at: DateTime<Utc>) -> enterprise::ActiveModel {
        enterprise::ActiveModel {
            uscc: Set(self.uscc),
            name: Set(self.name),
            registered_date: Set(self.registered_date),
            district: Set(self.district),
            community_id: Set(self.community_id),
            size: Set(self.size),
            ai_business: Set(self.ai_business),
            gov_deployed_product: Set(self.gov_deployed_product),
            demonstration_project: Set(self.demonstration_project),
            consortium_lead: Set(self.consortium_lead),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}

/// The enterprise `id`.
pub async fn enterprise<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<enterprise::Model>, StoreError> {
    Ok(enterprise::Entity::find_by_id(id).one(db).await?)
}

/// The enterprise whose credit code is `uscc` (unique), by number.
pub async fn enterprise_id_by_uscc<C: ConnectionTrait>(
    db: &C,
    uscc: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(enterprise::Entity::find()
        .filter(enterprise::Column::Uscc.eq(uscc))
        .one(db)
        .await?
        .map(|e| e.id))
}

/// Adds an enterprise; [`StoreError::Unique`] on `uscc` when its credit
/// code is taken.
pub async fn insert_enterprise(
    tx: &DatabaseTransaction,
    fields: EnterpriseFields,
    at: DateTime<Utc>,
) -> Result<enterprise::Model, StoreError> {
    let mut model = fields.model(at);
    model.created_at = Set(at);
    Ok(model.insert(tx).await?)
}

/// Rewrites enterprise `id`; [`StoreError::Unique`] on `uscc` when the new
/// credit code is another's.
pub async fn update_enterprise(
    tx: &DatabaseTransaction,
    id: i64,
    fields: EnterpriseFields,
    at: DateTime<Utc>,
) -> Result<enterprise::Model, StoreError> {
    let mut model = fields.model(at);
    model.id = Unchanged(id);
    Ok(model.update(tx).await?)
}

/// The founder link's capacity when a founder registers their enterprise.
pub const LEGAL_REPRESENTATIVE: &str = "legal_representative";

/// Links person `person_id` to enterprise `enterprise_id` as its founder
/// in `capacity`; [`StoreError::Unique`] when they are linked already,
/// [`StoreError::ForeignKey`] when either does not exist.
pub async fn link_founder(
    tx: &DatabaseTransaction,
    person_id: i64,
    enterprise_id: i64,
    capacity: &str,
    at: DateTime<Utc>,
) -> Result<founder::Model, StoreError> {
    Ok(founder::ActiveModel {
        person_id: Set(person_id),
        enterprise_id: Set(enterprise_id),
        capacity: Set(capacity.to_owned()),
        created_at: Set(at),
    }
    .insert(tx)
    .await?)
}

/// The person ids of enterprise `enterprise_id`'s founders, in order.
pub async fn founders_of<C: ConnectionTrait>(
    db: &C,
    enterprise_id: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(founder::Entity::find()
        .filter(founder::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(founder::Column::PersonId)
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.person_id)
        .collect())
}

/// The founder links of the enterprises `ids`, by person id.
pub async fn founder_links<C: ConnectionTrait>(
    db: &C,
    ids: Vec<i64>,
) -> Result<Vec<founder::Model>, StoreError> {
    Ok(founder::Entity::find()
        .filter(founder::Column::EnterpriseId.is_in(ids))
        .order_by_asc(founder::Column::PersonId)
        .all(db)
        .await?)
}

/// The ids of the enterprises person `person_id` founded, in order.
pub async fn enterprises_of_founder<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(founder::Entity::find()
        .filter(founder::Column::PersonId.eq(person_id))
        .order_by_asc(founder::Column::EnterpriseId)
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.enterprise_id)
        .collect())
}

/// What describes an OPC community.
#[derive(Debug, Clone, Default)]
pub struct CommunityFields {
    pub name_zh: String,
    pub name_en: String,
    pub district: String,
    pub address: String,
    pub area_m2: i64,
    pub operator_name: String,
    pub operator_account_id: Option<i64>,
    pub opened_on: Option<NaiveDate>,
}

impl CommunityFields {
    pub(crate) fn model(self, at: DateTime<Utc>) -> community::ActiveModel {
        community::ActiveModel {
            name_zh: Set(self.name_zh),
            name_en: Set(self.name_en),
            district: Set(self.district),
            address: Set(self.address),
            area_m2: Set(self.area_m2),
            operator_name: Set(self.operator_name),
            operator_account_id: Set(self.operator_account_id),
            opened_on: Set(self.opened_on),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}

/// The community `id`.
pub async fn community<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<community::Model>, StoreError> {
    Ok(community::Entity::find_by_id(id).one(db).await?)
}

/// The ids of the communities account `account_id` operates, in order.
pub async fn communities_operated_by<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(community::Entity::find()
        .filter(community::Column::OperatorAccountId.eq(account_id))
        .order_by_asc(community::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// Adds a community; [`StoreError::ForeignKey`] when its operator account
/// does not exist.
pub async fn insert_community(
    tx: &DatabaseTransaction,
    fields: CommunityFields,
    at: DateTime<Utc>,
) -> Result<community::Model, StoreError> {
    let mut model = fields.model(at);
    model.created_at = Set(at);
    Ok(model.insert(tx).await?)
}

/// Rewrites community `id`; [`StoreError::ForeignKey`] when its operator
/// account does not exist.
pub async fn update_community(
    tx: &DatabaseTransaction,
    id: i64,
    fields: CommunityFields,
    at: DateTime<Utc>,
) -> Result<community::Model, StoreError> {
    let mut model = fields.model(at);
    model.id = Unchanged(id);
    Ok(model.update(tx).await?)
}

/// Which rows of a registry list a reader may see (their authorisation
/// scope, decided by the caller). Rows outside it are never loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// The rows of one district (its id).
    District(String),
    /// Only these ids.
    Ids(Vec<i64>),
    /// Enterprises sited in these communities; for communities, these
    /// communities; for persons, nothing.
    Communities(Vec<i64>),
    Nothing,
}

/// Which part of a list, in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// One page of a list and how many rows the whole list has.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub total: u64,
}

async fn page_of<E, C>(
    db: &C,
    query: Select<E>,
    id: E::Column,
    page: Page,
) -> Result<Listed<E::Model>, StoreError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(id)
        .offset(page.offset)
        .limit(page.limit)
        .all(db)
        .await?;
    Ok(Listed { rows, total })
}

/// How a person list is searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonSearch<'a> {
    /// A case-insensitive substring of the full name.
    Name(&'a str),
    /// A whole resident id number, by its keyed search hash (exact only:
    /// no part of a number is stored to match on).
    ResidentIdHash(String),
}

/// The persons in `scope` (and `district`, and matching `search`), a page of them.
pub async fn list_persons<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    district: Option<&str>,
    search: Option<PersonSearch<'_>>,
    page: Page,
) -> Result<Listed<person::Model>, StoreError> {
    let mut query = match scope {
        Scope::All => person::Entity::find(),
        Scope::District(d) => person::Entity::find().filter(person::Column::District.eq(d)),
        Scope::Ids(ids) => person::Entity::find().filter(person::Column::Id.is_in(ids)),
        Scope::Communities(_) | Scope::Nothing => {
            person::Entity::find().filter(person::Column::Id.lt(0))
        }
    };
    if let Some(d) = district {
        query = query.filter(person::Column::District.eq(d));
    }
    query = match search {
        Some(PersonSearch::Name(q)) => query.filter(person::Column::FullName.contains(q)),
        Some(PersonSearch::ResidentIdHash(h)) => query.filter(person::Column::ResidentIdHash.eq(h)),
        None => query,
    };
    page_of(db, query, person::Column::Id, page).await
}

/// The enterprises in `scope` (and `district`, and whose name or credit
/// code holds `text`), a page of them.
pub async fn list_enterprises<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    district: Option<&str>,
    text: Option<&str>,
    page: Page,
) -> Result<Listed<enterprise::Model>, StoreError> {
    let mut query = match scope {
        Scope::All => enterprise::Entity::find(),
        Scope::District(d) => enterprise::Entity::find().filter(enterprise::Column::District.eq(d)),
        Scope::Ids(ids) => enterprise::Entity::find().filter(enterprise::Column::Id.is_in(ids)),
        Scope::Communities(ids) => {
            enterprise::Entity::find().filter(enterprise::Column::CommunityId.is_in(ids))
        }
        Scope::Nothing => enterprise::Entity::find().filter(enterprise::Column::Id.lt(0)),
    };
    if let Some(d) = district {
        query = query.filter(enterprise::Column::District.eq(d));
    }
    if let Some(q) = text {
        query = query.filter(
            Condition::any()
                .add(enterprise::Column::Name.contains(q))
                .add(enterprise::Column::Uscc.contains(q)),
        );
    }
    page_of(db, query, enterprise::Column::Id, page).await
}

/// The communities in `scope` (and `district`, and whose Chinese or
/// English name holds `text`), a page of them.
pub async fn list_communities<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    district: Option<&str>,
    text: Option<&str>,
    page: Page,
) -> Result<Listed<community::Model>, StoreError> {
    let mut query = match scope {
        Scope::All => community::Entity::find(),
        Scope::District(d) => community::Entity::find().filter(community::Column::District.eq(d)),
        Scope::Ids(ids) | Scope::Communities(ids) => {
            community::Entity::find().filter(community::Column::Id.is_in(ids))
        }
        Scope::Nothing => community::Entity::find().filter(community::Column::Id.lt(0)),
    };
    if let Some(d) = district {
        query = query.filter(community::Column::District.eq(d));
    }
    if let Some(q) = text {
        query = query.filter(
            Condition::any()
                .add(community::Column::NameZh.contains(q))
                .add(community::Column::NameEn.contains(q)),
        );
    }
    page_of(db, query, community::Column::Id, page).await
}

/// The registry's two kinds of subject, for walking them a page at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Person,
    Enterprise,
}

/// Up to `limit` ids of `kind` greater than `after`, ascending: one keyset
/// page, so a walk over every record neither skips nor repeats one while
/// records are added.
pub async fn ids_after<C: ConnectionTrait>(
    db: &C,
    kind: SubjectKind,
    after: i64,
    limit: u64,
) -> Result<Vec<i64>, StoreError> {
    match kind {
        SubjectKind::Person => {
            id_page::<person::Entity, _>(db, person::Column::Id, after, limit).await
        }
        SubjectKind::Enterprise => {
            id_page::<enterprise::Entity, _>(db, enterprise::Column::Id, after, limit).await
        }
    }
}

async fn id_page<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    id: E::Column,
    after: i64,
    limit: u64,
) -> Result<Vec<i64>, StoreError> {
    Ok(E::find()
        .select_only()
        .column(id)
        .filter(id.gt(after))
        .order_by_asc(id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}
