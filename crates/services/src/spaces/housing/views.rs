//! Reading leases and occupancy.

use super::*;

pub(super) async fn get_lease(svc: &Services, actor: &Actor, id: i64) -> Result<LeaseView> {
    let db = svc.store().db();
    let lease = load_lease(db, id).await?;
    let unit = load_unit(db, lease.housing_unit_id).await?;
    authorize_either(
        actor,
        (Action::Read, lease_holding(&lease, &unit)),
        (Action::Update, unit_resource(&unit)),
    )?;
    let mut view = lease_view(&lease, &unit);
    crate::name_parties(db, [&mut view]).await?;
    Ok(view)
}

/// Leases the actor may see, by start.
pub(super) async fn list_leases(svc: &Services, actor: &Actor) -> Result<Vec<LeaseView>> {
    let units = UnitTable {
        table: housing_unit::Entity,
        id: housing_unit::Column::Id,
        community: housing_unit::Column::CommunityId,
        district: housing_unit::Column::District,
    };
    let Some(visible) = holdings_by_unit(
        &allocation_scope(actor),
        housing_lease::Column::EnterpriseId,
        housing_lease::Column::PersonId,
        housing_lease::Column::HousingUnitId,
        &units,
    ) else {
        return Ok(Vec::new());
    };
    let q = housing_lease::Entity::find().filter(visible);
    let db = svc.store().db();
    let rows = q
        .order_by_asc(housing_lease::Column::StartAt)
        .limit(1_000)
        .all(db)
        .await?;
    let units = crate::rows_by_id::<housing_unit::Entity, _>(
        db,
        housing_unit::Column::Id,
        rows.iter().map(|l| l.housing_unit_id),
        |u| u.id,
    )
    .await?;
    let mut views: Vec<LeaseView> = rows
        .iter()
        .filter_map(|l| units.get(&l.housing_unit_id).map(|u| lease_view(l, u)))
        .collect();
    crate::name_parties(db, &mut views).await?;
    Ok(views)
}

/// Which units are occupied on `on`: the units the actor manages (the
/// view names tenants).
pub(super) async fn housing_occupancy(
    svc: &Services,
    actor: &Actor,
    district: Option<District>,
    community_id: Option<i64>,
    on: NaiveDate,
) -> Result<OccupancyView> {
    let db = svc.store().db();
    let allocators = Allocators::read(db).await?;
    let units: Vec<housing_unit::Model> = {
        let mut q = housing_unit::Entity::find();
        if let Some(d) = district {
            q = q.filter(housing_unit::Column::District.eq(d.id()));
        }
        if let Some(c) = community_id {
            q = q.filter(housing_unit::Column::CommunityId.eq(c));
        }
        q.order_by_asc(housing_unit::Column::Code)
            .limit(1_000)
            .all(db)
            .await?
    }
    .into_iter()
    .filter(|u| authorize(actor, Action::Update, allocators.resource(u)).is_ok())
    .collect();
    let (from, to) = (day_start(on), day_start(on.succ_opt().unwrap_or(on)));
    let leases: BTreeMap<i64, housing_lease::Model> = housing_lease::Entity::find()
        .filter(housing_lease::Column::HousingUnitId.is_in(units.iter().map(|u| u.id)))
        .filter(
            housing_lease::Column::Status
                .is_in(Holdings::HousingLeases.holding_statuses().iter().copied()),
        )
        .filter(housing_lease::Column::StartAt.lt(to))
        .filter(housing_lease::Column::EndAt.gt(from))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.housing_unit_id, l))
        .collect();
    let by_kind = HOUSING_KINDS
        .iter()
        .map(|k| OccupancyKind {
            kind: (*k).to_owned(),
            units: units.iter().filter(|u| u.kind == *k).count() as i64,
            occupied: units
                .iter()
                .filter(|u| u.kind == *k && leases.contains_key(&u.id))
                .count() as i64,
        })
        .collect();
    let mut rows: Vec<OccupancyRow> = units
        .iter()
        .map(|u| OccupancyRow {
            unit: allocators.view(u),
            lease: leases.get(&u.id).map(|l| lease_view(l, u)),
        })
        .collect();
    crate::name_parties(db, rows.iter_mut().filter_map(|r| r.lease.as_mut())).await?;
    Ok(OccupancyView {
        on,
        units: rows,
        by_kind,
    })
}
