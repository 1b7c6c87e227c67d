//! Delivery: what an accepted approval becomes, decided in one place from
//! the programme's `delivery` in the pack, in the acceptance's transaction.
//!
//! | delivery   | becomes                                                     |
//! |------------|-------------------------------------------------------------|
//! | `cash`     | a schedule of instalments paid from the budget              |
//! | `voucher`  | a voucher in the enterprise's wallet, from the pool's budget |
//! | `space`    | a space request in the chosen community, for its operator  |
//! | `housing`  | a housing request for the district's housing allocator     |
//! | `title`    | a title held to the programme's end, with its support      |
//! | `referral` | a referral to the partner who decides (loans: financing)   |
//!
//! Each is also one grant row (`opcity_store::grants`, the record of what a
//! beneficiary holds) through the same guard as every grant, so exclusions
//! and one-time programmes hold whichever path delivered; a programme that
//! confers a title adds the title and its support as parts of that grant.
//! The source of every row is `application:{id}`, and the database keeps
//! each delivery's rows, requests, referral and wallet transfer unique by
//! it (`opcity_store::delivery`): an acceptance delivers once.

use super::engine::{programme_in, stored_explanation};
use super::offer::schedule;
use super::views::DeliveryView;
use crate::Services;
use crate::authz::Actor;
use crate::error::{FieldError, Result, ServiceError};
use crate::grants::{Benefit, NewGrant, Part, Subject};
use crate::vouchers::issue::ApprovedVoucher;
use chrono::{Months, NaiveDate};
use opcity_domain::District;
use opcity_domain::application::State;
use opcity_policy::{DecidedBy, Delivery, Kind, Programme};
use opcity_store::WriteTx;
use opcity_store::applications as store;
use opcity_store::bookings::{self, NewRequest};
use opcity_store::budget::Cause;
use opcity_store::delivery::{self as delivered, NewHousingRequest, NewReferral};
use opcity_store::entity::{application, community};
use opcity_store::grants;
use opcity_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// A space request's wanted term when the programme gives none: the
/// operator's offer sets the agreement's real term.
const SPACE_REQUEST_MONTHS: i32 = 12;

/// Delivers `app`, just accepted by `actor`, as its programme says.
pub(super) async fn deliver(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    actor: &Actor,
) -> Result<()> {
    let pack = s.pack();
    let programme = programme_in(&pack, &app.programme)?;
    let today = opcity_domain::today_in_shanghai(s.now());
    let label = actor.audit_label();
    let source = format!("application:{}", app.id);
    let district: District = app
        .district
        .parse()
        .expect("district ids are constrained by a foreign key");
    let title_end = Some(programme.effective.to);
    let parts = title_parts(programme, title_end);
    let base = NewGrant {
        district: (programme.decided_by == DecidedBy::District).then_some(district),
        parts: &parts,
        ..NewGrant::plain(
            subject_of(app),
            &app.programme,
            (today, None),
            &source,
            Benefit::Recorded,
        )
    };
    let grant = match programme.delivery {
        Delivery::Cash => {
            let months = schedule(s, tx, app).await?;
            let to = months
                .and_then(|m| today.checked_add_months(Months::new(m as u32)))
                .and_then(|d| d.pred_opt());
            NewGrant {
                benefit: Benefit::Instalments,
                amount_fen: app.approved_fen,
                to,
                ..base
            }
        }
        Delivery::Voucher => {
            let valid_until = programme.effective.to;
            let amount = issue_voucher(s, tx, app, valid_until, &label).await?;
            NewGrant {
                benefit: Benefit::Voucher,
                amount_fen: Some(amount),
                to: Some(valid_until),
                ..base
            }
        }
        Delivery::Space => {
            let team_size = request_space(s, tx, app, actor, district, today).await?;
            NewGrant {
                benefit: Benefit::SpaceRequest,
                quantity: Some(team_size),
                ..base
            }
        }
        Delivery::Housing => {
            let months = request_housing(s, tx, app, district, today).await?;
            NewGrant {
                benefit: Benefit::HousingRequest,
                quantity: Some(months),
                ..base
            }
        }
        Delivery::Title => NewGrant {
            benefit: Benefit::Title,
            to: title_end,
            ..base
        },
        Delivery::Referral => {
            refer(s, tx, app, programme).await?;
            NewGrant {
                benefit: Benefit::Referral,
                amount_fen: app.approved_fen,
                ..base
            }
        }
    };
    s.grant_in_tx(tx, s.now(), &label, grant).await?;
    Ok(())
}

/// Takes back what a delivery left with the beneficiary when `app` is
/// clawed back (its instalments are stopped and its grants ended by the
/// caller): the unused voucher money, a request still waiting, an open
/// referral.
pub(super) async fn undo(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    actor: &Actor,
) -> Result<()> {
    let pack = s.pack();
    let programme = programme_in(&pack, &app.programme)?;
    let now = s.now();
    match programme.delivery {
        Delivery::Voucher => {
            let label = actor.audit_label();
            match approved_voucher(app, programme.effective.to, &label) {
                Some(voucher) => s.claw_back_approved_voucher(tx, actor, voucher).await,
                None => Ok(()),
            }
        }
        Delivery::Space | Delivery::Housing | Delivery::Referral => {
            delivered::withdraw_waiting(tx, app.id, now).await?;
            Ok(())
        }
        Delivery::Cash | Delivery::Title => Ok(()),
    }
}

/// When a space or housing allocation serving `app` ends after a confirmed
/// lapse: the programme's `notice_days` after today once the request has
/// been served (an agreement made, a flat allocated); `None` otherwise —
/// a request still waiting is withdrawn at once, and other deliveries end
/// on the day.
pub(super) async fn notice_end(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
) -> Result<Option<NaiveDate>> {
    let pack = s.pack();
    let programme = programme_in(&pack, &app.programme)?;
    let Some(days) = programme.notice_days.filter(|d| *d > 0) else {
        return Ok(None);
    };
    let found = delivered::delivered(tx, app.id).await?;
    let served = match programme.delivery {
        Delivery::Space => found.space_request.is_some_and(|r| r.status == "fulfilled"),
        Delivery::Housing => found
            .housing_request
            .is_some_and(|r| r.status == "allocated"),
        _ => false,
    };
    let today = opcity_domain::today_in_shanghai(s.now());
    Ok(served
        .then(|| today.checked_add_days(chrono::Days::new(u64::from(days))))
        .flatten())
}

/// After a confirmed lapse of `app`: the space or flat allocated for it is
/// held through `last_day` at most, and whoever manages it is told
/// (`spaces::agreements::lapse`, `spaces::housing::lapse`).
pub(super) async fn end_allocation(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    last_day: NaiveDate,
    actor: &Actor,
) -> Result<()> {
    let found = delivered::delivered(tx, app.id).await?;
    if let Some(r) = found.space_request {
        s.end_space_on_lapse(tx, r.id, last_day, &actor.audit_label())
            .await?;
    }
    if let Some(r) = found.housing_request {
        s.end_lease_on_lapse(tx, r.id, last_day, actor).await?;
    }
    Ok(())
}

/// What `app` was delivered as and where it stands; `None` before its
/// offer was accepted.
pub(super) async fn view_of<C: ConnectionTrait>(
    s: &Services,
    db: &C,
    app: &application::Model,
) -> Result<Option<DeliveryView>> {
    let state: State = app.state.parse().unwrap_or(State::Draft);
    if !matches!(
        state,
        State::OfferAccepted | State::Disbursing | State::Closed | State::ClawedBack
    ) {
        return Ok(None);
    }
    let pack = s.pack();
    let programme = programme_in(&pack, &app.programme)?;
    let rows = grants::of_source(db, &format!("application:{}", app.id)).await?;
    let main = rows.iter().find(|g| g.benefit != Benefit::Support.name());
    let until = main.and_then(|g| g.to);
    let found = delivered::delivered(db, app.id).await?;
    let mut view = DeliveryView {
        delivery: programme.delivery.name().to_owned(),
        status: String::new(),
        amount_fen: main.and_then(|g| g.amount_fen),
        until,
        request_id: None,
        community_id: None,
        partner: None,
        support: rows
            .iter()
            .filter(|g| g.benefit == Benefit::Support.name())
            .map(|g| g.detail.clone())
            .collect(),
    };
    view.status = match programme.delivery {
        Delivery::Cash => match state {
            State::Closed => "paid".to_owned(),
            State::ClawedBack => "clawed_back".to_owned(),
            _ => "paying".to_owned(),
        },
        Delivery::Voucher => match (&found.voucher, state) {
            (_, State::ClawedBack) => "clawed_back".to_owned(),
            (Some(_), _) => "issued".to_owned(),
            (None, _) => "waiting".to_owned(),
        },
        Delivery::Space => {
            let r = found.space_request.as_ref();
            view.request_id = r.map(|r| r.id);
            view.community_id = r.and_then(|r| r.community_id);
            r.map_or_else(|| "waiting".to_owned(), |r| r.status.clone())
        }
        Delivery::Housing => {
            let r = found.housing_request.as_ref();
            view.request_id = r.map(|r| r.id);
            r.map_or_else(|| "waiting".to_owned(), |r| r.status.clone())
        }
        Delivery::Title => {
            let today = opcity_domain::today_in_shanghai(s.now());
            let held = until.is_none_or(|to| to >= today) && state == State::Disbursing;
            if held { "held" } else { "ended" }.to_owned()
        }
        Delivery::Referral => {
            let r = found.referral.as_ref();
            view.request_id = r.map(|r| r.id);
            view.partner = r.map(|r| r.partner.clone());
            r.map_or_else(|| "open".to_owned(), |r| r.status.clone())
        }
    };
    Ok(Some(view))
}

/// The title a selection confers (unless the delivery is the title
/// itself) and the support attached to it, held to `to`.
fn title_parts(programme: &Programme, to: Option<NaiveDate>) -> Vec<Part<'_>> {
    if !programme.confers_title {
        return Vec::new();
    }
    let title = (programme.delivery != Delivery::Title).then_some(Part {
        benefit: Benefit::Title,
        detail: "",
        to,
    });
    title
        .into_iter()
        .chain(programme.support.iter().map(|support| Part {
            benefit: Benefit::Support,
            detail: support.name(),
            to,
        }))
        .collect()
}

pub(super) fn subject_of(app: &application::Model) -> Subject {
    match (app.enterprise_id, app.person_id) {
        (Some(e), _) => Subject::Enterprise(e),
        (None, Some(p)) => Subject::Person(p),
        (None, None) => unreachable!("a CHECK constraint requires a person or an enterprise"),
    }
}

/// Hands the application's hold in the pool's budget to the wallet: the
/// hold is released and the issue reserves the same amount again, in the
/// same budget and transaction, so the budget's commitment stays and the
/// pool's ledger now shows it. Answers the amount issued.
async fn issue_voucher(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    valid_until: NaiveDate,
    label: &str,
) -> Result<i64> {
    let voucher = approved_voucher(app, valid_until, label).ok_or_else(|| {
        ServiceError::Internal(
            format!(
                "voucher application {} without enterprise, budget or amount",
                app.id
            )
            .into(),
        )
    })?;
    let cause = Cause {
        actor: label,
        application_id: Some(app.id),
        disbursement_id: None,
        at: s.now(),
    };
    store::release_held(tx, app, cause)
        .await
        .map_err(super::budgets::budget_error)?;
    s.issue_approved_voucher(tx, voucher).await?;
    Ok(voucher.amount_fen)
}

/// The voucher an approved voucher application issues (or issued): `None`
/// without its enterprise, budget or amount.
fn approved_voucher<'a>(
    app: &'a application::Model,
    valid_until: NaiveDate,
    label: &'a str,
) -> Option<ApprovedVoucher<'a>> {
    Some(ApprovedVoucher {
        application_id: app.id,
        enterprise_id: app.enterprise_id?,
        kind: &app.programme,
        budget_id: app.budget_id?,
        amount_fen: app.approved_fen?,
        valid_until,
        label,
    })
}

/// A space request in the community the founder chose on the form
/// (`community`: its number or its name), waiting for its operator's
/// offer: a desk for one, an office for a team. Answers the team size.
async fn request_space(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    actor: &Actor,
    district: District,
    today: NaiveDate,
) -> Result<i32> {
    let form: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&app.form_data).unwrap_or_default();
    let text = |key: &str| form.get(key).and_then(|v| v.as_str()).map(str::trim);
    let team_size = text("team_size")
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|n| (1..=1_000).contains(n))
        .unwrap_or(1);
    let community_id = match app.enterprise_id {
        Some(_) => Some(chosen_community(tx, text("community"), district).await?),
        // Young talent: the district's other industrial space.
        None => None,
    };
    let months = stored_explanation(app)?
        .and_then(|e| e.result.months)
        .and_then(|m| i32::try_from(m).ok())
        .unwrap_or(SPACE_REQUEST_MONTHS);
    bookings::insert_request(
        tx,
        NewRequest {
            community_id,
            district: district.id().to_owned(),
            kind: if team_size == 1 { "desk" } else { "office" }.to_owned(),
            programme: app.programme.clone(),
            enterprise_id: app.enterprise_id,
            person_id: app
                .enterprise_id
                .is_none()
                .then_some(app.person_id)
                .flatten(),
            team_size,
            wanted_from: today,
            months,
            note: String::new(),
            requested_by: actor.account_id,
            at: s.now(),
            application_id: Some(app.id),
        },
    )
    .await?;
    Ok(team_size)
}

/// The community of `district` the form names, by number or by name.
async fn chosen_community(tx: &WriteTx, named: Option<&str>, district: District) -> Result<i64> {
    let unknown =
        || ServiceError::Validation(vec![FieldError::new("form.community", "unknown_community")]);
    let named = named.filter(|n| !n.is_empty()).ok_or_else(unknown)?;
    let communities = community::Entity::find()
        .filter(community::Column::District.eq(district.id()))
        .order_by_asc(community::Column::Id)
        .all(tx)
        .await?;
    communities
        .iter()
        .find(|c| {
            named.parse::<i64>() == Ok(c.id)
                || c.name_zh == named
                || c.name_en.eq_ignore_ascii_case(named)
        })
        .map(|c| c.id)
        .ok_or_else(unknown)
}

/// A housing request for the district's allocator, for the months the
/// engine gave. Answers the months.
async fn request_housing(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    district: District,
    today: NaiveDate,
) -> Result<i32> {
    let person_id = app.person_id.ok_or_else(|| {
        ServiceError::Internal(format!("housing application {} without a person", app.id).into())
    })?;
    let months = stored_explanation(app)?
        .and_then(|e| e.result.months)
        .and_then(|m| i32::try_from(m).ok())
        .filter(|m| *m > 0)
        .ok_or_else(|| {
            ServiceError::Internal(format!("housing application {} without months", app.id).into())
        })?;
    delivered::insert_housing_request(
        tx,
        NewHousingRequest {
            application_id: app.id,
            person_id,
            enterprise_id: app.enterprise_id,
            district: district.id(),
            wanted_from: today,
            months,
            at: s.now(),
        },
    )
    .await?;
    Ok(months)
}

/// A referral to the partner who decides: guaranteed loans go to the
/// financing desk, the national compute voucher to its national platform.
async fn refer(
    s: &Services,
    tx: &WriteTx,
    app: &application::Model,
    programme: &Programme,
) -> Result<()> {
    let partner = match programme.kind {
        Kind::Loan => "financing",
        _ => "national_compute",
    };
    delivered::insert_referral(
        tx,
        NewReferral {
            application_id: app.id,
            programme: &app.programme,
            person_id: app.person_id,
            enterprise_id: app.enterprise_id,
            district: &app.district,
            partner,
            amount_fen: app.approved_fen,
            at: s.now(),
        },
    )
    .await?;
    Ok(())
}
