//! Group commit, the way TigerBeetle batches: the requests that arrive
//! while one group is at work are taken together by the next, so that one
//! transaction, its locks and its round trips serve all of them. Each
//! request is still answered on its own.
//!
//! Used by the voucher ledger (`ledger::submit`) and, in `opcity-services`
//! (its `groups` module), by application submissions and approvals and by
//! instrument bookings. The work is the caller's: a function
//! from a group of requests to one answer per request, or an error when the
//! group failed as a whole; then, and when the committers are gone (their
//! runtime ended), [`GroupCommit::submit`] answers `None` and the caller
//! handles its request alone.

use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};

/// The queue of a set of committer tasks. The tasks end when it is dropped.
pub struct GroupCommit<T, A> {
    queue: mpsc::UnboundedSender<Pending<T, A>>,
}

struct Pending<T, A> {
    request: T,
    reply: oneshot::Sender<Option<A>>,
}

impl<T, A> std::fmt::Debug for GroupCommit<T, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, A: Send + 'static> GroupCommit<T, A> {
    /// Starts `committers` tasks on the current runtime. Each takes what is
    /// queued (at most `max` requests) and answers it with `work`, which
    /// returns one answer per request, in order. Several committers let one
    /// group form and start while another commits: the next group is taken
    /// when `work` passes its [`Turn`] (at the latest when it ends). So work
    /// must not wait for a request of its own queue before passing it.
    pub fn start<W, F, E>(committers: usize, max: usize, work: W) -> GroupCommit<T, A>
    where
        W: Fn(Vec<T>, Turn<T, A>) -> F + Send + Sync + 'static,
        F: Future<Output = Result<Vec<A>, E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        assert!(committers > 0 && max > 0, "a group commit needs committers");
        let (queue, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let work = Arc::new(work);
        for _ in 0..committers {
            tokio::spawn(commit_groups(receiver.clone(), work.clone(), max));
        }
        GroupCommit { queue }
    }

    /// `request`'s answer from the next group; `None` when that group
    /// failed as a whole or there are no committers, so the caller must
    /// handle the request alone.
    pub async fn submit(&self, request: T) -> Option<A> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Pending { request, reply }).ok()?;
        answer.await.ok().flatten()
    }
}

/// A group's hold on the queue: while a group's work keeps it, the requests
/// that arrive wait for the next group. Work passes it once the rest of its
/// work can overlap with the next group's (say, when all that is left is
/// the commit); taking the queue as soon as a committer is free would make
/// groups of one or two that arrived first, each paying a whole
/// transaction and queueing for the same locks.
pub struct Turn<T, A> {
    _queue: OwnedMutexGuard<mpsc::UnboundedReceiver<Pending<T, A>>>,
}

impl<T, A> Turn<T, A> {
    /// Lets the next group be taken.
    pub fn pass(self) {}
}

async fn commit_groups<T, A, W, F, E>(
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Pending<T, A>>>>,
    work: Arc<W>,
    max: usize,
) where
    W: Fn(Vec<T>, Turn<T, A>) -> F,
    F: Future<Output = Result<Vec<A>, E>>,
    E: std::fmt::Display,
{
    loop {
        let mut pending = Vec::with_capacity(max);
        let mut receiver = queue.clone().lock_owned().await;
        if receiver.recv_many(&mut pending, max).await == 0 {
            return;
        }
        let (requests, replies): (Vec<T>, Vec<oneshot::Sender<Option<A>>>) =
            pending.into_iter().map(|p| (p.request, p.reply)).unzip();
        let size = requests.len();
        match work(requests, Turn { _queue: receiver }).await {
            Ok(answers) => {
                assert_eq!(answers.len(), size, "one answer per request");
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that stopped waiting finds its answer in the
                    // database, if it asks again.
                    reply.send(Some(answer)).ok();
                }
            }
            Err(error) => {
                tracing::warn!(%error, size, "group failed as a whole; each request alone");
                for reply in replies {
                    reply.send(None).ok();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GroupCommit;
    use std::sync::Arc;
    use std::time::Duration;

    fn doubling() -> GroupCommit<i64, i64> {
        GroupCommit::start(2, 8, |requests: Vec<i64>, turn| async move {
            turn.pass();
            if requests.contains(&-1) {
                Err("a request the work cannot take")
            } else {
                Ok(requests.iter().map(|r| r * 2).collect())
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_request_gets_its_own_answer() {
        let groups = std::sync::Arc::new(doubling());
        let tasks: Vec<_> = (0..100)
            .map(|n| {
                let groups = groups.clone();
                tokio::spawn(async move { (n, groups.submit(n).await) })
            })
            .collect();
        for task in tasks {
            let (n, answer) = task.await.unwrap();
            assert_eq!(answer, Some(2 * n));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_next_group_is_taken_when_the_turn_is_passed() {
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Notify::new());
        let (seen, held) = (sizes.clone(), gate.clone());
        let groups = Arc::new(GroupCommit::start(2, 8, move |requests: Vec<i64>, turn| {
            let (seen, held) = (seen.clone(), held.clone());
            async move {
                seen.lock().unwrap().push(requests.len());
                // The first group keeps its turn until the gate opens.
                if requests == [0] {
                    held.notified().await;
                }
                turn.pass();
                Ok::<_, &str>(requests)
            }
        }));
        let first = {
            let groups = groups.clone();
            tokio::spawn(async move { groups.submit(0).await })
        };
        while sizes.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        // Queued (a zero timeout still polls its future once), not answered.
        let mut later = [Box::pin(groups.submit(1)), Box::pin(groups.submit(2))];
        for request in &mut later {
            let polled = tokio::time::timeout(Duration::ZERO, request.as_mut()).await;
            assert!(polled.is_err(), "answered while the turn was held");
        }
        // Time for the idle committer to take them, were it allowed to.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(*sizes.lock().unwrap(), [1]);
        gate.notify_one();
        assert_eq!(first.await.unwrap(), Some(0));
        for (n, request) in later.into_iter().enumerate() {
            assert_eq!(request.await, Some(n as i64 + 1));
        }
        assert_eq!(*sizes.lock().unwrap(), [1, 2]);
    }

    #[tokio::test]
    async fn a_failed_group_answers_none() {
        let groups = doubling();
        assert_eq!(groups.submit(-1).await, None);
        // The committers go on.
        assert_eq!(groups.submit(21).await, Some(42));
    }
}
