//! Writing an offer or an agreement: the young-talent area ceiling and
//! the interval guard before the row.

use super::*;

/// Writes an offer or agreement after the young-talent ceiling and the
/// overlap checks.
pub(super) async fn insert_agreement(
    svc: &Services,
    tx: &DatabaseTransaction,
    guard: &Guard,
    now: DateTime<Utc>,
    actor: &Actor,
    new: NewAgreement<'_>,
    action: &str,
) -> Result<AgreementView> {
    if new.programme == YOUNG_TALENT
        && let Some(person_id) = new.person_id
    {
        place::check_area_ceiling(svc, tx, person_id, new.unit, new.start, new.end).await?;
    }
    guard
        .check(
            tx,
            Claim {
                kind: Holdings::SpaceAgreements,
                resource_id: new.unit.id,
                start: new.start,
                end: new.end,
                except: None,
                code: UNIT_TAKEN,
                field: "unit_id",
            },
        )
        .await?;
    let row = bookings::NewAgreement {
        unit_id: new.unit.id,
        request_id: new.request_id,
        programme: new.programme.to_owned(),
        enterprise_id: new.enterprise_id,
        person_id: new.person_id,
        start: new.start,
        end: new.end,
        list_rent_fen: new.unit.list_rent_fen,
        monthly_rent_fen: new.rent,
        status: new.status,
        previous_id: new.previous_id,
        offer_note: new.offer_note,
        at: now,
    };
    let saved = bookings::insert_agreement(tx, row).await?;
    let view = agreement_view(&saved, new.unit);
    record_change(
        tx,
        now,
        &actor.audit_label(),
        action,
        saved.id,
        None,
        Some(&view),
    )
    .await?;
    Ok(view)
}

/// Young talent outside communities holds at most the pack's ceiling
/// (50 m²) at any time: the units they hold over `[start, end)` plus
/// this one. The person's allocations are locked for the check.
pub(super) async fn check_area_ceiling(
    svc: &Services,
    tx: &DatabaseTransaction,
    person_id: i64,
    unit: &space_unit::Model,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<()> {
    lock_key(tx, &format!("space_area:person:{person_id}")).await?;
    let max = parameter_on(svc, YOUNG_TALENT_MAX_AREA, shanghai_date(start))?;
    let held_area = bookings::area_held(tx, person_id, YOUNG_TALENT, start, end).await?;
    if held_area + unit.area_m2 > max {
        return Err(ServiceError::Validation(vec![
            FieldError::new("unit_id", "over_area_ceiling")
                .with("max", max)
                .with("held", held_area)
                .with("asked", unit.area_m2),
        ]));
    }
    Ok(())
}
