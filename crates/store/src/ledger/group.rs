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
//!
//! A group passes its turn just before its COMMIT, so the next group forms
//! from what arrived meanwhile and starts while this one commits, rather
//! than the first committer taking the next transfer back alone. Submitted
//! alone, a transfer is first created without looking its id up (a
//! duplicate fails on the unique index) and only then with the lookup,
//! which replays the stored transfer.

use super::{LedgerError, NewTransfer, Outcome};
use crate::Store;
use crate::group::GroupCommit;

/// At most this many transfers share one commit.
const MAX_GROUP: usize = 512;

/// Committer tasks per store: once one group's statements are done, the
/// next group forms from what arrived meanwhile and does its first round
/// trips while the first commits; on PostgreSQL it then waits for the
/// account locks (taken in id order, so never a deadlock), on SQLite for
/// the writer turn. (A third made no difference: see BENCHMARKS.md.)
const COMMITTERS: usize = 2;

/// The committers' queue, kept by the [`Store`].
pub(crate) type Queue = GroupCommit<NewTransfer, Result<Outcome, LedgerError>>;
type Turn = crate::group::Turn<NewTransfer, Result<Outcome, LedgerError>>;

/// `t` applied in the next group commit, or alone when there is none.
pub(super) async fn submit(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    let queue = store.ledger_queue.get_or_init(|| {
        let store = store.without_ledger_queue();
        GroupCommit::start(COMMITTERS, MAX_GROUP, move |transfers, turn| {
            let store = store.clone();
            async move { apply_group(&store, &transfers, turn).await }
        })
    });
    match queue.submit(t.clone()).await {
        Some(answer) => answer,
        None => super::single::submit_alone(store, t).await,
    }
}

/// The next group is taken once this one's statements are done: it forms
/// from what arrived meanwhile and starts while this one commits.
async fn apply_group(
    store: &Store,
    transfers: &[NewTransfer],
    turn: Turn,
) -> Result<Vec<Result<Outcome, LedgerError>>, LedgerError> {
    let tx = store.begin().await?;
    let answers = super::create_each_unseen(&tx, transfers).await?;
    turn.pass();
    tx.commit().await?;
    Ok(answers)
}
