//! Programme budgets: per programme, year and funding authority.

use crate::ErrorCode;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError, above_max_amount, budget_total_too_large};
use crate::{Services, record_change};
use opcity_domain::{District, Fen};
use opcity_store::applications::budgets as rows;
use opcity_store::budget::{self, BudgetError, Cause, Movement};
use opcity_store::entity::budget as budget_entity;

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    pub programme: String,
    pub year: i32,
    /// `municipal` or a district id.
    pub authority: String,
    pub total_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    pub id: i64,
    pub programme: String,
    pub year: i32,
    pub authority: String,
    pub total_fen: i64,
    pub reserved_fen: i64,
    pub spent_fen: i64,
    pub remaining_fen: i64,
}

impl From<&budget_entity::Model> for BudgetView {
    fn from(b: &budget_entity::Model) -> Self {
        BudgetView {
            id: b.id,
            programme: b.programme.clone(),
            year: b.year,
            authority: b.authority.clone(),
            total_fen: b.total_fen,
            reserved_fen: b.reserved_fen,
            spent_fen: b.spent_fen,
            remaining_fen: b.total_fen - b.reserved_fen - b.spent_fen,
        }
    }
}

/// No budget of `programme` for the authority and the year to pay from.
pub(crate) fn no_budget(programme: &str, authority: &str, year: i32) -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("amount_fen", "no_budget")
            .with("programme", programme)
            .with("authority", authority)
            .with("year", year),
    ])
}

/// A budget error as users see it: the remaining figure when it runs out.
pub(crate) fn budget_error(err: BudgetError) -> ServiceError {
    match err {
        BudgetError::Insufficient { remaining_fen } => ServiceError::Validation(vec![
            FieldError::new("amount_fen", "budget_insufficient")
                .with("remaining_fen", remaining_fen),
        ]),
        BudgetError::NotFound(_) => ServiceError::NotFound { entity: "budget" },
        BudgetError::NotReserved { reserved_fen } => ServiceError::Internal(
            format!("budget movement without reservation ({reserved_fen} reserved)").into(),
        ),
        BudgetError::NotSpent { spent_fen } => ServiceError::Internal(
            format!("refund of more than was spent ({spent_fen} spent)").into(),
        ),
        BudgetError::TotalTooLarge { .. } => budget_total_too_large(),
        BudgetError::Store(e) => e.into(),
    }
}

pub(super) async fn create_budget(
    s: &Services,
    actor: &Actor,
    input: &BudgetInput,
) -> Result<BudgetView> {
    authorize(actor, Action::Create, Resource::Budget)?;
    let mut errors = Vec::new();
    if s.pack().programme(&input.programme).is_none() {
        errors.push(FieldError::new("programme", "unknown_programme"));
    }
    if !(2000..=2100).contains(&input.year) {
        errors.push(
            FieldError::new("year", "out_of_range")
                .with("min", 2000)
                .with("max", 2100),
        );
    }
    if input.authority != "municipal" && input.authority.parse::<District>().is_err() {
        errors.push(FieldError::new("authority", "unknown_authority"));
    }
    if !(0..=Fen::MAX_AMOUNT.0).contains(&input.total_fen) {
        errors.push(
            FieldError::new("total_fen", "out_of_range")
                .with("min", Fen::ZERO)
                .with("max", Fen::MAX_AMOUNT),
        );
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let now = s.now();
    let tx = s.store().begin().await?;
    let created = rows::create(&tx, &input.programme, input.year, &input.authority, now)
        .await
        .map_err(|e| match e {
            opcity_store::StoreError::Unique(_) => ServiceError::Conflict {
                code: ErrorCode::BudgetExists,
                field: Some("programme"),
            },
            other => other.into(),
        })?;
    let label = actor.audit_label();
    if input.total_fen > 0 {
        let cause = Cause {
            actor: &label,
            application_id: None,
            disbursement_id: None,
            at: now,
        };
        budget::apply(&tx, created.id, Movement::Fund, input.total_fen, cause)
            .await
            .map_err(budget_error)?;
    }
    let saved = rows::find(&tx, created.id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "budget" })?;
    let view = BudgetView::from(&saved);
    crate::commit_change(tx, now, &label, "budget.create", saved.id, None, view).await
}

/// Adds money to a budget (a new movement; figures are never edited).
pub(super) async fn fund_budget(
    s: &Services,
    actor: &Actor,
    id: i64,
    amount_fen: i64,
) -> Result<BudgetView> {
    authorize(actor, Action::Update, Resource::Budget)?;
    if amount_fen <= 0 {
        return Err(ServiceError::invalid("amount_fen", "must_be_positive"));
    }
    if let Some(error) = above_max_amount("amount_fen", amount_fen) {
        return Err(ServiceError::Validation(vec![error]));
    }
    let now = s.now();
    let tx = s.store().begin().await?;
    let before = rows::find(&tx, id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "budget" })?;
    let label = actor.audit_label();
    let cause = Cause {
        actor: &label,
        application_id: None,
        disbursement_id: None,
        at: now,
    };
    budget::apply(&tx, id, Movement::Fund, amount_fen, cause)
        .await
        .map_err(budget_error)?;
    let after = rows::find(&tx, id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "budget" })?;
    record_change(
        &tx,
        now,
        &label,
        "budget.fund",
        id,
        Some(&BudgetView::from(&before)),
        Some(&BudgetView::from(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(BudgetView::from(&after))
}

pub(super) async fn list_budgets(s: &Services, actor: &Actor) -> Result<Vec<BudgetView>> {
    authorize(actor, Action::Read, Resource::Budget)?;
    let rows = rows::all(s.store().db()).await?;
    Ok(rows.iter().map(BudgetView::from).collect())
}
