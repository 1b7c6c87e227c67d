//! What a viewer may do with vouchers' pools, wallets, disputes and
//! providers, asked of [`crate::authz`] with the same action and resource
//! as the writes ask it, so that pages offer only the forms that will not
//! end in a refusal. Each method names the write it mirrors.

use super::disputes::DisputeView;
use super::providers::ProviderView;
use crate::Services;
use crate::authz::{Action, Actor, Resource, permits};
use opcity_domain::District;

/// Every pool's authority: the city's (`None`), then each district's.
fn authorities() -> impl Iterator<Item = Option<District>> {
    [None]
        .into_iter()
        .chain(District::ALL.into_iter().map(Some))
}

impl Services {
    /// Whether `actor` may issue vouchers of some kind into the wallet of
    /// an enterprise of some district (`issue_voucher`; which kinds and
    /// districts is the write's to check against the enterprise named).
    pub fn may_issue_vouchers(&self, actor: &Actor) -> bool {
        District::ALL.into_iter().any(|district| {
            [false, true].into_iter().any(|municipal| {
                permits(
                    actor,
                    Action::Create,
                    Resource::VoucherWallet {
                        // Who issues does not depend on which enterprise.
                        enterprise_id: 0,
                        district,
                        municipal,
                    },
                )
            })
        })
    }

    /// Whether `actor` may fund the pool of `district` (`None`: the city's)
    /// (`fund_voucher_pool`).
    pub fn may_fund_pool(&self, actor: &Actor, district: Option<District>) -> bool {
        permits(actor, Action::Create, Resource::VoucherPool { district })
    }

    /// Whether `actor` may fund some pool: the fund form is offered.
    pub fn may_fund_pools(&self, actor: &Actor) -> bool {
        authorities().any(|district| self.may_fund_pool(actor, district))
    }

    /// Whether `actor` may run the expiry jobs (`run_voucher_jobs_for`).
    pub fn may_run_voucher_jobs(&self, actor: &Actor) -> bool {
        permits(
            actor,
            Action::Update,
            Resource::VoucherPool { district: None },
        )
    }

    /// Whether `actor` may uphold or reverse dispute `d`: the pool its
    /// capture spent decides (`resolve_dispute`).
    pub fn may_resolve_dispute(&self, actor: &Actor, d: &DisputeView) -> bool {
        permits(
            actor,
            Action::Update,
            Resource::VoucherPool {
                district: d.pool_district,
            },
        )
    }

    /// Whether `actor` may approve or suspend provider `p`
    /// (`decide_provider`).
    pub fn may_decide_provider(&self, actor: &Actor, p: &ProviderView) -> bool {
        permits(
            actor,
            Action::Update,
            Resource::Provider {
                account_id: Some(p.account_id),
                approved: p.status == "approved",
            },
        )
    }
}
