//! Group commit for single transfers ([`crate::group`]): the transfers that
//! arrive while one commit is in flight are applied together by the next,
//! through [`super::create_each_unseen`], so each is still answered on its
//! own (refusals do not affect the others) but a commit, a lock of the
//! accounts and the round trips are shared by the whole group.
//!
//! Two committer tasks per [`Store`], started by the first [`super::submit`];
//! they hold a store without the queue, so they end with the last `Store`
//! clone. When a group fails as a whole (a writer in another process used
//! one of its ids, a lost connection) or the committers are gone, each
//! transfer is submitted alone instead; ids make that retry safe.

use super::{LedgerError, NewTransfer, Outcome};
use crate::Store;
use crate::group::GroupCommit;

/// At most this many transfers share one commit.
const MAX_GROUP: usize = 512;

/// Committer tasks per store: while one commits, the next group forms and
/// does its first round trips; on PostgreSQL it then waits for the account
/// locks (taken in id order, so never a deadlock), on SQLite for the writer
/// turn. (A third made groups smaller and slower: see BENCHMARKS.md.)
const COMMITTERS: usize = 2;

/// The committers' queue, kept by the [`Store`].
pub(crate) type Queue = GroupCommit<NewTransfer, Result<Outcome, LedgerError>>;

/// `t` applied in the next group commit, or alone when there is none.
pub(super) async fn submit(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    let queue = store.ledger_queue.get_or_init(|| {
        let store = store.without_ledger_queue();
        GroupCommit::start(COMMITTERS, MAX_GROUP, move |transfers| {
            let store = store.clone();
            async move { apply_group(&store, &transfers).await }
        })
    });
    match queue.submit(t.clone()).await {
        Some(answer) => answer,
        None => super::submit_alone(store, t).await,
    }
}

async fn apply_group(
    store: &Store,
    transfers: &[NewTransfer],
) -> Result<Vec<Result<Outcome, LedgerError>>, LedgerError> {
    let tx = store.begin().await?;
    let answers = super::create_each_unseen(&tx, transfers).await?;
    tx.commit().await?;
    Ok(answers)
}
