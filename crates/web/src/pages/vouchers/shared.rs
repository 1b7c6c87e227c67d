//! What the voucher pages' views and forms share: money shown and typed,
//! a form's fresh transfer id, kind names, the CSRF field, the history
//! table enterprises and providers both see, how every list is drawn
//! (`listing`), and the kinds ticked in a form.

use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use crate::pages::forms::{self, table_head};
use chrono::NaiveDate;
use maud::{Markup, html};
use opcity_domain::Fen;
use opcity_services::FieldError;
use opcity_services::vouchers::KINDS;
use opcity_services::vouchers::redeem::TransferView;
use opcity_services::vouchers::wallet::{HistoryItem, Parties};
use std::collections::HashMap;

/// A form's fields by name.
pub(super) type Values = HashMap<String, String>;

pub(super) fn money(fen: i64) -> String {
    Fen(fen).to_string()
}

/// A field as typed, empty when absent.
pub(super) fn text(form: &Values, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// Yuan as typed to fen (`domain::money`'s one parser).
pub(super) fn parse_yuan(text: &str) -> Option<i64> {
    Fen::parse_yuan(text).map(|fen| fen.0)
}

/// A fresh transfer id for a form, so a resubmission is a replay.
pub(super) fn form_id(prefix: &str) -> String {
    format!("{prefix}:{}", opcity_services::accounts::random_token(12))
}

pub(super) fn kind_title(l: Locale, kind: &str) -> &'static str {
    t(l, &format!("voucher.kind_name.{kind}"))
}

pub(super) fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default()); }
}

/// A refused form's value for `name`, or `default`.
pub(super) fn kept<'a>(sent: Option<&'a Values>, name: &str, default: &'a str) -> &'a str {
    sent.and_then(|v| v.get(name))
        .map_or(default, String::as_str)
}

/// The messages about `fields` beside the control `id`.
pub(super) fn beside(l: Locale, id: &str, errors: &[FieldError], fields: &[&str]) -> Markup {
    forms::messages(
        l,
        id,
        errors.iter().filter(|e| fields.contains(&e.field.as_str())),
    )
}

/// A refused form's transfer id (so that sending it again is a replay),
/// else a new one for the form `prefix`.
pub(super) fn transfer_of(sent: Option<&Values>, prefix: &str) -> String {
    match kept(sent, "transfer_id", "") {
        "" => form_id(prefix),
        seen => seen.to_owned(),
    }
}

/// A form's card: its heading, its hint when it has one, then the form.
pub(super) fn form_card(heading: &str, hint: Option<&str>, form: Markup) -> Markup {
    html! {
        section.card {
            h2 { (heading) }
            @if let Some(hint) = hint { p.hint { (hint) } }
            (form)
        }
    }
}

/// A list of `rows` as the table `id` under its columns' headings (see
/// [`table_head`]), each row drawn by `row`; with no rows, the hint `none`
/// in its place under the same id. How every voucher list is drawn.
pub(super) fn listing<T>(
    l: Locale,
    (id, none): (&str, &str),
    columns: &[&str],
    rows: &[T],
    row: impl Fn(&T) -> Markup,
) -> Markup {
    html! {
        @if rows.is_empty() { p.hint id=(id) { (t(l, none)) } }
        @else {
            table id=(id) {
                (table_head(l, columns))
                tbody { @for r in rows { (row(r)) } }
            }
        }
    }
}

/// The other party of a voucher table's lines: the provider, on the
/// enterprise's wallet; the customer, on the provider's console.
#[derive(Clone, Copy)]
pub(super) enum Party<'a> {
    Provider(&'a Parties),
    Customer(&'a Parties),
}

impl<'a> Party<'a> {
    pub(super) fn header(self) -> &'static str {
        match self {
            Party::Provider(_) => "voucher.provider",
            Party::Customer(_) => "voucher.customer",
        }
    }

    /// The party's name, or a dash for lines without one (an issue, an
    /// expiry).
    pub(super) fn name(self, t: &TransferView) -> &'a str {
        match self {
            Party::Provider(p) => p.provider_of(t),
            Party::Customer(p) => p.enterprise_of(t),
        }
        .unwrap_or("—")
    }
}

/// The lines of a wallet or console, newest first, with the other
/// `party`; with `review`, each capture not yet reviewed has the
/// enterprise's confirm / dispute form.
pub(super) fn history_table(
    viewer: &Viewer,
    id: &str,
    rows: &[HistoryItem],
    (party, review): (Party<'_>, bool),
) -> Markup {
    let l = viewer.locale;
    html! {
        (listing(l, (id, "voucher.none"), &["voucher.date", "voucher.what", party.header(), "voucher.kind", "voucher.amount", "voucher.reference", "voucher.review_label"], rows, |item| html! {
            @let tr_ = &item.transfer;
            tr data-transfer=(tr_.id) data-kind=(tr_.kind) {
                td { (tr_.created_at.with_timezone(&opcity_domain::civil_date::shanghai()).format("%Y-%m-%d %H:%M")) }
                td { (t(l, &format!("ledger.kind.{}", tr_.kind))) @if item.open { " · " (t(l, "voucher.open")) } }
                td.party { (party.name(tr_)) }
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
        }))
    }
}

/// The kinds ticked in a form (`kind.ID=on`).
pub(super) fn ticked_kinds(form: &Values) -> Vec<String> {
    KINDS
        .iter()
        .filter(|k| form.get(&format!("kind.{}", k.id)).is_some())
        .map(|k| k.id.to_owned())
        .collect()
}

/// The first day of a date's month, where the settlement a page offers
/// starts.
pub(super) trait DayOne {
    fn with_day_one(self) -> NaiveDate;
}

impl DayOne for NaiveDate {
    fn with_day_one(self) -> NaiveDate {
        use chrono::Datelike;
        self.with_day(1).unwrap_or(self)
    }
}
