//! Paying instalments: an idempotent job, safe to run twice or concurrently.

use crate::Services;
use crate::authz::{Action, Actor, Resource, application_scope, authorize};
use crate::error::{Result, ServiceError};
use chrono::NaiveDate;
use opcity_domain::application::{Event, Party, State};
use opcity_store::applications as store;
use opcity_store::budget::{self, Cause, Movement};
use opcity_store::entity::disbursement;

use super::budgets::budget_error;
use super::moves::move_application;
use super::recheck::Lapse;

/// What one run of the job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PaymentRun {
    pub paid: usize,
    pub paid_fen: i64,
    /// Instalments not paid because their benefit is flagged (a lapse
    /// found now is flagged too), waiting for the reviewer's decision.
    pub paused: usize,
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

/// Pays every scheduled instalment due on or before `as_of`. Each
/// instalment is paid by a conditional update (`scheduled` → `paid`) in
/// its own transaction together with the budget movement, so a second or
/// concurrent run finds nothing left to pay. Before paying, the
/// applicant's eligibility is checked again: a benefit that no longer
/// qualifies is flagged to its reviewer (`recheck`), and its instalments
/// wait until the flag is decided.
pub(super) async fn pay_due(s: &Services, as_of: NaiveDate) -> Result<PaymentRun> {
    let mut run = PaymentRun::default();
    let due = store::due(s.store().db(), as_of).await?;
    for d in due {
        pay_one(s, &d, &mut run).await?;
    }
    Ok(run)
}

async fn pay_one(s: &Services, d: &disbursement::Model, run: &mut PaymentRun) -> Result<()> {
    let tx = s.store().begin().await?;
    let Some(app) = store::find(&tx, d.application_id).await? else {
        return Ok(());
    };
    if app.state != State::Disbursing.id() {
        return Ok(());
    }
    // A flagged benefit waits for its reviewer's decision; a lapse found
    // now is flagged (never stopped silently) and waits too.
    if !opcity_store::flags::open_of(&tx, [app.id])
        .await?
        .is_empty()
    {
        run.paused += 1;
        return Ok(());
    }
    let current = s.current_result(&tx, &app).await?;
    let today = opcity_domain::today_in_shanghai(s.now());
    if !current.result.is_eligible()
        && super::recheck::flag(s, &tx, &app, &current, today).await? != Lapse::Lifted
    {
        tx.commit().await?;
        run.paused += 1;
        return Ok(());
    }
    let now = s.now();
    if !store::pay(&tx, d.id, now).await? {
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
    crate::record_change(
        &tx,
        now,
        JOB,
        "disbursement.pay",
        d.id,
        None,
        Some(
            &serde_json::json!({ "application": app.id, "seq": d.seq, "amount_fen": d.amount_fen }),
        ),
    )
    .await?;
    let remaining = store::scheduled_left(&tx, app.id).await?;
    if remaining == 0 {
        move_application(
            s,
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

/// Instalments due in `[from, to]` for the treasury (administrators and
/// auditors), or of the district's applications for its reviewers.
pub(super) async fn payment_lines(
    s: &Services,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PaymentLine>> {
    authorize(actor, Action::Read, Resource::Budget)?;
    let scope = application_scope(actor).ok_or(ServiceError::Forbidden)?;
    let db = s.store().db();
    let district = scope.district.map(|d| d.id());
    let rows = store::instalments_between(db, from, to, district).await?;
    let ids: Vec<i64> = rows.iter().map(|d| d.application_id).collect();
    let apps = store::find_many(db, ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|d| {
            let app = apps.get(&d.application_id)?;
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

/// The treasury export as CSV: UTF-8 with a byte-order mark (so spreadsheet
/// programs read the Chinese correctly), amounts in fen and in yuan.
pub fn payments_csv(lines: &[PaymentLine]) -> String {
    let mut out = String::from(
        "\u{feff}application_id,programme,district,person_id,enterprise_id,seq,due_on,amount_fen,amount_yuan,status,paid_at\r\n",
    );
    for l in lines {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\r\n",
            l.application_id,
            l.programme,
            l.district,
            opt(l.person_id),
            opt(l.enterprise_id),
            l.seq,
            l.due_on,
            l.amount_fen,
            opcity_domain::Fen(l.amount_fen).decimal_yuan(),
            l.status,
            l.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        ));
    }
    out
}

/// The treasury export as an XLSX workbook: one row per instalment, amounts
/// in yuan as numbers with two decimals (exact for every fen amount below
/// 2^53 fen).
pub fn payments_xlsx(
    lines: &[PaymentLine],
) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("disbursements")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let headers = [
        "application_id",
        "programme",
        "district",
        "person_id",
        "enterprise_id",
        "seq",
        "due_on",
        "amount_fen",
        "amount_yuan",
        "status",
        "paid_at",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    for (i, l) in lines.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_number(row, 0, l.application_id as f64)?;
        sheet.write_string(row, 1, &l.programme)?;
        sheet.write_string(row, 2, &l.district)?;
        if let Some(p) = l.person_id {
            sheet.write_number(row, 3, p as f64)?;
        }
        if let Some(e) = l.enterprise_id {
            sheet.write_number(row, 4, e as f64)?;
        }
        sheet.write_number(row, 5, f64::from(l.seq))?;
        sheet.write_string(row, 6, l.due_on.to_string())?;
        // The fen figure is the exact one; yuan is for reading.
        sheet.write_string(row, 7, l.amount_fen.to_string())?;
        sheet.write_number_with_format(row, 8, l.amount_fen as f64 / 100.0, &money)?;
        sheet.write_string(row, 9, &l.status)?;
        sheet.write_string(
            row,
            10,
            l.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        )?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(amount_fen: i64) -> PaymentLine {
        PaymentLine {
            application_id: 7,
            programme: "sz.housing.subsidy".into(),
            district: "nanshan".into(),
            person_id: Some(3),
            enterprise_id: None,
            seq: 1,
            due_on: "2026-12-01".parse().unwrap(),
            amount_fen,
            status: "paid".into(),
            paid_at: None,
        }
    }

    #[test]
    fn csv_has_a_bom_and_exact_amounts() {
        let csv = payments_csv(&[line(125_000), line(7)]);
        assert!(csv.starts_with('\u{feff}'));
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 3);
        assert!(rows[1].contains(",125000,1250.00,"), "{}", rows[1]);
        assert!(rows[2].contains(",7,0.07,"), "{}", rows[2]);
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let bytes = payments_xlsx(&[line(125_000)]).unwrap();
        assert_eq!(&bytes[..2], b"PK", "XLSX files are ZIP archives");
        assert!(bytes.len() > 1_000);
    }
}
