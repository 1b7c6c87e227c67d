//! Group commit for submissions, as the voucher ledger does for transfers
//! (`opcity_store::ledger::submit`). A request reads and authorizes its
//! application and queues. The submissions that arrive while one group is
//! at work are taken together by the next: their documents and their cases
//! are read with one query per table for all of them, each is checked and
//! pre-checked by the engine in memory, and the writes of all of them go in
//! one transaction (one guarded UPDATE per application, then the history,
//! the notifications and the audit entries in one INSERT per table). Each
//! submission is still answered on its own: missing evidence, or an
//! application changed meanwhile (`state_changed`), refuses that one only
//! and leaves nothing of it.
//!
//! Two committer tasks per [`Services`], started by the first submission:
//! while one group writes, the next reads. They hold services without the
//! queue, so they end with the last `Services` clone. When a group fails as
//! a whole (the database), or the committers are gone, each submission is
//! handled alone, the same way.

use super::evidence::{missing_error, missing_evidence};
use super::lifecycle::{Moved, Step, record_moves, states_through, update_moved};
use crate::Services;
use crate::error::Result;
use crate::matching::CaseSubject;
use chrono::{DateTime, Utc};
use opcity_domain::application::{Event, Party, State};
use opcity_store::Store;
use opcity_store::entity::{application, application_document};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// At most this many submissions share one group.
const MAX_GROUP: usize = 256;
const COMMITTERS: usize = 2;

/// A submission as its request leaves it: the application as read (and
/// authorized), the submitting step and when.
#[derive(Debug, Clone)]
pub(crate) struct SubmitRequest {
    pub app: application::Model,
    /// `submit`, or `resubmit` after a return.
    pub event: Event,
    pub party: Party,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A submission checked and pre-checked: what its move writes.
struct Decided<'a> {
    request: &'a SubmitRequest,
    precheck: Event,
    explanation: serde_json::Value,
    states: Vec<State>,
}

const PRECHECK_ACTOR: &str = "system:precheck";

impl Decided<'_> {
    fn steps(&self) -> [Step<'_>; 2] {
        let failed = self.precheck == Event::PrecheckFailed;
        [
            Step {
                event: self.request.event,
                party: self.request.party,
                actor: &self.request.actor,
                comment: None,
            },
            Step {
                event: self.precheck,
                party: Party::System,
                actor: PRECHECK_ACTOR,
                comment: failed.then_some("policy pre-check: ineligible"),
            },
        ]
    }

    fn set_columns(&self, a: &mut application::ActiveModel) {
        a.explanation = Set(Some(self.explanation.to_string()));
        a.pack_version = Set(self.explanation["pack"]["version"]
            .as_str()
            .map(str::to_owned));
        a.submitted_at = Set(Some(self.request.at));
    }
}

/// `None`: the group failed as a whole; handle the submission alone.
type Reply = Option<Result<application::Model>>;

struct Request {
    submission: SubmitRequest,
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
    fn start(services: Services) -> Queue {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..COMMITTERS {
            tokio::spawn(run(services.clone(), receiver.clone()));
        }
        Queue(sender)
    }
}

async fn run(services: Services, queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
    loop {
        let mut requests = Vec::with_capacity(MAX_GROUP);
        if queue.lock().await.recv_many(&mut requests, MAX_GROUP).await == 0 {
            return;
        }
        let (submissions, replies): (Vec<SubmitRequest>, Vec<oneshot::Sender<Reply>>) = requests
            .into_iter()
            .map(|r| (r.submission, r.reply))
            .unzip();
        match services.submit_group(&submissions).await {
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

impl Services {
    /// Handles `request` in the next group (see the module docs).
    pub(crate) async fn submit_in_group(
        &self,
        request: SubmitRequest,
    ) -> Result<application::Model> {
        let queue = self.submissions.get_or_init(|| {
            // The committers' services have a queue slot of their own:
            // holding this one would keep them alive forever.
            Queue::start(Services {
                submissions: Arc::default(),
                ..self.clone()
            })
        });
        let (reply, answer) = oneshot::channel();
        let queued = Request {
            submission: request.clone(),
            reply,
        };
        if queue.0.send(queued).is_ok()
            && let Ok(Some(result)) = answer.await
        {
            return result;
        }
        let mut answers = self.submit_group(std::slice::from_ref(&request)).await?;
        answers.pop().expect("one answer per submission")
    }

    /// One group: reads for all, checks each, writes all that pass in one
    /// transaction. The outer error means the group failed as a whole.
    async fn submit_group(
        &self,
        requests: &[SubmitRequest],
    ) -> Result<Vec<Result<application::Model>>> {
        let decided = self.decide(requests).await?;
        let ready: Vec<&Decided<'_>> = decided.iter().filter_map(|d| d.as_ref().ok()).collect();
        let mut written = write_group(self.store(), &ready).await?.into_iter();
        Ok(decided
            .into_iter()
            .map(|d| match d {
                Ok(_) => written.next().expect("one answer per written submission"),
                Err(refusal) => Err(refusal),
            })
            .collect())
    }

    /// The evidence check and the engine's pre-check of each submission,
    /// on its documents and its case read for the whole group at once.
    async fn decide<'a>(&self, requests: &'a [SubmitRequest]) -> Result<Vec<Result<Decided<'a>>>> {
        let db = self.store().db();
        let mut documents: BTreeMap<i64, Vec<application_document::Model>> = BTreeMap::new();
        for d in application_document::Entity::find()
            .filter(
                application_document::Column::ApplicationId
                    .is_in(requests.iter().map(|r| r.app.id)),
            )
            .order_by_asc(application_document::Column::Id)
            .all(db)
            .await?
        {
            documents.entry(d.application_id).or_default().push(d);
        }
        let sources: Vec<String> = requests
            .iter()
            .map(|r| format!("application:{}", r.app.id))
            .collect();
        let subjects: Vec<CaseSubject<'_>> = requests
            .iter()
            .zip(&sources)
            .map(|(r, source)| CaseSubject {
                person_id: r.app.person_id,
                enterprise_id: r.app.enterprise_id,
                exclude_source: Some(source),
            })
            .collect();
        let cases = self.cases_for(db, &subjects).await?;
        let pack = self.pack();
        Ok(requests
            .iter()
            .zip(&cases)
            .map(|(request, case)| {
                let app = &request.app;
                if let Some(programme) = pack.programme(&app.programme) {
                    let form: serde_json::Value =
                        serde_json::from_str(&app.form_data).unwrap_or_default();
                    let docs = documents.get(&app.id).map_or(&[][..], Vec::as_slice);
                    let missing = missing_evidence(programme, &form, docs);
                    if !missing.is_empty() {
                        return Err(missing_error(&missing));
                    }
                }
                let explanation = self.explanation(case, &app.programme)?;
                let precheck = if explanation["result"]["status"].as_str() == Some("ineligible") {
                    Event::PrecheckFailed
                } else {
                    Event::PrecheckPassed
                };
                let mut decided = Decided {
                    request,
                    precheck,
                    explanation,
                    states: Vec::new(),
                };
                decided.states = states_through(app, &decided.steps())?;
                Ok(decided)
            })
            .collect())
    }
}

/// One transaction for the decided submissions: each application's guarded
/// UPDATE (a refusal answers that submission only), then what all the moves
/// leave behind in one INSERT per table.
async fn write_group(
    store: &Store,
    decided: &[&Decided<'_>],
) -> Result<Vec<Result<application::Model>>> {
    if decided.is_empty() {
        return Ok(Vec::new());
    }
    let tx = store.begin().await?;
    let mut answers = Vec::with_capacity(decided.len());
    for d in decided {
        let app = &d.request.app;
        match update_moved(&*tx, app, &d.states, d.request.at, |a| d.set_columns(a)).await {
            Ok(after) => answers.push(Ok(after)),
            Err(refusal @ crate::ServiceError::Conflict { .. }) => answers.push(Err(refusal)),
            Err(other) => return Err(other),
        }
    }
    let steps: Vec<[Step<'_>; 2]> = decided.iter().map(|d| d.steps()).collect();
    let moves: Vec<Moved<'_>> = decided
        .iter()
        .zip(&answers)
        .zip(&steps)
        .filter_map(|((d, answer), steps)| {
            Some(Moved {
                before: &d.request.app,
                after: answer.as_ref().ok()?,
                steps,
                states: &d.states,
                at: d.request.at,
            })
        })
        .collect();
    record_moves(&tx, &moves).await?;
    tx.commit().await?;
    Ok(answers)
}
