//! Group commit for single transfers, the way TigerBeetle batches: the
//! transfers that arrive while one commit is in flight are applied together
//! by the next, through [`super::create_each_unseen`], so each is still answered
//! on its own (refusals do not affect the others) but a commit, a lock of the
//! accounts and the round trips are shared by the whole group.
//!
//! One committer task per [`Store`], started by the first [`super::submit`].
//! It holds no handle back to the queue, so it ends when the last `Store`
//! clone is dropped. When the task is gone (its runtime ended) or a group
//! fails as a whole (a writer in another process used one of its ids, a
//! lost connection), each transfer is submitted alone instead; ids make
//! that retry safe.

use super::{LedgerError, NewTransfer, Outcome};
use crate::Store;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// At most this many transfers share one commit.
const MAX_GROUP: usize = 512;

/// Committer tasks per store: while one commits, the next group forms and
/// does its first round trips; on PostgreSQL it then waits for the account
/// locks (taken in id order, so never a deadlock), on SQLite for the writer
/// turn.
const COMMITTERS: usize = 2;

/// `None`: the group failed as a whole; submit the transfer alone.
type Reply = Option<Result<Outcome, LedgerError>>;

struct Request {
    transfer: NewTransfer,
    reply: oneshot::Sender<Reply>,
}

/// The committer's queue, kept by the [`Store`].
#[derive(Debug)]
pub(crate) struct Queue(mpsc::UnboundedSender<Request>);

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("transfer", &self.transfer.id)
            .finish()
    }
}

impl Queue {
    /// A queue and its committer task, which writes through `store`.
    fn start(store: Store) -> Queue {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..COMMITTERS {
            tokio::spawn(run(store.clone(), receiver.clone()));
        }
        Queue(sender)
    }
}

/// `t` applied in the next group commit, or alone when there is none.
pub(super) async fn submit(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    let queue = store
        .ledger_queue
        .get_or_init(|| Queue::start(store.without_ledger_queue()));
    let (reply, answer) = oneshot::channel();
    let request = Request {
        transfer: t.clone(),
        reply,
    };
    if queue.0.send(request).is_ok()
        && let Ok(Some(result)) = answer.await
    {
        return result;
    }
    // No committer, a failed group, or a committer that went away with the
    // request: the transfer's id makes a second try safe.
    super::submit_alone(store, t).await
}

async fn run(store: Store, queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
    loop {
        let mut requests = Vec::with_capacity(MAX_GROUP);
        // Everything queued since the last group, taken at once.
        if queue.lock().await.recv_many(&mut requests, MAX_GROUP).await == 0 {
            return;
        }
        commit_group(&store, requests).await;
    }
}

/// One commit for `requests`, each answered on its own; `None` to all when
/// the group as a whole failed.
async fn commit_group(store: &Store, requests: Vec<Request>) {
    let (transfers, replies): (Vec<NewTransfer>, Vec<oneshot::Sender<Reply>>) =
        requests.into_iter().map(|r| (r.transfer, r.reply)).unzip();
    match apply_group(store, &transfers).await {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                // A caller that stopped waiting has its answer in the
                // database (ids are idempotent).
                reply.send(Some(answer)).ok();
            }
        }
        Err(error) => {
            tracing::debug!(%error, size = transfers.len(), "ledger group failed; each alone");
            for reply in replies {
                reply.send(None).ok();
            }
        }
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
