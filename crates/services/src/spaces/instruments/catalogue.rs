//! Listing and editing instruments, and reading them.

use super::*;

/// Checks an instrument's description; `community` is the district of the
/// community it names (`Some(None)`: no such community). The manager is
/// the one asked for; the caller decides whom it may be.
pub(crate) fn validate(
    input: &InstrumentInput,
    community: Option<Option<District>>,
) -> Result<InstrumentFields> {
    let mut c = Checker::default();
    let name = c.required_text("name", &input.name, 200);
    let kind = one_of(&mut c, "kind", &input.kind, &INSTRUMENT_KINDS);
    let institution = c.required_text("institution", &input.institution, 200);
    let mut district = c.district("district", &input.district);
    match community {
        Some(Some(found)) => district = Some(found),
        Some(None) => c.push(FieldError::new("community_id", "unknown_community")),
        None => {}
    }
    let description = c
        .optional_text("description", input.description.as_deref(), 2_000)
        .unwrap_or_default();
    in_range(
        &mut c,
        "slot_minutes",
        i64::from(input.slot_minutes),
        5,
        24 * 60,
    );
    let opens = parse_hhmm(&input.opens);
    let closes = parse_hhmm(&input.closes);
    if opens.is_none() {
        c.push(FieldError::new("opens", "invalid_time"));
    }
    if closes.is_none() {
        c.push(FieldError::new("closes", "invalid_time"));
    }
    if let (Some(o), Some(cl)) = (opens, closes)
        && cl <= o
    {
        c.push(FieldError::new("closes", "ends_before_start"));
    }
    let days: String = input.open_days.trim().to_owned();
    let valid_days = !days.is_empty()
        && days.chars().all(|d| ('1'..='7').contains(&d))
        && days
            .chars()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == days.len();
    if !valid_days {
        c.push(FieldError::new("open_days", "invalid_weekdays"));
    }
    if let Some(q) = input.quota_hours_week {
        in_range(&mut c, "quota_hours_week", i64::from(q), 1, 168);
    }
    in_range(
        &mut c,
        "cancel_notice_hours",
        i64::from(input.cancel_notice_hours),
        0,
        720,
    );
    in_range(
        &mut c,
        "no_show_grace_minutes",
        i64::from(input.no_show_grace_minutes),
        1,
        24 * 60,
    );
    c.finish()?;
    let mut days_sorted: Vec<char> = days.chars().collect();
    days_sorted.sort_unstable();
    Ok(InstrumentFields {
        name,
        kind,
        institution,
        district: district.expect("checked").id().to_owned(),
        community_id: input.community_id,
        manager_account_id: input.manager_account_id,
        description,
        slot_minutes: input.slot_minutes,
        opens_minute: opens.expect("checked"),
        closes_minute: closes.expect("checked"),
        open_days: days_sorted.into_iter().collect(),
        quota_hours_week: input.quota_hours_week,
        requires_approval: input.requires_approval,
        cancel_notice_hours: input.cancel_notice_hours,
        no_show_grace_minutes: input.no_show_grace_minutes,
        active: input.active.unwrap_or(true),
    })
}

pub(super) async fn save(
    svc: &Services,
    actor: &Actor,
    id: Option<i64>,
    input: &InstrumentInput,
) -> Result<InstrumentView> {
    let now = svc.now();
    let db = svc.store().db();
    let community = crate::spaces::community_district(db, input.community_id).await?;
    let mut fields = validate(input, community)?;
    let asked_manager = listing_manager(actor, input.manager_account_id);
    let target = |manager| Resource::Instrument {
        community_id: input.community_id,
        manager,
    };
    let site = Resource::InstrumentSite {
        community_id: input.community_id,
    };
    let tx = svc.store().begin().await?;
    let (before, manager) = match id {
        None => {
            authorize(actor, Action::Create, target(asked_manager))?;
            authorize(actor, Action::Create, site)?;
            (None, asked_manager)
        }
        Some(id) => {
            let existing = load(&tx, id).await?;
            // An edit that names no manager keeps the one it has.
            let manager = asked_manager.or(existing.manager_account_id);
            authorize(actor, Action::Update, resource(&existing))?;
            authorize(actor, Action::Update, target(manager))?;
            if existing.community_id != input.community_id {
                // Moved: sited anew.
                authorize(actor, Action::Create, site)?;
            }
            (Some(InstrumentView::from(&existing)), manager)
        }
    };
    fields.manager_account_id = manager;
    let saved = save_instrument(&tx, id, fields, now)
        .await
        .map_err(|e| match e {
            opcity_store::StoreError::ForeignKey(_) => {
                ServiceError::invalid("manager_account_id", "unknown_account")
            }
            other => other.into(),
        })?;
    let view = InstrumentView::from(&saved);
    let action = if before.is_some() {
        "instrument.update"
    } else {
        "instrument.create"
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

/// Instruments open to booking (every signed-in role may look).
pub(super) async fn list_instruments(svc: &Services, actor: &Actor) -> Result<Vec<InstrumentView>> {
    let rows = instrument::Entity::find()
        .order_by_asc(instrument::Column::Id)
        .limit(1_000)
        .all(svc.store().db())
        .await?;
    Ok(rows
        .iter()
        .filter(|i| authorize(actor, Action::Read, resource(i)).is_ok())
        .map(InstrumentView::from)
        .collect())
}

pub(super) async fn get_instrument(
    svc: &Services,
    actor: &Actor,
    id: i64,
) -> Result<InstrumentView> {
    let i = load(svc.store().db(), id).await?;
    authorize(actor, Action::Read, resource(&i))?;
    Ok(InstrumentView::from(&i))
}
