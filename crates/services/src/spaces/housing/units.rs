//! Listing and editing housing units.

use super::*;

pub(super) async fn create_housing_unit(
    svc: &Services,
    actor: &Actor,
    input: &HousingUnitInput,
) -> Result<HousingUnitView> {
    save(svc, actor, None, input).await
}

pub(super) async fn update_housing_unit(
    svc: &Services,
    actor: &Actor,
    id: i64,
    input: &HousingUnitInput,
) -> Result<HousingUnitView> {
    save(svc, actor, Some(id), input).await
}

/// Checks a housing unit's description; `community` is the district of the
/// community it names (`Some(None)`: no such community), which is then its
/// district.
pub(crate) fn validate(
    input: &HousingUnitInput,
    community: Option<Option<District>>,
) -> Result<HousingUnitFields> {
    let mut c = Checker::default();
    let mut district = c.district("district", &input.district);
    match community {
        Some(Some(found)) => district = Some(found),
        Some(None) => c.push(FieldError::new("community_id", "unknown_community")),
        None => {}
    }
    let address = c.required_text("address", &input.address, 300);
    let code = c.required_text("code", &input.code, 50);
    let kind = one_of(&mut c, "kind", &input.kind, &HOUSING_KINDS);
    in_range(&mut c, "area_m2", input.area_m2, 1, 10_000);
    in_range(
        &mut c,
        "market_rent_fen",
        input.market_rent_fen,
        1,
        100_000_000_000,
    );
    c.finish()?;
    Ok(HousingUnitFields {
        district: district.expect("checked").id().to_owned(),
        community_id: input.community_id,
        address,
        code,
        kind,
        area_m2: input.area_m2,
        market_rent_fen: input.market_rent_fen,
        active: input.active.unwrap_or(true),
    })
}

pub(super) async fn save(
    svc: &Services,
    actor: &Actor,
    id: Option<i64>,
    input: &HousingUnitInput,
) -> Result<HousingUnitView> {
    let now = svc.now();
    let db = svc.store().db();
    let community = crate::spaces::community_district(db, input.community_id).await?;
    let fields = validate(input, community)?;
    let district: District = fields.district.parse().expect("checked");
    let target = Resource::Premises {
        community_id: input.community_id,
        district,
    };
    let tx = svc.store().begin().await?;
    let allocators = Allocators::read(&tx).await?;
    let before = match id {
        None => {
            authorize(actor, Action::Create, target)?;
            None
        }
        Some(id) => {
            let existing = load_unit(&tx, id).await?;
            authorize(actor, Action::Update, unit_resource(&existing))?;
            authorize(actor, Action::Update, target)?;
            Some(allocators.view(&existing))
        }
    };
    let saved = opcity_store::spaces::save_housing_unit(&tx, id, fields, now)
        .await
        .map_err(|e| match e {
            opcity_store::StoreError::Unique(_) => conflict(ErrorCode::HousingCodeTaken, "code"),
            other => other.into(),
        })?;
    let view = allocators.view(&saved);
    let action = if before.is_some() {
        "housing_unit.update"
    } else {
        "housing_unit.create"
    };
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        action,
        saved.id,
        before.as_ref(),
        view,
    )
    .await
}

/// Housing units the actor may see (every signed-in role sees the stock).
pub(super) async fn list_housing_units(
    svc: &Services,
    actor: &Actor,
    district: Option<District>,
    community_id: Option<i64>,
) -> Result<Vec<HousingUnitView>> {
    let mut q = housing_unit::Entity::find();
    if let Some(d) = district {
        q = q.filter(housing_unit::Column::District.eq(d.id()));
    }
    if let Some(c) = community_id {
        q = q.filter(housing_unit::Column::CommunityId.eq(c));
    }
    let rows = q
        .order_by_asc(housing_unit::Column::District)
        .order_by_asc(housing_unit::Column::Code)
        .limit(1_000)
        .all(svc.store().db())
        .await?;
    let allocators = Allocators::read(svc.store().db()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for u in &rows {
        if authorize(actor, Action::Read, unit_resource(u)).is_ok() {
            out.push(allocators.view(u));
        }
    }
    Ok(out)
}
