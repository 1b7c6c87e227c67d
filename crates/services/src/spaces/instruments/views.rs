//! Reading bookings: lists, a day's slots and iCalendar feeds.

use super::*;

/// Bookings the actor may see, by start; optionally of one instrument.
pub(super) async fn list_bookings(
    svc: &Services,
    actor: &Actor,
    instrument_id: Option<i64>,
) -> Result<Vec<BookingView>> {
    let instruments_where = |cond: Condition| {
        instrument_booking::Column::InstrumentId.in_subquery(
            Query::select()
                .column(instrument::Column::Id)
                .from(instrument::Entity)
                .cond_where(cond)
                .take(),
        )
    };
    let Some(visible) = scope_condition(
        &allocation_scope(actor),
        &ScopeParts {
            enterprises: &|ids| instrument_booking::Column::EnterpriseId.is_in(ids),
            person: None,
            manager: Some(&|m| {
                instruments_where(Condition::all().add(instrument::Column::ManagerAccountId.eq(m)))
            }),
            communities: &|ids| {
                instruments_where(Condition::all().add(instrument::Column::CommunityId.is_in(ids)))
            },
            district: &|d| {
                instruments_where(Condition::all().add(instrument::Column::District.eq(d)))
            },
        },
    ) else {
        return Ok(Vec::new());
    };
    let mut q = instrument_booking::Entity::find().filter(visible);
    if let Some(i) = instrument_id {
        q = q.filter(instrument_booking::Column::InstrumentId.eq(i));
    }
    let rows = q
        .order_by_asc(instrument_booking::Column::StartAt)
        .limit(1_000)
        .all(svc.store().db())
        .await?;
    let mut views: Vec<BookingView> = rows.iter().map(booking_view).collect();
    crate::name_parties(svc.store().db(), &mut views).await?;
    Ok(views)
}

pub(super) async fn get_booking(svc: &Services, actor: &Actor, id: i64) -> Result<BookingView> {
    let db = svc.store().db();
    let b = load_booking(db, id).await?;
    let inst = load(db, b.instrument_id).await?;
    authorize_either(
        actor,
        (Action::Read, booking_holding(db, &b).await?),
        (Action::Update, resource(&inst)),
    )?;
    let mut view = booking_view(&b);
    crate::name_parties(db, [&mut view]).await?;
    Ok(view)
}

/// A day's slots of an instrument and whether each is free.
pub(super) async fn instrument_day(
    svc: &Services,
    actor: &Actor,
    id: i64,
    date: NaiveDate,
) -> Result<DayView> {
    let db = svc.store().db();
    let inst = load(db, id).await?;
    authorize(actor, Action::Read, resource(&inst))?;
    let weekday = date.weekday().number_from_monday().to_string();
    let open = inst.open_days.contains(weekday.as_str());
    let first = day_start(date) + Duration::minutes(i64::from(inst.opens_minute));
    let last = day_start(date) + Duration::minutes(i64::from(inst.closes_minute));
    let held = instrument_booking::Entity::find()
        .filter(instrument_booking::Column::InstrumentId.eq(id))
        .filter(
            instrument_booking::Column::Status.is_in(
                Holdings::InstrumentBookings
                    .holding_statuses()
                    .iter()
                    .copied(),
            ),
        )
        .filter(instrument_booking::Column::StartAt.lt(last))
        .filter(instrument_booking::Column::EndAt.gt(first))
        .all(db)
        .await?;
    let step = Duration::minutes(i64::from(inst.slot_minutes));
    let mut slots = Vec::new();
    let mut at = first;
    while open && at + step <= last {
        let end = at + step;
        slots.push(SlotView {
            start_at: at,
            end_at: end,
            label: shanghai_text(at)[11..].to_owned(),
            free: !held.iter().any(|b| b.start_at < end && b.end_at > at),
        });
        at = end;
    }
    Ok(DayView {
        instrument: InstrumentView::from(&inst),
        date,
        open,
        slots,
    })
}

/// The instrument's bookings from 30 days ago on, as iCalendar. Bookings
/// the actor may not see in detail read only "Booked".
pub(super) async fn instrument_calendar(svc: &Services, actor: &Actor, id: i64) -> Result<String> {
    let db = svc.store().db();
    let inst = load(db, id).await?;
    authorize(actor, Action::Read, resource(&inst))?;
    let manages = authorize(actor, Action::Update, resource(&inst)).is_ok();
    let now = svc.now();
    let rows = instrument_booking::Entity::find()
        .filter(instrument_booking::Column::InstrumentId.eq(id))
        .filter(instrument_booking::Column::Status.is_in(["pending", "confirmed", "checked_in"]))
        .filter(instrument_booking::Column::EndAt.gt(now - Duration::days(30)))
        .order_by_asc(instrument_booking::Column::StartAt)
        .limit(5_000)
        .all(db)
        .await?;
    let events: Vec<Event> = rows
        .iter()
        .map(|b| {
            let holder = Resource::Holding {
                enterprise_id: Some(b.enterprise_id),
                person_id: None,
                district: None,
            };
            let detailed = manages || authorize(actor, Action::Update, holder).is_ok();
            event(b, &inst.name, detailed)
        })
        .collect();
    Ok(calendar(&inst.name, &events, now))
}

/// The actor's own visible bookings as iCalendar.
pub(super) async fn bookings_calendar(svc: &Services, actor: &Actor) -> Result<String> {
    let names: BTreeMap<i64, String> = instrument::Entity::find()
        .all(svc.store().db())
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    let rows = instrument_booking::Entity::find()
        .filter(
            instrument_booking::Column::Id
                .is_in(svc.list_bookings(actor, None).await?.iter().map(|b| b.id)),
        )
        .filter(instrument_booking::Column::Status.is_in(["pending", "confirmed", "checked_in"]))
        .all(svc.store().db())
        .await?;
    let events: Vec<Event> = rows
        .iter()
        .map(|b| {
            event(
                b,
                names.get(&b.instrument_id).map_or("", String::as_str),
                true,
            )
        })
        .collect();
    Ok(calendar("opcity bookings", &events, svc.now()))
}

fn event(b: &instrument_booking::Model, instrument: &str, detailed: bool) -> Event {
    let summary = if detailed {
        format!("{instrument}: enterprise #{}", b.enterprise_id)
    } else {
        format!("{instrument}: booked")
    };
    Event {
        uid: format!("booking-{}@opcity", b.id),
        start: b.start_at,
        end: b.end_at,
        summary,
        description: (detailed && !b.purpose.is_empty()).then(|| b.purpose.clone()),
        status: if b.status == "pending" {
            "TENTATIVE"
        } else {
            "CONFIRMED"
        },
    }
}
