//! The enterprise's wallet, for founders: per enterprise, its balances by
//! voucher kind, its open holds and its history, where each use not yet
//! reviewed can be confirmed or disputed.
//!
//! Stable element ids: sections `enterprise-ID`, tables `wallet-ID`,
//! `holds-ID`, `history-ID` (ID the enterprise's), forms `review-TRANSFER`
//! with the buttons `confirm-TRANSFER` and `dispute-TRANSFER`; the notice
//! `no-enterprise`.

use super::page::run_form;
use super::shared::{Party, history_table, kind_title, listing, money, text};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use crate::pages::PageResult;
use crate::pages::flow::Posted;
use axum::extract::Path;
use maud::{Markup, html};
use opcity_services::vouchers::issue::WalletBalance;
use opcity_services::vouchers::redeem::{TransferView, UseReviewInput};
use opcity_services::{Actor, Services};

pub(super) async fn founder_view(
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
                @if !w.wallets.is_empty() {
                    p.hint id={ "pay-code-" (id) } { (t(l, "voucher.pay_code")) " " strong.mono { (w.enterprise_uscc) } }
                }
                (wallet_table(l, &format!("wallet-{id}"), &w.wallets))
                h3 { (t(l, "voucher.open_holds")) }
                (transfers_table(l, &format!("holds-{id}"), &w.open_holds, Party::Provider(&w.parties)))
                h3 { (t(l, "voucher.history")) }
                (history_table(viewer, &format!("history-{id}"), &w.history, (Party::Provider(&w.parties), true)))
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

fn transfers_table(l: Locale, id: &str, rows: &[TransferView], party: Party<'_>) -> Markup {
    html! {
        (listing(l, (id, "voucher.none"), &["voucher.transfer", party.header(), "voucher.kind", "voucher.amount", "voucher.reference", "voucher.expires"], rows, |h| html! {
            tr data-transfer=(h.id) {
                td.mono { (h.id) } td.party { (party.name(h)) } td { (kind_title(l, &h.voucher_kind)) } td { (money(h.amount_fen)) }
                td { (h.reference.clone().unwrap_or_default()) }
                td { (h.expires_at.map(|e| e.with_timezone(&opcity_domain::civil_date::shanghai()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
            }
        }))
    }
}

pub(super) async fn review(Path(id): Path<String>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let input = UseReviewInput {
        decision: text(form, "decision"),
        comment: form.get("comment").cloned(),
    };
    let write = async |s: &Services, actor: &Actor| s.review_use(actor, &id, &input).await;
    run_form((state, viewer, form), "reviewed", write).await
}
