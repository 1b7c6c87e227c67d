//! Evaluation: every programme of the pack against one case on one date, with
//! the reasons behind each status.
//!
//! Pure: the date is an argument, nothing is read from the clock or disk.
//! Results borrow names from the pack and grants from the case, so building
//! one allocates only the lists it returns.

use crate::case::{Case, Grant};
use crate::expr::{Ctx, Unit};
use crate::facts::{Fact, FactSet, FactValue};
use crate::pack::files::Figure;
use crate::pack::model::{Amount, Condition, Kind, Pack, Programme, Test};
use chrono::NaiveDate;
use opcity_domain::Fen;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Eligible,
    Ineligible,
    /// Facts are missing; no condition failed.
    Undetermined,
}

impl Status {
    /// The name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::Ineligible => "ineligible",
            Status::Undetermined => "undetermined",
        }
    }
}

/// How much explanation to build: `Brief` leaves out `reasons` and the
/// explanation-only `parameters`, and a `note` that is null (see
/// [`ProgrammeResult`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Full,
    Brief,
}

/// The results for one case, one per programme in catalogue order.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation<'a> {
    pub results: Vec<ProgrammeResult<'a>>,
}

/// One programme's result, in the spec's shape. Figures are set only when
/// `eligible`.
///
/// JSON: the spec's fields in the spec's order (`reasons` only with
/// [`Detail::Full`]), then opcity's two extensions, `note` and `parameters`.
/// A brief result (`parameters` is `None`) leaves out `parameters`, and
/// `note` when it is null: both only explain the figures.
#[derive(Debug, Clone)]
pub struct ProgrammeResult<'a> {
    pub programme: &'a str,
    pub status: Status,
    pub kind: Kind,
    pub amount_fen: Option<Fen>,
    pub ceiling_fen: Option<Fen>,
    pub monthly_fen: Option<Fen>,
    pub months: Option<i64>,
    /// `None` with [`Detail::Brief`] (then left out of the JSON).
    pub reasons: Option<Vec<Reason<'a>>>,
    /// The missing facts behind unknown conditions, sorted.
    pub missing_facts: FactSet,
    /// Why a figure is null or how it applies (e.g. an unset parameter).
    pub note: Option<String>,
    /// The parameters the figures come from; `None` with [`Detail::Brief`]
    /// (then left out of the JSON, with a null `note`).
    pub parameters: Option<Vec<ParamUse<'a>>>,
    /// The pack whose rule this is (the evaluated pack or one it extends);
    /// `None` with [`Detail::Brief`].
    pub pack: Option<&'a str>,
}

impl Serialize for ProgrammeResult<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ResultJson {
            programme: self.programme,
            status: self.status,
            kind: self.kind,
            figures: [self.amount_fen, self.ceiling_fen, self.monthly_fen],
            months: self.months,
            reasons: self.reasons.as_deref(),
            missing_facts: &self.missing_facts,
            note: self.note.as_deref(),
            parameters: self.parameters.as_deref(),
            pack: self.pack,
        }
        .serialize(s)
    }
}

/// A programme result's JSON, for the engine's borrowed result and its
/// owned twin ([`crate::ResultRecord`]) alike: the spec's fields in the
/// spec's order, `reasons` and `parameters` only when present, `note` when
/// either it or `parameters` is.
pub(crate) struct ResultJson<'r, R, M, P> {
    pub programme: &'r str,
    pub status: Status,
    pub kind: Kind,
    /// Amount, ceiling and monthly figure.
    pub figures: [Option<Fen>; 3],
    pub months: Option<i64>,
    pub reasons: Option<&'r [R]>,
    pub missing_facts: &'r M,
    pub note: Option<&'r str>,
    pub parameters: Option<&'r [P]>,
    pub pack: Option<&'r str>,
}

impl<R: Serialize, M: Serialize, P: Serialize> Serialize for ResultJson<'_, R, M, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let [amount_fen, ceiling_fen, monthly_fen] = self.figures;
        let mut r = s.serialize_struct("ProgrammeResult", 12)?;
        r.serialize_field("programme", self.programme)?;
        r.serialize_field("status", &self.status)?;
        r.serialize_field("kind", &self.kind)?;
        r.serialize_field("amount_fen", &amount_fen)?;
        r.serialize_field("ceiling_fen", &ceiling_fen)?;
        r.serialize_field("monthly_fen", &monthly_fen)?;
        r.serialize_field("months", &self.months)?;
        match self.reasons {
            Some(reasons) => r.serialize_field("reasons", reasons)?,
            None => r.skip_field("reasons")?,
        }
        r.serialize_field("missing_facts", self.missing_facts)?;
        if self.note.is_some() || self.parameters.is_some() {
            r.serialize_field("note", &self.note)?;
        } else {
            r.skip_field("note")?;
        }
        match self.parameters {
            Some(parameters) => r.serialize_field("parameters", parameters)?,
            None => r.skip_field("parameters")?,
        }
        match self.pack {
            Some(pack) => r.serialize_field("pack", pack)?,
            None => r.skip_field("pack")?,
        }
        r.end()
    }
}

/// One evaluated condition.
#[derive(Debug, Clone, Serialize)]
pub struct Reason<'a> {
    pub condition: &'a str,
    /// `None`: unknown, because facts are missing.
    pub holds: Option<bool>,
    pub facts: ReasonFacts<'a>,
    pub citation: &'a str,
    pub parameters: Vec<ParamUse<'a>>,
}

/// The known facts a condition read (missing ones are in `missing_facts`),
/// and for the granted rules the grants that matter.
#[derive(Debug, Clone, Default)]
pub struct ReasonFacts<'a> {
    pub values: Vec<(Fact, FactValue)>,
    pub granted: Option<Vec<&'a Grant>>,
}

impl Serialize for ReasonFacts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = self.values.len() + usize::from(self.granted.is_some());
        let mut map = s.serialize_map(Some(len))?;
        for (fact, value) in &self.values {
            map.serialize_entry(fact.name(), value)?;
        }
        if let Some(grants) = &self.granted {
            map.serialize_entry("granted", grants)?;
        }
        map.end()
    }
}

/// A parameter as an explanation cites it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamUse<'a> {
    pub name: &'a str,
    /// `None`: unset on the evaluation date.
    pub value: Option<i64>,
    pub unit: Unit,
    /// The date the value took effect; `None` if the parameter has no value
    /// yet on the evaluation date.
    pub since: Option<NaiveDate>,
    /// The pack the value comes from.
    pub pack: &'a str,
}

/// A pack with its parameters resolved for one date: resolve once, evaluate
/// many cases.
#[derive(Debug, Clone)]
pub struct PackAt<'p> {
    pack: &'p Pack,
    as_of: NaiveDate,
    values: Vec<Option<i64>>,
    since: Vec<Option<NaiveDate>>,
}

impl Pack {
    /// Resolves every parameter for `as_of`.
    pub fn at(&self, as_of: NaiveDate) -> PackAt<'_> {
        let resolved: Vec<_> = self.parameters.iter().map(|p| p.value_at(as_of)).collect();
        PackAt {
            pack: self,
            as_of,
            values: resolved.iter().map(|v| v.and_then(|v| v.value)).collect(),
            since: resolved.iter().map(|v| v.map(|v| v.since)).collect(),
        }
    }

    /// Evaluates every programme for `case` on `as_of`, with full reasons.
    pub fn evaluate<'a>(&'a self, case: &'a Case, as_of: NaiveDate) -> Evaluation<'a> {
        let at = self.at(as_of);
        Evaluation {
            results: at.results(case, Detail::Full),
        }
    }

    /// Parses a case from JSON and checks it against this pack.
    pub fn parse_case(&self, json: &str) -> Result<Case, crate::CaseError> {
        let case = crate::case::parse_case(json)?;
        case.validate(self)?;
        Ok(case)
    }
}

/// A condition's outcome before it becomes a [`Reason`].
struct Outcome<'a> {
    holds: Result<bool, FactSet>,
    grants: Option<Vec<&'a Grant>>,
}

impl<'p> PackAt<'p> {
    pub fn pack(&self) -> &'p Pack {
        self.pack
    }

    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// Parameter `index` set to `value` from the as-of date on (a value
    /// already in force keeps its own date).
    pub(crate) fn set(&mut self, index: usize, value: Option<i64>) {
        if self.values[index] != value {
            self.values[index] = value;
            self.since[index] = Some(self.as_of);
        }
    }

    pub fn evaluate<'a>(&self, case: &'a Case, detail: Detail) -> Evaluation<'a>
    where
        'p: 'a,
    {
        Evaluation {
            results: self.results(case, detail),
        }
    }

    fn results<'a>(&self, case: &'a Case, detail: Detail) -> Vec<ProgrammeResult<'a>>
    where
        'p: 'a,
    {
        let pack: &'p Pack = self.pack;
        let ctx = Ctx {
            case,
            as_of: self.as_of,
            params: &self.values,
        };
        pack.programmes
            .iter()
            .map(|p| self.programme(p, case, &ctx, detail))
            .collect()
    }

    /// Programme `id`'s result for `case`, as [`PackAt::evaluate`] gives
    /// it, without evaluating the others (a programme's conditions read the
    /// case and the parameters, never another programme's result); `None`
    /// when the pack has no such programme.
    pub fn evaluate_programme<'a>(
        &self,
        case: &'a Case,
        id: &str,
        detail: Detail,
    ) -> Option<ProgrammeResult<'a>>
    where
        'p: 'a,
    {
        let pack: &'p Pack = self.pack;
        let p = pack.programmes.iter().find(|p| p.id == id)?;
        let ctx = Ctx {
            case,
            as_of: self.as_of,
            params: &self.values,
        };
        Some(self.programme(p, case, &ctx, detail))
    }

    /// The same results as [`PackAt::evaluate`], handed to `f` one by one
    /// with their catalogue index instead of collected (the batch writer
    /// writes each as it comes).
    pub(crate) fn each_result<'a>(
        &self,
        case: &'a Case,
        detail: Detail,
        mut f: impl FnMut(usize, &ProgrammeResult<'a>),
    ) where
        'p: 'a,
    {
        let pack: &'p Pack = self.pack;
        let ctx = Ctx {
            case,
            as_of: self.as_of,
            params: &self.values,
        };
        for (i, p) in pack.programmes.iter().enumerate() {
            f(i, &self.programme(p, case, &ctx, detail));
        }
    }

    fn programme<'a>(
        &self,
        p: &'a Programme,
        case: &'a Case,
        ctx: &Ctx,
        detail: Detail,
    ) -> ProgrammeResult<'a>
    where
        'p: 'a,
    {
        let mut failed = false;
        let mut unknown = false;
        let mut missing = FactSet::EMPTY;
        let mut reasons = match detail {
            Detail::Full => Some(Vec::with_capacity(p.conditions.len())),
            Detail::Brief => None,
        };
        for condition in &p.conditions {
            let outcome = self.test(condition, p, case, ctx, detail);
            match outcome.holds {
                Ok(false) => failed = true,
                Ok(true) => {}
                Err(m) => {
                    unknown = true;
                    missing = missing.union(m);
                }
            }
            if let Some(reasons) = &mut reasons {
                reasons.push(self.reason(condition, outcome, case));
            }
        }
        let status = if failed {
            Status::Ineligible
        } else if unknown {
            Status::Undetermined
        } else {
            Status::Eligible
        };
        let mut figures = match status {
            Status::Eligible => self.figures(p, case, ctx, detail),
            _ => Figures::default(),
        };
        // Facts an exception needs to choose the figure are missing too.
        missing = missing.union(figures.missing);
        for &i in &p.flagged_in_conditions {
            figures.notes.push(self.flag_note(i));
        }
        dedup_keeping_order(&mut figures.notes);
        ProgrammeResult {
            programme: &p.id,
            status,
            kind: p.kind,
            amount_fen: figures.amount,
            ceiling_fen: figures.ceiling,
            monthly_fen: figures.monthly,
            months: figures.months,
            reasons,
            missing_facts: missing,
            note: match figures.notes.len() {
                0 | 1 => figures.notes.pop(),
                _ => Some(figures.notes.join("; ")),
            },
            parameters: match detail {
                Detail::Full => Some(figures.used.iter().map(|&i| self.param_use(i)).collect()),
                Detail::Brief => None,
            },
            pack: match detail {
                Detail::Full => Some(&p.pack),
                Detail::Brief => None,
            },
        }
    }

    fn test<'a>(
        &self,
        condition: &Condition,
        p: &Programme,
        case: &'a Case,
        ctx: &Ctx,
        detail: Detail,
    ) -> Outcome<'a> {
        // A condition on grants fails when a grant it matches `fails` it;
        // the matching grants are collected only for an explanation.
        let granted = |matches: &dyn Fn(&Grant) -> bool, fails: &dyn Fn(&Grant) -> bool| {
            let mut matching = case.granted.iter().filter(|g| matches(g));
            match detail {
                Detail::Full => {
                    let grants: Vec<&'a Grant> = matching.collect();
                    Outcome {
                        holds: Ok(!grants.iter().any(|g| fails(g))),
                        grants: Some(grants),
                    }
                }
                Detail::Brief => Outcome {
                    holds: Ok(!matching.any(fails)),
                    grants: None,
                },
            }
        };
        match &condition.test {
            Test::InEffect => Outcome {
                holds: Ok(p.effective.contains(self.as_of)),
                grants: None,
            },
            Test::Expr(compiled) => Outcome {
                holds: compiled.eval(ctx),
                grants: None,
            },
            Test::NotGrantedBefore => granted(&|g| g.programme == p.id, &|_| true),
            Test::NoActiveGrant => granted(&|g| g.programme == p.id, &|g| g.active_on(self.as_of)),
            Test::NotExcludedByGrant(others) => {
                granted(&|g| others.contains(&g.programme), &|_| true)
            }
            Test::BaseEligible(base) => Outcome {
                holds: self.base_holds(&self.pack.programmes[*base], ctx),
                grants: None,
            },
        }
    }

    /// Whether a top-up's base programme's conditions on the case hold: the
    /// base's rules on grants do not bind the top-up, which is for the
    /// base's holders too. A failed condition outweighs missing facts.
    fn base_holds(&self, base: &Programme, ctx: &Ctx) -> Result<bool, FactSet> {
        let mut missing = None;
        for condition in &base.conditions {
            let holds = match &condition.test {
                Test::InEffect => Ok(base.effective.contains(self.as_of)),
                Test::Expr(compiled) => compiled.eval(ctx),
                Test::NotGrantedBefore
                | Test::NoActiveGrant
                | Test::NotExcludedByGrant(_)
                | Test::BaseEligible(_) => Ok(true),
            };
            match holds {
                Ok(false) => return Ok(false),
                Ok(true) => {}
                Err(m) => missing = Some(missing.unwrap_or(FactSet::EMPTY).union(m)),
            }
        }
        missing.map_or(Ok(true), Err)
    }

    fn reason<'a>(&self, condition: &'a Condition, outcome: Outcome<'a>, case: &Case) -> Reason<'a>
    where
        'p: 'a,
    {
        let (values, parameters) = match &condition.test {
            Test::Expr(compiled) => (
                compiled
                    .facts
                    .iter()
                    .filter_map(|f| f.value(case).map(|v| (f, v)))
                    .collect(),
                compiled.params.iter().map(|&i| self.param_use(i)).collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        Reason {
            condition: &condition.name,
            holds: outcome.holds.ok(),
            facts: ReasonFacts {
                values,
                granted: outcome.grants,
            },
            citation: &condition.citation,
            parameters,
        }
    }

    fn param_use(&self, index: usize) -> ParamUse<'p> {
        let param = &self.pack.parameters[index];
        ParamUse {
            name: &param.name,
            value: self.values[index],
            unit: param.unit,
            since: self.since[index],
            pack: &param.pack,
        }
    }

    fn figures(&self, p: &Programme, case: &Case, ctx: &Ctx, detail: Detail) -> Figures {
        let mut f = Figures {
            explain: detail == Detail::Full,
            ..Figures::default()
        };
        let Some(amount) = self.amount_rule(p, ctx, &mut f) else {
            return f;
        };
        match amount {
            Amount::None => {}
            Amount::Fixed(i) => f.amount = self.fen(*i, &mut f),
            Amount::Ceiling(i) => f.ceiling = self.fen(*i, &mut f),
            Amount::Monthly { monthly, months } => {
                f.monthly = self.fen(*monthly, &mut f);
                f.months = self.number(*months, &mut f);
                f.amount = f.monthly.zip(f.months).and_then(|(m, n)| m.checked_mul(n));
            }
            Amount::ContractShare {
                share,
                startup_share,
                cap,
            } => {
                f.ceiling = self.fen(*cap, &mut f);
                let share = self.number(*share, &mut f);
                let startup = startup_share.map(|i| self.number(i, &mut f));
                f.notes.push(contract_note(share, startup));
            }
            Amount::Tiered {
                fact,
                figure,
                tiers,
            } => {
                let value = self.tier(*fact, tiers, case, &mut f);
                match figure {
                    Figure::Amount => f.amount = value,
                    Figure::Ceiling => f.ceiling = value,
                }
            }
            Amount::TopUp {
                base,
                up_to,
                combined_cap,
            } => self.top_up(
                &self.pack.programmes[*base],
                *up_to,
                *combined_cap,
                case,
                ctx,
                &mut f,
            ),
        }
        if let Some(i) = p.duration {
            f.months = self.number(i, &mut f);
        }
        f
    }

    /// The amount rule that applies: the first exception (the most
    /// specific pack's) whose condition holds, else the programme's own.
    /// `None` when an exception's condition reads missing facts, so no
    /// rule can be chosen.
    fn amount_rule<'r>(&self, p: &'r Programme, ctx: &Ctx, f: &mut Figures) -> Option<&'r Amount> {
        for e in &p.exceptions {
            match e.when.eval(ctx) {
                Ok(false) => {}
                Ok(true) => {
                    if f.explain {
                        f.used.extend(e.when.params.iter().copied());
                    }
                    f.notes.push(format!(
                        "exception `{}` of {} applies: {}",
                        e.name, e.pack, e.citation
                    ));
                    return Some(&e.amount);
                }
                Err(missing) => {
                    f.missing = f.missing.union(missing);
                    let names: Vec<&str> = missing.iter().map(|fact| fact.name()).collect();
                    f.notes.push(format!(
                        "the figure depends on exception `{}` of {}, which needs {}",
                        e.name,
                        e.pack,
                        names.join(", ")
                    ));
                    return None;
                }
            }
        }
        Some(&p.amount)
    }

    /// A top-up's figure: at most `up_to`, and at most `combined_cap`
    /// together with the base's figure, in the base's slot (amount or
    /// ceiling).
    fn top_up(
        &self,
        base: &Programme,
        up_to: usize,
        combined_cap: usize,
        case: &Case,
        ctx: &Ctx,
        f: &mut Figures,
    ) {
        let detail = if f.explain {
            Detail::Full
        } else {
            Detail::Brief
        };
        let mut on = self.figures(base, case, ctx, detail);
        f.used.append(&mut on.used);
        f.notes.append(&mut on.notes);
        f.missing = f.missing.union(on.missing);
        // The slot of the rule that applied to the base (an exception may
        // have changed it), else of the base's own rule.
        let slot = match (on.amount, on.ceiling) {
            (Some(_), _) => Figure::Amount,
            (None, Some(_)) => Figure::Ceiling,
            (None, None) => figure_slot(&base.amount),
        };
        let up_to = self.fen(up_to, f);
        let cap = self.fen(combined_cap, f);
        let value = match (on.amount.or(on.ceiling), up_to, cap) {
            (Some(under), Some(up_to), Some(cap)) => {
                f.notes.push(format!(
                    "tops up {} ({} fen) by at most {} fen, to at most {} fen together",
                    base.id, under.0, up_to.0, cap.0
                ));
                Some(Fen(up_to.0.min((cap.0 - under.0).max(0))))
            }
            (None, _, _) => {
                f.notes.push(format!(
                    "tops up {}, whose figure is not known here",
                    base.id
                ));
                None
            }
            _ => None,
        };
        match slot {
            Figure::Amount => f.amount = value,
            Figure::Ceiling => f.ceiling = value,
        }
    }

    /// Why parameter `index`'s figure is not confirmed.
    fn flag_note(&self, index: usize) -> String {
        let param = &self.pack.parameters[index];
        param.flag_note.clone().unwrap_or_default()
    }

    fn tier(
        &self,
        fact: Fact,
        tiers: &[Option<usize>],
        case: &Case,
        f: &mut Figures,
    ) -> Option<Fen> {
        let Some(FactValue::Enum(t, index)) = fact.value(case) else {
            f.notes.push(format!(
                "the figure depends on {}, which is missing",
                fact.name()
            ));
            return None;
        };
        match tiers[usize::from(index)] {
            Some(param) => self.fen(param, f),
            None => {
                let word = t.names()[usize::from(index)];
                f.notes
                    .push(format!("no figure for {} = {word}", fact.name()));
                None
            }
        }
    }

    /// A parameter's value, noting its use, and noting when it is unset.
    fn number(&self, index: usize, f: &mut Figures) -> Option<i64> {
        if f.explain {
            f.used.push(index);
        }
        let value = self.values[index];
        let param = &self.pack.parameters[index];
        if value.is_none() {
            f.notes.push(format!(
                "{} is not set on {}: the authority has not published this figure",
                param.name, self.as_of
            ));
        }
        if param.flagged.is_some() {
            f.notes.push(self.flag_note(index));
        }
        value
    }

    fn fen(&self, index: usize, f: &mut Figures) -> Option<Fen> {
        self.number(index, f).map(Fen)
    }
}

/// Which figure an amount rule gives: an amount, or a ceiling.
fn figure_slot(amount: &Amount) -> Figure {
    match amount {
        Amount::Fixed(_) | Amount::Monthly { .. } => Figure::Amount,
        Amount::Tiered { figure, .. } => *figure,
        Amount::None | Amount::Ceiling(_) | Amount::ContractShare { .. } | Amount::TopUp { .. } => {
            Figure::Ceiling
        }
    }
}

/// `startup` is `None` when the rule has no startup share.
fn contract_note(share: Option<i64>, startup: Option<Option<i64>>) -> String {
    let pct = |v: Option<i64>| v.map_or_else(|| "an unset share".to_owned(), |v| format!("{v}%"));
    match startup {
        Some(startup) => format!(
            "covers at most {} of the contract ({} for a startup), up to the ceiling",
            pct(share),
            pct(startup)
        ),
        None => format!(
            "covers at most {} of the contract, up to the ceiling",
            pct(share)
        ),
    }
}

/// Drops repeated notes (a parameter read twice), keeping the first. Notes
/// are few, and most results have none: no allocation on the hot path.
fn dedup_keeping_order(notes: &mut Vec<String>) {
    let mut i = 1;
    while i < notes.len() {
        if notes[..i].contains(&notes[i]) {
            notes.remove(i);
        } else {
            i += 1;
        }
    }
}

#[derive(Default)]
struct Figures {
    amount: Option<Fen>,
    ceiling: Option<Fen>,
    monthly: Option<Fen>,
    months: Option<i64>,
    notes: Vec<String>,
    /// Facts an exception needs to choose the rule, when missing.
    missing: FactSet,
    /// Whether to note the parameters used (`used`), for `parameters`.
    explain: bool,
    used: Vec<usize>,
}
