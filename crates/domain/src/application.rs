//! The application state machine: one table defines every transition and
//! who may take it. Services consult [`transition`] before any change of
//! state, so an illegal move is refused with the current state named.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Submitted,
    /// Checked by the policy engine; waiting for district review.
    DistrictReview,
    MunicipalReview,
    /// Returned to the applicant for more information, with a deadline.
    Returned,
    Approved,
    Rejected,
    OfferAccepted,
    Disbursing,
    Closed,
    Withdrawn,
    Appealed,
    ClawedBack,
}

/// Who takes a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Applicant,
    DistrictReviewer,
    MunicipalReviewer,
    /// The platform itself (the policy pre-check, the disbursement job).
    System,
}

/// The events that move an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Submit,
    PrecheckPassed,
    PrecheckFailed,
    Forward,
    Approve,
    Reject,
    Return,
    Resubmit,
    AcceptOffer,
    DeclineOffer,
    StartDisbursing,
    Close,
    Withdraw,
    Appeal,
    ReopenAppeal,
    DismissAppeal,
    ClawBack,
}

use Event as E;
use Party as P;
use State as S;

/// Every legal transition: (from, event, party, to).
pub const TRANSITIONS: &[(State, Event, Party, State)] = &[
    (S::Draft, E::Submit, P::Applicant, S::Submitted),
    (
        S::Submitted,
        E::PrecheckPassed,
        P::System,
        S::DistrictReview,
    ),
    (S::Submitted, E::PrecheckFailed, P::System, S::Rejected),
    (
        S::DistrictReview,
        E::Approve,
        P::DistrictReviewer,
        S::Approved,
    ),
    (
        S::DistrictReview,
        E::Forward,
        P::DistrictReviewer,
        S::MunicipalReview,
    ),
    (
        S::DistrictReview,
        E::Return,
        P::DistrictReviewer,
        S::Returned,
    ),
    (
        S::DistrictReview,
        E::Reject,
        P::DistrictReviewer,
        S::Rejected,
    ),
    (
        S::MunicipalReview,
        E::Approve,
        P::MunicipalReviewer,
        S::Approved,
    ),
    (
        S::MunicipalReview,
        E::Return,
        P::MunicipalReviewer,
        S::Returned,
    ),
    (
        S::MunicipalReview,
        E::Reject,
        P::MunicipalReviewer,
        S::Rejected,
    ),
    (S::Returned, E::Resubmit, P::Applicant, S::Submitted),
    (S::Approved, E::AcceptOffer, P::Applicant, S::OfferAccepted),
    (S::Approved, E::DeclineOffer, P::Applicant, S::Withdrawn),
    (
        S::OfferAccepted,
        E::StartDisbursing,
        P::System,
        S::Disbursing,
    ),
    (S::Disbursing, E::Close, P::System, S::Closed),
    (S::Draft, E::Withdraw, P::Applicant, S::Withdrawn),
    (S::Submitted, E::Withdraw, P::Applicant, S::Withdrawn),
    (S::DistrictReview, E::Withdraw, P::Applicant, S::Withdrawn),
    (S::MunicipalReview, E::Withdraw, P::Applicant, S::Withdrawn),
    (S::Returned, E::Withdraw, P::Applicant, S::Withdrawn),
    (S::Rejected, E::Appeal, P::Applicant, S::Appealed),
    (
        S::Appealed,
        E::ReopenAppeal,
        P::MunicipalReviewer,
        S::DistrictReview,
    ),
    (
        S::Appealed,
        E::DismissAppeal,
        P::MunicipalReviewer,
        S::Rejected,
    ),
    (
        S::Disbursing,
        E::ClawBack,
        P::MunicipalReviewer,
        S::ClawedBack,
    ),
    (S::Closed, E::ClawBack, P::MunicipalReviewer, S::ClawedBack),
];

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("`{event:?}` is not possible from `{from}`")]
    NotFromHere { from: State, event: Event },
    #[error("`{event:?}` from `{from}` is not for {party:?}")]
    WrongParty {
        from: State,
        event: Event,
        party: Party,
    },
}

/// The state after `event`, if `party` may take it from `from`. Whether
/// the party may ever take the event is decided first: a party that never
/// may is refused as such ([`TransitionError::WrongParty`]) in any state,
/// so a refusal does not depend on, or tell, where the application stands.
pub fn transition(from: State, event: Event, party: Party) -> Result<State, TransitionError> {
    if !TRANSITIONS
        .iter()
        .any(|(_, e, p, _)| *e == event && *p == party)
    {
        return Err(TransitionError::WrongParty { from, event, party });
    }
    let mut candidates = TRANSITIONS
        .iter()
        .filter(|(f, e, _, _)| *f == from && *e == event)
        .peekable();
    if candidates.peek().is_none() {
        return Err(TransitionError::NotFromHere { from, event });
    }
    candidates
        .find(|(_, _, p, _)| *p == party)
        .map(|(_, _, _, to)| *to)
        .ok_or(TransitionError::WrongParty { from, event, party })
}

/// The events `party` may take from `from`, in table order: what a page
/// offers the party, asked of the same table [`transition`] checks.
pub fn events_for(from: State, party: Party) -> impl Iterator<Item = Event> {
    TRANSITIONS
        .iter()
        .filter(move |(f, _, p, _)| *f == from && *p == party)
        .map(|(_, e, _, _)| *e)
}

impl Event {
    pub const ALL: [Event; 17] = [
        E::Submit,
        E::PrecheckPassed,
        E::PrecheckFailed,
        E::Forward,
        E::Approve,
        E::Reject,
        E::Return,
        E::Resubmit,
        E::AcceptOffer,
        E::DeclineOffer,
        E::StartDisbursing,
        E::Close,
        E::Withdraw,
        E::Appeal,
        E::ReopenAppeal,
        E::DismissAppeal,
        E::ClawBack,
    ];
}

impl State {
    pub const ALL: [State; 13] = [
        S::Draft,
        S::Submitted,
        S::DistrictReview,
        S::MunicipalReview,
        S::Returned,
        S::Approved,
        S::Rejected,
        S::OfferAccepted,
        S::Disbursing,
        S::Closed,
        S::Withdrawn,
        S::Appealed,
        S::ClawedBack,
    ];

    pub fn id(self) -> &'static str {
        match self {
            S::Draft => "draft",
            S::Submitted => "submitted",
            S::DistrictReview => "district_review",
            S::MunicipalReview => "municipal_review",
            S::Returned => "returned",
            S::Approved => "approved",
            S::Rejected => "rejected",
            S::OfferAccepted => "offer_accepted",
            S::Disbursing => "disbursing",
            S::Closed => "closed",
            S::Withdrawn => "withdrawn",
            S::Appealed => "appealed",
            S::ClawedBack => "clawed_back",
        }
    }

    /// States in which approved money is held in reserve.
    pub fn holds_reservation(self) -> bool {
        matches!(self, S::Approved | S::OfferAccepted | S::Disbursing)
    }

    /// States a reviewer must act on.
    pub fn awaits_review(self) -> bool {
        matches!(self, S::DistrictReview | S::MunicipalReview | S::Appealed)
    }

    /// Whether a reviewer has decided it (approved or rejected), whatever
    /// followed: the cases a reviewer's "decided" list keeps.
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            S::Approved
                | S::Rejected
                | S::OfferAccepted
                | S::Disbursing
                | S::Closed
                | S::ClawedBack
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|st| st.id() == s)
            .ok_or_else(|| format!("unknown state `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_and_every_transition_is_unique() {
        for s in State::ALL {
            assert_eq!(s.id().parse::<State>(), Ok(s));
        }
        for (i, a) in TRANSITIONS.iter().enumerate() {
            for b in &TRANSITIONS[i + 1..] {
                assert!(
                    !(a.0 == b.0 && a.1 == b.1 && a.2 == b.2),
                    "duplicate transition {a:?}"
                );
            }
        }
    }

    #[test]
    fn the_events_offered_are_exactly_those_the_machine_allows() {
        let parties = [
            P::Applicant,
            P::DistrictReviewer,
            P::MunicipalReviewer,
            P::System,
        ];
        for from in State::ALL {
            for party in parties {
                let offered: Vec<Event> = events_for(from, party).collect();
                for event in Event::ALL {
                    assert_eq!(
                        offered.contains(&event),
                        transition(from, event, party).is_ok(),
                        "{event:?} from {from} for {party:?}"
                    );
                }
            }
        }
        assert!(
            TRANSITIONS
                .iter()
                .all(|(_, e, _, _)| Event::ALL.contains(e))
        );
        assert_eq!(
            events_for(S::Approved, P::Applicant).collect::<Vec<_>>(),
            [E::AcceptOffer, E::DeclineOffer]
        );
    }

    #[test]
    fn refusals_name_the_current_state() {
        assert_eq!(
            transition(S::Draft, E::Submit, P::Applicant),
            Ok(S::Submitted)
        );
        let err = transition(S::Closed, E::Approve, P::DistrictReviewer).unwrap_err();
        assert_eq!(err.to_string(), "`Approve` is not possible from `closed`");
        assert!(matches!(
            transition(S::DistrictReview, E::Approve, P::Applicant),
            Err(TransitionError::WrongParty {
                from: S::DistrictReview,
                ..
            })
        ));
        // A party that may never claw back is refused as such, whatever
        // the state; one that may is told the state is wrong.
        assert!(matches!(
            transition(S::DistrictReview, E::ClawBack, P::DistrictReviewer),
            Err(TransitionError::WrongParty { .. })
        ));
        assert!(matches!(
            transition(S::DistrictReview, E::ClawBack, P::MunicipalReviewer),
            Err(TransitionError::NotFromHere { .. })
        ));
    }

    /// A simple model: from any state, the set of reachable states by legal
    /// transitions never includes leaving a terminal state other than by the
    /// listed appeals and claw-backs.
    #[test]
    fn terminal_states_only_leave_by_appeal_or_claw_back() {
        for (from, event, _, _) in TRANSITIONS {
            match from {
                S::Withdrawn | S::ClawedBack => panic!("{from} is terminal but has {event:?}"),
                S::Rejected => assert_eq!(*event, E::Appeal),
                S::Closed => assert_eq!(*event, E::ClawBack),
                _ => {}
            }
        }
    }
}
