//! Three-valued (Kleene) evaluation of compiled conditions.
//!
//! An unknown result carries the set of missing facts behind it, and only
//! those: in `a or b` with `a` true, a missing `b` does not matter and is not
//! reported.

use super::compile::{BoolExpr, Compiled, DateExpr, NumExpr};
use crate::case::Case;
use crate::facts::{Fact, FactSet, FactValue};
use chrono::NaiveDate;
use opcity_domain::{add_years, age_on};

/// `Ok(value)` when known; `Err(missing)` when unknown, with the missing facts
/// that made it so (empty when an unset parameter did).
pub type Tri<T> = Result<T, FactSet>;

/// Everything an evaluation reads besides the compiled tree.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub case: &'a Case,
    pub as_of: NaiveDate,
    /// Parameter values on `as_of`, by parameter index; `None` when unset.
    pub params: &'a [Option<i64>],
}

impl Compiled {
    pub fn eval(&self, ctx: &Ctx) -> Tri<bool> {
        self.expr.eval(ctx)
    }
}

fn fact(ctx: &Ctx, fact: Fact) -> Tri<FactValue> {
    fact.value(ctx.case).ok_or(FactSet::of(fact))
}

/// Both values, or the union of what is missing on either side.
fn both<A, B>(a: Tri<A>, b: Tri<B>) -> Tri<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(a
            .err()
            .unwrap_or_default()
            .union(b.err().unwrap_or_default())),
    }
}

impl BoolExpr {
    fn eval(&self, ctx: &Ctx) -> Tri<bool> {
        match self {
            BoolExpr::Const(b) => Ok(*b),
            BoolExpr::Fact(f) => fact(ctx, *f).map(|v| matches!(v, FactValue::Bool(true))),
            BoolExpr::HasEnterprise => Ok(ctx.case.enterprise.is_some()),
            BoolExpr::Not(inner) => inner.eval(ctx).map(|b| !b),
            BoolExpr::And(items) => kleene(items, ctx, false),
            BoolExpr::Or(items) => kleene(items, ctx, true),
            BoolExpr::InSet { fact: f, set } => fact(ctx, *f).map(|v| match v {
                FactValue::Enum(_, i) => set & (1 << i) != 0,
                _ => false,
            }),
            BoolExpr::Dates { lhs, op, rhs } => {
                // A known null (not Shenzhen hukou) satisfies no comparison.
                both(lhs.eval(ctx), rhs.eval(ctx)).map(|pair| match pair {
                    (Some(l), Some(r)) => op.apply(l, r),
                    _ => false,
                })
            }
            BoolExpr::Numbers { lhs, op, rhs } => {
                both(lhs.eval(ctx), rhs.eval(ctx)).map(|(l, r)| op.apply(l, r))
            }
            BoolExpr::WithinYears { date, years } => {
                both(date.eval(ctx), years.eval(ctx)).map(|(d, n)| {
                    let end = d
                        .zip(i32::try_from(n).ok())
                        .and_then(|(d, n)| add_years(d, n));
                    d.zip(end)
                        .is_some_and(|(start, end)| start <= ctx.as_of && ctx.as_of <= end)
                })
            }
        }
    }
}

/// `and` (`decisive` false) or `or` (`decisive` true): one decisive operand
/// settles it; otherwise any unknown makes the whole unknown.
fn kleene(items: &[BoolExpr], ctx: &Ctx, decisive: bool) -> Tri<bool> {
    let mut missing: Option<FactSet> = None;
    for item in items {
        match item.eval(ctx) {
            Ok(b) if b == decisive => return Ok(decisive),
            Ok(_) => {}
            Err(m) => missing = Some(missing.unwrap_or_default().union(m)),
        }
    }
    missing.map_or(Ok(!decisive), Err)
}

impl DateExpr {
    /// `Ok(None)` is a known null.
    fn eval(&self, ctx: &Ctx) -> Tri<Option<NaiveDate>> {
        match self {
            DateExpr::Const(d) => Ok(Some(*d)),
            DateExpr::AsOf => Ok(Some(ctx.as_of)),
            DateExpr::Fact(f) => fact(ctx, *f).map(|v| match v {
                FactValue::Date(d) => Some(d),
                _ => None,
            }),
        }
    }
}

impl NumExpr {
    fn eval(&self, ctx: &Ctx) -> Tri<i64> {
        match self {
            NumExpr::Const(n) => Ok(*n),
            NumExpr::Param(i) => ctx.params[*i].ok_or(FactSet::EMPTY),
            NumExpr::Age(date) => {
                // The compiler only lets never-null dates reach age().
                let birth = date.eval(ctx)?.ok_or(FactSet::EMPTY)?;
                Ok(i64::from(age_on(birth, ctx.as_of)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;
    use crate::expr::{ParamInfo, Unit, compile};

    fn eval(src: &str, case: &str, as_of: &str) -> Tri<bool> {
        let params = |name: &str| {
            (name == "youth_max_age").then_some(ParamInfo {
                index: 0,
                unit: Unit::Years,
            })
        };
        let compiled = compile(src, &params).unwrap();
        let case = parse_case(case).unwrap();
        compiled.eval(&Ctx {
            case: &case,
            as_of: as_of.parse().unwrap(),
            params: &[Some(35)],
        })
    }

    fn missing(names: &[&str]) -> Tri<bool> {
        let mut set = FactSet::EMPTY;
        for n in names {
            set.insert(Fact::from_name(n).unwrap());
        }
        Err(set)
    }

    #[test]
    fn kleene_and_or_track_only_relevant_missing_facts() {
        let empty = r#"{"person":{}}"#;
        let founder = r#"{"person":{"is_founder":true}}"#;
        let not_founder = r#"{"person":{"is_founder":false}}"#;
        let src = "person.is_founder and person.works_in_ai";
        assert_eq!(eval(src, not_founder, "2026-06-01"), Ok(false));
        assert_eq!(
            eval(src, founder, "2026-06-01"),
            missing(&["person.works_in_ai"])
        );
        assert_eq!(
            eval(src, empty, "2026-06-01"),
            missing(&["person.is_founder", "person.works_in_ai"])
        );
        let src = "person.is_founder or person.works_in_ai";
        assert_eq!(eval(src, founder, "2026-06-01"), Ok(true));
        assert_eq!(
            eval(src, not_founder, "2026-06-01"),
            missing(&["person.works_in_ai"])
        );
        assert_eq!(
            eval("not person.is_founder", empty, "2026-06-01"),
            missing(&["person.is_founder"])
        );
    }

    #[test]
    fn youth_boundary_is_the_36th_birthday() {
        let src = "age(person.birth_date) <= param.youth_max_age";
        let case = r#"{"person":{"birth_date":"1990-06-15"}}"#;
        assert_eq!(eval(src, case, "2026-06-14"), Ok(true));
        assert_eq!(eval(src, case, "2026-06-15"), Ok(false));
        let leap = r#"{"person":{"birth_date":"1992-02-29"}}"#;
        assert_eq!(eval(src, leap, "2028-02-28"), Ok(true));
        assert_eq!(eval(src, leap, "2028-02-29"), Ok(false));
    }

    #[test]
    fn within_years_includes_the_anniversary() {
        let src = "within_years(person.degree_date, 5)";
        let case = r#"{"person":{"degree_date":"2021-06-30"}}"#;
        assert_eq!(eval(src, case, "2026-06-30"), Ok(true));
        assert_eq!(eval(src, case, "2026-07-01"), Ok(false));
        assert_eq!(eval(src, case, "2021-06-29"), Ok(false));
        let leap = r#"{"person":{"degree_date":"2024-02-29"}}"#;
        assert_eq!(
            eval("within_years(person.degree_date, 1)", leap, "2025-02-28"),
            Ok(true)
        );
        assert_eq!(
            eval("within_years(person.degree_date, 1)", leap, "2025-03-01"),
            Ok(false)
        );
    }

    #[test]
    fn null_hukou_is_known_and_fails_comparisons() {
        let src = r#"date("2026-01-01") <= person.hukou_shenzhen_since"#;
        assert_eq!(
            eval(
                src,
                r#"{"person":{"hukou_shenzhen_since":null}}"#,
                "2026-06-01"
            ),
            Ok(false)
        );
        assert_eq!(
            eval(src, r#"{"person":{}}"#, "2026-06-01"),
            missing(&["person.hukou_shenzhen_since"])
        );
        assert_eq!(
            eval(
                src,
                r#"{"person":{"hukou_shenzhen_since":"2026-01-01"}}"#,
                "2026-06-01"
            ),
            Ok(true)
        );
    }

    #[test]
    fn enterprise_facts_are_missing_without_an_enterprise() {
        let src = "not has_enterprise() or not enterprise.in_opc_community";
        assert_eq!(eval(src, r#"{"person":{}}"#, "2026-06-01"), Ok(true));
        assert_eq!(
            eval(
                src,
                r#"{"enterprise":{"in_opc_community":true}}"#,
                "2026-06-01"
            ),
            Ok(false)
        );
        assert_eq!(
            eval(src, r#"{"enterprise":{}}"#, "2026-06-01"),
            missing(&["enterprise.in_opc_community"])
        );
        let src = r#"enterprise.size in ["micro", "small"]"#;
        assert_eq!(
            eval(src, r#"{"enterprise":{"size":"small"}}"#, "2026-06-01"),
            Ok(true)
        );
        assert_eq!(
            eval(src, r#"{"enterprise":{"size":"large"}}"#, "2026-06-01"),
            Ok(false)
        );
    }
}
