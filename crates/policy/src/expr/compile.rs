//! Type-checks a syntax tree against the fact vocabulary and the pack's
//! parameters, and compiles it into typed nodes: facts become [`Fact`]
//! variants, parameters become indexes, enum words become bit sets.

use super::parse::{CmpOp, Node, NodeKind, parse};
use super::{ExprError, ExprErrorKind, Unit};
use crate::date::parse_date;
use crate::facts::{EnumType, Fact, FactSet, FactType};
use chrono::NaiveDate;

/// What the compiler needs to know about a parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub index: usize,
    pub unit: Unit,
}

/// A compiled condition with the facts and parameters it reads (for
/// explanations).
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(super) expr: BoolExpr,
    pub facts: FactSet,
    pub params: Vec<usize>,
    /// The condition as written, for comparing packs.
    pub source: String,
}

#[derive(Debug, Clone)]
pub(super) enum BoolExpr {
    Const(bool),
    Fact(Fact),
    HasEnterprise,
    Not(Box<BoolExpr>),
    And(Vec<BoolExpr>),
    Or(Vec<BoolExpr>),
    /// An enum fact whose variant index is in the bit set.
    InSet {
        fact: Fact,
        set: u16,
    },
    Dates {
        lhs: DateExpr,
        op: CmpOp,
        rhs: DateExpr,
    },
    Numbers {
        lhs: NumExpr,
        op: CmpOp,
        rhs: NumExpr,
    },
    WithinYears {
        date: DateExpr,
        years: NumExpr,
    },
}

#[derive(Debug, Clone)]
pub(super) enum DateExpr {
    Fact(Fact),
    Const(NaiveDate),
    AsOf,
}

#[derive(Debug, Clone)]
pub(super) enum NumExpr {
    Const(i64),
    Param(usize),
    Age(DateExpr),
}

/// Parses and compiles `src`. `params` resolves a parameter name.
pub fn compile(
    src: &str,
    params: &dyn Fn(&str) -> Option<ParamInfo>,
) -> Result<Compiled, ExprError> {
    let tree = parse(src)?;
    let mut compiler = Compiler {
        params,
        facts: FactSet::EMPTY,
        used_params: Vec::new(),
    };
    let expr = compiler.boolean(&tree)?;
    compiler.used_params.sort_unstable();
    compiler.used_params.dedup();
    Ok(Compiled {
        expr,
        facts: compiler.facts,
        params: compiler.used_params,
        source: src.to_owned(),
    })
}

enum Typed {
    Bool(BoolExpr),
    /// The flag says the date may be a known null.
    Date(DateExpr, bool),
    /// `None` unit: a bare number, which fits any unit.
    Num(NumExpr, Option<Unit>),
    Enum(Fact, EnumType),
    Str(String),
}

impl Typed {
    fn describe(&self) -> String {
        match self {
            Typed::Bool(_) => "a condition".into(),
            Typed::Date(..) => "a date".into(),
            Typed::Num(_, Some(unit)) => format!("a number of {}", unit.name()),
            Typed::Num(_, None) => "a number".into(),
            Typed::Enum(fact, _) => format!("`{}`", fact.name()),
            Typed::Str(s) => format!("the string \"{s}\""),
        }
    }
}

struct Compiler<'a> {
    params: &'a dyn Fn(&str) -> Option<ParamInfo>,
    facts: FactSet,
    used_params: Vec<usize>,
}

impl Compiler<'_> {
    fn node(&mut self, n: &Node) -> Result<Typed, ExprError> {
        Ok(match &n.kind {
            NodeKind::Or(items) => Typed::Bool(BoolExpr::Or(self.booleans(items)?)),
            NodeKind::And(items) => Typed::Bool(BoolExpr::And(self.booleans(items)?)),
            NodeKind::Not(inner) => Typed::Bool(BoolExpr::Not(Box::new(self.boolean(inner)?))),
            NodeKind::Compare(l, op, r) => self.compare(l, *op, r)?,
            NodeKind::In {
                value,
                list,
                negated,
            } => self.member(value, list, *negated)?,
            NodeKind::Path(path) => self.path(path, n.pos)?,
            NodeKind::AsOf => Typed::Date(DateExpr::AsOf, false),
            NodeKind::Int(v) => Typed::Num(NumExpr::Const(*v), None),
            NodeKind::Str(s) => Typed::Str(s.clone()),
            NodeKind::Bool(b) => Typed::Bool(BoolExpr::Const(*b)),
            NodeKind::Call { name, args } => self.call(name, args, n.pos)?,
        })
    }

    fn booleans(&mut self, items: &[Node]) -> Result<Vec<BoolExpr>, ExprError> {
        items.iter().map(|i| self.boolean(i)).collect()
    }

    fn boolean(&mut self, n: &Node) -> Result<BoolExpr, ExprError> {
        match self.node(n)? {
            Typed::Bool(b) => Ok(b),
            other => Err(ExprError::typing(
                n.pos,
                format!("expected a condition, found {}", other.describe()),
            )),
        }
    }

    /// A date that is always set: functions cannot take a nullable one.
    fn date(&mut self, n: &Node, function: &str) -> Result<DateExpr, ExprError> {
        match self.node(n)? {
            Typed::Date(d, false) => Ok(d),
            Typed::Date(_, true) => Err(ExprError::typing(
                n.pos,
                format!("{function}() needs a date that cannot be null"),
            )),
            other => Err(ExprError::typing(
                n.pos,
                format!("{function}() needs a date, found {}", other.describe()),
            )),
        }
    }

    fn path(&mut self, path: &str, pos: usize) -> Result<Typed, ExprError> {
        if let Some(name) = path.strip_prefix("param.") {
            let info = (self.params)(name).ok_or_else(|| ExprError {
                kind: ExprErrorKind::UndefinedParameter,
                pos,
                message: format!("undefined parameter `{name}`"),
            })?;
            self.used_params.push(info.index);
            return Ok(Typed::Num(NumExpr::Param(info.index), Some(info.unit)));
        }
        let fact = Fact::from_name(path).ok_or_else(|| ExprError {
            kind: ExprErrorKind::UndefinedFact,
            pos,
            message: format!(
                "undefined fact `{path}` (facts are person.* and enterprise.* names from the spec; parameters are param.*)"
            ),
        })?;
        self.facts.insert(fact);
        Ok(match fact.fact_type() {
            FactType::Bool => Typed::Bool(BoolExpr::Fact(fact)),
            FactType::Date => Typed::Date(DateExpr::Fact(fact), false),
            FactType::NullableDate => Typed::Date(DateExpr::Fact(fact), true),
            FactType::Enum(t) => Typed::Enum(fact, t),
        })
    }

    fn compare(&mut self, l: &Node, op: CmpOp, r: &Node) -> Result<Typed, ExprError> {
        let (left, right) = (self.node(l)?, self.node(r)?);
        let expr = match (left, right) {
            (Typed::Date(lhs, _), Typed::Date(rhs, _)) => BoolExpr::Dates { lhs, op, rhs },
            (Typed::Num(lhs, lu), Typed::Num(rhs, ru)) => {
                if let (Some(a), Some(b)) = (lu, ru)
                    && a != b
                {
                    return Err(ExprError::typing(
                        l.pos,
                        format!("cannot compare {} with {}", a.name(), b.name()),
                    ));
                }
                BoolExpr::Numbers { lhs, op, rhs }
            }
            (Typed::Enum(fact, t), Typed::Str(word)) => self.enum_eq(fact, t, &word, op, r.pos)?,
            (Typed::Str(word), Typed::Enum(fact, t)) => self.enum_eq(fact, t, &word, op, l.pos)?,
            (a, b) => {
                return Err(ExprError::typing(
                    l.pos,
                    format!("cannot compare {} with {}", a.describe(), b.describe()),
                ));
            }
        };
        Ok(Typed::Bool(expr))
    }

    fn enum_eq(
        &self,
        fact: Fact,
        t: EnumType,
        word: &str,
        op: CmpOp,
        pos: usize,
    ) -> Result<BoolExpr, ExprError> {
        let set = 1u16 << variant(t, word, pos)?;
        let test = BoolExpr::InSet { fact, set };
        match op {
            CmpOp::Eq => Ok(test),
            CmpOp::Ne => Ok(BoolExpr::Not(Box::new(test))),
            _ => Err(ExprError::typing(
                pos,
                format!("`{}` only supports ==, != and in", fact.name()),
            )),
        }
    }

    fn member(&mut self, value: &Node, list: &[Node], negated: bool) -> Result<Typed, ExprError> {
        let Typed::Enum(fact, t) = self.node(value)? else {
            return Err(ExprError::typing(
                value.pos,
                "`in` needs an enum fact on its left, such as person.highest_degree",
            ));
        };
        let mut set = 0u16;
        for item in list {
            let NodeKind::Str(word) = &item.kind else {
                return Err(ExprError::typing(item.pos, "list items must be strings"));
            };
            set |= 1 << variant(t, word, item.pos)?;
        }
        let test = BoolExpr::InSet { fact, set };
        Ok(Typed::Bool(if negated {
            BoolExpr::Not(Box::new(test))
        } else {
            test
        }))
    }

    fn call(&mut self, name: &str, args: &[Node], pos: usize) -> Result<Typed, ExprError> {
        let arity = match name {
            "age" | "date" => 1,
            "within_years" => 2,
            "has_enterprise" => 0,
            _ => {
                return Err(ExprError::typing(
                    pos,
                    format!(
                        "unknown function `{name}` (known: age, within_years, date, has_enterprise)"
                    ),
                ));
            }
        };
        if args.len() != arity {
            return Err(ExprError::typing(
                pos,
                format!("{name}() takes {arity} argument(s), got {}", args.len()),
            ));
        }
        Ok(match name {
            "age" => Typed::Num(NumExpr::Age(self.date(&args[0], name)?), Some(Unit::Years)),
            "within_years" => {
                let date = self.date(&args[0], name)?;
                let years = match self.node(&args[1])? {
                    Typed::Num(n, None | Some(Unit::Years)) => n,
                    other => {
                        return Err(ExprError::typing(
                            args[1].pos,
                            format!("within_years() needs years, found {}", other.describe()),
                        ));
                    }
                };
                Typed::Bool(BoolExpr::WithinYears { date, years })
            }
            "date" => {
                let NodeKind::Str(text) = &args[0].kind else {
                    return Err(ExprError::typing(
                        args[0].pos,
                        "date() takes a string \"YYYY-MM-DD\"",
                    ));
                };
                let date = parse_date(text).map_err(|e| ExprError::typing(args[0].pos, e))?;
                Typed::Date(DateExpr::Const(date), false)
            }
            _ => Typed::Bool(BoolExpr::HasEnterprise),
        })
    }
}

fn variant(t: EnumType, word: &str, pos: usize) -> Result<u8, ExprError> {
    t.index_of(word).ok_or_else(|| {
        ExprError::typing(
            pos,
            format!("\"{word}\" is not one of {}", t.names().join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(name: &str) -> Option<ParamInfo> {
        match name {
            "youth_max_age" => Some(ParamInfo {
                index: 0,
                unit: Unit::Years,
            }),
            "cap" => Some(ParamInfo {
                index: 1,
                unit: Unit::Fen,
            }),
            _ => None,
        }
    }

    fn ok(src: &str) -> Compiled {
        compile(src, &params).unwrap_or_else(|e| panic!("{src}: {e:?}"))
    }

    fn err(src: &str) -> ExprError {
        compile(src, &params).unwrap_err()
    }

    #[test]
    fn records_facts_and_parameters_read() {
        let c = ok("age(person.birth_date) <= param.youth_max_age and person.is_founder");
        assert_eq!(
            c.facts.iter().collect::<Vec<_>>(),
            [Fact::PersonBirthDate, Fact::PersonIsFounder]
        );
        assert_eq!(c.params, [0]);
        ok(r#"person.highest_degree in ["bachelor", "master", "doctorate"]"#);
        ok(
            r#"date("2026-01-01") <= person.hukou_shenzhen_since and person.hukou_shenzhen_since <= as_of"#,
        );
        ok("within_years(person.degree_date, 5) and not has_enterprise()");
        ok(r#"enterprise.district != "nanshan""#);
    }

    #[test]
    fn rejects_undefined_names() {
        assert_eq!(err("person.salary").kind, ExprErrorKind::UndefinedFact);
        assert_eq!(err("person.id == \"x\"").kind, ExprErrorKind::UndefinedFact);
        let e = err("age(person.birth_date) <= param.max_age");
        assert_eq!((e.kind, e.pos), (ExprErrorKind::UndefinedParameter, 26));
    }

    #[test]
    fn rejects_type_errors() {
        for src in [
            "person.birth_date",
            "age(person.birth_date) <= param.cap",
            r#"person.highest_degree == "phd""#,
            r#"person.highest_degree < "master""#,
            "person.works_in_ai in [\"x\"]",
            "age(person.hukou_shenzhen_since) > 1",
            "within_years(person.degree_date, param.cap)",
            r#"date("2026-02-30") <= as_of"#,
            "person.works_in_ai == 1",
            "frobnicate()",
            "age()",
        ] {
            assert_eq!(err(src).kind, ExprErrorKind::Type, "{src}");
        }
    }
}
