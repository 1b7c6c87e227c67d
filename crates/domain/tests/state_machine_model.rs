//! The application state machine against a simple model: random sequences of
//! (event, party) are applied to both; they must agree on every step, and an
//! application never leaves a terminal state except by the listed appeals
//! and claw-backs, and never pays (holds a reservation) without approval.

use opcity_domain::application::{Event, Party, State, transition};
use proptest::prelude::*;

/// The model: the lifecycle as the issue describes it, written as a plain
/// match, independently of the transition table.
fn model(state: State, event: Event, party: Party) -> Option<State> {
    use Event as E;
    use Party as P;
    use State as S;
    let pre_decision = matches!(
        state,
        S::Draft | S::Submitted | S::DistrictReview | S::MunicipalReview | S::Returned
    );
    match (state, event, party) {
        (S::Draft, E::Submit, P::Applicant) | (S::Returned, E::Resubmit, P::Applicant) => {
            Some(S::Submitted)
        }
        (S::Submitted, E::PrecheckPassed, P::System) => Some(S::DistrictReview),
        (S::Submitted, E::PrecheckFailed, P::System) => Some(S::Rejected),
        (S::DistrictReview, E::Forward, P::DistrictReviewer) => Some(S::MunicipalReview),
        (S::DistrictReview, E::Approve, P::DistrictReviewer)
        | (S::MunicipalReview, E::Approve, P::MunicipalReviewer) => Some(S::Approved),
        (S::DistrictReview, E::Reject, P::DistrictReviewer)
        | (S::MunicipalReview, E::Reject, P::MunicipalReviewer) => Some(S::Rejected),
        (S::DistrictReview, E::Return, P::DistrictReviewer)
        | (S::MunicipalReview, E::Return, P::MunicipalReviewer) => Some(S::Returned),
        (S::Approved, E::AcceptOffer, P::Applicant) => Some(S::OfferAccepted),
        (S::Approved, E::DeclineOffer, P::Applicant) => Some(S::Withdrawn),
        (S::OfferAccepted, E::StartDisbursing, P::System) => Some(S::Disbursing),
        (S::Disbursing, E::Close, P::System) => Some(S::Closed),
        (_, E::Withdraw, P::Applicant) if pre_decision => Some(S::Withdrawn),
        (S::Rejected, E::Appeal, P::Applicant) => Some(S::Appealed),
        (S::Appealed, E::ReopenAppeal, P::MunicipalReviewer) => Some(S::DistrictReview),
        (S::Appealed, E::DismissAppeal, P::MunicipalReviewer) => Some(S::Rejected),
        (S::Disbursing | S::Closed, E::ClawBack, P::MunicipalReviewer) => Some(S::ClawedBack),
        _ => None,
    }
}

const EVENTS: [Event; 17] = [
    Event::Submit,
    Event::PrecheckPassed,
    Event::PrecheckFailed,
    Event::Forward,
    Event::Approve,
    Event::Reject,
    Event::Return,
    Event::Resubmit,
    Event::AcceptOffer,
    Event::DeclineOffer,
    Event::StartDisbursing,
    Event::Close,
    Event::Withdraw,
    Event::Appeal,
    Event::ReopenAppeal,
    Event::DismissAppeal,
    Event::ClawBack,
];
const PARTIES: [Party; 4] = [
    Party::Applicant,
    Party::DistrictReviewer,
    Party::MunicipalReviewer,
    Party::System,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn machine_agrees_with_the_model(steps in proptest::collection::vec((0..EVENTS.len(), 0..PARTIES.len()), 1..60)) {
        let mut state = State::Draft;
        let mut approved_once = false;
        for (e, p) in steps {
            let (event, party) = (EVENTS[e], PARTIES[p]);
            let expected = model(state, event, party);
            let got = transition(state, event, party).ok();
            prop_assert_eq!(got, expected, "from {} by {:?} as {:?}", state, event, party);
            if let Some(next) = got {
                approved_once |= next == State::Approved;
                // Money is held only after an approval happened.
                prop_assert!(!next.holds_reservation() || approved_once);
                state = next;
            }
        }
    }
}
