//! The administrators' view, also shown to district reviewers and
//! auditors: voucher kinds, pools, the ledger's reconciliation, disputes
//! with uphold or reverse, providers with approve or suspend, and the
//! forms to issue vouchers, fund pools and run the expiry jobs. Each form
//! is drawn only where the services' `may_*` answer (asked as the write
//! asks `authz`) says its post will be allowed.
//!
//! Stable element ids: tables `voucher-kinds`, `pools`, `disputes` (rows
//! `dispute-CAPTURE`, forms `resolve-CAPTURE` with `uphold-CAPTURE` and
//! `reverse-CAPTURE`), `providers` (forms `decide-ID` with `approve-ID`,
//! `suspend-ID`); the notice `reconciliation` (with `data-clean`); forms
//! `issue-form`, `fund-form`, `run-jobs-form`.

use super::page::run_form;
use super::shared::{
    DayOne, Values, beside, csrf_field, form_card, kept, kind_title, listing, money, parse_yuan,
    text, ticked_kinds, transfer_of,
};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use crate::pages::PageResult;
use crate::pages::flow;
use crate::pages::flow::Posted;
use crate::pages::forms::{self, district_name};
use axum::extract::Path;
use chrono::NaiveDate;
use maud::{Markup, html};
use opcity_domain::District;
use opcity_services::registry::picking::Suggestion;
use opcity_services::vouchers::KINDS;
use opcity_services::vouchers::disputes::{DisputeView, ResolveDispute};
use opcity_services::vouchers::issue::{FundPool, IssueVoucher, PoolView};
use opcity_services::vouchers::providers::{ProviderDecision, ProviderView};
use opcity_services::{Actor, FieldError, ServiceError, Services};

/// The view; `sent` is a refused form's values and errors, drawn again in
/// that form.
pub(super) async fn admin_view(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
    sent: (&Values, &[FieldError]),
) -> opcity_services::Result<Markup> {
    let l = viewer.locale;
    let s = &state.services;
    let today = opcity_domain::today_in_shanghai(s.now());
    let issues = s.may_issue_vouchers(actor);
    let (pools, providers, rec, disputes, suggestions) = tokio::try_join!(
        s.voucher_pools(actor),
        s.list_providers(actor),
        s.reconcile_vouchers(actor),
        s.voucher_disputes(actor),
        async {
            match issues {
                true => s.enterprise_suggestions(actor).await,
                false => Ok(Vec::new()),
            }
        }
    )?;
    let kinds = s.voucher_kinds(today);
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
        @if issues { (issue_form(viewer, today, &suggestions, flow::posted(ISSUE_FORM, sent.0, sent.1))) }
        @if s.may_fund_pools(actor) { (fund_form(viewer, (s, actor), today, flow::posted(FUND_FORM, sent.0, sent.1))) }
        @if s.may_run_voucher_jobs(actor) {
            form.inline id="run-jobs-form" method="post" action="/vouchers/jobs" {
                (csrf_field(viewer))
                button.secondary type="submit" id="run-jobs" { (t(l, "ledger.run_jobs")) }
            }
        }
        h2 { (t(l, "voucher.disputes")) }
        p.hint { (t(l, "voucher.disputes_hint")) }
        (disputes_table(viewer, (s, actor), &disputes))
        h2 { (t(l, "provider.title")) }
        (providers_table(viewer, (s, actor), &providers, today))
    })
}

/// Disputed captures; each open one the viewer may resolve has the uphold /
/// reverse form.
fn disputes_table(
    viewer: &Viewer,
    (s, actor): (&Services, &Actor),
    disputes: &[DisputeView],
) -> Markup {
    let l = viewer.locale;
    html! {
        (listing(l, ("disputes", "voucher.no_disputes"), &["voucher.transfer", "voucher.enterprise", "provider.name", "voucher.kind", "voucher.amount", "voucher.reference", "voucher.dispute_reason", "voucher.resolution_label"], disputes, |d| html! {
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
                    } @else if s.may_resolve_dispute(actor, d) {
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
        }))
    }
}

/// An administrator upholds or reverses a disputed capture. The reversal's
/// transfer id defaults to `reversal:{capture}`, so a double submission is
/// a replay.
pub(super) async fn resolve(Path(id): Path<String>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let input = ResolveDispute {
        outcome: text(form, "outcome"),
        transfer_id: None,
        comment: form.get("comment").cloned(),
    };
    let write = async |s: &Services, actor: &Actor| s.resolve_dispute(actor, &id, &input).await;
    run_form((state, viewer, form), "resolved", write).await
}

fn pools_table(l: Locale, pools: &[PoolView]) -> Markup {
    html! {
        (listing(l, ("pools", "voucher.no_pools"), &["voucher.kind", "voucher.year", "voucher.authority", "voucher.total", "voucher.reserved", "voucher.spent", "voucher.remaining", "voucher.issued", "voucher.returned", "voucher.wallets"], pools, |p| html! {
            tr data-budget=(p.budget_id) data-kind=(p.kind) {
                td { (kind_title(l, &p.kind)) } td { (p.year) }
                td { (p.authority.parse::<District>().map_or_else(|_| t(l, "voucher.municipal").to_owned(), |d| district_name(l, d).to_owned())) }
                td { (money(p.total_fen)) } td { (money(p.reserved_fen)) } td { (money(p.spent_fen)) }
                td { strong { (money(p.remaining_fen)) } } td { (money(p.issued_fen)) } td { (money(p.returned_fen)) } td { (p.wallets) }
            }
        }))
    }
}

fn kind_select(l: Locale, id: &str, chosen: &str) -> Markup {
    html! {
        select id=(id) name="kind" {
            @for k in &KINDS { option value=(k.id) selected[k.id == chosen] { (kind_title(l, k.id)) } }
        }
    }
}

const ISSUE_FORM: &str = "issue-form";
const FUND_FORM: &str = "fund-form";

/// The form that issues a voucher to an enterprise picked by name (the
/// first enterprises the viewer may read are suggested).
fn issue_form(
    viewer: &Viewer,
    today: NaiveDate,
    suggestions: &[Suggestion],
    (sent, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    let l = viewer.locale;
    let choices: Vec<(String, String)> = suggestions
        .iter()
        .map(|s| (s.id.to_string(), s.value.clone()))
        .collect();
    let transfer = transfer_of(sent, "issue");
    html! {
        (form_card(t(l, "voucher.issue"), None, html! {
            form id=(ISSUE_FORM) method="post" action="/vouchers/issue" {
                (csrf_field(viewer))
                input type="hidden" name=(flow::FORM_ID) value=(ISSUE_FORM);
                input type="hidden" name="transfer_id" value=(transfer);
                div.field {
                    label for="issue-enterprise" { (t(l, "voucher.enterprise_id")) " *" }
                    (forms::search(l, ("enterprise_id", "issue-enterprise", kept(sent, "enterprise_id", "")), true, &choices))
                    (beside(l, "issue-enterprise", errors, &["enterprise_id"]))
                }
                div.field {
                    label for="issue-kind" { (t(l, "voucher.kind")) " *" }
                    (kind_select(l, "issue-kind", kept(sent, "kind", "")))
                    (beside(l, "issue-kind", errors, &["kind"]))
                }
                div.field {
                    label for="issue-amount" { (t(l, "voucher.amount_yuan")) " *" }
                    input id="issue-amount" name="amount_yuan" type="text" inputmode="decimal" value=(kept(sent, "amount_yuan", "")) required;
                    (beside(l, "issue-amount", errors, &["amount_fen", "amount_yuan"]))
                }
                div.field {
                    label for="issue-until" { (t(l, "voucher.valid_until")) " *" }
                    input id="issue-until" name="valid_until" type="date" min=(today.succ_opt().unwrap_or(today)) value=(kept(sent, "valid_until", "")) required;
                    (beside(l, "issue-until", errors, &["valid_until"]))
                }
                button type="submit" id="issue-submit" { (t(l, "voucher.issue")) }
            }
        }))
    }
}

/// The form that funds a pool, its authorities those the viewer may fund.
fn fund_form(
    viewer: &Viewer,
    (s, actor): (&Services, &Actor),
    today: NaiveDate,
    (sent, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    use chrono::Datelike;
    let l = viewer.locale;
    let year = today.year().to_string();
    let district = kept(sent, "district", "");
    html! {
        (form_card(t(l, "voucher.fund"), Some(t(l, "voucher.fund_hint")), html! {
            form id=(FUND_FORM) method="post" action="/vouchers/fund" {
                (csrf_field(viewer))
                input type="hidden" name=(flow::FORM_ID) value=(FUND_FORM);
                div.field { label for="fund-kind" { (t(l, "voucher.kind")) } (kind_select(l, "fund-kind", kept(sent, "kind", ""))) (beside(l, "fund-kind", errors, &["kind"])) }
                div.field {
                    label for="fund-year" { (t(l, "voucher.year")) }
                    input id="fund-year" name="year" type="text" inputmode="numeric" value=(kept(sent, "year", &year)) required;
                    (beside(l, "fund-year", errors, &["year"]))
                }
                div.field {
                    label for="fund-district" { (t(l, "voucher.authority")) }
                    select id="fund-district" name="district" {
                        @if s.may_fund_pool(actor, None) { option value="" { (t(l, "voucher.municipal")) } }
                        @for d in District::ALL {
                            @if s.may_fund_pool(actor, Some(d)) { option value=(d.id()) selected[d.id() == district] { (district_name(l, d)) } }
                        }
                    }
                    (beside(l, "fund-district", errors, &["district"]))
                }
                div.field {
                    label for="fund-amount" { (t(l, "voucher.amount_yuan")) }
                    input id="fund-amount" name="amount_yuan" type="text" inputmode="decimal" value=(kept(sent, "amount_yuan", "")) required;
                    (beside(l, "fund-amount", errors, &["amount_fen", "amount_yuan"]))
                }
                button.secondary type="submit" id="fund-submit" { (t(l, "voucher.fund")) }
            }
        }))
    }
}

/// Providers; each has the approve / suspend form where the viewer may
/// decide it, and the settlement download where they may read it.
fn providers_table(
    viewer: &Viewer,
    (services, actor): (&Services, &Actor),
    providers: &[ProviderView],
    today: NaiveDate,
) -> Markup {
    let l = viewer.locale;
    html! {
        (listing(l, ("providers", "voucher.none"), &["#", "provider.name", "provider.category_label", "provider.kinds", "provider.status_label", ""], providers, |p| html! {
            tr data-provider=(p.id) data-status=(p.status) {
                td { (p.id) } td { (p.name) } td { (t(l, &format!("provider.category.{}", p.category))) }
                td { (p.approved_kinds.iter().chain(p.requested_kinds.iter().filter(|k| !p.approved_kinds.contains(k))).map(|k| kind_title(l, k)).collect::<Vec<_>>().join("、")) }
                td { (t(l, &format!("provider.status.{}", p.status))) }
                td {
                    @if services.may_decide_provider(actor, p) {
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
        }))
    }
}

/// Issues a voucher; what does not parse is refused as the service's own
/// refusals are.
pub(super) async fn issue(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let write = async |s: &Services, actor: &Actor| {
        // Who may not issue is told so before any name is looked up.
        if !s.may_issue_vouchers(actor) {
            return Err(ServiceError::Forbidden);
        }
        let typed = text(form, "enterprise_id");
        let picked = s.pick_enterprise(actor, "enterprise_id", &typed).await;
        let input = issue_input(form, picked)?;
        s.issue_voucher(actor, &input).await
    };
    run_form((state, viewer, form), "issued", write).await
}

/// The issue form's fields as the service's input (the enterprise as
/// `picked` from what was typed), or every field that does not parse.
fn issue_input(
    form: &Values,
    picked: opcity_services::Result<Option<i64>>,
) -> opcity_services::Result<IssueVoucher> {
    let mut errors = Vec::new();
    let enterprise_id = match picked {
        Ok(Some(id)) => Some(id),
        Ok(None) => {
            errors.push(FieldError::new("enterprise_id", "required"));
            None
        }
        Err(ServiceError::Validation(why)) => {
            errors.extend(why);
            None
        }
        Err(other) => return Err(other),
    };
    let amount = form.get("amount_yuan").and_then(|v| parse_yuan(v));
    if amount.is_none() {
        errors.push(FieldError::new("amount_fen", "not_a_number"));
    }
    let valid_until = form
        .get("valid_until")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if valid_until.is_none() {
        errors.push(FieldError::new("valid_until", "required"));
    }
    let (Some(enterprise_id), Some(amount_fen), Some(valid_until)) =
        (enterprise_id, amount, valid_until)
    else {
        return Err(ServiceError::Validation(errors));
    };
    Ok(IssueVoucher {
        enterprise_id,
        kind: text(form, "kind"),
        amount_fen,
        valid_until,
        transfer_id: form.get("transfer_id").cloned(),
    })
}

pub(super) async fn fund(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let write = async |s: &Services, actor: &Actor| {
        let (Some(year), Some(amount_fen)) = (
            form.get("year").and_then(|y| y.trim().parse::<i32>().ok()),
            form.get("amount_yuan").and_then(|v| parse_yuan(v)),
        ) else {
            return Err(ServiceError::invalid("amount_fen", "not_a_number"));
        };
        let input = FundPool {
            kind: text(form, "kind"),
            year,
            district: form.get("district").cloned().filter(|d| !d.is_empty()),
            amount_fen,
        };
        s.fund_voucher_pool(actor, &input).await
    };
    run_form((state, viewer, form), "funded", write).await
}

pub(super) async fn run_jobs(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let write = async |s: &Services, actor: &Actor| s.run_voucher_jobs_for(actor).await;
    run_form((state, viewer, form), "jobs", write).await
}

pub(super) async fn decide(Path(id): Path<i64>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let input = ProviderDecision {
        decision: text(form, "decision"),
        kinds: ticked_kinds(form),
    };
    let write = async |s: &Services, actor: &Actor| s.decide_provider(actor, id, &input).await;
    run_form((state, viewer, form), "decided", write).await
}
