//! The bulk onboarding guard: many records of one kind written at once,
//! inside the caller's transaction, so that a file is written whole or not
//! at all (`services::import` decides what goes in).
//!
//! Rows go in multi-row `INSERT`s of [`CHUNK`] rows (well inside SQLite's
//! 32,766 and PostgreSQL's 65,535 bound parameters), each returning the
//! ids it made. The registry's invariants hold as for one record
//! ([`crate::registry`]): a credit code taken is [`StoreError::Unique`] on
//! `uscc`, a resident id number held by another person is
//! [`StoreError::Unique`] on `resident_id_hash`, an unknown operator
//! account [`StoreError::ForeignKey`]; the first refusal ends the batch
//! and the caller rolls the transaction back.
//!
//! The lookups ([`persons_by_resident_id_hash`], [`enterprises_by_uscc`])
//! let a preview name the record a row duplicates before anything is
//! written; the constraints, not the lookups, decide when two imports race.

use crate::StoreError;
use crate::entity::{
    account, community, enterprise, founder, housing_unit, import_run, instrument, person,
    space_building, space_floor, space_unit,
};
use crate::registry::{CommunityFields, EnterpriseFields, PersonFields};
use crate::spaces::{HousingUnitFields, InstrumentFields, UnitFields};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect,
};
use std::collections::HashMap;

/// A written import, as [`record_run`] keeps it.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub kind: &'a str,
    pub sha256: &'a str,
    pub file_name: &'a str,
    pub rows: usize,
    /// The ids made.
    pub created: &'a [i64],
    pub actor: &'a str,
}

/// Records a written import; its id. The same file (`sha256`) written
/// twice as one kind is [`StoreError::Unique`] on `sha256`.
pub async fn record_run(
    tx: &DatabaseTransaction,
    run: Run<'_>,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let saved = import_run::ActiveModel {
        kind: Set(run.kind.to_owned()),
        sha256: Set(run.sha256.to_owned()),
        file_name: Set(run.file_name.to_owned()),
        rows: Set(i32::try_from(run.rows).unwrap_or(i32::MAX)),
        created_ids: Set(serde_json::to_string(&id_ranges(run.created)).expect("numbers serialise")),
        actor: Set(run.actor.to_owned()),
        at: Set(at),
        ..Default::default()
    };
    Ok(sea_orm::ActiveModelTrait::insert(saved, tx).await?.id)
}

/// `ids` as ascending `[first, last]` ranges of consecutive ids.
pub fn id_ranges(ids: &[i64]) -> Vec<[i64; 2]> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let mut ranges: Vec<[i64; 2]> = Vec::new();
    for id in sorted {
        match ranges.last_mut() {
            Some(last) if last[1] + 1 == id => last[1] = id,
            _ => ranges.push([id, id]),
        }
    }
    ranges
}

/// Rows per `INSERT` (persons have 18 columns: 18,000 parameters).
const CHUNK: usize = 1_000;

/// Rows per lookup (`IN` lists of this many values).
const LOOKUP: usize = 1_000;

/// Adds enterprises; each one's credit code and id (the order of what an
/// `INSERT … RETURNING` returns is not promised, so each id comes with the
/// code it was made for).
pub async fn insert_enterprises(
    tx: &DatabaseTransaction,
    rows: Vec<EnterpriseFields>,
    at: DateTime<Utc>,
) -> Result<HashMap<String, i64>, StoreError> {
    let models: Vec<enterprise::ActiveModel> = rows
        .into_iter()
        .map(|fields| {
            let mut model = fields.model(at);
            model.created_at = Set(at);
            model
        })
        .collect();
    let mut ids = HashMap::with_capacity(models.len());
    for chunk in models.chunks(CHUNK) {
        let made = enterprise::Entity::insert_many(chunk.to_vec())
            .exec_with_returning(tx)
            .await?;
        ids.extend(made.into_iter().map(|e| (e.uscc, e.id)));
    }
    Ok(ids)
}

/// Links each `(person, enterprise)` pair as founder in `capacity`; a pair
/// linked already stays as it is.
pub async fn link_founders(
    tx: &DatabaseTransaction,
    pairs: &[(i64, i64)],
    capacity: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in pairs.chunks(CHUNK) {
        let rows = chunk
            .iter()
            .map(|&(person_id, enterprise_id)| founder::ActiveModel {
                person_id: Set(person_id),
                enterprise_id: Set(enterprise_id),
                capacity: Set(capacity.to_owned()),
                created_at: Set(at),
            });
        founder::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([founder::Column::PersonId, founder::Column::EnterpriseId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(tx)
            .await?;
    }
    Ok(())
}

/// A row an import adds: its table's active model, stamped with the time.
pub trait NewRow {
    type Entity: EntityTrait;
    fn active(self, at: DateTime<Utc>) -> <Self::Entity as EntityTrait>::ActiveModel;
}

impl NewRow for PersonFields {
    type Entity = person::Entity;
    /// A person without an account: an imported person is linked to one
    /// later, by single sign-on's verified resident id.
    fn active(self, at: DateTime<Utc>) -> person::ActiveModel {
        let mut model = self.model(at);
        model.created_at = Set(at);
        model
    }
}

impl NewRow for CommunityFields {
    type Entity = community::Entity;
    fn active(self, at: DateTime<Utc>) -> community::ActiveModel {
        let mut model = self.model(at);
        model.created_at = Set(at);
        model
    }
}

impl NewRow for HousingUnitFields {
    type Entity = housing_unit::Entity;
    fn active(self, at: DateTime<Utc>) -> housing_unit::ActiveModel {
        let mut model = self.model(at);
        model.created_at = Set(at);
        model
    }
}

impl NewRow for InstrumentFields {
    type Entity = instrument::Entity;
    fn active(self, at: DateTime<Utc>) -> instrument::ActiveModel {
        let mut model = self.model(at);
        model.created_at = Set(at);
        model
    }
}

impl NewRow for NewUnit {
    type Entity = space_unit::Entity;
    fn active(self, at: DateTime<Utc>) -> space_unit::ActiveModel {
        let mut model = self.fields.model(at);
        model.floor_id = Set(self.floor_id);
        model.community_id = Set(self.community_id);
        model.district = Set(self.district);
        model.created_at = Set(at);
        model
    }
}

/// Adds `rows` (persons, communities, housing units, instruments or space
/// units); the ids made. A refusal is as for one row: a resident id number
/// or a code taken is [`StoreError::Unique`], an unknown operator or
/// manager account [`StoreError::ForeignKey`].
pub async fn insert<R>(
    tx: &DatabaseTransaction,
    rows: Vec<R>,
    at: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError>
where
    R: NewRow,
    <R::Entity as EntityTrait>::Model:
        sea_orm::IntoActiveModel<<R::Entity as EntityTrait>::ActiveModel>,
    <R::Entity as EntityTrait>::ActiveModel: Clone,
    <<R::Entity as EntityTrait>::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: Into<i64>,
{
    let models = rows.into_iter().map(|row| row.active(at)).collect();
    insert_chunks::<R::Entity>(tx, models).await
}

async fn insert_chunks<E>(
    tx: &DatabaseTransaction,
    models: Vec<E::ActiveModel>,
) -> Result<Vec<i64>, StoreError>
where
    E: EntityTrait,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: Clone,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: Into<i64>,
{
    // The ids made, in no promised order (callers that pair them with rows
    // return a key with each, as `insert_enterprises` does).
    let mut ids = Vec::with_capacity(models.len());
    for chunk in models.chunks(CHUNK) {
        let keys = E::insert_many(chunk.to_vec())
            .exec_with_returning_keys(tx)
            .await?;
        ids.extend(keys.into_iter().map(Into::into));
    }
    Ok(ids)
}

/// A record found by a value that must not repeat: what names it and
/// decides who may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: i64,
    pub name: String,
    pub district: Option<String>,
    pub community_id: Option<i64>,
}

/// The persons whose resident id hashes to one of `hashes`: hash → holder.
pub async fn persons_by_resident_id_hash<C: ConnectionTrait>(
    db: &C,
    hashes: &[String],
) -> Result<HashMap<String, Holder>, StoreError> {
    let mut found = HashMap::new();
    for chunk in hashes.chunks(LOOKUP) {
        let rows = person::Entity::find()
            .filter(person::Column::ResidentIdHash.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().filter_map(|p| {
            let holder = Holder {
                id: p.id,
                name: p.full_name,
                district: p.district,
                community_id: None,
            };
            Some((p.resident_id_hash?, holder))
        }));
    }
    Ok(found)
}

/// The enterprises whose credit code is one of `codes`: code → holder.
pub async fn enterprises_by_uscc<C: ConnectionTrait>(
    db: &C,
    codes: &[String],
) -> Result<HashMap<String, Holder>, StoreError> {
    let mut found = HashMap::new();
    for chunk in codes.chunks(LOOKUP) {
        let rows = enterprise::Entity::find()
            .filter(enterprise::Column::Uscc.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|e| {
            let holder = Holder {
                id: e.id,
                name: e.name,
                district: Some(e.district),
                community_id: e.community_id,
            };
            (e.uscc, holder)
        }));
    }
    Ok(found)
}

/// Every community (a city has tens to hundreds), for rows that name one.
pub async fn communities<C: ConnectionTrait>(db: &C) -> Result<Vec<community::Model>, StoreError> {
    Ok(community::Entity::find().all(db).await?)
}

/// The accounts whose username is one of `usernames`: username → id.
pub async fn accounts_by_username<C: ConnectionTrait>(
    db: &C,
    usernames: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut found = HashMap::new();
    for chunk in usernames.chunks(LOOKUP) {
        let rows: Vec<(i64, String)> = account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .column(account::Column::Username)
            .filter(account::Column::Username.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|(id, name)| (name, id)));
    }
    Ok(found)
}

/// The founders of the enterprises `ids`, as (enterprise id, person), in
/// person id order.
pub async fn founder_persons<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<(i64, person::Model)>, StoreError> {
    let links = crate::registry::founder_links(db, ids.to_vec()).await?;
    let person_ids: Vec<i64> = links.iter().map(|l| l.person_id).collect();
    let persons: HashMap<i64, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(person_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(links
        .into_iter()
        .filter_map(|l| Some((l.enterprise_id, persons.get(&l.person_id)?.clone())))
        .collect())
}

/// The usernames of the accounts `ids`: id → username.
pub async fn usernames<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<HashMap<i64, String>, StoreError> {
    let rows: Vec<(i64, String)> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .column(account::Column::Username)
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Every housing unit's code: (district, code) → id.
pub async fn housing_unit_codes<C: ConnectionTrait>(
    db: &C,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let rows: Vec<(i64, String, String)> = housing_unit::Entity::find()
        .select_only()
        .column(housing_unit::Column::Id)
        .column(housing_unit::Column::District)
        .column(housing_unit::Column::Code)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, d, c)| ((d, c), id)).collect())
}

/// Every instrument's (district, name) → id.
pub async fn instrument_names<C: ConnectionTrait>(
    db: &C,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let rows: Vec<(i64, String, String)> = instrument::Entity::find()
        .select_only()
        .column(instrument::Column::Id)
        .column(instrument::Column::District)
        .column(instrument::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, d, n)| ((d, n), id)).collect())
}

/// Every building and every floor (a city has thousands at most).
pub async fn buildings_and_floors<C: ConnectionTrait>(
    db: &C,
) -> Result<(Vec<space_building::Model>, Vec<space_floor::Model>), StoreError> {
    Ok((
        space_building::Entity::find().all(db).await?,
        space_floor::Entity::find().all(db).await?,
    ))
}

/// Every space unit's (floor, code) → id.
pub async fn unit_codes<C: ConnectionTrait>(
    db: &C,
) -> Result<HashMap<(i64, String), i64>, StoreError> {
    let rows: Vec<(i64, i64, String)> = space_unit::Entity::find()
        .select_only()
        .column(space_unit::Column::Id)
        .column(space_unit::Column::FloorId)
        .column(space_unit::Column::Code)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, f, c)| ((f, c), id)).collect())
}

/// A space unit to add: its floor, its building's site, its description.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub floor_id: i64,
    pub community_id: Option<i64>,
    pub district: String,
    pub fields: UnitFields,
}

/// Every housing unit, instrument or space unit, in id order, for exports.
pub async fn all<E, C>(db: &C) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::Model: Send + Sync,
{
    use sea_orm::{Iterable, QueryOrder};
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(sea_orm::PrimaryKeyToColumn::into_column(key));
    }
    Ok(query.all(db).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_kept_as_ranges() {
        assert_eq!(
            super::id_ranges(&[7, 3, 4, 5, 9, 10]),
            [[3, 5], [7, 7], [9, 10]]
        );
        assert!(super::id_ranges(&[]).is_empty());
    }
}
