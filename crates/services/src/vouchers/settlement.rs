//! Settlement reports: what a provider captured in a period (civil dates in
//! Asia/Shanghai), with the enterprises' confirmations and disputes and the
//! resolutions of disputes, for payment: open disputes are withheld,
//! reversed captures are not payable, upheld ones are; as a view, CSV (UTF-8
//! with BOM, so spreadsheet programs read Chinese correctly) and XLSX.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::sheet::csv_field;
use crate::vouchers::providers::ProviderView;
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::civil_date::shanghai;
use opcity_store::entity::{
    enterprise, ledger_account, ledger_transfer, provider, voucher_use_review,
};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The longest period one report covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SettlementLine {
    pub transfer_id: String,
    pub hold_id: String,
    /// Civil date of the capture (Asia/Shanghai).
    pub date: NaiveDate,
    pub captured_at: DateTime<Utc>,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub uscc: String,
    pub kind: String,
    pub reference: Option<String>,
    #[serde(rename = "use")]
    pub use_kind: Option<String>,
    pub amount_fen: i64,
    /// `confirmed`, `disputed` or `pending` (not reviewed yet).
    pub review: String,
    /// For a dispute once resolved: `upheld` (payable) or `reversed` (paid
    /// back to the enterprise; not payable).
    pub resolution: Option<String>,
}

impl SettlementLine {
    /// Disputed and not resolved yet: withheld.
    pub fn withheld(&self) -> bool {
        self.review == "disputed" && self.resolution.is_none()
    }

    pub fn reversed(&self) -> bool {
        self.resolution.as_deref() == Some("reversed")
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SettlementReport {
    pub provider_id: i64,
    pub provider_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub lines: Vec<SettlementLine>,
    pub total_fen: i64,
    /// Disputed by the enterprise and not resolved yet: withheld.
    pub disputed_fen: i64,
    /// Reversed after a dispute: paid back to the enterprise, not payable.
    pub reversed_fen: i64,
    /// Total less disputed and reversed.
    pub payable_fen: i64,
}

/// The days a settlement period may name: chrono takes years of six digits,
/// whose midnights are outside what an instant can hold.
const SETTLEMENT_DAYS: std::ops::RangeInclusive<NaiveDate> = NaiveDate::from_ymd_opt(2000, 1, 1)
    .expect("a date")
    ..=NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date");

/// The first instant of a civil date in Shanghai, in UTC.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(shanghai())
        .single()
        .expect("Shanghai has no DST")
        .with_timezone(&Utc)
}

impl Services {
    /// Whether `actor` may read `provider`'s settlement, so that pages offer
    /// only the downloads [`Services::settlement`] answers.
    pub fn may_read_settlement(&self, actor: &Actor, provider: &ProviderView) -> bool {
        authorize(
            actor,
            Action::Read,
            Resource::ProviderLedger {
                account_id: provider.account_id,
            },
        )
        .is_ok()
    }

    /// The captures a provider settles for `from..=to`.
    pub async fn settlement(
        &self,
        actor: &Actor,
        provider_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<SettlementReport> {
        let out_of_range: Vec<FieldError> = [("from", from), ("to", to)]
            .into_iter()
            .filter(|(_, day)| !SETTLEMENT_DAYS.contains(day))
            .map(|(field, _)| {
                FieldError::new(field, "out_of_range")
                    .with("min", SETTLEMENT_DAYS.start())
                    .with("max", SETTLEMENT_DAYS.end())
            })
            .collect();
        if !out_of_range.is_empty() {
            return Err(ServiceError::Validation(out_of_range));
        }
        if to < from || (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(ServiceError::Validation(vec![
                FieldError::new("to", "invalid_period").with("max_days", MAX_PERIOD_DAYS),
            ]));
        }
        let db = self.store().db();
        let p = provider::Entity::find_by_id(provider_id)
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound { entity: "provider" })?;
        authorize(
            actor,
            Action::Read,
            Resource::ProviderLedger {
                account_id: p.account_id,
            },
        )?;
        let receivables: Vec<i64> = ledger_account::Entity::find()
            .filter(ledger_account::Column::ProviderId.eq(p.id))
            .all(db)
            .await?
            .iter()
            .map(|a| a.id)
            .collect();
        let captures = ledger_transfer::Entity::find()
            .filter(ledger_transfer::Column::Phase.eq("post"))
            .filter(ledger_transfer::Column::CreditAccountId.is_in(receivables))
            .filter(ledger_transfer::Column::CreatedAt.gte(start_of(from)))
            .filter(ledger_transfer::Column::CreatedAt.lt(start_of(to + chrono::Days::new(1))))
            .order_by_asc(ledger_transfer::Column::Seq)
            .all(db)
            .await?;
        let wallets: HashMap<i64, ledger_account::Model> = ledger_account::Entity::find()
            .filter(ledger_account::Column::Id.is_in(captures.iter().map(|c| c.debit_account_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let enterprises: HashMap<i64, enterprise::Model> = enterprise::Entity::find()
            .filter(enterprise::Column::Id.is_in(wallets.values().filter_map(|w| w.enterprise_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let reviews: HashMap<String, String> = voucher_use_review::Entity::find()
            .filter(
                voucher_use_review::Column::TransferId.is_in(captures.iter().map(|c| c.id.clone())),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.transfer_id, r.decision))
            .collect();
        let resolutions =
            super::disputes::outcomes_of(db, captures.iter().map(|c| c.id.clone())).await?;
        let lines: Vec<SettlementLine> = captures
            .iter()
            .map(|c| {
                let e = wallets
                    .get(&c.debit_account_id)
                    .and_then(|w| w.enterprise_id)
                    .and_then(|id| enterprises.get(&id));
                SettlementLine {
                    transfer_id: c.id.clone(),
                    hold_id: c.pending_id.clone().unwrap_or_default(),
                    date: c.created_at.with_timezone(&shanghai()).date_naive(),
                    captured_at: c.created_at,
                    enterprise_id: e.map_or(0, |e| e.id),
                    enterprise_name: e.map_or_else(String::new, |e| e.name.clone()),
                    uscc: e.map_or_else(String::new, |e| e.uscc.clone()),
                    kind: c.ledger.clone(),
                    reference: c.reference.clone(),
                    use_kind: c.use_kind.clone(),
                    amount_fen: c.amount_fen,
                    review: reviews
                        .get(&c.id)
                        .cloned()
                        .unwrap_or_else(|| "pending".to_owned()),
                    resolution: resolutions.get(&c.id).cloned(),
                }
            })
            .collect();
        let total_fen: i64 = lines.iter().map(|l| l.amount_fen).sum();
        let sum = |keep: fn(&SettlementLine) -> bool| -> i64 {
            lines.iter().filter(|l| keep(l)).map(|l| l.amount_fen).sum()
        };
        let disputed_fen = sum(SettlementLine::withheld);
        let reversed_fen = sum(SettlementLine::reversed);
        Ok(SettlementReport {
            provider_id: p.id,
            provider_name: p.name,
            from,
            to,
            lines,
            total_fen,
            disputed_fen,
            reversed_fen,
            payable_fen: total_fen - disputed_fen - reversed_fen,
        })
    }
}

const HEADER: [&str; 13] = [
    "date",
    "transfer_id",
    "hold_id",
    "enterprise_id",
    "enterprise",
    "uscc",
    "kind",
    "reference",
    "use",
    "amount_fen",
    "amount_yuan",
    "review",
    "resolution",
];

/// Yuan with two decimals, from fen, without floating point.
fn yuan(fen: i64) -> String {
    opcity_domain::Fen(fen).decimal_yuan()
}

fn cells(l: &SettlementLine) -> [String; 13] {
    [
        l.date.to_string(),
        l.transfer_id.clone(),
        l.hold_id.clone(),
        l.enterprise_id.to_string(),
        l.enterprise_name.clone(),
        l.uscc.clone(),
        l.kind.clone(),
        l.reference.clone().unwrap_or_default(),
        l.use_kind.clone().unwrap_or_default(),
        l.amount_fen.to_string(),
        yuan(l.amount_fen),
        l.review.clone(),
        l.resolution.clone().unwrap_or_default(),
    ]
}

impl SettlementReport {
    /// The total lines under the captures.
    fn totals(&self) -> [(&'static str, i64); 4] {
        [
            ("total", self.total_fen),
            ("disputed", self.disputed_fen),
            ("reversed", self.reversed_fen),
            ("payable", self.payable_fen),
        ]
    }

    /// The report as CSV: UTF-8 with BOM, one line per capture, then totals.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        out.push_str(&HEADER.join(","));
        out.push_str("\r\n");
        for l in &self.lines {
            let row: Vec<String> = cells(l).iter().map(|c| csv_field(c)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        for (label, fen) in self.totals() {
            out.push_str(&format!("{label},,,,,,,,,{fen},{},,\r\n", yuan(fen)));
        }
        out
    }

    /// The report as an XLSX workbook. Amounts are written as whole fen
    /// (exact in a spreadsheet number) and shown in yuan by a formula, so no
    /// money passes through floating point here.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{Format, Formula, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(Box::new(e));
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("settlement").map_err(err)?;
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        sheet
            .write_string_with_format(
                0,
                0,
                format!("{} ({} – {})", self.provider_name, self.from, self.to),
                &bold,
            )
            .map_err(err)?;
        for (col, h) in HEADER.iter().enumerate() {
            sheet
                .write_string_with_format(2, col as u16, *h, &bold)
                .map_err(err)?;
        }
        let fen_cell = |fen: i64| {
            // Whole fen below 2^53 are exact as spreadsheet numbers.
            assert!(
                fen.unsigned_abs() < (1u64 << 53),
                "amount too large for a cell"
            );
            fen as f64
        };
        let mut row = 3u32;
        for l in &self.lines {
            for (col, value) in cells(l).iter().enumerate() {
                match col {
                    3 => sheet.write_number(row, 3, fen_cell(l.enterprise_id)),
                    9 => sheet.write_number(row, 9, fen_cell(l.amount_fen)),
                    10 => sheet.write_formula_with_format(
                        row,
                        10,
                        Formula::new(format!("=J{}/100", row + 1)),
                        &money,
                    ),
                    _ => sheet.write_string(row, col as u16, value),
                }
                .map_err(err)?;
            }
            row += 1;
        }
        row += 1;
        for (label, fen) in self.totals() {
            sheet
                .write_string_with_format(row, 0, label, &bold)
                .map_err(err)?;
            sheet.write_number(row, 9, fen_cell(fen)).map_err(err)?;
            sheet
                .write_formula_with_format(
                    row,
                    10,
                    Formula::new(format!("=J{}/100", row + 1)),
                    &money,
                )
                .map_err(err)?;
            row += 1;
        }
        book.save_to_buffer().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_made_inert() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn yuan_has_two_decimals_without_floats() {
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(0), "0.00");
    }
}
