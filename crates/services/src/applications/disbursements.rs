//! Paying instalments: an idempotent job, safe to run twice or concurrently.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::Result;
use chrono::NaiveDate;
use opcity_domain::application::{Event, Party, State};
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::{application, disbursement};
use opcity_store::sea_orm::sea_query::{Expr, ExprTrait, Query};
use opcity_store::sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::budgets::budget_error;
use super::lifecycle::is_eligible;

/// What one run of the job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PaymentRun {
    pub paid: usize,
    pub paid_fen: i64,
    /// Applications stopped because eligibility lapsed.
    pub stopped: usize,
    pub closed: usize,
}

/// One line of the treasury export.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentLine {
    pub application_id: i64,
    pub programme: String,
    pub district: String,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub seq: i32,
    pub due_on: NaiveDate,
    pub amount_fen: i64,
    pub status: String,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
}

const JOB: &str = "system:disbursement";

impl Services {
    /// Pays every scheduled instalment due on or before `as_of`. Each
    /// instalment is paid by a conditional update (`scheduled` → `paid`) in
    /// its own transaction together with the budget movement, so a second or
    /// concurrent run finds nothing left to pay. Before paying, the
    /// applicant's eligibility is checked again: when it has lapsed, the
    /// remaining instalments are cancelled and their money released.
    pub async fn pay_due(&self, as_of: NaiveDate) -> Result<PaymentRun> {
        let mut run = PaymentRun::default();
        let due = disbursement::Entity::find()
            .filter(disbursement::Column::Status.eq("scheduled"))
            .filter(disbursement::Column::DueOn.lte(as_of))
            .order_by_asc(disbursement::Column::ApplicationId)
            .order_by_asc(disbursement::Column::Seq)
            .all(self.store().db())
            .await?;
        for d in due {
            self.pay_one(&d, &mut run).await?;
        }
        Ok(run)
    }

    async fn pay_one(&self, d: &disbursement::Model, run: &mut PaymentRun) -> Result<()> {
        let tx = self.store().begin().await?;
        let Some(app) = application::Entity::find_by_id(d.application_id)
            .one(&tx)
            .await?
        else {
            return Ok(());
        };
        if app.state != State::Disbursing.id() {
            return Ok(());
        }
        if !is_eligible(&self.current_result(&tx, &app).await?) {
            self.stop_payments(&tx, &app, JOB).await?;
            self.move_application(
                &tx,
                &app,
                Event::Close,
                Party::System,
                JOB,
                Some("eligibility lapsed"),
            )
            .await?;
            tx.commit().await?;
            run.stopped += 1;
            return Ok(());
        }
        let now = self.now();
        let pay = Query::update()
            .table("disbursements")
            .value("status", "paid")
            .value("paid_at", now)
            .and_where(Expr::col("id").eq(d.id))
            .and_where(Expr::col("status").eq("scheduled"))
            .take();
        if tx.execute(&pay).await?.rows_affected() != 1 {
            // Paid (or cancelled) by another run in the meantime.
            return Ok(());
        }
        let budget_id = app
            .budget_id
            .expect("an application with instalments was approved against a budget");
        let cause = Cause {
            actor: JOB,
            application_id: Some(app.id),
            disbursement_id: Some(d.id),
            at: now,
        };
        budget::apply(&tx, budget_id, Movement::Spend, d.amount_fen, cause)
            .await
            .map_err(budget_error)?;
        crate::record_change(&tx, now, JOB, "disbursement.pay", d.id, None, Some(&serde_json::json!({ "application": app.id, "seq": d.seq, "amount_fen": d.amount_fen }))).await?;
        let remaining = disbursement::Entity::find()
            .filter(disbursement::Column::ApplicationId.eq(app.id))
            .filter(disbursement::Column::Status.eq("scheduled"))
            .count(&tx)
            .await?;
        if remaining == 0 {
            self.move_application(
                &tx,
                &app,
                Event::Close,
                Party::System,
                JOB,
                Some("all instalments paid"),
            )
            .await?;
            run.closed += 1;
        }
        tx.commit().await?;
        run.paid += 1;
        run.paid_fen += d.amount_fen;
        Ok(())
    }

    /// Instalments due in `[from, to]` for the treasury (administrators and auditors).
    pub async fn payment_lines(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PaymentLine>> {
        authorize(actor, Action::Read, Resource::Budget)?;
        let db = self.store().db();
        let rows = disbursement::Entity::find()
            .filter(disbursement::Column::DueOn.gte(from))
            .filter(disbursement::Column::DueOn.lte(to))
            .order_by_asc(disbursement::Column::DueOn)
            .order_by_asc(disbursement::Column::ApplicationId)
            .limit(1_000_000)
            .all(db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|d| d.application_id).collect();
        let apps = application::Entity::find()
            .filter(application::Column::Id.is_in(ids))
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|d| {
                let app = apps.iter().find(|a| a.id == d.application_id)?;
                Some(PaymentLine {
                    application_id: app.id,
                    programme: app.programme.clone(),
                    district: app.district.clone(),
                    person_id: app.person_id,
                    enterprise_id: app.enterprise_id,
                    seq: d.seq,
                    due_on: d.due_on,
                    amount_fen: d.amount_fen,
                    status: d.status,
                    paid_at: d.paid_at,
                })
            })
            .collect())
    }
}

/// The treasury export as CSV: UTF-8 with a byte-order mark (so spreadsheet
/// programs read the Chinese correctly), amounts in fen and in yuan.
pub fn payments_csv(lines: &[PaymentLine]) -> String {
    let mut out = String::from(
        "\u{feff}application_id,programme,district,person_id,enterprise_id,seq,due_on,amount_fen,amount_yuan,status,paid_at\r\n",
    );
    for l in lines {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}.{:02},{},{}\r\n",
            l.application_id,
            l.programme,
            l.district,
            opt(l.person_id),
            opt(l.enterprise_id),
            l.seq,
            l.due_on,
            l.amount_fen,
            l.amount_fen / 100,
            l.amount_fen % 100,
            l.status,
            l.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        ));
    }
    out
}
