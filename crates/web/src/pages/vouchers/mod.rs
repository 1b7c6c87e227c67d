//! Voucher pages (measure 6), one page per role at `/vouchers`: the
//! enterprise's wallet (balances, open holds, history, confirm or dispute
//! each use), the provider console (registration, receivables, open holds
//! with capture and void, settlement downloads) and the administrators' view
//! of pools, providers, disputes and reconciliation with the forms to issue
//! vouchers, fund pools, run the expiry jobs and resolve disputes (uphold or
//! reverse). Every form carries the CSRF token and,
//! where it moves money, a transfer id drawn when the page was rendered, so a
//! double submission applies once.

use super::forms::district_name;
use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::api::vouchers::settlement_response;
use crate::error::{WebError, field_message};
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use maud::{Markup, html};
use opcity_domain::{District, Fen, Role};
use opcity_services::vouchers::disputes::{DisputeView, ResolveDispute};
use opcity_services::vouchers::issue::{FundPool, IssueVoucher, PoolView, WalletBalance};
use opcity_services::vouchers::providers::{ProviderDecision, ProviderInput, ProviderView};
use opcity_services::vouchers::redeem::{CaptureInput, TransferView, UseReviewInput, VoidInput};
use opcity_services::vouchers::wallet::HistoryItem;
use opcity_services::vouchers::{CATEGORIES, KINDS};
use opcity_services::{Actor, ServiceError};
use std::collections::HashMap;

type Values = HashMap<String, String>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vouchers", get(vouchers_page))
        .route("/vouchers/issue", post(issue))
        .route("/vouchers/fund", post(fund))
        .route("/vouchers/jobs", post(run_jobs))
        .route("/vouchers/uses/{id}/review", post(review))
        .route("/vouchers/uses/{id}/resolution", post(resolve))
        .route("/vouchers/settlement", get(settlement))
        .route("/providers/register", post(register))
        .route("/providers/{id}/decision", post(decide))
        .route("/provider/holds/{id}/capture", post(capture))
        .route("/provider/holds/{id}/void", post(void))
}

fn money(fen: i64) -> String {
    Fen(fen).to_string()
}

/// Whole yuan with up to two decimals (`12,345.6`) to fen, without floats.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let cleaned: String = text.trim().replace([',', '，', ' ', '¥'], "");
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let negative = whole.starts_with('-');
    let digits = whole.trim_start_matches('-');
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let yuan: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let fen: i64 = format!("{frac:0<2}").parse().ok()?;
    let total = yuan.checked_mul(100)?.checked_add(fen)?;
    Some(if negative { -total } else { total })
}

/// A fresh transfer id for a form, so a resubmission is a replay.
fn form_id(prefix: &str) -> String {
    format!("{prefix}:{}", opcity_services::accounts::random_token(12))
}

fn kind_title(l: Locale, kind: &str) -> &'static str {
    t(l, &format!("voucher.kind_name.{kind}"))
}

/// A notice above the page: a success key, or the errors of a refused form.
enum Notice {
    Done(&'static str),
    Failed(WebError),
}

fn notice(l: Locale, n: &Option<Notice>) -> Markup {
    match n {
        None => html! {},
        Some(Notice::Done(key)) => html! {
            section.notice.success id="voucher-done" role="status" { (t(l, &format!("voucher.done.{key}"))) }
        },
        Some(Notice::Failed(err)) => {
            let problem = err.problem();
            let title_key = format!("problem.{}", problem.code);
            let title = if crate::i18n::has(l, &title_key) {
                t(l, &title_key)
            } else {
                t(l, "problem.generic")
            };
            html! {
                section.notice.error id="voucher-error" role="alert" data-code=(problem.code) {
                    strong { (title) }
                    ul {
                        @for f in &problem.fields {
                            li data-field=(f.field) data-code=(f.code) { (f.field) ": " (field_message(l, f)) }
                        }
                    }
                }
            }
        }
    }
}

async fn vouchers_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Values>,
) -> PageResult {
    let done = q
        .get("done")
        .and_then(|k| DONE.iter().find(|d| *d == k).copied());
    render(&state, &viewer, done.map(Notice::Done), StatusCode::OK).await
}

/// The success notices a redirect may name.
const DONE: [&str; 9] = [
    "issued",
    "funded",
    "jobs",
    "reviewed",
    "registered",
    "decided",
    "captured",
    "voided",
    "resolved",
];

async fn render(
    state: &AppState,
    viewer: &Viewer,
    n: Option<Notice>,
    status: StatusCode,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let body = match actor.role {
        Role::Founder => founder_view(state, viewer, actor).await,
        Role::ServiceProvider => provider_view(state, viewer, actor).await,
        Role::MunicipalAdmin | Role::DistrictReviewer | Role::Auditor => {
            admin_view(state, viewer, actor).await
        }
        Role::CommunityOperator | Role::Investor => Err(ServiceError::Forbidden),
    }
    .map_err(|e| viewer.fail(e))?;
    let content = html! {
        h1 { (t(l, "voucher.title")) }
        p.hint { (t(l, "voucher.lead")) }
        (notice(l, &n))
        (body)
    };
    Ok((status, page(viewer, t(l, "voucher.title"), content)).into_response())
}

/// Re-renders the page with a refused form's errors, or fails the page.
async fn refused(state: &AppState, viewer: &Viewer, err: ServiceError) -> PageResult {
    let status = crate::error::status_of(err.code());
    match err {
        ServiceError::Unauthenticated | ServiceError::Internal(_) => Err(viewer.fail(err)),
        other => render(state, viewer, Some(Notice::Failed(other.into())), status).await,
    }
}

fn done(key: &str) -> Response {
    Redirect::to(&format!("/vouchers?done={key}")).into_response()
}

fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default()); }
}

// ----- the enterprise -------------------------------------------------------

async fn founder_view(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
) -> opcity_services::Result<Markup> {
    let l = viewer.locale;
    let mut sections = Vec::new();
    for id in &actor.enterprise_ids {
        let w = state.services.wallet(actor, *id).await?;
        sections.push(html! {
            section.card id={ "enterprise-" (id) } {
                h2 { (w.enterprise_name) }
                (wallet_table(l, &format!("wallet-{id}"), &w.wallets))
                h3 { (t(l, "voucher.open_holds")) }
                (transfers_table(l, &format!("holds-{id}"), &w.open_holds))
                h3 { (t(l, "voucher.history")) }
                (history_table(viewer, &format!("history-{id}"), &w.history, true))
            }
        });
    }
    Ok(html! {
        @if sections.is_empty() { p.notice id="no-enterprise" { (t(l, "voucher.no_enterprise")) } }
        @for s in sections { (s) }
    })
}

fn wallet_table(l: Locale, id: &str, wallets: &[WalletBalance]) -> Markup {
    html! {
        @if wallets.is_empty() { p.hint { (t(l, "voucher.no_vouchers")) } }
        @else {
            table id=(id) {
                thead { tr {
                    th { (t(l, "voucher.kind")) } th { (t(l, "voucher.credited")) } th { (t(l, "voucher.debited")) }
                    th { (t(l, "voucher.held")) } th { (t(l, "voucher.available")) } th { (t(l, "voucher.valid_until")) }
                } }
                tbody {
                    @for w in wallets {
                        tr data-kind=(w.kind) data-available=(w.available_fen) {
                            td { (kind_title(l, &w.kind)) }
                            td { (money(w.credited_fen)) }
                            td { (money(w.debited_fen)) }
                            td { (money(w.held_fen)) }
                            td { strong { (money(w.available_fen)) } }
                            td {
                                (w.valid_until.map(|d| d.to_string()).unwrap_or_default())
                                @if w.closed { " · " span.badge.ineligible { (t(l, "voucher.closed")) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn transfers_table(l: Locale, id: &str, rows: &[TransferView]) -> Markup {
    html! {
        @if rows.is_empty() { p.hint id=(id) { (t(l, "voucher.none")) } }
        @else {
            table id=(id) {
                thead { tr {
                    th { (t(l, "voucher.transfer")) } th { (t(l, "voucher.kind")) } th { (t(l, "voucher.amount")) }
                    th { (t(l, "voucher.reference")) } th { (t(l, "voucher.expires")) }
                } }
                tbody {
                    @for h in rows {
                        tr data-transfer=(h.id) {
                            td.mono { (h.id) } td { (kind_title(l, &h.voucher_kind)) } td { (money(h.amount_fen)) }
                            td { (h.reference.clone().unwrap_or_default()) }
                            td { (h.expires_at.map(|e| e.with_timezone(&opcity_domain::civil_date::shanghai()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

/// History; with `review`, each capture not yet reviewed has the
/// confirm / dispute form.
fn history_table(viewer: &Viewer, id: &str, rows: &[HistoryItem], review: bool) -> Markup {
    let l = viewer.locale;
    html! {
        @if rows.is_empty() { p.hint id=(id) { (t(l, "voucher.none")) } }
        @else {
            table id=(id) {
                thead { tr {
                    th { (t(l, "voucher.date")) } th { (t(l, "voucher.what")) } th { (t(l, "voucher.kind")) }
                    th { (t(l, "voucher.amount")) } th { (t(l, "voucher.reference")) } th { (t(l, "voucher.review_label")) }
                } }
                tbody {
                    @for item in rows {
                        @let tr_ = &item.transfer;
                        tr data-transfer=(tr_.id) data-kind=(tr_.kind) {
                            td { (tr_.created_at.with_timezone(&opcity_domain::civil_date::shanghai()).format("%Y-%m-%d %H:%M")) }
                            td { (t(l, &format!("ledger.kind.{}", tr_.kind))) @if item.open { " · " (t(l, "voucher.open")) } }
                            td { (kind_title(l, &tr_.voucher_kind)) }
                            td { (money(tr_.amount_fen)) }
                            td { (tr_.reference.clone().unwrap_or_default()) }
                            td {
                                @match (&item.review, tr_.phase.as_str()) {
                                    (Some(decision), _) => {
                                        span class={ "badge " (if decision == "confirmed" { "eligible" } else { "undetermined" }) } { (t(l, &format!("voucher.review.{decision}"))) }
                                        @if let Some(r) = &item.resolution {
                                            " " span class={ "badge " (if r == "reversed" { "eligible" } else { "ineligible" }) } data-resolution=(r) { (t(l, &format!("voucher.resolution.{r}"))) }
                                        }
                                    },
                                    (None, "post") if review => {
                                        form.inline id={ "review-" (tr_.id) } method="post" action={ "/vouchers/uses/" (tr_.id) "/review" } {
                                            (csrf_field(viewer))
                                            input type="text" name="comment" placeholder=(t(l, "voucher.comment")) aria-label=(t(l, "voucher.comment"));
                                            button type="submit" name="decision" value="confirmed" id={ "confirm-" (tr_.id) } { (t(l, "voucher.confirm")) }
                                            button.secondary type="submit" name="decision" value="disputed" id={ "dispute-" (tr_.id) } { (t(l, "voucher.dispute")) }
                                        }
                                    },
                                    (None, "post") => span.badge.ineligible { (t(l, "voucher.review.pending")) },
                                    _ => {},
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let input = UseReviewInput {
        decision: form.get("decision").cloned().unwrap_or_default(),
        comment: form.get("comment").cloned(),
    };
    match state.services.review_use(actor, &id, &input).await {
        Ok(_) => Ok(done("reviewed")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

// ----- the provider ---------------------------------------------------------

async fn provider_view(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
) -> opcity_services::Result<Markup> {
    let l = viewer.locale;
    let Some(me) = state.services.my_provider(actor).await? else {
        return Ok(register_form(viewer));
    };
    let console = if me.status == "approved" || me.status == "suspended" {
        Some(state.services.provider_console(actor).await?)
    } else {
        None
    };
    let today = opcity_domain::today_in_shanghai(state.services.now());
    let month_start = today.with_day_one();
    Ok(html! {
        section.card id="provider-status" data-status=(me.status) {
            h2 { (me.name) }
            p { (t(l, "provider.status_label")) ": " strong { (t(l, &format!("provider.status.{}", me.status))) } }
            p { (t(l, "provider.approved_kinds")) ": "
                (me.approved_kinds.iter().map(|k| kind_title(l, k)).collect::<Vec<_>>().join("、")) }
            p.hint { (t(l, "provider.api_hint")) }
        }
        @if let Some(c) = console {
            h2 { (t(l, "provider.receivables")) }
            table id="receivables" {
                thead { tr { th { (t(l, "voucher.kind")) } th { (t(l, "provider.captured")) } th { (t(l, "voucher.held")) } } }
                tbody { @for r in &c.receivables { tr data-kind=(r.kind) { td { (kind_title(l, &r.kind)) } td { (money(r.captured_fen)) } td { (money(r.held_fen)) } } } }
            }
            h2 { (t(l, "voucher.open_holds")) }
            @if c.open_holds.is_empty() { p.hint id="open-holds" { (t(l, "voucher.none")) } }
            @else {
                table id="open-holds" {
                    thead { tr { th { (t(l, "voucher.transfer")) } th { (t(l, "voucher.kind")) } th { (t(l, "voucher.amount")) } th { (t(l, "voucher.reference")) } th {} } }
                    tbody {
                        @for h in &c.open_holds {
                            tr data-transfer=(h.id) {
                                td.mono { (h.id) } td { (kind_title(l, &h.voucher_kind)) } td { (money(h.amount_fen)) }
                                td { (h.reference.clone().unwrap_or_default()) }
                                td {
                                    form.inline id={ "capture-" (h.id) } method="post" action={ "/provider/holds/" (h.id) "/capture" } {
                                        (csrf_field(viewer))
                                        input type="hidden" name="transfer_id" value=(form_id("capture"));
                                        input type="text" inputmode="decimal" name="amount_yuan" placeholder=(t(l, "provider.capture_amount")) aria-label=(t(l, "provider.capture_amount"));
                                        button type="submit" { (t(l, "provider.capture")) }
                                    }
                                    form.inline id={ "void-" (h.id) } method="post" action={ "/provider/holds/" (h.id) "/void" } {
                                        (csrf_field(viewer))
                                        input type="hidden" name="transfer_id" value=(form_id("void"));
                                        button.secondary type="submit" { (t(l, "provider.void")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (t(l, "provider.settlement")) }
            (settlement_form(l, me.id, month_start, today))
            h2 { (t(l, "voucher.history")) }
            (history_table(viewer, "provider-history", &c.history, false))
        }
    })
}

fn settlement_form(l: Locale, provider_id: i64, from: NaiveDate, to: NaiveDate) -> Markup {
    html! {
        form.filters id="settlement-form" method="get" action="/vouchers/settlement" {
            input type="hidden" name="provider_id" value=(provider_id);
            div.field { label for="settle-from" { (t(l, "provider.from")) } input id="settle-from" type="date" name="from" value=(from) required; }
            div.field { label for="settle-to" { (t(l, "provider.to")) } input id="settle-to" type="date" name="to" value=(to) required; }
            button type="submit" name="format" value="csv" id="settlement-csv" { "CSV" }
            button.secondary type="submit" name="format" value="xlsx" id="settlement-xlsx" { "XLSX" }
        }
    }
}

fn register_form(viewer: &Viewer) -> Markup {
    let l = viewer.locale;
    html! {
        section.card {
            h2 { (t(l, "provider.register")) }
            p.hint { (t(l, "provider.register_hint")) }
            form id="provider-register-form" method="post" action="/providers/register" {
                (csrf_field(viewer))
                div.field { label for="p-name" { (t(l, "provider.name")) " *" } input id="p-name" name="name" type="text" required; }
                div.field { label for="p-uscc" { (t(l, "provider.uscc")) } input id="p-uscc" name="uscc" type="text"; }
                div.field {
                    label for="p-category" { (t(l, "provider.category_label")) " *" }
                    select id="p-category" name="category" {
                        @for c in CATEGORIES { option value=(c) { (t(l, &format!("provider.category.{c}"))) } }
                    }
                }
                fieldset {
                    legend { (t(l, "provider.kinds")) }
                    @for k in &KINDS {
                        label { input type="checkbox" name={ "kind." (k.id) } value="on"; " " (kind_title(l, k.id)) }
                    }
                }
                button type="submit" id="provider-register" { (t(l, "provider.register")) }
            }
        }
    }
}

/// The kinds ticked in a form (`kind.ID=on`).
fn ticked_kinds(form: &Values) -> Vec<String> {
    KINDS
        .iter()
        .filter(|k| form.get(&format!("kind.{}", k.id)).is_some())
        .map(|k| k.id.to_owned())
        .collect()
}

async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let input = ProviderInput {
        name: form.get("name").cloned().unwrap_or_default(),
        uscc: form.get("uscc").cloned(),
        category: form.get("category").cloned().unwrap_or_default(),
        kinds: ticked_kinds(&form),
        account_id: None,
    };
    match state.services.register_provider(actor, &input).await {
        Ok(_) => Ok(done("registered")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

async fn capture(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(hold_id): Path<String>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let amount = match form
        .get("amount_yuan")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match parse_yuan(text) {
            Some(fen) => Some(fen),
            None => {
                return refused(
                    &state,
                    &viewer,
                    ServiceError::invalid("amount_fen", "not_a_number"),
                )
                .await;
            }
        },
    };
    let input = CaptureInput {
        transfer_id: form.get("transfer_id").cloned().unwrap_or_default(),
        hold_id,
        amount_fen: amount,
    };
    match state.services.capture_hold(actor, &input).await {
        Ok(_) => Ok(done("captured")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

async fn void(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(hold_id): Path<String>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let input = VoidInput {
        transfer_id: form.get("transfer_id").cloned().unwrap_or_default(),
        hold_id,
    };
    match state.services.void_hold(actor, &input).await {
        Ok(_) => Ok(done("voided")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

async fn settlement(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    let actor = viewer.require()?;
    let bad = |field: &str| viewer.fail(WebError::invalid_query(field));
    let provider_id: i64 = q
        .get("provider_id")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| bad("provider_id"))?;
    let date = |name: &str| {
        q.get(name)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let from = date("from").ok_or_else(|| bad("from"))?;
    let to = date("to").ok_or_else(|| bad("to"))?;
    let report = state
        .services
        .settlement(actor, provider_id, from, to)
        .await
        .map_err(|e| viewer.fail(e))?;
    settlement_response(&report, q.get("format").map_or("csv", String::as_str))
        .map_err(|e| viewer.fail(e))
}

// ----- administrators, reviewers, auditors ---------------------------------

async fn admin_view(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
) -> opcity_services::Result<Markup> {
    let l = viewer.locale;
    let s = &state.services;
    let today = opcity_domain::today_in_shanghai(s.now());
    let (pools, providers, rec, disputes) = tokio::try_join!(
        s.voucher_pools(actor),
        s.list_providers(actor),
        s.reconcile_vouchers(actor),
        s.voucher_disputes(actor)
    )?;
    let kinds = s.voucher_kinds(today);
    let can_issue = matches!(actor.role, Role::MunicipalAdmin | Role::DistrictReviewer);
    let is_admin = actor.role == Role::MunicipalAdmin;
    Ok(html! {
        h2 { (t(l, "voucher.kinds")) }
        table id="voucher-kinds" {
            thead { tr { th { (t(l, "voucher.kind")) } th { (t(l, "voucher.ceiling")) } th { (t(l, "voucher.pool_yearly")) } th { (t(l, "voucher.share")) } th { (t(l, "voucher.uses")) } } }
            tbody {
                @for k in &kinds {
                    tr data-kind=(k.id) {
                        td { (kind_title(l, &k.id)) }
                        td { (k.ceiling_fen.map_or_else(|| t(l, "voucher.by_district").to_owned(), money)) }
                        td { (k.yearly_pool_fen.map_or_else(|| t(l, "voucher.district_funded").to_owned(), money)) }
                        td { @if let (Some(a), Some(b)) = (k.contract_percent, k.startup_contract_percent) { (tf(l, "voucher.share_text", [("share", a.to_string().as_str()), ("startup", b.to_string().as_str())])) } }
                        td { (k.uses.iter().map(|u| t(l, &format!("voucher.use.{u}"))).collect::<Vec<_>>().join("、")) }
                    }
                }
            }
        }
        h2 { (t(l, "voucher.pools")) }
        (pools_table(l, &pools))
        section class={ "notice " (if rec.clean { "success" } else { "error" }) } id="reconciliation" data-clean=(rec.clean) {
            strong { (t(l, if rec.clean { "ledger.clean" } else { "ledger.dirty" })) }
            " " (tf(l, "ledger.counts", [("accounts", rec.accounts.to_string().as_str()), ("transfers", rec.transfers.to_string().as_str())]))
            @for m in &rec.mismatches { div.mono { (m.code) ": " (format!("{:?}", (m.debits_posted, m.credits_posted, m.debits_pending, m.credits_pending))) } }
            @for p in &rec.pool_mismatches { div.mono { "budget " (p.budget_id) ": " (p.ledger_outstanding_fen) " ≠ " (p.budget_committed_fen) } }
        }
        @if can_issue { (issue_form(viewer, today)) (fund_form(viewer, actor, today)) }
        @if is_admin {
            form.inline id="run-jobs-form" method="post" action="/vouchers/jobs" {
                (csrf_field(viewer))
                button.secondary type="submit" id="run-jobs" { (t(l, "ledger.run_jobs")) }
            }
        }
        h2 { (t(l, "voucher.disputes")) }
        p.hint { (t(l, "voucher.disputes_hint")) }
        (disputes_table(viewer, &disputes, can_issue))
        h2 { (t(l, "provider.title")) }
        (providers_table(viewer, actor, s, &providers, is_admin, today))
    })
}

/// Disputed captures; with `resolve`, each open one has the uphold / reverse
/// form (the services decide who may resolve which).
fn disputes_table(viewer: &Viewer, disputes: &[DisputeView], resolve: bool) -> Markup {
    let l = viewer.locale;
    html! {
        @if disputes.is_empty() { p.hint id="disputes" { (t(l, "voucher.no_disputes")) } }
        @else {
            table id="disputes" {
                thead { tr {
                    th { (t(l, "voucher.transfer")) } th { (t(l, "voucher.enterprise")) } th { (t(l, "provider.name")) }
                    th { (t(l, "voucher.kind")) } th { (t(l, "voucher.amount")) } th { (t(l, "voucher.reference")) }
                    th { (t(l, "voucher.dispute_reason")) } th { (t(l, "voucher.resolution_label")) }
                } }
                tbody {
                    @for d in disputes {
                        @let status = d.resolution.as_ref().map_or("open", |r| r.outcome.as_str());
                        tr id={ "dispute-" (d.capture_id) } data-status=(status) {
                            td.mono { (d.capture_id) } td { (d.enterprise_name) } td { (d.provider_name) }
                            td { (kind_title(l, &d.kind)) } td { (money(d.amount_fen)) }
                            td { (d.reference.clone().unwrap_or_default()) }
                            td { (d.dispute_comment.clone().unwrap_or_default()) }
                            td {
                                @if let Some(r) = &d.resolution {
                                    span class={ "badge " (if r.outcome == "reversed" { "eligible" } else { "ineligible" }) } { (t(l, &format!("voucher.resolution.{}", r.outcome))) }
                                    @if let Some(c) = &r.comment { " " (c) }
                                } @else if resolve {
                                    form.inline id={ "resolve-" (d.capture_id) } method="post" action={ "/vouchers/uses/" (d.capture_id) "/resolution" } {
                                        (csrf_field(viewer))
                                        input type="text" name="comment" placeholder=(t(l, "voucher.resolution_comment")) aria-label=(t(l, "voucher.resolution_comment"));
                                        button type="submit" name="outcome" value="upheld" id={ "uphold-" (d.capture_id) } { (t(l, "voucher.uphold")) }
                                        button.secondary type="submit" name="outcome" value="reversed" id={ "reverse-" (d.capture_id) } { (t(l, "voucher.reverse")) }
                                    }
                                } @else {
                                    span.badge.undetermined { (t(l, "voucher.resolution.open")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An administrator upholds or reverses a disputed capture. The reversal's
/// transfer id defaults to `reversal:{capture}`, so a double submission is
/// a replay.
async fn resolve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let input = ResolveDispute {
        outcome: form.get("outcome").cloned().unwrap_or_default(),
        transfer_id: None,
        comment: form.get("comment").cloned(),
    };
    match state.services.resolve_dispute(actor, &id, &input).await {
        Ok(_) => Ok(done("resolved")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

fn pools_table(l: Locale, pools: &[PoolView]) -> Markup {
    html! {
        @if pools.is_empty() { p.hint id="pools" { (t(l, "voucher.no_pools")) } }
        @else {
            table id="pools" {
                thead { tr {
                    th { (t(l, "voucher.kind")) } th { (t(l, "voucher.year")) } th { (t(l, "voucher.authority")) }
                    th { (t(l, "voucher.total")) } th { (t(l, "voucher.reserved")) } th { (t(l, "voucher.spent")) }
                    th { (t(l, "voucher.remaining")) } th { (t(l, "voucher.issued")) } th { (t(l, "voucher.returned")) } th { (t(l, "voucher.wallets")) }
                } }
                tbody {
                    @for p in pools {
                        tr data-budget=(p.budget_id) data-kind=(p.kind) {
                            td { (kind_title(l, &p.kind)) } td { (p.year) }
                            td { (p.authority.parse::<District>().map_or_else(|_| t(l, "voucher.municipal").to_owned(), |d| district_name(l, d).to_owned())) }
                            td { (money(p.total_fen)) } td { (money(p.reserved_fen)) } td { (money(p.spent_fen)) }
                            td { strong { (money(p.remaining_fen)) } } td { (money(p.issued_fen)) } td { (money(p.returned_fen)) } td { (p.wallets) }
                        }
                    }
                }
            }
        }
    }
}

fn kind_select(l: Locale, id: &str) -> Markup {
    html! {
        select id=(id) name="kind" {
            @for k in &KINDS { option value=(k.id) { (kind_title(l, k.id)) } }
        }
    }
}

fn issue_form(viewer: &Viewer, today: NaiveDate) -> Markup {
    let l = viewer.locale;
    html! {
        section.card {
            h2 { (t(l, "voucher.issue")) }
            form id="issue-form" method="post" action="/vouchers/issue" {
                (csrf_field(viewer))
                input type="hidden" name="transfer_id" value=(form_id("issue"));
                div.field { label for="issue-enterprise" { (t(l, "voucher.enterprise_id")) " *" } input id="issue-enterprise" name="enterprise_id" type="text" inputmode="numeric" required; }
                div.field { label for="issue-kind" { (t(l, "voucher.kind")) " *" } (kind_select(l, "issue-kind")) }
                div.field { label for="issue-amount" { (t(l, "voucher.amount_yuan")) " *" } input id="issue-amount" name="amount_yuan" type="text" inputmode="decimal" required; }
                div.field { label for="issue-until" { (t(l, "voucher.valid_until")) " *" } input id="issue-until" name="valid_until" type="date" min=(today.succ_opt().unwrap_or(today)) required; }
                button type="submit" id="issue-submit" { (t(l, "voucher.issue")) }
            }
        }
    }
}

fn fund_form(viewer: &Viewer, actor: &Actor, today: NaiveDate) -> Markup {
    use chrono::Datelike;
    let l = viewer.locale;
    html! {
        section.card {
            h2 { (t(l, "voucher.fund")) }
            p.hint { (t(l, "voucher.fund_hint")) }
            form id="fund-form" method="post" action="/vouchers/fund" {
                (csrf_field(viewer))
                div.field { label for="fund-kind" { (t(l, "voucher.kind")) } (kind_select(l, "fund-kind")) }
                div.field { label for="fund-year" { (t(l, "voucher.year")) } input id="fund-year" name="year" type="text" inputmode="numeric" value=(today.year()) required; }
                div.field {
                    label for="fund-district" { (t(l, "voucher.authority")) }
                    select id="fund-district" name="district" {
                        @if actor.district.is_none() { option value="" { (t(l, "voucher.municipal")) } }
                        @for d in District::ALL {
                            @if actor.district.is_none_or(|own| own == d) { option value=(d.id()) { (district_name(l, d)) } }
                        }
                    }
                }
                div.field { label for="fund-amount" { (t(l, "voucher.amount_yuan")) } input id="fund-amount" name="amount_yuan" type="text" inputmode="decimal" required; }
                button.secondary type="submit" id="fund-submit" { (t(l, "voucher.fund")) }
            }
        }
    }
}

fn providers_table(
    viewer: &Viewer,
    actor: &Actor,
    services: &opcity_services::Services,
    providers: &[ProviderView],
    decide: bool,
    today: NaiveDate,
) -> Markup {
    let l = viewer.locale;
    html! {
        @if providers.is_empty() { p.hint id="providers" { (t(l, "voucher.none")) } }
        @else {
            table id="providers" {
                thead { tr { th { "#" } th { (t(l, "provider.name")) } th { (t(l, "provider.category_label")) } th { (t(l, "provider.kinds")) } th { (t(l, "provider.status_label")) } th {} } }
                tbody {
                    @for p in providers {
                        tr data-provider=(p.id) data-status=(p.status) {
                            td { (p.id) } td { (p.name) } td { (t(l, &format!("provider.category.{}", p.category))) }
                            td { (p.approved_kinds.iter().chain(p.requested_kinds.iter().filter(|k| !p.approved_kinds.contains(k))).map(|k| kind_title(l, k)).collect::<Vec<_>>().join("、")) }
                            td { (t(l, &format!("provider.status.{}", p.status))) }
                            td {
                                @if decide {
                                    form.inline id={ "decide-" (p.id) } method="post" action={ "/providers/" (p.id) "/decision" } {
                                        (csrf_field(viewer))
                                        @for k in &p.requested_kinds { input type="hidden" name={ "kind." (k) } value="on"; }
                                        @if p.status != "approved" { button type="submit" name="decision" value="approve" id={ "approve-" (p.id) } { (t(l, "provider.approve")) } }
                                        @if p.status == "approved" { button.secondary type="submit" name="decision" value="suspend" id={ "suspend-" (p.id) } { (t(l, "provider.suspend")) } }
                                    }
                                }
                                @if services.may_read_settlement(actor, p) { a href={ "/vouchers/settlement?provider_id=" (p.id) "&from=" (today.with_day_one()) "&to=" (today) "&format=csv" } { (t(l, "provider.settlement")) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

trait DayOne {
    fn with_day_one(self) -> NaiveDate;
}

impl DayOne for NaiveDate {
    fn with_day_one(self) -> NaiveDate {
        use chrono::Datelike;
        self.with_day(1).unwrap_or(self)
    }
}

async fn issue(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let mut errors = Vec::new();
    let enterprise_id = form
        .get("enterprise_id")
        .and_then(|v| v.trim().parse::<i64>().ok());
    if enterprise_id.is_none() {
        errors.push(opcity_services::FieldError::new(
            "enterprise_id",
            "not_a_number",
        ));
    }
    let amount = form.get("amount_yuan").and_then(|v| parse_yuan(v));
    if amount.is_none() {
        errors.push(opcity_services::FieldError::new(
            "amount_fen",
            "not_a_number",
        ));
    }
    let valid_until = form
        .get("valid_until")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if valid_until.is_none() {
        errors.push(opcity_services::FieldError::new("valid_until", "required"));
    }
    let (Some(enterprise_id), Some(amount_fen), Some(valid_until)) =
        (enterprise_id, amount, valid_until)
    else {
        return refused(&state, &viewer, ServiceError::Validation(errors)).await;
    };
    let input = IssueVoucher {
        enterprise_id,
        kind: form.get("kind").cloned().unwrap_or_default(),
        amount_fen,
        valid_until,
        transfer_id: form.get("transfer_id").cloned(),
    };
    match state.services.issue_voucher(actor, &input).await {
        Ok(_) => Ok(done("issued")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

async fn fund(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let (Some(year), Some(amount_fen)) = (
        form.get("year").and_then(|y| y.trim().parse::<i32>().ok()),
        form.get("amount_yuan").and_then(|v| parse_yuan(v)),
    ) else {
        return refused(
            &state,
            &viewer,
            ServiceError::invalid("amount_fen", "not_a_number"),
        )
        .await;
    };
    let input = FundPool {
        kind: form.get("kind").cloned().unwrap_or_default(),
        year,
        district: form.get("district").cloned().filter(|d| !d.is_empty()),
        amount_fen,
    };
    match state.services.fund_voucher_pool(actor, &input).await {
        Ok(_) => Ok(done("funded")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

async fn run_jobs(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    match state.services.run_voucher_jobs_for(actor).await {
        Ok(_) => Ok(done("jobs")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let input = ProviderDecision {
        decision: form.get("decision").cloned().unwrap_or_default(),
        kinds: ticked_kinds(&form),
    };
    match state.services.decide_provider(actor, id, &input).await {
        Ok(_) => Ok(done("decided")),
        Err(e) => refused(&state, &viewer, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_yuan;

    #[test]
    fn yuan_text_becomes_fen_without_floats() {
        assert_eq!(parse_yuan("1,234.5"), Some(123_450));
        assert_eq!(parse_yuan("10000"), Some(1_000_000));
        assert_eq!(parse_yuan("0.07"), Some(7));
        assert_eq!(parse_yuan("-3"), Some(-300));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("abc"), None);
        assert_eq!(parse_yuan(""), None);
    }
}
