//! Decision letters: `/applications/{id}/letters/{n}`, the application's
//! `n`th decision as a page that prints as a letter, and `…/{n}/pdf`, the
//! same text as PDF ([`crate::letter_pdf`]). Both say what
//! [`letter_text`] says, in the viewer's language.

use super::{PageError, PageResult};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use crate::letter_pdf::{self, Block, Style};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use opcity_domain::{District, Fen};
use opcity_services::ServiceError;
use opcity_services::applications::DecisionLetter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications/{id}/letters/{n}", get(letter_page))
        .route("/applications/{id}/letters/{n}/pdf", get(letter_pdf))
}

/// The application's `n`th decision letter, or not found.
async fn letter(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    n: usize,
) -> Result<DecisionLetter, PageError> {
    let actor = viewer.require()?;
    state
        .services
        .decision_letters(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?
        .into_iter()
        .find(|letter| letter.number == n)
        .ok_or_else(|| viewer.fail(ServiceError::NotFound { entity: "letter" }))
}

/// Who speaks in the letter: the district's government, or the city's.
fn issuer(l: Locale, authority: &str) -> String {
    let name = match authority.parse::<District>() {
        Ok(d) if l == Locale::Zh => format!("深圳市{}", d.name_zh()),
        Ok(d) => format!("{}, Shenzhen", d.name_en()),
        Err(_) => t(l, "letter.municipal").to_owned(),
    };
    tf(l, "letter.issuer", [("authority", name.as_str())])
}

fn programme_title(state: &AppState, l: Locale, id: &str) -> String {
    state
        .services
        .programme(id)
        .map(|(_, p)| match l {
            Locale::Zh => p.title.zh,
            Locale::En => p.title.en,
        })
        .unwrap_or_else(|_| id.to_owned())
}

/// The letter's text, block by block: the page and the PDF set the same.
pub(super) fn letter_text(state: &AppState, l: Locale, letter: &DecisionLetter) -> Vec<Block> {
    let block = |style, text: String| Block { style, text };
    let id = letter.application_id.to_string();
    let programme = programme_title(state, l, &letter.programme);
    let vars = [("id", id.as_str()), ("programme", programme.as_str())];
    let mut blocks = vec![
        block(Style::Issuer, issuer(l, &letter.authority)),
        block(Style::Title, t(l, "letter.title").to_owned()),
        block(
            Style::Meta,
            tf(
                l,
                "letter.reference",
                [("reference", letter.reference.as_str())],
            ),
        ),
        block(
            Style::Meta,
            tf(
                l,
                "letter.date",
                [("date", letter.issued_on.to_string().as_str())],
            ),
        ),
        block(
            Style::Meta,
            tf(l, "letter.to", [("applicant", letter.applicant.as_str())]),
        ),
    ];
    if letter.decision == "approved" {
        blocks.push(block(Style::Body, tf(l, "letter.approved", vars)));
        if let Some(amount) = letter.approved_fen {
            let amount = Fen(amount).to_string();
            blocks.push(block(
                Style::Body,
                tf(l, "letter.amount", [("amount", amount.as_str())]),
            ));
        }
        if let Some(delivery) = &letter.delivery {
            let kind = t(l, &format!("application.delivery_kind.{delivery}"));
            blocks.push(block(
                Style::Body,
                tf(l, "letter.delivery", [("kind", kind)]),
            ));
        }
        blocks.push(block(Style::Body, t(l, "letter.accept").to_owned()));
    } else {
        blocks.push(block(Style::Body, tf(l, "letter.rejected", vars)));
    }
    if let Some(reason) = &letter.reason {
        let key = if letter.decision == "approved" {
            "letter.note"
        } else {
            "letter.reason"
        };
        blocks.push(block(
            Style::Body,
            tf(l, key, [("reason", reason.as_str())]),
        ));
    }
    if !letter.unmet_conditions.is_empty() {
        blocks.push(block(Style::Body, t(l, "letter.unmet").to_owned()));
        for c in &letter.unmet_conditions {
            blocks.push(block(
                Style::Item,
                t(l, &format!("condition.{c}")).to_owned(),
            ));
        }
    }
    if letter.decision != "approved" {
        blocks.push(block(Style::Body, t(l, "letter.appeal").to_owned()));
    }
    if !letter.current {
        blocks.push(block(Style::Body, t(l, "letter.replaced").to_owned()));
    }
    blocks.push(block(
        Style::Note,
        tf(l, "letter.verify", [("id", id.as_str())]),
    ));
    blocks
}

async fn letter_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(i64, usize)>,
) -> PageResult {
    let letter = letter(&state, &viewer, id, n).await?;
    let l = viewer.locale;
    let blocks = letter_text(&state, l, &letter);
    let body = html! {
        nav.no-print aria-label=(t(l, "letter.links")) {
            p { a href={ "/applications/" (id) } { (t(l, "letter.back")) } " · "
                a id="letter-pdf" href={ "/applications/" (id) "/letters/" (n) "/pdf" } { (t(l, "letter.pdf")) } }
        }
        article.letter id="letter" data-decision=(letter.decision) data-reference=(letter.reference) {
            @for b in &blocks {
                @match b.style {
                    Style::Issuer => p.issuer { (b.text) },
                    Style::Title => h1 { (b.text) },
                    Style::Meta => p.meta { (b.text) },
                    Style::Body => p { (b.text) },
                    Style::Item => p.item { "• " (b.text) },
                    Style::Note => p.hint { (b.text) },
                }
            }
        }
    };
    Ok(super::layout::page(&viewer, &letter.reference, body).into_response())
}

async fn letter_pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(i64, usize)>,
) -> PageResult {
    let letter = letter(&state, &viewer, id, n).await?;
    let blocks = letter_text(&state, viewer.locale, &letter);
    let pdf = letter_pdf::render(&letter.reference, &blocks);
    let disposition = format!("inline; filename=\"{}.pdf\"", letter.reference);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}
