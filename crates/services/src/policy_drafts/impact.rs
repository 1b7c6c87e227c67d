//! A simulation's answer as people read it: per year, the programmes whose
//! results change (eligible people and money before, after and the
//! difference; who gains and who loses, with examples from an uploaded
//! file), the districts, and the budgets on record.
//!
//! Over the registry only aggregates are shown, and a count of one to four
//! people is withheld (`None`), with the money it would reveal: a
//! difference is shown where at least five people's results changed
//! (`Shift::changed`, `WhatIf::changed_by_district`), a total where at
//! least five are eligible. A file the bureau uploaded is its own data and
//! is shown whole, with examples.

use crate::policy::{Bilingual, text};
use chrono::NaiveDate;
use opcity_policy::{Pack, Shift, Totals, WhatIf};
use opcity_store::entity::budget;

/// Below this many people a count from the registry is withheld.
pub const SMALLEST_SHOWN: i64 = 5;

/// Where the cases came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PopulationInfo {
    /// `registry` or `file`.
    pub source: String,
    pub file_name: Option<String>,
    pub sha256: Option<String>,
    /// Cases evaluated, and cases of the file that could not be read (left
    /// out), with the first lines of those.
    pub cases: u64,
    pub bad_cases: u64,
    pub bad_lines: Vec<u64>,
}

/// A simulation's answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Impact {
    pub population: PopulationInfo,
    /// Counts under this are withheld (`None` below); absent for a file.
    pub withheld_below: Option<i64>,
    pub years: Vec<YearImpact>,
}

/// One year of the pack, evaluated on `as_of`: the later of 1 January and
/// the draft's first change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct YearImpact {
    pub year: i32,
    pub as_of: NaiveDate,
    pub changed_cases: Option<i64>,
    pub gaining_cases: Option<i64>,
    pub losing_cases: Option<i64>,
    pub mixed_cases: Option<i64>,
    /// The programmes some case's result changed in.
    pub programmes: Vec<ProgrammeImpact>,
    pub districts: Vec<DistrictImpact>,
    pub budgets: Vec<BudgetImpact>,
}

/// Eligible and undetermined people and the money over the eligible ones
/// (amounts, a monthly benefit's for all its months, and ceilings: what
/// they could be granted at most). `None`: withheld.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Figures {
    pub eligible: Option<i64>,
    pub maybe: Option<i64>,
    pub money_fen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProgrammeImpact {
    pub programme: String,
    pub title: Bilingual,
    pub baseline: Figures,
    pub scenario: Figures,
    pub delta: Figures,
    pub changed: Option<i64>,
    pub gainers: Option<i64>,
    pub losers: Option<i64>,
    /// From a file only: the first cases that gain and that lose.
    pub examples: Vec<ExampleView>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ExampleView {
    /// The case's line in the file, and its own id.
    pub position: u64,
    pub id: Option<String>,
    pub gains: bool,
    /// `eligible`, `ineligible` or `undetermined`, and the money.
    pub status_before: String,
    pub status_after: String,
    pub money_before_fen: i64,
    pub money_after_fen: i64,
}

/// A district's differences, in the programmes whose results changed there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DistrictImpact {
    pub district: String,
    pub programmes: Vec<DistrictCell>,
}

/// One programme's difference in a district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DistrictCell {
    pub programme: String,
    pub delta: Figures,
}

/// What the change does to one programme's budgets of the year (every
/// authority's together).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BudgetImpact {
    pub programme: String,
    pub title: Bilingual,
    pub year: i32,
    /// Whether any budget of the programme and year is on record; the
    /// figures are 0 when none is.
    pub on_record: bool,
    pub total_fen: i64,
    /// Reserved and spent.
    pub committed_fen: i64,
    pub remaining_fen: i64,
    /// The change in money the population could claim (withheld: `None`),
    /// and what would remain if it all were.
    pub delta_fen: Option<i64>,
    pub remaining_after_fen: Option<i64>,
}

/// Sums as the view holds them; a population's sums fit i64 by far.
fn fen(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A monthly benefit's amount is already monthly × months.
fn money(t: &Totals) -> i128 {
    t.amount_fen + t.ceiling_fen
}

/// How counts are shown: whole, or with small ones withheld.
#[derive(Debug, Clone, Copy)]
pub(super) struct Disclosure {
    pub withhold: bool,
}

impl Disclosure {
    fn count(self, n: i64) -> Option<i64> {
        (!self.withhold || n == 0 || n.abs() >= SMALLEST_SHOWN).then_some(n)
    }

    fn totals(self, t: &Totals) -> Figures {
        let eligible = self.count(t.eligible);
        Figures {
            eligible,
            maybe: self.count(t.maybe),
            money_fen: eligible.map(|_| fen(money(t))),
        }
    }

    /// A difference over `changed` people: whole, or withheld entirely.
    fn delta(self, t: &Totals, changed: i64) -> Figures {
        match self.count(changed) {
            Some(_) => Figures {
                eligible: Some(t.eligible),
                maybe: Some(t.maybe),
                money_fen: Some(fen(money(t))),
            },
            None => Figures {
                eligible: None,
                maybe: None,
                money_fen: None,
            },
        }
    }

    fn examples(self, shift: &Shift) -> Vec<ExampleView> {
        if self.withhold {
            return Vec::new();
        }
        let status = |s: opcity_policy::Status| s.name().to_owned();
        shift
            .examples
            .iter()
            .map(|e| ExampleView {
                position: e.position as u64,
                id: e.id.clone(),
                gains: e.gains,
                status_before: status(e.before.status),
                status_after: status(e.after.status),
                money_before_fen: fen(e.before.money_fen),
                money_after_fen: fen(e.after.money_fen),
            })
            .collect()
    }
}

/// One year's view of `whatif`, with the budgets of that year.
pub(super) fn year(
    pack: &Pack,
    (year, as_of): (i32, NaiveDate),
    whatif: &WhatIf,
    budgets: &[budget::Model],
    show: Disclosure,
) -> YearImpact {
    let title = |id: &str| pack.programme(id).map(|p| text(&p.title));
    let untitled = || Bilingual {
        zh: String::new(),
        en: String::new(),
    };
    let changed_ids: Vec<&String> = whatif
        .shifts
        .iter()
        .filter(|(_, s)| s.changed > 0)
        .map(|(id, _)| id)
        .collect();
    let programmes = changed_ids
        .iter()
        .map(|&id| {
            let shift = &whatif.shifts[id];
            ProgrammeImpact {
                programme: id.clone(),
                title: title(id).unwrap_or_else(untitled),
                baseline: show.totals(&whatif.baseline[id]),
                scenario: show.totals(&whatif.scenario[id]),
                delta: show.delta(&whatif.delta[id], shift.changed),
                changed: show.count(shift.changed),
                gainers: show.count(shift.gainers),
                losers: show.count(shift.losers),
                examples: show.examples(shift),
            }
        })
        .collect();
    let districts = whatif
        .by_district
        .iter()
        .filter_map(|(district, totals)| {
            let changed = whatif.changed_by_district.get(district)?;
            let cells: Vec<DistrictCell> = totals
                .iter()
                .filter_map(|(id, t)| {
                    let n = i64::try_from(*changed.get(id)?).unwrap_or(i64::MAX);
                    (n > 0).then(|| DistrictCell {
                        programme: id.clone(),
                        delta: show.delta(t, n),
                    })
                })
                .collect();
            (!cells.is_empty()).then(|| DistrictImpact {
                district: district.clone(),
                programmes: cells,
            })
        })
        .collect();
    let budgets = changed_ids
        .iter()
        .filter(|&&id| pack.programme(id).is_some_and(|p| p.has_amount()))
        .map(|&id| {
            let of: Vec<&budget::Model> = budgets
                .iter()
                .filter(|b| b.programme == *id && b.year == year)
                .collect();
            let total: i64 = of.iter().map(|b| b.total_fen).sum();
            let committed: i64 = of.iter().map(|b| b.reserved_fen + b.spent_fen).sum();
            let delta = show
                .delta(&whatif.delta[id], whatif.shifts[id].changed)
                .money_fen;
            BudgetImpact {
                programme: id.clone(),
                title: title(id).unwrap_or_else(untitled),
                year,
                on_record: !of.is_empty(),
                total_fen: total,
                committed_fen: committed,
                remaining_fen: total - committed,
                delta_fen: delta,
                remaining_after_fen: delta.map(|d| total - committed - d),
            }
        })
        .collect();
    YearImpact {
        year,
        as_of,
        changed_cases: show.count(i64::try_from(whatif.changed_cases).unwrap_or(i64::MAX)),
        gaining_cases: show.count(i64::try_from(whatif.gaining_cases).unwrap_or(i64::MAX)),
        losing_cases: show.count(i64::try_from(whatif.losing_cases).unwrap_or(i64::MAX)),
        mixed_cases: show.count(i64::try_from(whatif.mixed_cases).unwrap_or(i64::MAX)),
        programmes,
        districts,
        budgets,
    }
}
