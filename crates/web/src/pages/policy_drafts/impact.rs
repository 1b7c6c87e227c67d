//! A draft's simulated impact as the page shows it: per year, the counts of
//! changed, gaining and losing cases, the programmes (before, after, the
//! differences, who gains and who loses), the districts, the budgets of the
//! year and, for a file, examples by line. Withheld counts read
//! "fewer than 5"; money is in yuan.

use crate::i18n::{Locale, t, tf};
use crate::pages::forms;
use maud::{Markup, html};
use opcity_domain::{District, Fen};
use opcity_services::policy::Bilingual;
use opcity_services::policy_drafts::{
    BudgetImpact, DraftView, ExampleView, Impact, ProgrammeImpact, YearImpact,
};

pub(super) fn name(l: Locale, b: &Bilingual) -> &str {
    match l {
        Locale::Zh => &b.zh,
        Locale::En => &b.en,
    }
}

fn count(l: Locale, n: Option<i64>) -> String {
    n.map_or_else(
        || t(l, "policy_draft.withheld").to_owned(),
        |n| n.to_string(),
    )
}

fn signed(l: Locale, n: Option<i64>) -> String {
    match n {
        Some(n) if n > 0 => format!("+{n}"),
        other => count(l, other),
    }
}

fn money(l: Locale, fen: Option<i64>) -> String {
    match fen {
        Some(f) if f > 0 => format!("+{}", Fen(f)),
        Some(f) => Fen(f).to_string(),
        None => t(l, "policy_draft.withheld").to_owned(),
    }
}

pub(super) fn section(l: Locale, draft: &DraftView, impact: &Impact) -> Markup {
    let shanghai = opcity_domain::civil_date::shanghai();
    let at = draft
        .impact_at
        .map(|at| {
            at.with_timezone(&shanghai)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let p = &impact.population;
    let over = match p.file_name.as_deref() {
        Some(file) => tf(
            l,
            "policy_draft.impact_over_file",
            [
                ("file", file),
                ("cases", p.cases.to_string().as_str()),
                ("bad", p.bad_cases.to_string().as_str()),
            ],
        ),
        None => tf(
            l,
            "policy_draft.impact_over_registry",
            [("cases", p.cases.to_string().as_str())],
        ),
    };
    let lines: Vec<String> = p.bad_lines.iter().map(u64::to_string).collect();
    let revision = draft.impact_revision.unwrap_or_default().to_string();
    html! {
        section.card id="draft-impact" aria-labelledby="impact-title" {
            h2 id="impact-title" { (t(l, "policy_draft.impact")) }
            @if !draft.impact_current {
                p.notice.warning id="impact-stale" { (t(l, "policy_draft.impact_stale")) }
            }
            p { (over) " " (tf(l, "policy_draft.impact_simulated_at", [("at", at.as_str()), ("n", revision.as_str())])) }
            @if !lines.is_empty() {
                p.hint { (tf(l, "policy_draft.impact_bad_lines", [("lines", lines.join(", ").as_str())])) }
            }
            @if impact.withheld_below.is_some() { p.hint { (t(l, "policy_draft.impact_withheld")) } }
            @for year in &impact.years { (year_section(l, year)) }
        }
    }
}

fn year_section(l: Locale, y: &YearImpact) -> Markup {
    let heading = tf(
        l,
        "policy_draft.year",
        [
            ("year", y.year.to_string().as_str()),
            ("date", y.as_of.to_string().as_str()),
        ],
    );
    html! {
        section id={ "impact-" (y.year) } {
            h3 { (heading) }
            dl.facts {
                dt { (t(l, "policy_draft.changed_cases")) } dd { (count(l, y.changed_cases)) }
                dt { (t(l, "policy_draft.gaining")) } dd { (count(l, y.gaining_cases)) }
                dt { (t(l, "policy_draft.losing")) } dd { (count(l, y.losing_cases)) }
                dt { (t(l, "policy_draft.mixed")) } dd { (count(l, y.mixed_cases)) }
            }
            @if y.programmes.is_empty() {
                p.hint { (t(l, "policy_draft.no_programme_changes")) }
            } @else {
                (programmes(l, y))
                (districts(l, y))
                @if !y.budgets.is_empty() { (budgets(l, y.year, &y.budgets)) }
                @for p in y.programmes.iter().filter(|p| !p.examples.is_empty()) { (examples(l, p)) }
            }
        }
    }
}

fn programmes(l: Locale, y: &YearImpact) -> Markup {
    html! {
        div.table-wrap { table id={ "impact-" (y.year) "-programmes" } {
            caption.visually-hidden { (t(l, "policy_draft.impact")) " " (y.year) }
            (forms::table_head(l, &["policy_draft.programme", "policy_draft.eligible_before", "policy_draft.eligible_after",
                "policy_draft.eligible_delta", "policy_draft.money_delta", "policy_draft.gainers", "policy_draft.losers"]))
            tbody { @for p in &y.programmes { (programme_row(l, p)) } }
        } }
    }
}

fn programme_row(l: Locale, p: &ProgrammeImpact) -> Markup {
    html! {
        tr data-programme=(p.programme) {
            td { (name(l, &p.title)) br; span.hint { (p.programme) } }
            td.num { (count(l, p.baseline.eligible)) }
            td.num { (count(l, p.scenario.eligible)) }
            td.num { (signed(l, p.delta.eligible)) }
            td.num data-fen=[p.delta.money_fen] { (money(l, p.delta.money_fen)) }
            td.num { (count(l, p.gainers)) }
            td.num { (count(l, p.losers)) }
        }
    }
}

fn districts(l: Locale, y: &YearImpact) -> Markup {
    let district = |id: &str| {
        id.parse::<District>()
            .map_or_else(|_| id.to_owned(), |d| forms::district_name(l, d).to_owned())
    };
    html! {
        @if !y.districts.is_empty() {
            h4 { (t(l, "policy_draft.by_district")) }
            div.table-wrap { table id={ "impact-" (y.year) "-districts" } {
                (forms::table_head(l, &["policy_draft.district", "policy_draft.programme", "policy_draft.eligible_delta", "policy_draft.money_delta"]))
                tbody { @for d in &y.districts { @for c in &d.programmes {
                    tr data-district=(d.district) data-programme=(c.programme) {
                        td { (district(&d.district)) }
                        td { (c.programme) }
                        td.num { (signed(l, c.delta.eligible)) }
                        td.num { (money(l, c.delta.money_fen)) }
                    }
                } } }
            } }
        }
    }
}

fn budgets(l: Locale, year: i32, budgets: &[BudgetImpact]) -> Markup {
    html! {
        h4 { (t(l, "policy_draft.budgets")) }
        div.table-wrap { table id={ "impact-" (year) "-budgets" } {
            (forms::table_head(l, &["policy_draft.programme", "policy_draft.budget_total", "policy_draft.budget_committed",
                "policy_draft.budget_remaining", "policy_draft.money_delta", "policy_draft.budget_after"]))
            tbody { @for b in budgets {
                tr data-programme=(b.programme) {
                    td { (name(l, &b.title)) }
                    @if b.on_record {
                        td.num { (Fen(b.total_fen)) }
                        td.num { (Fen(b.committed_fen)) }
                        td.num { (Fen(b.remaining_fen)) }
                    } @else {
                        td colspan="3" { (t(l, "policy_draft.budget_none")) }
                    }
                    td.num { (money(l, b.delta_fen)) }
                    td.num {
                        @match b.remaining_after_fen {
                            Some(after) if after < 0 && b.on_record => strong.short { (tf(l, "policy_draft.budget_short", [("amount", Fen(-after).to_string().as_str())])) },
                            Some(after) if b.on_record => (Fen(after)),
                            _ => "—",
                        }
                    }
                }
            } }
        } }
    }
}

fn examples(l: Locale, p: &ProgrammeImpact) -> Markup {
    let status = |s: &str| t(l, &format!("policy_draft.status_{s}"));
    let line = |e: &ExampleView| {
        let id =
            e.id.as_deref()
                .map(|id| format!(" ({id})"))
                .unwrap_or_default();
        let before = format!("{} {}", status(&e.status_before), Fen(e.money_before_fen));
        let after = format!("{} {}", status(&e.status_after), Fen(e.money_after_fen));
        tf(
            l,
            "policy_draft.example",
            [
                ("line", e.position.to_string().as_str()),
                ("id", id.as_str()),
                ("before", before.as_str()),
                ("after", after.as_str()),
            ],
        )
    };
    html! {
        h4 { (t(l, "policy_draft.examples")) ": " (name(l, &p.title)) }
        ul data-programme=(p.programme) {
            @for e in &p.examples {
                li data-gains=(e.gains) {
                    span.badge { (t(l, if e.gains { "policy_draft.gains" } else { "policy_draft.loses" })) }
                    " " (line(e))
                }
            }
        }
    }
}
