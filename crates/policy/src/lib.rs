//! The opcity policy engine.
//!
//! A *policy pack* (YAML: `pack.yaml`, `parameters/`, `programmes/`,
//! `tests/`; see `docs/policy-pack.md`) is loaded and checked whole into a
//! [`Pack`]: conditions are compiled against the spec's fact vocabulary and
//! the pack's parameters, so a pack that loads cannot fail on a name at
//! evaluation time. [`Pack::evaluate`] then rates every programme for a
//! [`Case`] on a date, with the reasons behind each status; the [`batch`]
//! functions do the same for many cases in parallel.
//!
//! A pack may extend another (a province's, a city's, a district's): the
//! chain loads into one [`Pack`] whose results name each rule's pack;
//! [`PackDiff`] compares two packs on a date.
//!
//! Architecture invariant: evaluation is pure — no I/O, no clock. The only
//! filesystem access in the crate is [`Pack::load_dir`] (and
//! [`Pack::load_dir_with`]), which reads the files of a pack and of the packs
//! it extends and hands their texts to [`Pack::from_sources_with`].

pub mod batch;
mod case;
mod date;
mod diff;
mod error;
mod eval;
mod explanation;
mod expr;
mod facts;
mod pack;
mod testing;
mod whatif;
mod write;

pub use batch::{
    BatchError, BatchSummary, CaseFailure, evaluate_document, evaluate_json, evaluate_jsonl,
    write_evaluation,
};
pub use case::{
    Case, CaseError, CaseErrorKind, Degree, Enterprise, Grant, Hukou, Person, Size, parse_case,
};
pub use date::parse_date;
pub use diff::{Changed, Changes, PackDiff};
pub use error::{LoadError, LoadErrorKind};
pub use eval::{
    Detail, Evaluation, PackAt, ParamUse, ProgrammeResult, Reason, ReasonFacts, Status,
};
pub use explanation::{
    CaseEvaluation, EXPLANATION_SCHEMA, Explanation, ExplanationError, PackRef, ParamRecord,
    ReasonRecord, ResultRecord,
};
pub use expr::Unit;
pub use facts::{EnumType, Fact, FactSet, FactType, FactValue};
pub use pack::files::Expectation;
pub use pack::model::{
    Beneficiary, Criterion, DecidedBy, Delivery, Evidence, EvidenceKind, Kind, Pack, PackTest,
    Parameter, ParameterValue, Programme, Support, Text, Window,
};
pub use pack::{ConditionChange, ConditionChangeError, DatedValue, ParentSources, RevisionError};
pub use testing::TestOutcome;
pub use whatif::{
    ByProgramme, EXAMPLES, Example, Outcome, Setting, SettingError, Shift, Totals, WhatIf,
    whatif_cases, whatif_jsonl,
};
