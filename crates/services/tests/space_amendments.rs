//! Allocation that fits, on both backends: the operator proposes new terms
//! for a waiting request (a desk becomes an office), the holder accepts and
//! the request waits in its new queue, keeping its time; a proposal is
//! refused when it changes nothing, has no reason, cannot be held by any
//! unit, or another is open; the holder declines and nothing changes; an
//! alternative offer (a unit of another kind) needs a note and yields to
//! anyone waiting for that kind. Under races — an acceptance against an
//! offer, an acceptance against a decline, from two processes — exactly one
//! wins each round and the request ends as the winner left it.

use opcity_domain::Role;
use opcity_services::spaces::agreements::{
    AmendmentInput, OfferInput, RequestView, ServeInput, SpaceRequestInput,
};
use opcity_services::{Actor, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, each_backend, founder, race};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Site {
    s: Services,
    admin: Actor,
    operator: Actor,
    community: i64,
    desk: i64,
    office: i64,
}

/// The bay community with its desk for one and an office for four.
async fn site(s: Services) -> Site {
    let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
    let operator = account(&s, "operator", Role::CommunityOperator, None).await;
    let (community, desk) = opcity_testkit::nanshan_desk(&s, &admin, &operator).await;
    // Read again: the operator runs the community only from now.
    let operator = s.system_actor(operator.account_id).await.unwrap();
    let office = opcity_testkit::office_beside(&s, &admin, desk).await;
    Site {
        s,
        admin,
        operator,
        community,
        desk,
        office,
    }
}

fn ask(community: i64, enterprise: i64, kind: &str) -> SpaceRequestInput {
    SpaceRequestInput {
        enterprise_id: Some(enterprise),
        community_id: Some(community),
        kind: kind.into(),
        team_size: 1,
        wanted_from: "2027-01-04".into(),
        months: 12,
        ..Default::default()
    }
}

fn change(kind: &str, team_size: i32, reason: &str) -> AmendmentInput {
    AmendmentInput {
        kind: kind.into(),
        team_size,
        wanted_from: "2027-01-04".into(),
        months: 12,
        reason: reason.into(),
    }
}

fn field_codes(e: ServiceError) -> Vec<(String, &'static str)> {
    match e {
        ServiceError::Validation(errors) => errors.into_iter().map(|f| (f.field, f.code)).collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

async fn request(s: &Services, actor: &Actor, id: i64) -> RequestView {
    s.list_space_requests(actor, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .expect("the request is listed")
}

#[tokio::test]
async fn a_desk_request_becomes_an_office_when_the_holder_accepts() {
    each_backend(async |db| {
        let Site {
            s,
            admin,
            operator,
            community,
            office,
            ..
        } = site(opcity_testkit::services(db)).await;
        let lin = founder(&s, &admin, FounderSpec::young_ai("lin", 0)).await;
        let other = founder(&s, &admin, FounderSpec::young_ai("wuyi", 1)).await;
        let asked = s
            .request_space(&lin.actor, &ask(community, lin.enterprise_id, "desk"))
            .await
            .unwrap();

        // Refusals change nothing.
        let same = change("desk", 1, "Same as asked.");
        let e = s
            .propose_space_change(&operator, asked.id, &same)
            .await
            .unwrap_err();
        assert_eq!(field_codes(e), [("kind".to_owned(), "nothing_changes")]);
        let e = s
            .propose_space_change(&operator, asked.id, &change("office", 2, " "))
            .await
            .unwrap_err();
        assert_eq!(field_codes(e), [("reason".to_owned(), "required")]);
        let e = s
            .propose_space_change(&operator, asked.id, &change("desk", 3, "Bigger team."))
            .await
            .unwrap_err();
        assert_eq!(field_codes(e), [("team_size".to_owned(), "team_too_large")]);
        let e = s
            .propose_space_change(&lin.actor, asked.id, &change("office", 2, "Mine."))
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        assert!(request(&s, &lin.actor, asked.id).await.proposal.is_none());

        let why = "No desk is free before spring; an office is, at the programme rent.";
        let proposed = s
            .propose_space_change(&operator, asked.id, &change("office", 2, why))
            .await
            .unwrap();
        let e = s
            .propose_space_change(&operator, asked.id, &change("office", 3, "Another."))
            .await
            .unwrap_err();
        assert_eq!(e.code().to_string(), "amendment_open");
        let seen = request(&s, &lin.actor, asked.id).await;
        assert_eq!(seen.proposal.as_ref().map(|p| p.reason.as_str()), Some(why));
        assert_eq!(
            seen.kind, "desk",
            "nothing changes before the holder accepts"
        );
        let told = s.notifications(&lin.actor, 20).await.unwrap();
        assert!(told.iter().any(|n| n.kind == "space_change_proposed"));

        // Another founder may not answer it; the holder accepts.
        let e = s
            .accept_space_change(&other.actor, proposed.id)
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        let amended = s
            .accept_space_change(&lin.actor, proposed.id)
            .await
            .unwrap();
        assert_eq!((amended.kind.as_str(), amended.team_size), ("office", 2));
        assert_eq!(
            amended.requested_at, asked.requested_at,
            "it keeps its time"
        );
        assert_eq!(amended.position, Some(1));
        assert!(amended.proposal.is_none());
        let e = s
            .accept_space_change(&lin.actor, proposed.id)
            .await
            .unwrap_err();
        assert_eq!(e.code().to_string(), "amendment_answered");
        let told = s.notifications(&operator, 20).await.unwrap();
        assert!(told.iter().any(|n| n.kind == "space_change_accepted"));

        // The office's waitlist serves it, and the holder takes the office.
        let offer = s
            .serve_waitlist(
                &operator,
                &ServeInput {
                    unit_id: office,
                    start: "2027-01-04".into(),
                    end: "2028-01-04".into(),
                    monthly_rent_fen: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(offer.request_id, Some(asked.id));
        let agreement = s.accept_space_offer(&lin.actor, offer.id).await.unwrap();
        assert_eq!(
            (agreement.status.as_str(), agreement.unit_kind.as_str()),
            ("active", "office")
        );
    })
    .await;
}

#[tokio::test]
async fn a_declined_or_withdrawn_proposal_leaves_the_request_as_it_was() {
    each_backend(async |db| {
        let Site {
            s,
            admin,
            operator,
            community,
            ..
        } = site(opcity_testkit::services(db)).await;
        let lin = founder(&s, &admin, FounderSpec::young_ai("lin", 0)).await;
        let asked = s
            .request_space(&lin.actor, &ask(community, lin.enterprise_id, "desk"))
            .await
            .unwrap();
        let first = s
            .propose_space_change(
                &operator,
                asked.id,
                &change("office", 1, "An office is free."),
            )
            .await
            .unwrap();
        s.decline_space_change(&lin.actor, first.id).await.unwrap();
        let after = request(&s, &lin.actor, asked.id).await;
        assert_eq!(
            (after.kind.as_str(), after.proposal.is_none()),
            ("desk", true)
        );
        let told = s.notifications(&operator, 20).await.unwrap();
        assert!(told.iter().any(|n| n.kind == "space_change_declined"));
        // A new proposal may follow; its operator may take it back.
        let second = s
            .propose_space_change(
                &operator,
                asked.id,
                &AmendmentInput {
                    wanted_from: "2027-03-01".into(),
                    ..change("desk", 1, "Start in March?")
                },
            )
            .await
            .unwrap();
        let e = s
            .withdraw_space_change(&lin.actor, second.id)
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        let withdrawn = s.withdraw_space_change(&operator, second.id).await.unwrap();
        assert_eq!(withdrawn.status, "withdrawn");
        let after = request(&s, &lin.actor, asked.id).await;
        assert_eq!(after.wanted_from.to_string(), "2027-01-04");
    })
    .await;
}

#[tokio::test]
async fn an_alternative_offer_needs_a_note_and_yields_to_its_own_queue() {
    each_backend(async |db| {
        let Site {
            s,
            admin,
            operator,
            community,
            office,
            ..
        } = site(opcity_testkit::services(db)).await;
        let lin = founder(&s, &admin, FounderSpec::young_ai("lin", 0)).await;
        let wu = founder(&s, &admin, FounderSpec::young_ai("wuyi", 1)).await;
        let asked = s
            .request_space(&lin.actor, &ask(community, lin.enterprise_id, "desk"))
            .await
            .unwrap();
        let offer = |note: Option<&str>| OfferInput {
            request_id: asked.id,
            unit_id: office,
            start: "2027-01-04".into(),
            end: "2028-01-04".into(),
            monthly_rent_fen: None,
            note: note.map(str::to_owned),
        };
        let e = s.offer_space(&operator, &offer(None)).await.unwrap_err();
        assert_eq!(
            field_codes(e),
            [("note".to_owned(), "alternative_needs_note")]
        );
        // Someone waits for an office: the office is theirs first.
        let wants_office = s
            .request_space(&wu.actor, &ask(community, wu.enterprise_id, "office"))
            .await
            .unwrap();
        let e = s
            .offer_space(&operator, &offer(Some("An office instead.")))
            .await
            .unwrap_err();
        assert_eq!(e.code().to_string(), "waitlist_order");
        s.withdraw_space_request(&wu.actor, wants_office.id)
            .await
            .unwrap();
        let made = s
            .offer_space(
                &operator,
                &offer(Some("No desk before spring: this office instead.")),
            )
            .await
            .unwrap();
        assert_eq!(made.unit_kind, "office");
        assert_eq!(
            made.offer_note.as_deref(),
            Some("No desk before spring: this office instead.")
        );
        let taken = s.accept_space_offer(&lin.actor, made.id).await.unwrap();
        assert_eq!(taken.status, "active");
        assert_eq!(request(&s, &lin.actor, asked.id).await.status, "fulfilled");
    })
    .await;
}

fn seed() -> u64 {
    let seed = std::env::var("OPCITY_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("space amendments: OPCITY_STORM_SEED={seed}");
    seed
}

/// What races a holder's acceptance in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rival {
    /// The operator offers the desk to the request as it is.
    Offer,
    /// The holder (in another tab) declines.
    Decline,
}

#[tokio::test]
async fn an_acceptance_and_its_rival_never_both_win() {
    let mut rng = StdRng::seed_from_u64(seed());
    let rivals: Vec<Rival> = (0..6)
        .map(|_| {
            if rng.random_bool(0.5) {
                Rival::Offer
            } else {
                Rival::Decline
            }
        })
        .collect();
    each_backend(async |db| {
        let (first, other) = opcity_testkit::two_processes(db).await;
        let Site {
            s,
            admin,
            operator,
            community,
            desk,
            ..
        } = site(first).await;
        for (round, rival) in rivals.iter().enumerate() {
            let f = founder(
                &s,
                &admin,
                FounderSpec::young_ai(&format!("founder{round}"), round),
            )
            .await;
            let asked = s
                .request_space(&f.actor, &ask(community, f.enterprise_id, "desk"))
                .await
                .unwrap();
            let proposal = s
                .propose_space_change(&operator, asked.id, &change("office", 1, "An office."))
                .await
                .unwrap();
            let outcomes = race(2, |i| {
                let s = if i == 0 { s.clone() } else { other.clone() };
                let (holder, operator, rival) = (f.actor.clone(), operator.clone(), *rival);
                async move {
                    match (i, rival) {
                        (0, _) => s
                            .accept_space_change(&holder, proposal.id)
                            .await
                            .map(|_| "accepted"),
                        (_, Rival::Decline) => s
                            .decline_space_change(&holder, proposal.id)
                            .await
                            .map(|_| "declined"),
                        (_, Rival::Offer) => {
                            let input = OfferInput {
                                request_id: asked.id,
                                unit_id: desk,
                                start: "2027-01-04".into(),
                                end: "2028-01-04".into(),
                                monthly_rent_fen: None,
                                note: None,
                            };
                            s.offer_space(&operator, &input).await.map(|_| "offered")
                        }
                    }
                }
            })
            .await;
            let won: Vec<&str> = outcomes
                .iter()
                .filter_map(|o| o.as_ref().ok().copied())
                .collect();
            assert_eq!(won.len(), 1, "round {round} ({rival:?}): {outcomes:?}");
            // The loser is refused for what the winner did, never by an error.
            for lost in outcomes.iter().filter_map(|o| o.as_ref().err()) {
                let code = match lost {
                    ServiceError::Validation(fields) => fields[0].code.to_owned(),
                    other => other.code().to_string(),
                };
                assert!(
                    [
                        "request_not_waiting",
                        "amendment_answered",
                        "alternative_needs_note",
                        "contention"
                    ]
                    .contains(&code.as_str()),
                    "round {round}: {lost:?}"
                );
            }
            // The reference model: the request as the winner leaves it.
            let r = request(&s, &f.actor, asked.id).await;
            let expected = match won[0] {
                "accepted" => ("office", "waiting"),
                "declined" => ("desk", "waiting"),
                _ => ("desk", "offered"),
            };
            assert_eq!(
                (r.kind.as_str(), r.status.as_str()),
                expected,
                "round {round}"
            );
            assert!(
                r.proposal.is_none(),
                "round {round}: no proposal stays open"
            );
            // Free the desk and the waitlists for the next round.
            if won[0] == "offered" {
                let offers = s
                    .list_agreements(&operator, &Default::default())
                    .await
                    .unwrap();
                let held = offers.iter().find(|a| a.status == "offered").unwrap();
                s.withdraw_offer(&operator, held.id).await.unwrap();
            }
            s.withdraw_space_request(&f.actor, asked.id).await.unwrap();
        }
    })
    .await;
}
