//! Demo data for spaces, housing and instruments: the first demo community's
//! inventory (desks and offices on floors 1–2, whole floors 3–6, covering its
//! declared 18,500 m²), Nanshan's transitional housing, and a GPU server and
//! a lab instrument managed by the demo provider.

use crate::Services;
use crate::authz::Actor;
use crate::error::Result;
use crate::spaces::housing::HousingUnitInput;
use crate::spaces::instruments::InstrumentInput;
use crate::spaces::inventory::{BuildingInput, FloorInput, UnitInput};

/// Desks and offices per lower floor, and the area of each upper floor, so
/// that the inventory adds up to the community's declared area.
const DESKS_PER_FLOOR: usize = 20;
const OFFICES_PER_FLOOR: usize = 8;
const WHOLE_FLOOR_M2: i64 = 4_405;

impl Services {
    pub(crate) async fn demo_spaces(
        &self,
        admin: &Actor,
        community_id: i64,
        provider: i64,
    ) -> Result<()> {
        let building = self
            .create_building(
                admin,
                &BuildingInput {
                    community_id: Some(community_id),
                    district: None,
                    name: "智谷大厦".into(),
                    address: "南山区科苑南路示例大厦".into(),
                },
            )
            .await?;
        for level in 1..=6 {
            let floor = self
                .create_floor(
                    admin,
                    &FloorInput {
                        building_id: building.id,
                        level,
                        label: format!("{level}F"),
                    },
                )
                .await?;
            let units: Vec<UnitInput> = if level <= 2 {
                let desks = (1..=DESKS_PER_FLOOR)
                    .map(|n| unit(floor.id, "desk", format!("{level}D{n:02}"), 6, 1, 80_000));
                let offices = (1..=OFFICES_PER_FLOOR).map(|n| {
                    unit(
                        floor.id,
                        "office",
                        format!("{level}O{n:02}"),
                        40,
                        6,
                        480_000,
                    )
                });
                desks.chain(offices).collect()
            } else {
                vec![unit(
                    floor.id,
                    "floor",
                    format!("{level}F"),
                    WHOLE_FLOOR_M2,
                    300,
                    44_050_000,
                )]
            };
            for u in &units {
                self.create_unit(admin, u).await?;
            }
        }
        for (code, kind, area, rent) in [
            ("人才公寓1-101-A", "bed", 8, 90_000),
            ("人才公寓1-101-B", "bed", 8, 90_000),
            ("人才公寓1-102", "room", 18, 220_000),
            ("人才公寓1-103", "room", 18, 220_000),
            ("人才公寓2-201", "apartment", 45, 480_000),
            ("人才公寓2-202", "apartment", 60, 600_000),
        ] {
            self.create_housing_unit(
                admin,
                &HousingUnitInput {
                    district: "nanshan".into(),
                    community_id: None,
                    address: "南山区示例人才公寓".into(),
                    code: code.into(),
                    kind: kind.into(),
                    area_m2: area,
                    market_rent_fen: rent,
                    active: None,
                },
            )
            .await?;
        }
        for (name, kind, approval) in [
            ("A100 GPU 服务器（8卡）", "gpu_server", false),
            ("冷冻电镜", "lab_equipment", true),
        ] {
            self.create_instrument(
                admin,
                &InstrumentInput {
                    name: name.into(),
                    kind: kind.into(),
                    institution: "示例大学算力与实验中心".into(),
                    district: "nanshan".into(),
                    community_id: Some(community_id),
                    manager_account_id: Some(provider),
                    description: None,
                    slot_minutes: 60,
                    opens: "09:00".into(),
                    closes: "21:00".into(),
                    open_days: "123456".into(),
                    quota_hours_week: Some(10),
                    requires_approval: approval,
                    cancel_notice_hours: 24,
                    no_show_grace_minutes: 15,
                    active: None,
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// A unit whose programme rent is half the list rent.
fn unit(
    floor_id: i64,
    kind: &str,
    code: String,
    area_m2: i64,
    capacity: i32,
    list_rent_fen: i64,
) -> UnitInput {
    UnitInput {
        floor_id,
        kind: kind.into(),
        code,
        area_m2,
        capacity,
        list_rent_fen,
        discounted_rent_fen: list_rent_fen / 2,
        active: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_inventory_covers_the_declared_area() {
        let lower = 2 * (DESKS_PER_FLOOR as i64 * 6 + OFFICES_PER_FLOOR as i64 * 40);
        assert_eq!(lower + 4 * WHOLE_FLOOR_M2, 18_500);
    }
}
