//! What-if simulation: one population evaluated on one date twice, under
//! the parameters in force (the baseline) and under a scenario that replaces
//! some of them from that date on, and aggregated: per programme, how many
//! cases are eligible and how many undetermined, and the money over the
//! eligible ones; the difference; how many cases changed at all; and the
//! difference by the enterprise's district; and, per programme, how many
//! cases gain and how many lose, with the first few of each as examples.
//! Aggregates only, no per-case output, so a population of millions is held
//! one chunk at a time.
//!
//! The engine is the same one the platform decides with: a scenario is a
//! [`PackAt`] whose resolved values differ, nothing else.

use crate::batch::{BatchError, BatchSummary, CaseFailure, LineReader, Lines, probe_id};
use crate::case::{Case, parse_case};
use crate::eval::{Detail, PackAt, ProgrammeResult, Status};
use crate::expr::Unit;
use crate::pack::model::Pack;
use opcity_domain::District;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::BufRead;

/// One `NAME=VALUE` of a scenario: a parameter's value from the as-of date
/// on; `null` unsets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    index: usize,
    pub name: String,
    pub value: Option<i64>,
}

/// Why a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("`{0}` is not NAME=VALUE")]
    Malformed(String),
    #[error("`{name}` is not a parameter of pack {pack}")]
    Unknown { name: String, pack: String },
    #[error("`{name}={value}`: {name} takes a whole number of {unit} from 0 to {max}, or null")]
    WrongType {
        name: String,
        value: String,
        unit: &'static str,
        max: i64,
    },
    #[error("`{0}` is set twice")]
    Twice(String),
}

impl Setting {
    /// Reads `NAME=VALUE` against `pack`: the name must be one of its
    /// parameters, the value a whole number ≥ 0 in the parameter's unit
    /// (fen, months, years, percent, count, m2) or `null`.
    pub fn parse(pack: &Pack, text: &str) -> Result<Setting, SettingError> {
        let (name, value) = text
            .split_once('=')
            .map(|(n, v)| (n.trim(), v.trim()))
            .filter(|(n, _)| !n.is_empty())
            .ok_or_else(|| SettingError::Malformed(text.to_owned()))?;
        let index = *pack
            .parameter_index
            .get(name)
            .ok_or_else(|| SettingError::Unknown {
                name: name.to_owned(),
                pack: pack.id.clone(),
            })?;
        let unit: Unit = pack.parameters[index].unit;
        let value = match value {
            "null" => None,
            digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Some(
                digits
                    .parse::<i64>()
                    .ok()
                    .filter(|&v| v <= largest(unit))
                    .ok_or_else(|| wrong(name, value, unit))?,
            ),
            _ => return Err(wrong(name, value, unit)),
        };
        Ok(Setting {
            index,
            name: name.to_owned(),
            value,
        })
    }

    /// [`Setting::parse`] for each text; a parameter set twice is refused.
    pub fn parse_all<'t>(
        pack: &Pack,
        texts: impl IntoIterator<Item = &'t str>,
    ) -> Result<Vec<Setting>, SettingError> {
        let mut settings: Vec<Setting> = Vec::new();
        for text in texts {
            let setting = Setting::parse(pack, text)?;
            if settings.iter().any(|s| s.index == setting.index) {
                return Err(SettingError::Twice(setting.name));
            }
            settings.push(setting);
        }
        Ok(settings)
    }
}

fn wrong(name: &str, value: &str, unit: Unit) -> SettingError {
    SettingError::WrongType {
        name: name.to_owned(),
        value: value.to_owned(),
        unit: unit.name(),
        max: largest(unit),
    }
}

/// The largest value a setting may give: a share is at most the whole, an
/// amount at most what the platform accepts anywhere ([`Fen::MAX_AMOUNT`]),
/// a duration or count far beyond any programme's.
///
/// [`Fen::MAX_AMOUNT`]: opcity_domain::Fen::MAX_AMOUNT
fn largest(unit: Unit) -> i64 {
    match unit {
        Unit::Percent => 100,
        Unit::Fen => opcity_domain::Fen::MAX_AMOUNT.0,
        Unit::Months => 1_200,
        Unit::Years | Unit::Count | Unit::M2 => 1_000_000,
    }
}

impl<'p> PackAt<'p> {
    /// This resolution with `settings` applied: the scenario of a what-if.
    pub fn with_settings(&self, settings: &[Setting]) -> PackAt<'p> {
        let mut scenario = self.clone();
        for s in settings {
            scenario.set(s.index, s.value);
        }
        scenario
    }
}

/// What one programme comes to over a population (or, in a delta, the
/// difference between two such).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Cases found eligible.
    pub eligible: i64,
    /// Cases undetermined: facts are missing, no condition failed.
    pub maybe: i64,
    /// Sums over the eligible cases; a null figure counts 0.
    pub amount_fen: i128,
    pub ceiling_fen: i128,
    /// Monthly amount × months, summed likewise.
    pub monthly_total_fen: i128,
}

impl Totals {
    /// Counts `r` in (`sign` 1) or out (`sign` -1).
    fn count(&mut self, r: &ProgrammeResult, sign: i64) {
        match r.status {
            Status::Eligible => {
                let fen = |f: Option<opcity_domain::Fen>| i128::from(f.map_or(0, |f| f.0));
                let monthly = fen(r.monthly_fen) * i128::from(r.months.unwrap_or(0));
                let sign128 = i128::from(sign);
                self.eligible += sign;
                self.amount_fen += sign128 * fen(r.amount_fen);
                self.ceiling_fen += sign128 * fen(r.ceiling_fen);
                self.monthly_total_fen += sign128 * monthly;
            }
            Status::Undetermined => self.maybe += sign,
            Status::Ineligible => {}
        }
    }

    fn add(&mut self, other: &Totals) {
        self.eligible += other.eligible;
        self.maybe += other.maybe;
        self.amount_fen += other.amount_fen;
        self.ceiling_fen += other.ceiling_fen;
        self.monthly_total_fen += other.monthly_total_fen;
    }

    fn minus(&self, other: &Totals) -> Totals {
        Totals {
            eligible: self.eligible - other.eligible,
            maybe: self.maybe - other.maybe,
            amount_fen: self.amount_fen - other.amount_fen,
            ceiling_fen: self.ceiling_fen - other.ceiling_fen,
            monthly_total_fen: self.monthly_total_fen - other.monthly_total_fen,
        }
    }
}

/// Programme id → totals.
pub type ByProgramme = BTreeMap<String, Totals>;

/// A what-if's answer. `by_district` holds the difference (scenario −
/// baseline) for the cases whose enterprise names its district, keyed by
/// the district's id; cases without an enterprise or district are left out
/// of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    pub baseline: ByProgramme,
    pub scenario: ByProgramme,
    pub delta: ByProgramme,
    /// Cases in which some programme's status or figure differs.
    pub changed_cases: u64,
    pub by_district: BTreeMap<String, ByProgramme>,
    /// The districts of `by_district`: per programme, the cases whose
    /// status or figure changed (what a reader of a net difference needs
    /// to know how many people it stands for).
    pub changed_by_district: BTreeMap<String, BTreeMap<String, u64>>,
    /// Who gains and who loses, by programme (every programme listed).
    pub shifts: BTreeMap<String, Shift>,
    /// Changed cases that gain in some programme and lose in none, that
    /// lose in some and gain in none, and that do both.
    pub gaining_cases: u64,
    pub losing_cases: u64,
    pub mixed_cases: u64,
}

/// How many examples of each direction a [`Shift`] keeps.
pub const EXAMPLES: usize = 3;

/// How one programme's results moved, case by case. A case gains when its
/// money (see [`Outcome`]) rises, or stays and its status improves
/// (ineligible → undetermined → eligible); it loses in the opposite case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Shift {
    /// Cases whose status or figure changed (gaining, losing, or neither
    /// when only a figure's form changed).
    pub changed: i64,
    pub gainers: i64,
    pub losers: i64,
    /// The first [`EXAMPLES`] gaining and the first losing cases, in the
    /// order of the input.
    pub examples: Vec<Example>,
}

/// One case that gained or lost in a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// 1-based position among the cases.
    pub position: usize,
    /// The case's own id (`person.id`), if it has one.
    pub id: Option<String>,
    pub gains: bool,
    pub before: Outcome,
    pub after: Outcome,
}

/// A programme's result for one case, as a what-if compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub status: Status,
    /// What an eligible case could be granted at most: its amount (a
    /// monthly benefit's is already monthly × months) and its ceiling
    /// together, each null counting 0; 0 when not eligible.
    pub money_fen: i128,
}

impl Outcome {
    /// The outcome of a result's status and figures: derived only for the
    /// results that changed, off the hot path.
    fn of(&(status, [amount, ceiling, _], _): &Figures) -> Outcome {
        let fen = |f: Option<opcity_domain::Fen>| i128::from(f.map_or(0, |f| f.0));
        let money_fen = match status {
            Status::Eligible => fen(amount) + fen(ceiling),
            Status::Ineligible | Status::Undetermined => 0,
        };
        Outcome { status, money_fen }
    }

    /// Money first, then status: the order gaining and losing follow.
    fn rank(&self) -> (i128, u8) {
        let status = match self.status {
            Status::Ineligible => 0,
            Status::Undetermined => 1,
            Status::Eligible => 2,
        };
        (self.money_fen, status)
    }
}

impl Shift {
    /// Counts a case that moved from `before` to `after`, keeping it as an
    /// example while fewer than [`EXAMPLES`] of its direction are held.
    /// Cases come in input order within one task, so the first kept are
    /// the earliest. Returns whether the case gains, or `None` when it
    /// neither gains nor loses.
    fn count(
        &mut self,
        before: Outcome,
        after: Outcome,
        position: usize,
        case: &Case,
    ) -> Option<bool> {
        let gains = match after.rank().cmp(&before.rank()) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => return None,
        };
        if gains {
            self.gainers += 1;
        } else {
            self.losers += 1;
        }
        if self.examples.iter().filter(|e| e.gains == gains).count() < EXAMPLES {
            self.examples.push(Example {
                position,
                id: case.person.id.clone(),
                gains,
                before,
                after,
            });
        }
        Some(gains)
    }

    fn add(&mut self, other: Shift) {
        self.changed += other.changed;
        self.gainers += other.gainers;
        self.losers += other.losers;
        self.examples.extend(other.examples);
        self.examples.sort_by_key(|e| e.position);
        for gains in [true, false] {
            let mut kept = 0;
            self.examples.retain(|e| {
                if e.gains != gains {
                    return true;
                }
                kept += 1;
                kept <= EXAMPLES
            });
        }
    }
}

/// A result's status and figures: what "changed" compares.
type Figures = (
    Status,
    [Option<opcity_domain::Fen>; 3],
    Option<i64>, // months
);

fn figures(r: &ProgrammeResult) -> Figures {
    (
        r.status,
        [r.amount_fen, r.ceiling_fen, r.monthly_fen],
        r.months,
    )
}

/// Gaining and losing cases, counted once each.
#[derive(Default)]
struct Directions {
    gaining: u64,
    losing: u64,
    mixed: u64,
}

/// The running sums of a what-if, by programme index; one per rayon task,
/// merged at the end.
struct Tally {
    baseline: Vec<Totals>,
    scenario: Vec<Totals>,
    /// By `District::ALL` position, then programme: scenario − baseline,
    /// and the cases whose result changed.
    districts: Vec<Option<(Vec<Totals>, Vec<u64>)>>,
    changed: u64,
    shifts: Vec<Shift>,
    directions: Directions,
    failures: Vec<CaseFailure>,
    /// The baseline outcomes of the case at hand (reused).
    before: Vec<Figures>,
}

impl Tally {
    fn new(programmes: usize) -> Tally {
        Tally {
            baseline: vec![Totals::default(); programmes],
            scenario: vec![Totals::default(); programmes],
            districts: vec![None; District::ALL.len()],
            changed: 0,
            shifts: vec![Shift::default(); programmes],
            directions: Directions::default(),
            failures: Vec::new(),
            before: Vec::with_capacity(programmes),
        }
    }

    fn case(&mut self, baseline: &PackAt, scenario: &PackAt, position: usize, case: &Case) {
        let programmes = self.baseline.len();
        let mut district = case
            .enterprise
            .as_ref()
            .and_then(|e| e.district)
            .and_then(|d| District::ALL.iter().position(|&x| x == d))
            .map(|d| {
                self.districts[d].get_or_insert_with(|| {
                    (vec![Totals::default(); programmes], vec![0; programmes])
                })
            });
        self.before.clear();
        baseline.each_result(case, Detail::Brief, |i, r| {
            self.baseline[i].count(r, 1);
            if let Some((totals, _)) = district.as_deref_mut() {
                totals[i].count(r, -1);
            }
            self.before.push(figures(r));
        });
        let (mut changed, mut gains, mut losses) = (false, false, false);
        scenario.each_result(case, Detail::Brief, |i, r| {
            self.scenario[i].count(r, 1);
            let (before, after) = (self.before[i], figures(r));
            let differs = before != after;
            if let Some((totals, changed)) = district.as_deref_mut() {
                totals[i].count(r, 1);
                changed[i] += u64::from(differs);
            }
            if differs {
                changed = true;
                self.shifts[i].changed += 1;
                let (was, is) = (Outcome::of(&before), Outcome::of(&after));
                match self.shifts[i].count(was, is, position, case) {
                    Some(true) => gains = true,
                    Some(false) => losses = true,
                    None => {}
                }
            }
        });
        self.changed += u64::from(changed);
        let d = &mut self.directions;
        match (gains, losses) {
            (true, false) => d.gaining += 1,
            (false, true) => d.losing += 1,
            (true, true) => d.mixed += 1,
            (false, false) => {}
        }
    }

    fn merge(mut self, other: Tally) -> Tally {
        let add_all = |into: &mut Vec<Totals>, from: &[Totals]| {
            into.iter_mut().zip(from).for_each(|(a, b)| a.add(b));
        };
        add_all(&mut self.baseline, &other.baseline);
        add_all(&mut self.scenario, &other.scenario);
        for (mine, theirs) in self.districts.iter_mut().zip(other.districts) {
            match (mine.as_mut(), theirs) {
                (Some((m, mc)), Some((t, tc))) => {
                    add_all(m, &t);
                    mc.iter_mut().zip(tc).for_each(|(a, b)| *a += b);
                }
                (None, Some(t)) => *mine = Some(t),
                (_, None) => {}
            }
        }
        self.changed += other.changed;
        for (mine, theirs) in self.shifts.iter_mut().zip(other.shifts) {
            mine.add(theirs);
        }
        self.directions.gaining += other.directions.gaining;
        self.directions.losing += other.directions.losing;
        self.directions.mixed += other.directions.mixed;
        self.failures.extend(other.failures);
        self
    }

    fn finish(self, pack: &Pack) -> WhatIf {
        let by_id = |totals: &[Totals]| -> ByProgramme {
            pack.programmes
                .iter()
                .zip(totals)
                .map(|(p, t)| (p.id.clone(), *t))
                .collect()
        };
        let delta: Vec<Totals> = self
            .scenario
            .iter()
            .zip(&self.baseline)
            .map(|(s, b)| s.minus(b))
            .collect();
        WhatIf {
            baseline: by_id(&self.baseline),
            scenario: by_id(&self.scenario),
            delta: by_id(&delta),
            changed_cases: self.changed,
            by_district: District::ALL
                .iter()
                .zip(&self.districts)
                .filter_map(|(d, tally)| Some((d.id().to_owned(), by_id(&tally.as_ref()?.0))))
                .collect(),
            changed_by_district: District::ALL
                .iter()
                .zip(&self.districts)
                .filter_map(|(d, tally)| {
                    let changed = &tally.as_ref()?.1;
                    let ids = pack.programmes.iter().map(|p| p.id.clone());
                    Some((
                        d.id().to_owned(),
                        ids.zip(changed.iter().copied()).collect(),
                    ))
                })
                .collect(),
            shifts: pack
                .programmes
                .iter()
                .zip(self.shifts)
                .map(|(p, s)| (p.id.clone(), s))
                .collect(),
            gaining_cases: self.directions.gaining,
            losing_cases: self.directions.losing,
            mixed_cases: self.directions.mixed,
        }
    }
}

/// Runs a what-if over cases given as JSON Lines (one case a line, blank
/// lines skipped, as `policy eval` reads them). A bad case is reported to
/// `on_failure` (by position and line) and left out; the rest still count.
pub fn whatif_jsonl<R: BufRead>(
    baseline: &PackAt,
    scenario: &PackAt,
    mut input: R,
    mut progress: impl FnMut(usize),
    mut on_failure: impl FnMut(&CaseFailure),
) -> Result<(WhatIf, BatchSummary), BatchError> {
    let pack = baseline.pack();
    let mut tally = Tally::new(pack.programmes.len());
    let mut summary = BatchSummary::default();
    let (mut reader, mut lines) = (LineReader::default(), Lines::default());
    loop {
        reader.fill(&mut input, &mut lines)?;
        if lines.cases.is_empty() {
            break;
        }
        let cases = lines.cases();
        let mut chunk = cases
            .par_iter()
            .fold(
                || Tally::new(pack.programmes.len()),
                |mut t, &(position, line, json)| {
                    match parse_case(json).and_then(|c| c.validate(pack).map(|()| c)) {
                        Ok(case) => t.case(baseline, scenario, position, &case),
                        Err(error) => t.failures.push(CaseFailure {
                            position,
                            line,
                            id: probe_id(json),
                            error,
                        }),
                    }
                    t
                },
            )
            .reduce(|| Tally::new(pack.programmes.len()), Tally::merge);
        chunk.failures.sort_by_key(|f| f.position);
        chunk.failures.iter().for_each(&mut on_failure);
        summary.cases += cases.len();
        summary.failed += chunk.failures.len();
        chunk.failures.clear();
        tally = tally.merge(chunk);
        progress(summary.cases);
    }
    Ok((tally.finish(pack), summary))
}

/// Runs a what-if over cases already parsed (and checked against the
/// pack): the platform's own registry. Positions are 1-based in `cases`.
pub fn whatif_cases(baseline: &PackAt, scenario: &PackAt, cases: &[Case]) -> WhatIf {
    let pack = baseline.pack();
    let programmes = pack.programmes.len();
    cases
        .par_iter()
        .enumerate()
        .fold(
            || Tally::new(programmes),
            |mut t, (i, case)| {
                t.case(baseline, scenario, i + 1, case);
                t
            },
        )
        .reduce(|| Tally::new(programmes), Tally::merge)
        .finish(pack)
}
