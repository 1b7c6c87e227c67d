//! The condition language: a small typed expression language compiled once,
//! at pack load, into a tree that evaluates without any name lookup.
//!
//! See `docs/policy-pack.md` for the language as pack authors see it.

mod compile;
mod eval;
mod parse;

pub use compile::{Compiled, ParamInfo, compile};
pub use eval::Ctx;

/// Units a number can carry; comparisons need equal units, or a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Fen,
    Months,
    Years,
    Percent,
    Count,
    /// Square metres (floor area).
    M2,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Fen => "fen",
            Unit::Months => "months",
            Unit::Years => "years",
            Unit::Percent => "percent",
            Unit::Count => "count",
            Unit::M2 => "m2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprErrorKind {
    Syntax,
    Type,
    UndefinedFact,
    UndefinedParameter,
}

/// A problem in one expression; `pos` is a character offset into its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub kind: ExprErrorKind,
    pub pos: usize,
    pub message: String,
}

impl ExprError {
    fn syntax(pos: usize, message: impl Into<String>) -> Self {
        ExprError {
            kind: ExprErrorKind::Syntax,
            pos,
            message: message.into(),
        }
    }

    fn typing(pos: usize, message: impl Into<String>) -> Self {
        ExprError {
            kind: ExprErrorKind::Type,
            pos,
            message: message.into(),
        }
    }
}
