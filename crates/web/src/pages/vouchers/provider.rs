//! The provider console: registration, then, once approved, receivables,
//! open holds to capture or void, settlement downloads (CSV or XLSX) and
//! the history.
//!
//! Stable element ids: `provider-status` (with `data-status`), the form
//! `provider-register-form` (button `provider-register`), tables
//! `receivables`, `open-holds` (forms `capture-HOLD`, `void-HOLD`) and
//! `provider-history`, the form `settlement-form` (buttons
//! `settlement-csv`, `settlement-xlsx`).

use super::page::run_form;
use super::shared::{
    DayOne, Party, Values, beside, csrf_field, form_card, form_id, history_table, kept, kind_title,
    listing, money, parse_yuan, text, ticked_kinds, transfer_of,
};
use crate::AppState;
use crate::api::export::ExportFormat;
use crate::api::vouchers::settlement_response;
use crate::error::WebError;
use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use crate::pages::flow::{self, Posted};
use crate::pages::forms;
use crate::pages::{PageError, PageResult};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use maud::{Markup, html};
use opcity_services::vouchers::providers::ProviderInput;
use opcity_services::vouchers::redeem::{CaptureInput, TillHold, VoidInput};
use opcity_services::vouchers::{CATEGORIES, KINDS, USES};
use opcity_services::{Actor, FieldError, ServiceError, Services};

/// The console; `sent` is a refused form's values and errors, drawn again
/// in that form.
pub(super) async fn provider_view(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
    sent: (&Values, &[FieldError]),
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
        @if me.status == "approved" {
            (hold_form(viewer, &me.approved_kinds, flow::posted(HOLD_FORM, sent.0, sent.1)))
        }
        @if let Some(c) = console {
            h2 { (t(l, "provider.receivables")) }
            table id="receivables" {
                thead { tr { th { (t(l, "voucher.kind")) } th { (t(l, "provider.captured")) } th { (t(l, "voucher.held")) } } }
                tbody { @for r in &c.receivables { tr data-kind=(r.kind) { td { (kind_title(l, &r.kind)) } td { (money(r.captured_fen)) } td { (money(r.held_fen)) } } } }
            }
            h2 { (t(l, "voucher.open_holds")) }
            @let customer = Party::Customer(&c.parties);
            (listing(l, ("open-holds", "voucher.none"), &["voucher.transfer", customer.header(), "voucher.kind", "voucher.amount", "voucher.reference", ""], &c.open_holds, |h| html! {
                tr data-transfer=(h.id) {
                    td.mono { (h.id) } td.party { (customer.name(h)) } td { (kind_title(l, &h.voucher_kind)) } td { (money(h.amount_fen)) }
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
            }))
            h2 { (t(l, "provider.settlement")) }
            (settlement_form(l, me.id, month_start, today))
            h2 { (t(l, "voucher.history")) }
            (history_table(viewer, "provider-history", &c.history, (customer, false)))
        }
    })
}

const HOLD_FORM: &str = "hold-form";

/// The counter's form: the customer by credit code, the voucher kind (of
/// those the provider is approved for), what it pays for, the amounts and
/// the contract's number.
fn hold_form(
    viewer: &Viewer,
    kinds: &[String],
    (sent, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    let l = viewer.locale;
    let kept = |name: &str| kept(sent, name, "");
    let beside = |id: &str, fields: &[&str]| beside(l, id, errors, fields);
    let transfer = transfer_of(sent, "hold");
    let (kind, use_kind) = (kept("kind"), kept("use"));
    html! {
        (form_card(t(l, "provider.hold_title"), Some(t(l, "provider.hold_hint")), html! {
            form id=(HOLD_FORM) method="post" action="/provider/holds" {
                (csrf_field(viewer))
                input type="hidden" name=(flow::FORM_ID) value=(HOLD_FORM);
                input type="hidden" name="transfer_id" value=(transfer);
                div.field {
                    label for="hold-uscc" { (t(l, "provider.customer_uscc")) " *" }
                    input id="hold-uscc" name="uscc" type="text" autocomplete="off" spellcheck="false" maxlength="18" value=(kept("uscc")) required;
                    (beside("hold-uscc", &["uscc", "enterprise_id"]))
                }
                div.field {
                    label for="hold-kind" { (t(l, "voucher.kind")) " *" }
                    select id="hold-kind" name="kind" {
                        @for k in kinds { option value=(k) selected[k == kind] { (kind_title(l, k)) } }
                    }
                    (beside("hold-kind", &["kind"]))
                }
                div.field {
                    label for="hold-use" { (t(l, "provider.use_label")) " *" }
                    select id="hold-use" name="use" {
                        @for u in USES { option value=(u) selected[u == use_kind] { (t(l, &format!("voucher.use.{u}"))) } }
                    }
                    (beside("hold-use", &["use", "use_kind"]))
                }
                div.field {
                    label for="hold-amount" { (t(l, "voucher.amount_yuan")) " *" }
                    input id="hold-amount" name="amount_yuan" type="text" inputmode="decimal" value=(kept("amount_yuan")) required;
                    (beside("hold-amount", &["amount_fen", "amount_yuan"]))
                }
                div.field {
                    label for="hold-contract" { (t(l, "provider.contract_yuan")) }
                    input id="hold-contract" name="contract_amount_yuan" type="text" inputmode="decimal" value=(kept("contract_amount_yuan"));
                    (beside("hold-contract", &["contract_amount_fen", "contract_amount_yuan"]))
                }
                div.field {
                    label for="hold-reference" { (t(l, "provider.reference")) " *" }
                    input id="hold-reference" name="reference" type="text" value=(kept("reference")) required;
                    (beside("hold-reference", &["reference"]))
                }
                button type="submit" id="hold-submit" { (t(l, "provider.hold_submit")) }
            }
        }))
    }
}

/// Places a hold from the counter's form; amounts that do not parse are
/// named with the service's own refusals.
pub(super) async fn hold(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let write = async |s: &Services, actor: &Actor| {
        let mut errors = Vec::new();
        let amount_fen = forms::yuan(form, "amount_yuan", true, &mut errors);
        let contract_amount_fen = forms::yuan(form, "contract_amount_yuan", false, &mut errors);
        let Some(amount_fen) = amount_fen.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::Validation(errors));
        };
        let input = TillHold {
            transfer_id: text(form, "transfer_id"),
            uscc: text(form, "uscc"),
            kind: text(form, "kind"),
            amount_fen,
            use_kind: text(form, "use"),
            reference: text(form, "reference"),
            contract_amount_fen,
        };
        s.place_hold_at_till(actor, &input).await
    };
    run_form((state, viewer, form), "held", write).await
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
        (form_card(t(l, "provider.register"), Some(t(l, "provider.register_hint")), html! {
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
        }))
    }
}

pub(super) async fn register(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let input = ProviderInput {
        name: text(form, "name"),
        uscc: form.get("uscc").cloned(),
        category: text(form, "category"),
        kinds: ticked_kinds(form),
        account_id: None,
    };
    let write = async |s: &Services, actor: &Actor| s.register_provider(actor, &input).await;
    run_form((state, viewer, form), "registered", write).await
}

/// Captures a hold, in full or for the amount typed (which must parse).
pub(super) async fn capture(Path(hold_id): Path<String>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let write = async |s: &Services, actor: &Actor| {
        let typed = form.get("amount_yuan").map(|s| s.trim());
        let amount_fen = match typed.filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => Some(
                parse_yuan(text)
                    .ok_or_else(|| ServiceError::invalid("amount_fen", "not_a_number"))?,
            ),
        };
        let input = CaptureInput {
            transfer_id: text(form, "transfer_id"),
            hold_id,
            amount_fen,
        };
        s.capture_hold(actor, &input).await
    };
    run_form((state, viewer, form), "captured", write).await
}

pub(super) async fn void(Path(hold_id): Path<String>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let input = VoidInput {
        transfer_id: text(form, "transfer_id"),
        hold_id,
    };
    let write = async |s: &Services, actor: &Actor| s.void_hold(actor, &input).await;
    run_form((state, viewer, form), "voided", write).await
}

pub(super) async fn settlement(
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
    let format = match q.get("format") {
        Some(format) => format.parse().map_err(|()| bad("format"))?,
        None => ExportFormat::Csv,
    };
    settlement_response(&report, format).map_err(|e| viewer.fail(e))
}
