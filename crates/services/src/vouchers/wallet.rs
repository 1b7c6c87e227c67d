//! What the enterprise and the provider see: the wallet (balances, open
//! holds, history with the enterprise's confirmations) and the provider
//! console (receivables, open holds, recent redemptions).

use super::issue::{WalletBalance, balance};
use super::redeem::{TransferView, view_with};
use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::Result;
use opcity_store::entity::{
    enterprise, ledger_account, ledger_transfer, provider, voucher_use_review,
};
use opcity_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many transfers a history shows.
pub const HISTORY_LIMIT: u64 = 200;

/// One line of a history: the transfer and, for captures, the enterprise's word.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryItem {
    #[serde(flatten)]
    pub transfer: TransferView,
    /// For captures: `confirmed`, `disputed` or `null` (not reviewed yet).
    pub review: Option<String>,
    /// For disputed captures once resolved: `upheld` or `reversed`.
    pub resolution: Option<String>,
    /// Whether the hold is still open (holds only).
    pub open: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WalletView {
    pub enterprise_id: i64,
    pub enterprise_name: String,
    /// The enterprise's credit code: what a provider's counter asks for.
    pub enterprise_uscc: String,
    pub wallets: Vec<WalletBalance>,
    /// Holds not yet captured, voided or expired.
    pub open_holds: Vec<TransferView>,
    /// Newest first, at most [`HISTORY_LIMIT`].
    pub history: Vec<HistoryItem>,
    /// The names of the enterprises and providers the lines name.
    pub parties: Parties,
}

/// The names of the parties of a list of transfers, by id: who paid whom.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Parties {
    /// Names by id; JSON object keys are strings (`{"12": "…"}`).
    #[schema(value_type = BTreeMap<String, String>)]
    pub enterprises: BTreeMap<i64, String>,
    #[schema(value_type = BTreeMap<String, String>)]
    pub providers: BTreeMap<i64, String>,
}

impl Parties {
    /// The provider `t` paid or held for, by name.
    pub fn provider_of(&self, t: &TransferView) -> Option<&str> {
        t.provider_id
            .and_then(|id| self.providers.get(&id))
            .map(String::as_str)
    }

    /// The enterprise whose voucher `t` moved, by name.
    pub fn enterprise_of(&self, t: &TransferView) -> Option<&str> {
        t.enterprise_id
            .and_then(|id| self.enterprises.get(&id))
            .map(String::as_str)
    }

    async fn of<C: ConnectionTrait>(db: &C, transfers: &[&TransferView]) -> Result<Parties> {
        let enterprise_ids = transfers.iter().filter_map(|t| t.enterprise_id);
        let enterprises = crate::rows_by_id::<enterprise::Entity, _>(
            db,
            enterprise::Column::Id,
            enterprise_ids,
            |e| e.id,
        )
        .await?;
        let provider_ids = transfers.iter().filter_map(|t| t.provider_id);
        let providers =
            crate::rows_by_id::<provider::Entity, _>(db, provider::Column::Id, provider_ids, |p| {
                p.id
            })
            .await?;
        Ok(Parties {
            enterprises: enterprises
                .into_iter()
                .map(|(id, e)| (id, e.name))
                .collect(),
            providers: providers.into_iter().map(|(id, p)| (id, p.name)).collect(),
        })
    }
}

/// A provider's receivable of one voucher kind.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Receivable {
    pub kind: String,
    /// Captured, less captures reversed after a dispute.
    pub captured_fen: i64,
    pub held_fen: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProviderConsole {
    pub provider: super::providers::ProviderView,
    pub receivables: Vec<Receivable>,
    pub open_holds: Vec<TransferView>,
    pub history: Vec<HistoryItem>,
    /// The names of the enterprises the lines name: the customers.
    pub parties: Parties,
}

/// Transfers touching `accounts`, newest first, with reviews, open holds
/// and the names of their parties (none without accounts).
async fn history<C: ConnectionTrait>(
    db: &C,
    accounts: &[ledger_account::Model],
) -> Result<(Vec<HistoryItem>, Vec<TransferView>, Parties)> {
    if accounts.is_empty() {
        return Ok((Vec::new(), Vec::new(), Parties::default()));
    }
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let rows = ledger_transfer::Entity::find()
        .filter(
            Condition::any()
                .add(ledger_transfer::Column::DebitAccountId.is_in(ids.clone()))
                .add(ledger_transfer::Column::CreditAccountId.is_in(ids.clone())),
        )
        .order_by_desc(ledger_transfer::Column::Seq)
        .limit(HISTORY_LIMIT)
        .all(db)
        .await?;
    // Holds that are open: pending, not resolved (whenever it was).
    let pending = opcity_store::vouchers::open_holds_of(db, &ids).await?;
    let open: HashSet<&str> = pending.iter().map(|p| p.id.as_str()).collect();
    let captures: Vec<String> = rows
        .iter()
        .filter(|t| t.phase == "post")
        .map(|t| t.id.clone())
        .collect();
    let resolutions = super::disputes::outcomes_of(db, captures.iter().cloned()).await?;
    let reviews: HashMap<String, String> = voucher_use_review::Entity::find()
        .filter(voucher_use_review::Column::TransferId.is_in(captures))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.transfer_id, r.decision))
        .collect();
    // Counterparty accounts, to name the enterprise and provider of each line.
    let mut all_ids: HashSet<i64> = HashSet::new();
    for t in rows.iter().chain(&pending) {
        all_ids.insert(t.debit_account_id);
        all_ids.insert(t.credit_account_id);
    }
    let all_accounts = ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(all_ids))
        .all(db)
        .await?;
    let items: Vec<HistoryItem> = rows
        .iter()
        .map(|t| HistoryItem {
            transfer: view_with(t, &all_accounts, false),
            review: reviews.get(&t.id).cloned(),
            resolution: resolutions.get(&t.id).cloned(),
            open: open.contains(t.id.as_str()),
        })
        .collect();
    let holds: Vec<TransferView> = pending
        .iter()
        .map(|t| view_with(t, &all_accounts, false))
        .collect();
    let named: Vec<&TransferView> = items
        .iter()
        .map(|i: &HistoryItem| &i.transfer)
        .chain(&holds)
        .collect();
    let parties = Parties::of(db, &named).await?;
    Ok((items, holds, parties))
}

impl Services {
    /// An enterprise's vouchers: balances per kind, open holds and history.
    pub async fn wallet(&self, actor: &Actor, enterprise_id: i64) -> Result<WalletView> {
        let db = self.store().db();
        let (e, district) = super::enterprise_in_district(db, enterprise_id).await?;
        authorize(
            actor,
            Action::Read,
            Resource::VoucherWallet {
                enterprise_id,
                district,
                municipal: false,
            },
        )?;
        let accounts = ledger_account::Entity::find()
            .filter(ledger_account::Column::EnterpriseId.eq(enterprise_id))
            .filter(ledger_account::Column::Kind.eq("wallet"))
            .order_by_asc(ledger_account::Column::Ledger)
            .all(db)
            .await?;
        let (history, open_holds, parties) = history(db, &accounts).await?;
        Ok(WalletView {
            enterprise_id,
            enterprise_name: e.name,
            enterprise_uscc: e.uscc,
            wallets: accounts.iter().map(balance).collect(),
            open_holds,
            history,
            parties,
        })
    }

    /// The acting provider's console: receivables, open holds, recent history.
    pub async fn provider_console(&self, actor: &Actor) -> Result<ProviderConsole> {
        let db = self.store().db();
        let p = self.acting_provider(db, actor).await?;
        let accounts = ledger_account::Entity::find()
            .filter(ledger_account::Column::ProviderId.eq(p.id))
            .order_by_asc(ledger_account::Column::Ledger)
            .all(db)
            .await?;
        let (history, open_holds, parties) = history(db, &accounts).await?;
        Ok(ProviderConsole {
            provider: super::providers::view(&p),
            receivables: accounts
                .iter()
                .map(|a| Receivable {
                    kind: a.ledger.clone(),
                    captured_fen: a.credits_posted - a.debits_posted,
                    held_fen: a.credits_pending,
                })
                .collect(),
            open_holds,
            history,
            parties,
        })
    }
}
