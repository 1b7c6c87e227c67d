//! Allocating housing: the pack's limits, the exclusion with the housing
//! subsidy, and the transitional-housing grant kept in step with the leases.

use super::*;

/// Allocates a housing unit to a young founder: a lease reserved from
/// `start` for `months`, at the pack's share of the market rent; refused
/// when the person's leases would exceed the pack's limit or when a
/// housing-subsidy grant excludes it. Records the transitional-housing
/// grant (or extends it, for a later lease of the same person). A lease
/// naming an approved housing request serves it in the same transaction.
pub(super) async fn allocate_housing(
    svc: &Services,
    actor: &Actor,
    input: &LeaseInput,
) -> Result<LeaseView> {
    let now = svc.now();
    let db = svc.store().db();
    // Authorised first: who may not allocate the unit learns nothing of
    // the persons and enterprises the form names.
    let unit = load_unit(db, input.housing_unit_id).await?;
    authorize(actor, Action::Update, allocation_of(db, &unit).await?)?;
    let mut c = Checker::default();
    let start = required_date(&mut c, "start", &input.start);
    in_range(&mut c, "months", i64::from(input.months), 1, 1_200);
    if person::Entity::find_by_id(input.person_id)
        .one(db)
        .await?
        .is_none()
    {
        c.push(FieldError::new("person_id", "unknown_person"));
    }
    if let Some(e) = input.enterprise_id
        && enterprise::Entity::find_by_id(e).one(db).await?.is_none()
    {
        c.push(FieldError::new("enterprise_id", "unknown_enterprise"));
    }
    c.finish()?;
    let start = start.expect("checked");
    if let Some(request) = input.request_id {
        requests::check_servable(db, request, input.person_id, &unit).await?;
    }
    if !unit.active {
        return Err(refuse("housing_unit_id", "unit_inactive"));
    }
    let max = parameter_on(svc, MAX_MONTHS, start)?;
    let percent = parameter_on(svc, RENT_PERCENT, start)?;
    let months = i64::from(input.months);
    if months > max {
        return Err(lease_too_long(max, 0, months));
    }
    let end = add_months(start, input.months as u32).ok_or(refuse("months", "out_of_range"))?;
    let (start_at, end_at) = (day_start(start), day_start(end));
    svc.guarded(async |tx, guard| {
        // Locks the person's grants: the exclusion and the limit are
        // judged with no other allocation or grant in between.
        let person = Subject::Person(input.person_id);
        opcity_store::grants::lock_subject(tx, &person.to_string()).await?;
        check_housing_exclusion(svc, tx, person, input.enterprise_id).await?;
        let used = months_used(tx, input.person_id, None).await?;
        if used + months > max {
            return Err(lease_too_long(max, used, months));
        }
        guard
            .check(
                tx,
                Claim {
                    kind: Holdings::HousingLeases,
                    resource_id: unit.id,
                    start: start_at,
                    end: end_at,
                    except: None,
                    code: HOUSING_TAKEN,
                    field: "housing_unit_id",
                },
            )
            .await?;
        let lease = bookings::NewLease {
            housing_unit_id: unit.id,
            person_id: input.person_id,
            enterprise_id: input.enterprise_id,
            start: start_at,
            end: end_at,
            months: input.months,
            market_rent_fen: unit.market_rent_fen,
            rent_percent: percent as i32,
            monthly_rent_fen: programme_rent(unit.market_rent_fen, percent),
            at: now,
        };
        let saved = bookings::insert_lease(tx, lease).await?;
        if let Some(request) = input.request_id {
            requests::serve(tx, request, saved.id, now).await?;
        }
        let view = lease_view(&saved, &unit);
        record_change(
            tx,
            now,
            &actor.audit_label(),
            "housing_lease.create",
            saved.id,
            None,
            Some(&view),
        )
        .await?;
        sync_housing_grant(svc, tx, now, actor, input.person_id, saved.id).await?;
        Ok(view)
    })
    .await
}

/// Refuses housing to a person (or the named enterprise) holding a
/// grant that excludes it: the housing subsidy.
pub(super) async fn check_housing_exclusion(
    svc: &Services,
    tx: &DatabaseTransaction,
    person: Subject,
    enterprise_id: Option<i64>,
) -> Result<()> {
    let mut subjects = vec![person];
    subjects.extend(enterprise_id.map(Subject::Enterprise));
    for subject in subjects {
        if let Some(refusal) = svc
            .refusal_by_grants(tx, subject, TRANSITIONAL_HOUSING)
            .await?
            && refusal.code == "excluded_by_grant"
        {
            return Err(ServiceError::Validation(vec![refusal]));
        }
    }
    Ok(())
}

/// Months of transitional housing the person has had or booked, over
/// every lease that was not cancelled (leaving `except` out).
pub(super) async fn months_used<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
    except: Option<i64>,
) -> Result<i64> {
    let leases = bookings::live_leases_of(db, person_id).await?;
    Ok(leases
        .iter()
        .filter(|l| Some(l.id) != except)
        .map(|l| i64::from(l.months))
        .sum())
}

/// Keeps the person's transitional-housing grant covering their leases:
/// from the first lease's first day to the last lease's last day.
pub(super) async fn sync_housing_grant(
    svc: &Services,
    tx: &DatabaseTransaction,
    now: DateTime<Utc>,
    actor: &Actor,
    person_id: i64,
    lease_id: i64,
) -> Result<()> {
    let leases = bookings::live_leases_of(tx, person_id).await?;
    let (Some(first), Some(last)) = (
        leases.iter().map(|l| shanghai_date(l.start_at)).min(),
        leases.iter().map(|l| shanghai_date(l.end_at)).max(),
    ) else {
        return Ok(());
    };
    let to = last.pred_opt();
    let subject = Subject::Person(person_id);
    let existing = grants_for(tx, subject)
        .await?
        .into_iter()
        .find(|g| g.programme == TRANSITIONAL_HOUSING);
    match existing {
        Some(grant) => {
            svc.set_grant_end(tx, now, &actor.audit_label(), grant, to)
                .await
        }
        None => svc
            .grant_in_tx(
                tx,
                now,
                &actor.audit_label(),
                NewGrant::plain(
                    subject,
                    TRANSITIONAL_HOUSING,
                    (first, to),
                    &format!("housing_lease:{lease_id}"),
                    Benefit::HousingLease,
                ),
            )
            .await
            .map(|_| ()),
    }
}
