//! Demo budgets: one for every programme that pays or issues money, each
//! year of the plan, for the authority that decides it (the city, or every
//! district), so that every application the demo lets a founder make can
//! be approved. Voucher pools the city funds take the pack's yearly pool;
//! the others get round demo figures.

use crate::Services;
use crate::applications::budgets::BudgetInput;
use crate::authz::Actor;
use crate::error::Result;
use crate::vouchers::kind_spec;
use chrono::NaiveDate;
use opcity_domain::District;
use opcity_policy::DecidedBy;

/// A demo budget per programme and year: ¥200m for the city, ¥20m for
/// each district.
const MUNICIPAL_FEN: i64 = 200_000_000 * 100;
const DISTRICT_FEN: i64 = 20_000_000 * 100;

impl Services {
    pub(super) async fn demo_budgets(&self, admin: &Actor) -> Result<usize> {
        let pack = self.pack();
        let mut created = 0;
        for programme in pack.programmes() {
            if !programme.has_amount() {
                continue;
            }
            let (from, to) = (programme.effective.from, programme.effective.to);
            for year in chrono::Datelike::year(&from)..=chrono::Datelike::year(&to) {
                let first_day = NaiveDate::from_ymd_opt(year, 1, 1)
                    .expect("a valid year")
                    .max(from);
                let authorities: Vec<(String, i64)> = match programme.decided_by {
                    DecidedBy::Municipal => {
                        let pool =
                            kind_spec(&programme.id).and_then(|k| k.pool_fen(&pack, first_day));
                        vec![("municipal".to_owned(), pool.unwrap_or(MUNICIPAL_FEN))]
                    }
                    DecidedBy::District => District::ALL
                        .iter()
                        .map(|d| (d.id().to_owned(), DISTRICT_FEN))
                        .collect(),
                };
                for (authority, total_fen) in authorities {
                    let input = BudgetInput {
                        programme: programme.id.to_string(),
                        year,
                        authority,
                        total_fen,
                    };
                    self.create_budget(admin, &input).await?;
                    created += 1;
                }
            }
        }
        Ok(created)
    }
}
