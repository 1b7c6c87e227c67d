//! Demo data for vouchers: two approved providers (the demo compute
//! provider and a model-API vendor) and model vouchers issued to the demo
//! founder's enterprise and a few other entitled enterprises, with holds and
//! captures in every state a person should see: an open hold on the
//! provider console, captures confirmed, one waiting for the enterprise's
//! word, and one disputed, waiting for an administrator. Amounts come from
//! the demo's seeded generator; transfer ids are fixed (`demo:…`).
//!
//! Nothing is issued when the programme's window has closed or no
//! enterprise is entitled: the rest of the demo loads regardless.

use crate::Services;
use crate::authz::Actor;
use crate::error::Result;
use crate::vouchers::providers::{ProviderDecision, ProviderInput};
use crate::vouchers::redeem::{CaptureInput, HoldInput, UseReviewInput};
use crate::vouchers::{issue::IssueVoucher, kind_spec};
use chrono::Duration;
use opcity_store::entity::entitlement;
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use rand::Rng;
use rand::rngs::StdRng;

const MODEL: &str = "sz.voucher.model";
const TRAINING: &str = "sz.voucher.training";
const SMART: &str = "sz.voucher.smart";

/// How many enterprises besides the founder's get a model voucher.
const OTHERS: usize = 5;

/// The demo's providers: (name, category, kinds).
const PROVIDERS: [(&str, &str, &[&str]); 2] = [
    ("鹏城示例算力有限公司", "compute", &[TRAINING, MODEL, SMART]),
    ("深蓝示例模型接口有限公司", "model_api", &[MODEL, SMART]),
];

/// Whole yuan between `low` and `high` in steps of 10,000 yuan, in fen.
fn yuan_step(rng: &mut StdRng, low: i64, high: i64) -> i64 {
    rng.random_range(low / 10_000..=high / 10_000) * 10_000 * 100
}

impl Services {
    /// `providers`: the accounts of the two providers (the demo compute
    /// provider first). `founder`: the demo founder's account.
    pub(crate) async fn demo_vouchers(
        &self,
        admin: &Actor,
        rng: &mut StdRng,
        founder: i64,
        providers: [i64; 2],
    ) -> Result<()> {
        let mut actors = Vec::new();
        for (account, (name, category, kinds)) in providers.iter().zip(PROVIDERS) {
            let actor = self.system_actor(*account).await?;
            let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
            let p = self
                .register_provider(
                    &actor,
                    &ProviderInput {
                        name: name.to_owned(),
                        uscc: None,
                        category: category.to_owned(),
                        kinds: kinds.clone(),
                        account_id: None,
                    },
                )
                .await?;
            self.decide_provider(
                admin,
                p.id,
                &ProviderDecision {
                    decision: "approve".into(),
                    kinds,
                },
            )
            .await?;
            actors.push(actor);
        }

        let now = self.now();
        let today = opcity_domain::today_in_shanghai(now);
        let Some((_, last_day)) = kind_spec(MODEL).and_then(|k| k.window(&self.pack())) else {
            return Ok(());
        };
        let valid_until = (today + Duration::days(180)).min(last_day);
        if valid_until <= today {
            return Ok(());
        }
        let founder = self.system_actor(founder).await?;
        let entitled: Vec<i64> = entitlement::Entity::find()
            .filter(entitlement::Column::Programme.eq(MODEL))
            .filter(entitlement::Column::Status.eq(opcity_policy::Status::Eligible.name()))
            .order_by_asc(entitlement::Column::Subject)
            .all(self.store().db())
            .await?
            .iter()
            .filter_map(|e| e.subject.strip_prefix("enterprise:")?.parse().ok())
            .collect();
        let own = founder
            .enterprise_ids
            .first()
            .copied()
            .filter(|e| entitled.contains(e));
        let others = entitled.iter().copied().filter(|e| Some(*e) != own);
        let chosen: Vec<i64> = own.into_iter().chain(others.take(OTHERS)).collect();

        let mut n = 0;
        for (i, enterprise) in chosen.iter().enumerate() {
            let issued = yuan_step(rng, 300_000, 1_500_000);
            self.issue_voucher(
                admin,
                &IssueVoucher {
                    enterprise_id: *enterprise,
                    kind: MODEL.into(),
                    amount_fen: issued,
                    valid_until,
                    transfer_id: Some(format!("demo:issue:{enterprise}")),
                },
            )
            .await?;
            // Each enterprise buys from one provider, the founder's from both.
            let mine = Some(*enterprise) == own;
            let sellers: &[usize] = if mine { &[0, 1, 0, 1] } else { &[i % 2] };
            for (j, seller) in sellers.iter().enumerate() {
                n += 1;
                let held = yuan_step(rng, 50_000, issued / 100 / 4);
                let hold = format!("demo:hold:{n}");
                self.place_hold(
                    &actors[*seller],
                    &HoldInput {
                        transfer_id: hold.clone(),
                        enterprise_id: *enterprise,
                        kind: MODEL.into(),
                        amount_fen: held,
                        use_kind: ["model_training", "agent_building", "api_usage"][n % 3].into(),
                        reference: format!("DEMO-2026-{n:03}"),
                        contract_amount_fen: None,
                        timeout_secs: None,
                    },
                )
                .await?;
                // The founder's last hold stays open, for the provider console.
                if mine && j == 3 {
                    continue;
                }
                let capture = format!("demo:capture:{n}");
                self.capture_hold(
                    &actors[*seller],
                    &CaptureInput {
                        transfer_id: capture.clone(),
                        hold_id: hold,
                        // Some captures take less than was held.
                        amount_fen: (n % 2 == 0).then(|| held - held / 5),
                    },
                )
                .await?;
                // The founder's first use waits for their word, the second
                // is confirmed, the third disputed (for an administrator to
                // resolve). Other demo founders have no login: their uses
                // wait for them.
                let word = match (mine, j) {
                    (true, 1) => ("confirmed", None),
                    (true, 2) => ("disputed", Some("服务未按合同交付（示例）")),
                    _ => continue,
                };
                self.review_use(
                    &founder,
                    &capture,
                    &UseReviewInput {
                        decision: word.0.into(),
                        comment: word.1.map(str::to_owned),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}
