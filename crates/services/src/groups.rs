//! The group commits of the services (`opcity_store::group`), for any kind
//! of request that implements [`GroupWork`] (application submissions and
//! approvals, instrument bookings). A request only queues; the requests
//! that arrive while one group is at work are decided and written together
//! by the next, each still answered on its own. When a group fails as a
//! whole, or its committers are gone (their runtime ended), the request is
//! handled alone by the same work.
//!
//! This module names no kind of request: each kind's queue is kept by its
//! type in [`Groups`], so the modules that define the kinds depend on this
//! one and never the other way round.

use crate::Services;
use crate::error::Result;
use opcity_store::group::GroupCommit;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The queue of one kind of request.
pub(crate) type Queue<R> = GroupCommit<R, Result<<R as GroupWork>::Answer>>;

/// The queues of one [`Services`] and its clones, one per kind of request
/// (by its type), each started on first use.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    queues: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Groups {
    /// The queue of `R`, started by `start` when it is the first use.
    fn queue<R: GroupWork>(&self, start: impl FnOnce() -> Queue<R>) -> Arc<Queue<R>> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let queue = queues
            .entry(TypeId::of::<R>())
            .or_insert_with(|| Arc::new(start()))
            .clone();
        queue
            .downcast::<Queue<R>>()
            .expect("each queue is kept under its own request type")
    }
}

/// A request that is handled in groups.
pub(crate) trait GroupWork: Clone + Send + Sync + Sized + 'static {
    type Answer: Send + 'static;
    /// Committer tasks per [`Services`].
    const COMMITTERS: usize;
    /// At most this many requests share one group.
    const MAX_GROUP: usize;

    /// One answer per request, in order; the outer error means the group
    /// failed as a whole and wrote nothing. `pass_turn` lets the next group
    /// be taken: called once the group's statements are done, just before
    /// its COMMIT (a group that ends earlier passes it by ending).
    fn work(
        services: &Services,
        group: &[Self],
        pass_turn: impl FnOnce() + Send,
    ) -> impl Future<Output = Result<Vec<Result<Self::Answer>>>> + Send;
}

impl Services {
    /// `request` handled in the next group of its kind.
    pub(crate) async fn in_group<R: GroupWork>(&self, request: R) -> Result<R::Answer> {
        let queue = self.groups.queue::<R>(|| {
            let services = self.for_committers();
            GroupCommit::start(R::COMMITTERS, R::MAX_GROUP, move |group: Vec<R>, turn| {
                let services = services.clone();
                async move { R::work(&services, &group, move || turn.pass()).await }
            })
        });
        if let Some(answer) = queue.submit(request.clone()).await {
            return answer;
        }
        let mut answers = R::work(self, std::slice::from_ref(&request), || {}).await?;
        answers.pop().expect("one answer per request")
    }
}

/// The answers of a group: each refusal decided before the writes, and in
/// between, in order, the answers of the requests that were written.
pub(crate) fn merge<D, A>(decided: Vec<Result<D>>, written: Vec<Result<A>>) -> Vec<Result<A>> {
    let mut written = written.into_iter();
    decided
        .into_iter()
        .map(|d| match d {
            Ok(_) => written.next().expect("one answer per written request"),
            Err(refusal) => Err(refusal),
        })
        .collect()
}
