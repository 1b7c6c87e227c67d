//! Policy changes worked out as drafts before they are made (#20): a
//! bureau user writes the parameter values and condition texts a change
//! would bring, each from its date, with the reason and the document it
//! comes from, and simulates it over a population — the platform's own
//! registry (aggregates only: counts under five are withheld) or an
//! uploaded file of cases — to see, year by year of the pack, the change in
//! eligible people and money by programme and district, who gains and who
//! loses, and what it does to the budgets on record.
//!
//! The engine is the one that decides applications: a scenario is the pack
//! in force with the draft's values and conditions, nothing else
//! (`opcity_policy::whatif`). Every edit names the revision its editor saw
//! and is refused when the draft moved on (`draft_changed`); an impact is
//! kept with the revision it simulated, so a page says when it is older
//! than the changes (the guard: `opcity_store::policy_drafts`). Every
//! step is audited (`policy_draft.*`). Who may: the city's administrators;
//! auditors read. A simulated draft is submitted and published by a
//! second administrator as a version of the pack (`publish.rs`).

mod edit;
mod impact;
mod population;
mod publish;
mod simulate;

pub use impact::{
    BudgetImpact, DistrictCell, DistrictImpact, ExampleView, Figures, Impact, PopulationInfo,
    ProgrammeImpact, YearImpact,
};
pub use simulate::{MAX_FILE_BYTES, Population};

use crate::Services;
use crate::authz::Actor;
use crate::error::Result;
use crate::policy::Bilingual;
use chrono::{DateTime, NaiveDate, Utc};

/// The most characters a draft's title takes.
pub const TITLE_MAX: usize = 200;
/// The most characters its reason and its source document take.
pub const TEXT_MAX: usize = 4_000;
/// The most characters a rewritten condition takes.
pub const EXPRESSION_MAX: usize = 500;

/// What a draft says about itself, as its form sends it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    pub title: String,
    pub reason: String,
    /// The document the change comes from (its name and number).
    pub source_document: String,
}

/// One change to add to a draft.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    /// `parameter` or `condition`.
    pub kind: String,
    /// The date it takes effect, YYYY-MM-DD: not before today, not after
    /// the pack's end.
    pub effective_from: String,
    /// A parameter of the pack in force (`parameter` changes).
    #[serde(default)]
    pub parameter: Option<String>,
    /// Its new value in its unit (fen for money); left out with `unset`.
    #[serde(default)]
    pub value: Option<i64>,
    /// The parameter is unset from that date (the authority publishes no
    /// figure).
    #[serde(default)]
    pub unset: bool,
    /// A programme and one of its written conditions (`condition` changes).
    #[serde(default)]
    pub programme: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    /// The condition's new text in the pack's condition language; `true`
    /// waives it.
    #[serde(default)]
    pub expression: Option<String>,
}

/// One change of a draft, with what it replaces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub id: i64,
    /// `parameter` or `condition`.
    pub kind: String,
    pub effective_from: NaiveDate,
    pub parameter: Option<String>,
    /// The parameter's description and unit.
    pub description: Option<Bilingual>,
    pub unit: Option<String>,
    /// The new value (`None`: unset) and the one in force on that date
    /// without the draft.
    pub value: Option<i64>,
    pub value_before: Option<i64>,
    pub programme: Option<String>,
    pub programme_title: Option<Bilingual>,
    pub condition: Option<String>,
    pub expression: Option<String>,
    pub expression_before: Option<String>,
}

/// A draft with its changes and its last impact.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DraftView {
    pub id: i64,
    pub pack: String,
    pub title: String,
    pub reason: String,
    pub source_document: String,
    /// `draft`, `submitted`, `published` or `withdrawn`.
    pub status: String,
    /// Edits name the revision they were made on.
    pub revision: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub changes: Vec<ChangeView>,
    pub impact: Option<Impact>,
    pub impact_revision: Option<i32>,
    pub impact_at: Option<DateTime<Utc>>,
    /// Whether the impact describes the changes as they are now.
    pub impact_current: bool,
    pub submitted_by: Option<String>,
    /// Who published it or sent it back, and the note sent back.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// Whether the reader may publish it or send it back now: it is
    /// submitted, and they neither wrote nor submitted it.
    pub may_decide: bool,
}

/// A draft as the list shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DraftSummary {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub revision: i32,
    pub changes: usize,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub impact_current: bool,
}

impl Services {
    /// Whether `actor` may write drafts (pages ask before they offer the forms).
    pub fn may_draft_policy(&self, actor: &Actor) -> bool {
        edit::may_write(actor)
    }

    /// Whether `actor` may read drafts (pages ask before they link to them).
    pub fn may_read_policy_drafts(&self, actor: &Actor) -> bool {
        edit::may_read(actor)
    }

    pub async fn policy_drafts(&self, actor: &Actor) -> Result<Vec<DraftSummary>> {
        edit::list(self, actor).await
    }

    pub async fn policy_draft(&self, actor: &Actor, id: i64) -> Result<DraftView> {
        edit::view(self, actor, id).await
    }

    pub async fn create_policy_draft(
        &self,
        actor: &Actor,
        input: &DraftInput,
    ) -> Result<DraftView> {
        edit::create(self, actor, input).await
    }

    pub async fn update_policy_draft(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
        input: &DraftInput,
    ) -> Result<DraftView> {
        edit::update(self, actor, (id, revision), input).await
    }

    pub async fn add_policy_draft_change(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
        input: &ChangeInput,
    ) -> Result<DraftView> {
        edit::add_change(self, actor, (id, revision), input).await
    }

    pub async fn remove_policy_draft_change(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
        change_id: i64,
    ) -> Result<DraftView> {
        edit::remove_change(self, actor, (id, revision), change_id).await
    }

    pub async fn withdraw_policy_draft(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
    ) -> Result<DraftView> {
        edit::withdraw(self, actor, (id, revision)).await
    }

    pub async fn submit_policy_draft(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
    ) -> Result<DraftView> {
        publish::submit(self, actor, (id, revision)).await
    }

    pub async fn send_back_policy_draft(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
        note: &str,
    ) -> Result<DraftView> {
        publish::send_back(self, actor, (id, revision), note).await
    }

    pub async fn publish_policy_draft(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
    ) -> Result<DraftView> {
        publish::publish(self, actor, (id, revision)).await
    }

    pub async fn simulate_policy_draft(
        &self,
        actor: &Actor,
        id: i64,
        revision: i32,
        population: Population,
    ) -> Result<DraftView> {
        simulate::run(self, actor, (id, revision), population).await
    }
}
