//! Workspace inventory: buildings, floors and units (desk, office, floor) in
//! OPC communities, or in other industrial space of a district. Operators
//! manage their communities' inventory; district reviewers their district's.
//! The dashboard's community area comes from here.

use super::{in_range, one_of};
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use chrono::{DateTime, Utc};
use opcity_domain::District;
use opcity_store::entity::{community, space_agreement, space_building, space_floor, space_unit};
use opcity_store::intervals::Holdings;
use opcity_store::sea_orm::sea_query::{Expr, Func};
use opcity_store::sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use opcity_store::spaces;
use std::collections::BTreeMap;

pub const UNIT_KINDS: [&str; 3] = ["desk", "office", "floor"];

/// A unit kind's place on the growth path desk → office → floor.
pub fn growth_rank(kind: &str) -> usize {
    UNIT_KINDS.iter().position(|k| *k == kind).unwrap_or(0)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildingInput {
    /// The OPC community; absent for other industrial space.
    pub community_id: Option<i64>,
    /// District id; taken from the community when there is one.
    pub district: Option<String>,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BuildingView {
    pub id: i64,
    pub community_id: Option<i64>,
    #[schema(value_type = String)]
    pub district: District,
    pub name: String,
    pub address: String,
}

impl From<&space_building::Model> for BuildingView {
    fn from(b: &space_building::Model) -> Self {
        BuildingView {
            id: b.id,
            community_id: b.community_id,
            district: b.district.parse().expect("district ids are foreign keys"),
            name: b.name.clone(),
            address: b.address.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FloorInput {
    pub building_id: i64,
    pub level: i32,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FloorView {
    pub id: i64,
    pub building_id: i64,
    pub level: i32,
    pub label: String,
}

impl From<&space_floor::Model> for FloorView {
    fn from(f: &space_floor::Model) -> Self {
        FloorView {
            id: f.id,
            building_id: f.building_id,
            level: f.level,
            label: f.label.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    pub floor_id: i64,
    /// `desk`, `office` or `floor`.
    pub kind: String,
    /// The unit's label within its floor, e.g. `A-12`.
    pub code: String,
    pub area_m2: i64,
    /// People it seats.
    pub capacity: i32,
    /// Monthly list rent, fen.
    pub list_rent_fen: i64,
    /// Monthly rent under the programme, fen (at most the list rent).
    pub discounted_rent_fen: i64,
    /// Offered to new requests (default true).
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub id: i64,
    pub floor_id: i64,
    pub community_id: Option<i64>,
    #[schema(value_type = String)]
    pub district: District,
    pub kind: String,
    pub code: String,
    pub area_m2: i64,
    pub capacity: i32,
    pub list_rent_fen: i64,
    pub discounted_rent_fen: i64,
    /// Discount off the list rent, whole percent (rounded down).
    pub discount_percent: i64,
    pub active: bool,
}

impl From<&space_unit::Model> for UnitView {
    fn from(u: &space_unit::Model) -> Self {
        let discount_percent = if u.list_rent_fen > 0 {
            (u.list_rent_fen - u.discounted_rent_fen) * 100 / u.list_rent_fen
        } else {
            0
        };
        UnitView {
            id: u.id,
            floor_id: u.floor_id,
            community_id: u.community_id,
            district: u.district.parse().expect("district ids are checked"),
            kind: u.kind.clone(),
            code: u.code.clone(),
            area_m2: u.area_m2,
            capacity: u.capacity,
            list_rent_fen: u.list_rent_fen,
            discounted_rent_fen: u.discounted_rent_fen,
            discount_percent,
            active: u.active,
        }
    }
}

/// Totals of one unit kind at a site.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct KindTotals {
    pub kind: String,
    pub units: i64,
    pub area_m2: i64,
    pub capacity: i64,
    /// Units held today by an offer or agreement.
    pub held_units: i64,
    pub held_area_m2: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InventoryFloor {
    pub floor: FloorView,
    pub units: Vec<UnitView>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InventoryBuilding {
    pub building: BuildingView,
    pub floors: Vec<InventoryFloor>,
}

/// A site's inventory: a community's, or a district's other industrial space.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InventoryView {
    pub community_id: Option<i64>,
    #[schema(value_type = String)]
    pub district: District,
    pub buildings: Vec<InventoryBuilding>,
    /// One entry per kind, desk → office → floor.
    pub totals: Vec<KindTotals>,
    pub area_m2: i64,
    /// Ids of units held at the moment asked about.
    pub held_unit_ids: Vec<i64>,
}

/// Where premises are: what decides who manages them. District ids in the
/// stored rows are foreign keys to the district table, so they always parse.
pub(crate) fn premises(community_id: Option<i64>, district: &str) -> Resource {
    Resource::Premises {
        community_id,
        district: district.parse().expect("district ids are foreign keys"),
    }
}

impl Services {
    /// The community's district, or the given one for space outside communities.
    async fn site_district<C: ConnectionTrait>(
        &self,
        db: &C,
        community_id: Option<i64>,
        district: Option<&str>,
        c: &mut Checker,
    ) -> Result<Option<District>> {
        if let Some(id) = community_id {
            let found = community::Entity::find_by_id(id).one(db).await?;
            return Ok(match found {
                Some(found) => found.district.parse().ok(),
                None => {
                    c.push(FieldError::new("community_id", "unknown_community"));
                    None
                }
            });
        }
        Ok(c.district("district", district.unwrap_or("")))
    }

    pub async fn create_building(
        &self,
        actor: &Actor,
        input: &BuildingInput,
    ) -> Result<BuildingView> {
        let now = self.now();
        let mut c = Checker::default();
        let db = self.store().db();
        let district = self
            .site_district(db, input.community_id, input.district.as_deref(), &mut c)
            .await?;
        let name = c.required_text("name", &input.name, 200);
        let address = c.required_text("address", &input.address, 300);
        c.finish()?;
        let district = district.expect("checked");
        authorize(
            actor,
            Action::Create,
            Resource::Premises {
                community_id: input.community_id,
                district,
            },
        )?;
        let tx = self.store().begin().await?;
        let saved =
            spaces::insert_building(&tx, input.community_id, district.id(), name, address, now)
                .await?;
        let view = BuildingView::from(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "space_building.create",
            saved.id,
            None,
            view,
        )
        .await
    }

    pub async fn create_floor(&self, actor: &Actor, input: &FloorInput) -> Result<FloorView> {
        let now = self.now();
        let mut c = Checker::default();
        let label = c.required_text("label", &input.label, 100);
        in_range(&mut c, "level", i64::from(input.level), -10, 300);
        let building = space_building::Entity::find_by_id(input.building_id)
            .one(self.store().db())
            .await?;
        if building.is_none() {
            c.push(FieldError::new("building_id", "unknown_building"));
        }
        c.finish()?;
        let building = building.expect("checked");
        authorize(
            actor,
            Action::Create,
            premises(building.community_id, &building.district),
        )?;
        let tx = self.store().begin().await?;
        let saved = spaces::insert_floor(&tx, building.id, input.level, label, now)
            .await
            .map_err(|e| match e {
                err if err.is_unique_on("level")
                    || matches!(err, opcity_store::StoreError::Unique(_)) =>
                {
                    ServiceError::Conflict {
                        code: ErrorCode::FloorExists,
                        field: Some("level"),
                    }
                }
                other => other.into(),
            })?;
        let view = FloorView::from(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "space_floor.create",
            saved.id,
            None,
            view,
        )
        .await
    }

    pub(crate) fn check_unit(c: &mut Checker, input: &UnitInput) -> (String, String) {
        let kind = one_of(c, "kind", &input.kind, &UNIT_KINDS);
        let code = c.required_text("code", &input.code, 50);
        in_range(c, "area_m2", input.area_m2, 1, 100_000);
        in_range(c, "capacity", i64::from(input.capacity), 1, 10_000);
        in_range(c, "list_rent_fen", input.list_rent_fen, 0, 100_000_000_000);
        in_range(
            c,
            "discounted_rent_fen",
            input.discounted_rent_fen,
            0,
            100_000_000_000,
        );
        if input.discounted_rent_fen > input.list_rent_fen {
            c.push(FieldError::new("discounted_rent_fen", "above_list_rent"));
        }
        (kind, code)
    }

    pub async fn create_unit(&self, actor: &Actor, input: &UnitInput) -> Result<UnitView> {
        let now = self.now();
        let mut c = Checker::default();
        let (kind, code) = Self::check_unit(&mut c, input);
        let db = self.store().db();
        let floor = space_floor::Entity::find_by_id(input.floor_id)
            .one(db)
            .await?;
        let building = match &floor {
            Some(f) => {
                space_building::Entity::find_by_id(f.building_id)
                    .one(db)
                    .await?
            }
            None => {
                c.push(FieldError::new("floor_id", "unknown_floor"));
                None
            }
        };
        c.finish()?;
        let building = building.ok_or(ServiceError::NotFound { entity: "building" })?;
        authorize(
            actor,
            Action::Create,
            premises(building.community_id, &building.district),
        )?;
        let tx = self.store().begin().await?;
        let saved = spaces::insert_unit(
            &tx,
            input.floor_id,
            building.community_id,
            &building.district,
            unit_fields(input, kind, code),
            now,
        )
        .await
        .map_err(unit_code_taken)?;
        let view = UnitView::from(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "space_unit.create",
            saved.id,
            None,
            view,
        )
        .await
    }

    /// Changes a unit's description, rents or availability (not its floor).
    pub async fn update_unit(&self, actor: &Actor, id: i64, input: &UnitInput) -> Result<UnitView> {
        let now = self.now();
        let mut c = Checker::default();
        let (kind, code) = Self::check_unit(&mut c, input);
        c.finish()?;
        let tx = self.store().begin().await?;
        let existing = space_unit::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound { entity: "unit" })?;
        authorize(
            actor,
            Action::Update,
            premises(existing.community_id, &existing.district),
        )?;
        if input.floor_id != existing.floor_id {
            return Err(ServiceError::invalid("floor_id", "cannot_change"));
        }
        let before = UnitView::from(&existing);
        let saved = spaces::update_unit(&tx, id, unit_fields(input, kind, code), now)
            .await
            .map_err(unit_code_taken)?;
        let after = UnitView::from(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "space_unit.update",
            id,
            Some(&before),
            after,
        )
        .await
    }

    pub async fn get_unit(&self, actor: &Actor, id: i64) -> Result<UnitView> {
        let unit = space_unit::Entity::find_by_id(id)
            .one(self.store().db())
            .await?
            .ok_or(ServiceError::NotFound { entity: "unit" })?;
        authorize(
            actor,
            Action::Read,
            premises(unit.community_id, &unit.district),
        )?;
        Ok(UnitView::from(&unit))
    }

    /// A site's inventory with totals by kind and the units held at `at`:
    /// a community's (`community_id`), or a district's space outside
    /// communities (`community_id` absent).
    pub async fn inventory(
        &self,
        actor: &Actor,
        community_id: Option<i64>,
        district: Option<District>,
        at: DateTime<Utc>,
    ) -> Result<InventoryView> {
        let db = self.store().db();
        let district = match community_id {
            Some(id) => community::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(ServiceError::NotFound {
                    entity: "community",
                })?
                .district
                .parse()
                .map_err(|_| ServiceError::NotFound {
                    entity: "community",
                })?,
            None => district.ok_or_else(|| ServiceError::invalid("district", "required"))?,
        };
        authorize(
            actor,
            Action::Read,
            Resource::Premises {
                community_id,
                district,
            },
        )?;
        let site = |q: opcity_store::sea_orm::Select<space_building::Entity>| match community_id {
            Some(id) => q.filter(space_building::Column::CommunityId.eq(id)),
            None => q
                .filter(space_building::Column::CommunityId.is_null())
                .filter(space_building::Column::District.eq(district.id())),
        };
        let buildings = site(space_building::Entity::find())
            .order_by_asc(space_building::Column::Id)
            .all(db)
            .await?;
        let building_ids: Vec<i64> = buildings.iter().map(|b| b.id).collect();
        let floors = space_floor::Entity::find()
            .filter(space_floor::Column::BuildingId.is_in(building_ids))
            .order_by_asc(space_floor::Column::Level)
            .all(db)
            .await?;
        let floor_ids: Vec<i64> = floors.iter().map(|f| f.id).collect();
        let units = space_unit::Entity::find()
            .filter(space_unit::Column::FloorId.is_in(floor_ids))
            .order_by_asc(space_unit::Column::Code)
            .all(db)
            .await?;
        let unit_ids: Vec<i64> = units.iter().map(|u| u.id).collect();
        let held: Vec<i64> = space_agreement::Entity::find()
            .select_only()
            .column(space_agreement::Column::UnitId)
            .filter(space_agreement::Column::UnitId.is_in(unit_ids))
            .filter(
                space_agreement::Column::Status
                    .is_in(Holdings::SpaceAgreements.holding_statuses().iter().copied()),
            )
            .filter(space_agreement::Column::StartAt.lte(at))
            .filter(space_agreement::Column::EndAt.gt(at))
            .into_tuple()
            .all(db)
            .await?;
        let mut totals: Vec<KindTotals> = UNIT_KINDS
            .iter()
            .map(|k| KindTotals {
                kind: (*k).to_owned(),
                ..Default::default()
            })
            .collect();
        for u in &units {
            let t = &mut totals[growth_rank(&u.kind)];
            t.units += 1;
            t.area_m2 += u.area_m2;
            t.capacity += i64::from(u.capacity);
            if held.contains(&u.id) {
                t.held_units += 1;
                t.held_area_m2 += u.area_m2;
            }
        }
        let view_buildings = buildings
            .iter()
            .map(|b| InventoryBuilding {
                building: BuildingView::from(b),
                floors: floors
                    .iter()
                    .filter(|f| f.building_id == b.id)
                    .map(|f| InventoryFloor {
                        floor: FloorView::from(f),
                        units: units
                            .iter()
                            .filter(|u| u.floor_id == f.id)
                            .map(UnitView::from)
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        Ok(InventoryView {
            community_id,
            district,
            buildings: view_buildings,
            area_m2: totals.iter().map(|t| t.area_m2).sum(),
            totals,
            held_unit_ids: held,
        })
    }

    /// Inventoried area per community (m²), for the plan dashboard.
    pub(crate) async fn inventoried_area_by_community(&self) -> Result<BTreeMap<i64, i64>> {
        let rows: Vec<(Option<i64>, i64)> = space_unit::Entity::find()
            .select_only()
            .column(space_unit::Column::CommunityId)
            .column_as(
                // PostgreSQL sums bigints as numeric.
                Expr::from(Func::cast_as(
                    Func::sum(Expr::col(space_unit::Column::AreaM2)),
                    "bigint",
                )),
                "area",
            )
            .filter(space_unit::Column::CommunityId.is_not_null())
            .group_by(space_unit::Column::CommunityId)
            .into_tuple()
            .all(self.store().db())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(c, area)| c.map(|c| (c, area)))
            .collect())
    }
}

pub(crate) fn unit_fields(input: &UnitInput, kind: String, code: String) -> spaces::UnitFields {
    spaces::UnitFields {
        kind,
        code,
        area_m2: input.area_m2,
        capacity: input.capacity,
        list_rent_fen: input.list_rent_fen,
        discounted_rent_fen: input.discounted_rent_fen,
        active: input.active.unwrap_or(true),
    }
}

pub(crate) fn unit_code_taken(err: opcity_store::StoreError) -> ServiceError {
    match err {
        opcity_store::StoreError::Unique(_) => ServiceError::Conflict {
            code: ErrorCode::UnitCodeTaken,
            field: Some("code"),
        },
        other => other.into(),
    }
}
