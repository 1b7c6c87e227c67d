//! Running a pack's own tests (`tests/*.yaml`).

use crate::eval::{ProgrammeResult, Status};
use crate::pack::files::Expectation;
use crate::pack::model::{Pack, PackTest};
use opcity_domain::Fen;

/// One test's outcome; it passed when `failures` is empty.
#[derive(Debug, Clone)]
pub struct TestOutcome<'p> {
    pub test: &'p PackTest,
    pub failures: Vec<String>,
}

impl TestOutcome<'_> {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl Pack {
    /// Evaluates every test case and compares it with its expectations.
    pub fn run_tests(&self) -> Vec<TestOutcome<'_>> {
        self.tests
            .iter()
            .map(|test| {
                let evaluation = self.evaluate(&test.case, test.as_of);
                let failures = test
                    .expect
                    .iter()
                    .flat_map(|(id, expected)| {
                        let result = evaluation
                            .results
                            .iter()
                            .find(|r| r.programme == id)
                            .expect("test programme ids are checked at load");
                        compare(result, expected)
                    })
                    .collect();
                TestOutcome { test, failures }
            })
            .collect()
    }
}

fn compare(r: &ProgrammeResult, e: &Expectation) -> Vec<String> {
    let mut failures = Vec::new();
    if r.status != e.status {
        failures.push(format!(
            "{}: status is {}, expected {}{}",
            r.programme,
            status_name(r.status),
            status_name(e.status),
            why(r)
        ));
    }
    let figures = [
        ("amount_fen", r.amount_fen.map(|Fen(v)| v), e.amount_fen),
        ("ceiling_fen", r.ceiling_fen.map(|Fen(v)| v), e.ceiling_fen),
        ("monthly_fen", r.monthly_fen.map(|Fen(v)| v), e.monthly_fen),
        ("months", r.months, e.months),
    ];
    for (name, got, want) in figures {
        if got != want {
            failures.push(format!(
                "{}: {name} is {}, expected {}",
                r.programme,
                show(got),
                show(want)
            ));
        }
    }
    if let Some(want) = &e.missing_facts {
        let got: Vec<&str> = r.missing_facts.iter().map(|f| f.name()).collect();
        if got != *want {
            failures.push(format!(
                "{}: missing_facts is {got:?}, expected {want:?}",
                r.programme
            ));
        }
    }
    failures
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Eligible => "eligible",
        Status::Ineligible => "ineligible",
        Status::Undetermined => "undetermined",
    }
}

/// The conditions that did not hold, to make a failure readable.
fn why(r: &ProgrammeResult) -> String {
    let Some(reasons) = &r.reasons else {
        return String::new();
    };
    let failing: Vec<String> = reasons
        .iter()
        .filter(|reason| reason.holds != Some(true))
        .map(|reason| match reason.holds {
            Some(_) => reason.condition.to_owned(),
            None => format!("{} (unknown)", reason.condition),
        })
        .collect();
    if failing.is_empty() {
        String::new()
    } else {
        format!(" (not holding: {})", failing.join(", "))
    }
}

fn show(v: Option<i64>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}
