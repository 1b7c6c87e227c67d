//! Group commit for submissions, as the voucher ledger does for transfers
//! (`opcity_store::ledger::submit`): everything a submission decides on is
//! read and evaluated by its own request, concurrently, and only its writes
//! queue here. The submissions that arrive while one group commits are
//! written together by the next: one guarded UPDATE per application, then
//! the history, the notifications and the audit entries of all of them in
//! one INSERT each, in one transaction. Each submission is still answered
//! on its own: one whose application changed meanwhile is refused
//! (`state_changed`) and leaves nothing, the others go on.
//!
//! Two committer tasks per [`Services`], started by the first submission:
//! while one commits, the next group forms and waits for its turn. They
//! hold only the store, so they end with the last `Services` clone. When a
//! group fails as a whole (the database), or the committers are gone, each
//! submission is written alone in a transaction of its own.

use super::lifecycle::{Moved, Step, record_moves, states_through, update_moved};
use crate::Services;
use crate::error::Result;
use chrono::{DateTime, Utc};
use opcity_domain::application::State;
use opcity_store::Store;
use opcity_store::entity::application;
use opcity_store::sea_orm::Set;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// At most this many submissions share one commit.
const MAX_GROUP: usize = 256;
const COMMITTERS: usize = 2;

/// The writes of one submission, decided before they queue.
#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub app: application::Model,
    /// The submission itself, then the engine's pre-check.
    pub steps: [OwnedStep; 2],
    pub explanation: String,
    pub pack_version: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct OwnedStep {
    pub event: opcity_domain::application::Event,
    pub party: opcity_domain::application::Party,
    pub actor: String,
    pub comment: Option<&'static str>,
}

impl Submission {
    pub(crate) fn steps(&self) -> [Step<'_>; 2] {
        self.steps.each_ref().map(|s| Step {
            event: s.event,
            party: s.party,
            actor: &s.actor,
            comment: s.comment,
        })
    }

    fn set_columns(&self, a: &mut application::ActiveModel) {
        a.explanation = Set(Some(self.explanation.clone()));
        a.pack_version = Set(self.pack_version.clone());
        a.submitted_at = Set(Some(self.at));
    }
}

/// `None`: the group failed as a whole; write the submission alone.
type Reply = Option<Result<application::Model>>;

struct Request {
    submission: Submission,
    reply: oneshot::Sender<Reply>,
}

/// The committers' queue, kept by [`Services`].
#[derive(Debug)]
pub(crate) struct Queue(mpsc::UnboundedSender<Request>);

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("application", &self.submission.app.id)
            .finish()
    }
}

impl Queue {
    fn start(store: Store) -> Queue {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..COMMITTERS {
            tokio::spawn(run(store.clone(), receiver.clone()));
        }
        Queue(sender)
    }
}

impl Services {
    /// Writes `submission` in the next group commit (see the module docs).
    pub(crate) async fn write_submission(
        &self,
        submission: Submission,
    ) -> Result<application::Model> {
        let queue = self
            .submissions
            .get_or_init(|| Queue::start(self.store().clone()));
        let (reply, answer) = oneshot::channel();
        let request = Request {
            submission: submission.clone(),
            reply,
        };
        if queue.0.send(request).is_ok()
            && let Ok(Some(result)) = answer.await
        {
            return result;
        }
        write_alone(self.store(), &submission).await
    }
}

async fn run(store: Store, queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
    loop {
        let mut requests = Vec::with_capacity(MAX_GROUP);
        if queue.lock().await.recv_many(&mut requests, MAX_GROUP).await == 0 {
            return;
        }
        let (submissions, replies): (Vec<Submission>, Vec<oneshot::Sender<Reply>>) = requests
            .into_iter()
            .map(|r| (r.submission, r.reply))
            .unzip();
        match write_group(&store, &submissions).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    reply.send(Some(answer)).ok();
                }
            }
            Err(error) => {
                tracing::warn!(%error, size = submissions.len(), "submission group failed; each alone");
                for reply in replies {
                    reply.send(None).ok();
                }
            }
        }
    }
}

/// One transaction for `submissions`: each application's guarded UPDATE
/// (a refusal answers that submission only), then what all the moves
/// leave behind in one INSERT per table.
async fn write_group(
    store: &Store,
    submissions: &[Submission],
) -> Result<Vec<Result<application::Model>>> {
    let states: Vec<Vec<State>> = submissions
        .iter()
        .map(|s| states_through(&s.app, &s.steps()))
        .collect::<Result<_>>()?;
    let tx = store.begin().await?;
    let mut answers = Vec::with_capacity(submissions.len());
    for (s, states) in submissions.iter().zip(&states) {
        match update_moved(&*tx, &s.app, states, s.at, |a| s.set_columns(a)).await {
            Ok(after) => answers.push(Ok(after)),
            Err(refusal @ crate::ServiceError::Conflict { .. }) => answers.push(Err(refusal)),
            Err(other) => return Err(other),
        }
    }
    let steps: Vec<[Step<'_>; 2]> = submissions.iter().map(Submission::steps).collect();
    let moves: Vec<Moved<'_>> = submissions
        .iter()
        .zip(&answers)
        .zip(&steps)
        .zip(&states)
        .filter_map(|(((s, answer), steps), states)| {
            let after = answer.as_ref().ok()?;
            Some(Moved {
                before: &s.app,
                after,
                steps,
                states,
                at: s.at,
            })
        })
        .collect();
    record_moves(&tx, &moves).await?;
    tx.commit().await?;
    Ok(answers)
}

/// `submission` in a transaction of its own.
async fn write_alone(store: &Store, submission: &Submission) -> Result<application::Model> {
    let mut answers = write_group(store, std::slice::from_ref(submission)).await?;
    answers.pop().expect("one answer per submission")
}
