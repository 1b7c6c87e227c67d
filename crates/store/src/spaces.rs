//! What can be held: instruments, buildings, floors, space units and
//! housing units. The one place their rows are written.
//!
//! Invariants, kept by the database and surfaced as typed errors:
//! - a floor level is unique in its building, a unit code on its floor, a
//!   housing unit code in its district ([`StoreError::Unique`]);
//! - an instrument's manager is an existing account
//!   ([`StoreError::ForeignKey`]).
//!
//! An edit writes every described column at once (the last edit wins, as a
//! form does); the intervals held on a resource are guarded separately
//! ([`crate::bookings`]).

use crate::StoreError;
use crate::entity::{housing_unit, instrument, space_building, space_floor, space_unit};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, Set,
};

/// An instrument's description, as listed or edited.
#[derive(Debug, Clone)]
pub struct InstrumentFields {
    pub name: String,
    pub kind: String,
    pub institution: String,
    pub district: String,
    pub community_id: Option<i64>,
    pub manager_account_id: Option<i64>,
    pub description: String,
    pub slot_minutes: i32,
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub open_days: String,
    pub quota_hours_week: Option<i32>,
    pub requires_approval: bool,
    pub cancel_notice_hours: i32,
    pub no_show_grace_minutes: i32,
    pub active: bool,
}

impl InstrumentFields {
    pub(crate) fn model(self, at: DateTime<Utc>) -> instrument::ActiveModel {
        let f = self;
        instrument::ActiveModel {
            name: Set(f.name),
            kind: Set(f.kind),
            institution: Set(f.institution),
            district: Set(f.district),
            community_id: Set(f.community_id),
            manager_account_id: Set(f.manager_account_id),
            description: Set(f.description),
            slot_minutes: Set(f.slot_minutes),
            opens_minute: Set(f.opens_minute),
            closes_minute: Set(f.closes_minute),
            open_days: Set(f.open_days),
            quota_hours_week: Set(f.quota_hours_week),
            requires_approval: Set(f.requires_approval),
            cancel_notice_hours: Set(f.cancel_notice_hours),
            no_show_grace_minutes: Set(f.no_show_grace_minutes),
            active: Set(f.active),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}

/// Lists an instrument (`id` = `None`) or rewrites instrument `id`.
pub async fn save_instrument(
    tx: &DatabaseTransaction,
    id: Option<i64>,
    f: InstrumentFields,
    at: DateTime<Utc>,
) -> Result<instrument::Model, StoreError> {
    let mut model = f.model(at);
    Ok(match id {
        None => {
            model.created_at = Set(at);
            model.insert(tx).await?
        }
        Some(id) => {
            model.id = Unchanged(id);
            model.update(tx).await?
        }
    })
}

/// A housing unit's description.
#[derive(Debug, Clone)]
pub struct HousingUnitFields {
    pub district: String,
    pub community_id: Option<i64>,
    pub address: String,
    pub code: String,
    pub kind: String,
    pub area_m2: i64,
    pub market_rent_fen: i64,
    pub active: bool,
}

impl HousingUnitFields {
    pub(crate) fn model(self, at: DateTime<Utc>) -> housing_unit::ActiveModel {
        let f = self;
        housing_unit::ActiveModel {
            district: Set(f.district),
            community_id: Set(f.community_id),
            address: Set(f.address),
            code: Set(f.code),
            kind: Set(f.kind),
            area_m2: Set(f.area_m2),
            market_rent_fen: Set(f.market_rent_fen),
            active: Set(f.active),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}

/// Adds a housing unit (`id` = `None`) or rewrites housing unit `id`.
pub async fn save_housing_unit(
    tx: &DatabaseTransaction,
    id: Option<i64>,
    f: HousingUnitFields,
    at: DateTime<Utc>,
) -> Result<housing_unit::Model, StoreError> {
    let mut model = f.model(at);
    Ok(match id {
        None => {
            model.created_at = Set(at);
            model.insert(tx).await?
        }
        Some(id) => {
            model.id = Unchanged(id);
            model.update(tx).await?
        }
    })
}

/// Adds a building.
pub async fn insert_building(
    tx: &DatabaseTransaction,
    community_id: Option<i64>,
    district: &str,
    name: String,
    address: String,
    at: DateTime<Utc>,
) -> Result<space_building::Model, StoreError> {
    Ok(space_building::ActiveModel {
        community_id: Set(community_id),
        district: Set(district.to_owned()),
        name: Set(name),
        address: Set(address),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// Adds a floor; [`StoreError::Unique`] when its building has that level.
pub async fn insert_floor(
    tx: &DatabaseTransaction,
    building_id: i64,
    level: i32,
    label: String,
    at: DateTime<Utc>,
) -> Result<space_floor::Model, StoreError> {
    Ok(space_floor::ActiveModel {
        building_id: Set(building_id),
        level: Set(level),
        label: Set(label),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// What describes a space unit (its floor and site are fixed at creation).
#[derive(Debug, Clone)]
pub struct UnitFields {
    pub kind: String,
    pub code: String,
    pub area_m2: i64,
    pub capacity: i32,
    pub list_rent_fen: i64,
    pub discounted_rent_fen: i64,
    pub active: bool,
}

impl UnitFields {
    pub(crate) fn model(self, at: DateTime<Utc>) -> space_unit::ActiveModel {
        space_unit::ActiveModel {
            kind: Set(self.kind),
            code: Set(self.code),
            area_m2: Set(self.area_m2),
            capacity: Set(self.capacity),
            list_rent_fen: Set(self.list_rent_fen),
            discounted_rent_fen: Set(self.discounted_rent_fen),
            active: Set(self.active),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}

/// Adds a unit on `floor_id` of a building at `community_id`/`district`;
/// [`StoreError::Unique`] when its code is taken.
pub async fn insert_unit(
    tx: &DatabaseTransaction,
    floor_id: i64,
    community_id: Option<i64>,
    district: &str,
    f: UnitFields,
    at: DateTime<Utc>,
) -> Result<space_unit::Model, StoreError> {
    let mut model = f.model(at);
    model.floor_id = Set(floor_id);
    model.community_id = Set(community_id);
    model.district = Set(district.to_owned());
    model.created_at = Set(at);
    Ok(model.insert(tx).await?)
}

/// Rewrites unit `id`'s description; [`StoreError::Unique`] when its new
/// code is taken.
pub async fn update_unit(
    tx: &DatabaseTransaction,
    id: i64,
    f: UnitFields,
    at: DateTime<Utc>,
) -> Result<space_unit::Model, StoreError> {
    let mut model = f.model(at);
    model.id = Unchanged(id);
    Ok(model.update(tx).await?)
}

/// The most people one active unit of `kind` holds at a site: a
/// community's (`community_id`), or `district`'s space outside
/// communities; `None` when the site has no such unit yet.
pub async fn largest_capacity<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
    district: &str,
    kind: &str,
) -> Result<Option<i32>, StoreError> {
    use space_unit::Column as U;
    let mut q = space_unit::Entity::find()
        .select_only()
        .column_as(U::Capacity.max(), "largest")
        .filter(U::Kind.eq(kind))
        .filter(U::Active.eq(true));
    q = match community_id {
        Some(c) => q.filter(U::CommunityId.eq(c)),
        None => q
            .filter(U::CommunityId.is_null())
            .filter(U::District.eq(district)),
    };
    Ok(q.into_tuple::<Option<i32>>().one(db).await?.flatten())
}
