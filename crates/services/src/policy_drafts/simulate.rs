//! Simulating a draft: the pack in force against a scenario that holds the
//! draft's changes, over a population, for each year of the pack from the
//! draft's first change — evaluated on the later of 1 January and that
//! change's date, with every change in force by then. The impact is kept
//! with the revision it simulated, only if the draft is still at it.

use super::edit::{Seen, refusal, view};
use super::impact::{self, Disclosure, Impact, PopulationInfo};
use super::{DraftView, population};
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{ErrorCode, FieldError, Result, ServiceError};
use crate::{Services, record_change};
use chrono::{Datelike, NaiveDate};
use opcity_policy::{ConditionChange, Pack, Setting, WhatIf, whatif_cases, whatif_jsonl};
use opcity_store::entity::policy_draft_change;
use opcity_store::policy_drafts;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The largest file of cases a simulation reads (JSON Lines).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// The most years a simulation covers.
const MAX_YEARS: i32 = 5;
/// The bad lines of a file an impact names (it counts them all).
const BAD_LINES_LISTED: usize = 10;

/// The people a draft is simulated over.
#[derive(Debug, Clone)]
pub enum Population {
    /// The platform's registry: aggregates only.
    Registry,
    /// Cases as `policy eval` reads them, one JSON object a line.
    File { name: String, bytes: Vec<u8> },
}

/// One year's scenario: the pack with the conditions in force and the
/// values set on `as_of`.
struct Scenario {
    year: i32,
    as_of: NaiveDate,
    pack: Pack,
    settings: Vec<Setting>,
}

fn no_longer_applies(what: impl ToString) -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("changes", "no_longer_applies").with("value", what),
    ])
}

/// The scenarios of the years from the first change to the pack's end (at
/// most [`MAX_YEARS`]).
fn scenarios(pack: &Pack, changes: &[policy_draft_change::Model]) -> Result<Vec<Scenario>> {
    let first = changes
        .iter()
        .map(|c| c.effective_from)
        .min()
        .ok_or(ServiceError::Conflict {
            code: ErrorCode::DraftEmpty,
            field: None,
        })?;
    let last = pack.effective().to.year().min(first.year() + MAX_YEARS - 1);
    (first.year()..=last)
        .map(|year| {
            let january = NaiveDate::from_ymd_opt(year, 1, 1).expect("a year of the pack");
            let as_of = january.max(first);
            let in_force: Vec<&policy_draft_change::Model> = changes
                .iter()
                .filter(|c| c.effective_from <= as_of)
                .collect();
            let conditions: Vec<ConditionChange> = in_force
                .iter()
                .filter_map(|c| {
                    Some(ConditionChange {
                        programme: c.programme.clone()?,
                        condition: c.condition.clone()?,
                        when: c.expression.clone()?,
                    })
                })
                .collect();
            let scenario = pack
                .with_conditions(&conditions)
                .map_err(no_longer_applies)?;
            // Each parameter's latest value by `as_of` (changes come by date).
            let mut latest: Vec<(&str, Option<i64>)> = Vec::new();
            for c in &in_force {
                let Some(name) = c.parameter.as_deref() else {
                    continue;
                };
                latest.retain(|(n, _)| *n != name);
                latest.push((name, c.value));
            }
            let texts: Vec<String> = latest
                .iter()
                .map(|(n, v)| format!("{n}={}", v.map_or("null".to_owned(), |v| v.to_string())))
                .collect();
            let settings = Setting::parse_all(pack, texts.iter().map(String::as_str))
                .map_err(no_longer_applies)?;
            Ok(Scenario {
                year,
                as_of,
                pack: scenario,
                settings,
            })
        })
        .collect()
}

/// The what-ifs of every scenario over the registry's cases or a file's
/// lines, off the async threads (rayon runs each across the cores).
async fn run_all(
    s: &Services,
    pack: Arc<Pack>,
    scenarios: Arc<Vec<Scenario>>,
    population: Population,
) -> Result<(PopulationInfo, Vec<WhatIf>)> {
    match population {
        Population::Registry => {
            let cases = population::registry_cases(s).await?;
            let info = PopulationInfo {
                source: "registry".into(),
                file_name: None,
                sha256: None,
                cases: cases.len() as u64,
                bad_cases: 0,
                bad_lines: Vec::new(),
            };
            let runs = tokio::task::spawn_blocking(move || {
                scenarios
                    .iter()
                    .map(|sc| {
                        let baseline = pack.at(sc.as_of);
                        let scenario = sc.pack.at(sc.as_of).with_settings(&sc.settings);
                        whatif_cases(&baseline, &scenario, &cases)
                    })
                    .collect()
            })
            .await
            .map_err(|e| ServiceError::Internal(Box::new(e)))?;
            Ok((info, runs))
        }
        Population::File { name, bytes } => {
            if bytes.len() > MAX_FILE_BYTES {
                return Err(ServiceError::Validation(vec![
                    FieldError::new("file", "file_too_large").with("max_mib", MAX_FILE_BYTES >> 20),
                ]));
            }
            let sha256 = hex::encode(Sha256::digest(&bytes));
            tokio::task::spawn_blocking(move || file_runs(&pack, &scenarios, name, sha256, &bytes))
                .await
                .map_err(|e| ServiceError::Internal(Box::new(e)))?
        }
    }
}

fn file_runs(
    pack: &Pack,
    scenarios: &[Scenario],
    name: String,
    sha256: String,
    bytes: &[u8],
) -> Result<(PopulationInfo, Vec<WhatIf>)> {
    let unreadable = |e: opcity_policy::BatchError| {
        ServiceError::Validation(vec![
            FieldError::new("file", "cases_unreadable").with("reason", e),
        ])
    };
    let mut info = PopulationInfo {
        source: "file".into(),
        file_name: Some(name),
        sha256: Some(sha256),
        cases: 0,
        bad_cases: 0,
        bad_lines: Vec::new(),
    };
    let mut runs = Vec::with_capacity(scenarios.len());
    for (n, sc) in scenarios.iter().enumerate() {
        let baseline = pack.at(sc.as_of);
        let scenario = sc.pack.at(sc.as_of).with_settings(&sc.settings);
        let mut bad_lines = Vec::new();
        let (whatif, summary) = whatif_jsonl(
            &baseline,
            &scenario,
            bytes,
            |_| {},
            |f| {
                if bad_lines.len() < BAD_LINES_LISTED {
                    bad_lines.push(f.line.unwrap_or(f.position) as u64);
                }
            },
        )
        .map_err(unreadable)?;
        if n == 0 {
            info.cases = (summary.cases - summary.failed) as u64;
            info.bad_cases = summary.failed as u64;
            info.bad_lines = bad_lines;
        }
        runs.push(whatif);
    }
    if info.cases == 0 {
        return Err(ServiceError::Validation(vec![
            FieldError::new("file", "no_cases").with("bad", info.bad_cases),
        ]));
    }
    Ok((info, runs))
}

pub(super) async fn run(
    s: &Services,
    actor: &Actor,
    (id, revision): Seen,
    population: Population,
) -> Result<DraftView> {
    authorize(actor, Action::Update, Resource::PolicyDraft)?;
    let db = s.store().db();
    let Some((draft, changes)) = policy_drafts::get(db, id).await? else {
        return Err(ServiceError::NotFound {
            entity: "policy_draft",
        });
    };
    if draft.status != policy_drafts::DRAFT || draft.revision != revision {
        return Err(refusal(s, id).await);
    }
    let pack = s.pack();
    if draft.pack != pack.id() {
        return Err(ServiceError::Conflict {
            code: ErrorCode::DraftOtherPack,
            field: None,
        });
    }
    let scenarios = Arc::new(scenarios(&pack, &changes)?);
    let show = Disclosure {
        withhold: matches!(population, Population::Registry),
    };
    let (info, runs) = run_all(s, pack.clone(), scenarios.clone(), population).await?;
    let years: Vec<i32> = scenarios.iter().map(|sc| sc.year).collect();
    let programmes: Vec<&str> = pack.programmes().iter().map(|p| p.id.as_str()).collect();
    let budgets =
        opcity_store::applications::budgets::of_programmes(db, programmes, years.clone()).await?;
    let impact = Impact {
        population: info,
        withheld_below: show.withhold.then_some(impact::SMALLEST_SHOWN),
        years: scenarios
            .iter()
            .zip(&runs)
            .map(|(sc, whatif)| impact::year(&pack, (sc.year, sc.as_of), whatif, &budgets, show))
            .collect(),
    };
    let json = serde_json::to_string(&impact).map_err(|e| ServiceError::Internal(Box::new(e)))?;
    let now = s.now();
    let tx = s.store().begin().await?;
    if !policy_drafts::attach_impact(&tx, id, revision, &json, now).await? {
        drop(tx);
        return Err(refusal(s, id).await);
    }
    let audited = serde_json::json!({
        "revision": revision,
        "population": impact.population,
        "years": years,
    });
    record_change(
        &tx,
        now,
        &actor.audit_label(),
        "policy_draft.simulate",
        id,
        None,
        Some(&audited),
    )
    .await?;
    tx.commit().await?;
    view(s, actor, id).await
}
