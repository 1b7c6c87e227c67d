//! The group commits of the services (`opcity_store::group`): submissions,
//! approvals and instrument bookings. A request only queues; the requests
//! that arrive while one group is at work are decided and written together
//! by the next, each still answered on its own. When a group fails as a
//! whole, or its committers are gone (their runtime ended), the request is
//! handled alone by the same work.

use crate::error::Result;
use crate::{Services, applications, spaces};
use opcity_store::group::GroupCommit;
use std::future::Future;
use std::sync::OnceLock;

/// The queue of one kind of request.
pub(crate) type Queue<R> = GroupCommit<R, Result<<R as GroupWork>::Answer>>;

/// The queues of one [`Services`] and its clones, each started on first use.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    pub submissions: OnceLock<Queue<applications::submissions::SubmitRequest>>,
    pub approvals: OnceLock<Queue<applications::approvals::ApproveRequest>>,
    pub bookings: OnceLock<Queue<spaces::instruments::NewBooking>>,
}

/// A request that is handled in groups.
pub(crate) trait GroupWork: Clone + Send + Sync + Sized + 'static {
    type Answer: Send + 'static;
    /// Committer tasks per [`Services`].
    const COMMITTERS: usize;
    /// At most this many requests share one group.
    const MAX_GROUP: usize;

    fn queue(groups: &Groups) -> &OnceLock<Queue<Self>>;

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
        let queue = R::queue(&self.groups).get_or_init(|| {
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
