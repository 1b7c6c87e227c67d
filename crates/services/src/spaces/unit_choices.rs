//! The units a manager may allocate, named as people find them (code,
//! kind, seats, building and floor, rent): what offer and move forms pick
//! from, so nobody types a unit's number.

use super::inventory::premises;
use crate::Services;
use crate::authz::{Action, Actor, permits};
use crate::error::Result;
use opcity_store::entity::{space_building, space_floor, space_unit};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The most units one picker lists.
const LIMIT: u64 = 2_000;

/// A unit as a picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct UnitChoice {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub capacity: i32,
    pub building: String,
    pub floor: String,
    pub community_id: Option<i64>,
    pub discounted_rent_fen: i64,
}

impl Services {
    /// The active units `actor` manages (and so may offer or move an
    /// agreement to), by building, floor and code.
    pub async fn unit_choices(&self, actor: &Actor) -> Result<Vec<UnitChoice>> {
        let db = self.store().db();
        let units = space_unit::Entity::find()
            .filter(space_unit::Column::Active.eq(true))
            .order_by_asc(space_unit::Column::FloorId)
            .order_by_asc(space_unit::Column::Code)
            .limit(LIMIT)
            .all(db)
            .await?
            .into_iter()
            .filter(|u| permits(actor, Action::Update, premises(u.community_id, &u.district)))
            .collect::<Vec<_>>();
        let floors = crate::rows_by_id::<space_floor::Entity, _>(
            db,
            space_floor::Column::Id,
            units.iter().map(|u| u.floor_id),
            |f| f.id,
        )
        .await?;
        let buildings = crate::rows_by_id::<space_building::Entity, _>(
            db,
            space_building::Column::Id,
            floors.values().map(|f| f.building_id),
            |b| b.id,
        )
        .await?;
        Ok(units
            .iter()
            .map(|u| {
                let floor = floors.get(&u.floor_id);
                UnitChoice {
                    id: u.id,
                    code: u.code.clone(),
                    kind: u.kind.clone(),
                    capacity: u.capacity,
                    building: floor
                        .and_then(|f| buildings.get(&f.building_id))
                        .map(|b| b.name.clone())
                        .unwrap_or_default(),
                    floor: floor.map(|f| f.label.clone()).unwrap_or_default(),
                    community_id: u.community_id,
                    discounted_rent_fen: u.discounted_rent_fen,
                }
            })
            .collect())
    }
}
