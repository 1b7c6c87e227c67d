//! The plan dashboard: the action plan's end-2027 targets against live data,
//! citywide and per district, and the benefits held, by programme.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::Result;
use crate::registry::communities::TARGET_AREA_M2;
use opcity_domain::District;
use opcity_store::entity::{community, enterprise, person};
use opcity_store::sea_orm::sea_query::{Expr, Func};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{BTreeMap, BTreeSet};

/// One of the plan's targets ("more than N" by the end of 2027).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Target {
    /// Stable id: `communities_at_area`, `community_area_m2`, `ai_startups`, `ai_professionals`.
    pub id: &'static str,
    pub value: i64,
    /// The plan says "more than" this figure.
    pub exceeds: i64,
    pub met: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictFigures {
    /// `null` for the row of records with no district given.
    #[schema(value_type = Option<String>)]
    pub district: Option<District>,
    pub communities: i64,
    pub communities_at_area: i64,
    pub community_area_m2: i64,
    pub ai_startups: i64,
    pub ai_professionals: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub targets: Vec<Target>,
    pub communities: i64,
    pub districts: Vec<DistrictFigures>,
    /// What beneficiaries hold today, by programme, from the entitlement
    /// record (every path: applications, allocations, grants by hand).
    pub benefits: Vec<BenefitsHeld>,
}

/// One programme's benefits held on the day.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BenefitsHeld {
    pub programme: String,
    /// Persons or enterprises holding it.
    pub holders: i64,
    /// The amounts of those held with one (fen).
    pub amount_fen: i64,
}

/// The plan's targets (measure 1 and the plan's goals).
pub const TARGET_COMMUNITIES: i64 = 10;
pub const TARGET_AREA_TOTAL_M2: i64 = 500_000;
pub const TARGET_AI_STARTUPS: i64 = 1_000;
pub const TARGET_AI_PROFESSIONALS: i64 = 10_000;

fn target(id: &'static str, value: i64, exceeds: i64) -> Target {
    Target {
        id,
        value,
        exceeds,
        met: value > exceeds,
    }
}

impl Services {
    pub async fn dashboard(&self, actor: &Actor) -> Result<Dashboard> {
        authorize(actor, Action::Read, Resource::Dashboard)?;
        self.plan_figures().await
    }

    /// The figures themselves; the public landing page shows them too.
    pub async fn plan_figures(&self) -> Result<Dashboard> {
        let db = self.store().db();
        let mut rows: BTreeMap<District, DistrictFigures> = District::ALL
            .into_iter()
            .map(|d| {
                (
                    d,
                    DistrictFigures {
                        district: Some(d),
                        ..Default::default()
                    },
                )
            })
            .collect();

        let communities: Vec<(i64, String, i64)> = community::Entity::find()
            .select_only()
            .column(community::Column::Id)
            .column(community::Column::District)
            .column(community::Column::AreaM2)
            .into_tuple()
            .all(db)
            .await?;
        // A community's area is its inventoried units' once the operator has
        // entered its inventory, else the area declared on registration.
        let inventoried = self.inventoried_area_by_community().await?;
        for (id, district, declared) in communities {
            let area = inventoried.get(&id).copied().unwrap_or(declared);
            if let Some(row) = district.parse().ok().and_then(|d| rows.get_mut(&d)) {
                row.communities += 1;
                row.communities_at_area += i64::from(area >= TARGET_AREA_M2);
                row.community_area_m2 += area;
            }
        }
        let startups: Vec<(String, i64)> = enterprise::Entity::find()
            .select_only()
            .column(enterprise::Column::District)
            .column_as(
                Expr::from(Func::count(Expr::col(enterprise::Column::Id))),
                "n",
            )
            .filter(enterprise::Column::AiBusiness.eq(true))
            .group_by(enterprise::Column::District)
            .into_tuple()
            .all(db)
            .await?;
        for (district, n) in startups {
            if let Some(row) = district.parse().ok().and_then(|d| rows.get_mut(&d)) {
                row.ai_startups = n;
            }
        }
        let professionals: Vec<(Option<String>, i64)> = person::Entity::find()
            .select_only()
            .column(person::Column::District)
            .column_as(Expr::from(Func::count(Expr::col(person::Column::Id))), "n")
            .filter(person::Column::WorksInAi.eq(true))
            .group_by(person::Column::District)
            .into_tuple()
            .all(db)
            .await?;
        let mut unplaced = DistrictFigures::default();
        for (district, n) in professionals {
            match district
                .and_then(|d| d.parse().ok())
                .and_then(|d| rows.get_mut(&d))
            {
                Some(row) => row.ai_professionals = n,
                None => unplaced.ai_professionals += n,
            }
        }

        let benefits = self.benefits_held().await?;
        let mut districts: Vec<DistrictFigures> = rows.into_values().collect();
        let sum = |f: fn(&DistrictFigures) -> i64| districts.iter().map(f).sum::<i64>();
        let communities_total = sum(|r| r.communities);
        let at_area = sum(|r| r.communities_at_area);
        let area = sum(|r| r.community_area_m2);
        let ai_startups = sum(|r| r.ai_startups);
        let ai_professionals = sum(|r| r.ai_professionals) + unplaced.ai_professionals;
        if unplaced.ai_professionals > 0 {
            districts.push(unplaced);
        }
        Ok(Dashboard {
            targets: vec![
                target("communities_at_area", at_area, TARGET_COMMUNITIES),
                target("community_area_m2", area, TARGET_AREA_TOTAL_M2),
                target("ai_startups", ai_startups, TARGET_AI_STARTUPS),
                target(
                    "ai_professionals",
                    ai_professionals,
                    TARGET_AI_PROFESSIONALS,
                ),
            ],
            communities: communities_total,
            districts,
            benefits,
        })
    }

    /// Holders and amounts by programme, today (a subject holding a
    /// programme twice counts once among its holders).
    async fn benefits_held(&self) -> Result<Vec<BenefitsHeld>> {
        let today = opcity_domain::today_in_shanghai(self.now());
        let held = opcity_store::grants::held_on(self.store().db(), today).await?;
        let mut by_programme: BTreeMap<&str, (BTreeSet<&str>, i64)> = BTreeMap::new();
        for g in &held {
            let (holders, amount) = by_programme.entry(&g.programme).or_default();
            holders.insert(&g.subject);
            *amount += g.amount_fen.unwrap_or(0);
        }
        Ok(by_programme
            .into_iter()
            .map(|(programme, (holders, amount_fen))| BenefitsHeld {
                programme: programme.to_owned(),
                holders: holders.len() as i64,
                amount_fen,
            })
            .collect())
    }
}
