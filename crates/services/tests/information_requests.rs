//! Requests for information as a thread, on both backends: a reviewer asks,
//! the applicant is told (with the question) and answers, the reviewer is
//! told (with the answer); only the applicant answers and only what is
//! open; a return's request opens the thread; a decided case's thread is
//! closed. Answers sent at once are a race the store guards: in every
//! round exactly one is written, and each caller hears about its own.

use opcity_domain::{District, Role};
use opcity_services::applications::{Decision, MessageAction};
use opcity_services::{Actor, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, each_backend, founder, race, review};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn seed() -> u64 {
    let seed = std::env::var("OPCITY_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("information requests: OPCITY_STORM_SEED={seed}");
    seed
}

struct Case {
    s: Services,
    founder: Actor,
    reviewer: Actor,
    id: i64,
}

/// A founder's housing application in Nanshan, submitted and waiting for
/// district review.
async fn submitted_case(s: Services) -> Case {
    let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
    let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
    let f = founder(&s, &admin, FounderSpec::young_ai("lin", 0)).await;
    let id = opcity_testkit::housing_application(&s, &f.actor, "h").await;
    s.submit_application(&f.actor, id).await.unwrap();
    Case {
        s,
        founder: f.actor,
        reviewer,
        id,
    }
}

fn code(e: &ServiceError) -> String {
    e.code().to_string()
}

fn fields(e: &ServiceError) -> Vec<(String, String)> {
    match e {
        ServiceError::Validation(errors) => errors
            .iter()
            .map(|f| (f.field.clone(), f.code.to_string()))
            .collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[tokio::test]
async fn a_question_is_asked_answered_and_each_side_is_told() {
    each_backend(async |db| {
        let Case {
            s,
            founder,
            reviewer,
            id,
        } = submitted_case(opcity_testkit::services(db)).await;
        let elsewhere = account(&s, "far", Role::DistrictReviewer, Some(District::Futian)).await;

        // Nothing is open: the applicant has nothing to answer and may not ask.
        let before = s.get_application(&founder, id).await.unwrap();
        assert!(before.messages.is_empty());
        assert_eq!(before.message_action, None);
        let e = s.answer_reviewer(&founder, id, "hello").await.unwrap_err();
        assert_eq!(code(&e), "nothing_to_answer");
        let e = s.ask_applicant(&founder, id, "hello").await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        // Another district's reviewer may not ask; an empty question is refused.
        let e = s.ask_applicant(&elsewhere, id, "hello").await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        let e = s.ask_applicant(&reviewer, id, "  ").await.unwrap_err();
        assert_eq!(fields(&e), [("body".to_owned(), "required".to_owned())]);
        let long = "问".repeat(2_001);
        let e = s.ask_applicant(&reviewer, id, &long).await.unwrap_err();
        assert_eq!(fields(&e), [("body".to_owned(), "too_long".to_owned())]);
        assert!(
            s.get_application(&reviewer, id)
                .await
                .unwrap()
                .messages
                .is_empty()
        );

        let question = "请补充办公场地的租赁合同。";
        let asked = s.ask_applicant(&reviewer, id, question).await.unwrap();
        assert_eq!(
            (asked.body.as_str(), asked.from_applicant),
            (question, false)
        );
        assert_eq!(asked.answered_at, None);
        assert_eq!(
            asked.author.as_deref(),
            Some("rev"),
            "the asker reads their own name"
        );
        // The applicant is told, with the question; reads it without the
        // reviewer's name, and may answer.
        let inbox = s.inbox(&founder, 20).await.unwrap();
        let notice = inbox
            .iter()
            .find(|n| n.kind == "information_requested")
            .expect("the applicant is told");
        assert_eq!(notice.message.as_deref(), Some(question));
        assert_eq!(notice.application_id, Some(id));
        let seen = s.get_application(&founder, id).await.unwrap();
        assert_eq!(seen.messages.len(), 1);
        assert_eq!(seen.messages[0].author, None);
        assert_eq!(seen.message_action, Some(MessageAction::Answer));
        let worked = s.get_application(&reviewer, id).await.unwrap();
        assert_eq!(worked.messages[0].author.as_deref(), Some("rev"));
        assert_eq!(worked.message_action, Some(MessageAction::Ask));
        // Reviewers may not answer for the applicant.
        let e = s.answer_reviewer(&reviewer, id, "x").await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");

        let reply = "合同已上传，见材料第 3 项。";
        let answered = s.answer_reviewer(&founder, id, reply).await.unwrap();
        assert!(answered.from_applicant);
        let inbox = s.inbox(&reviewer, 20).await.unwrap();
        let notice = inbox
            .iter()
            .find(|n| n.kind == "information_answered")
            .expect("the asker is told");
        assert_eq!(notice.message.as_deref(), Some(reply));
        let after = s.get_application(&founder, id).await.unwrap();
        assert_eq!(after.messages.len(), 2);
        assert!(after.messages[0].answered_at.is_some());
        assert_eq!(after.messages[1].author.as_deref(), Some("lin"));
        // Answered: nothing more to answer until the next question.
        assert_eq!(after.message_action, None);
        let e = s.answer_reviewer(&founder, id, "again").await.unwrap_err();
        assert_eq!(code(&e), "nothing_to_answer");

        // Both are in the audit log, under their own names.
        let admin = account(&s, "auditor", Role::MunicipalAdmin, None).await;
        s.seal_audit_log().await.unwrap();
        let log = s.audit_entries(&admin, 0, 50).await.unwrap().entries;
        for action in ["application.ask", "application.answer"] {
            assert!(log.iter().any(|e| e.action == action), "{action} audited");
        }
    })
    .await;
}

#[tokio::test]
async fn a_return_opens_the_thread_and_a_decision_closes_it() {
    each_backend(async |db| {
        let Case {
            s,
            founder,
            reviewer,
            id,
        } = submitted_case(opcity_testkit::services(db)).await;
        let today = opcity_domain::today_in_shanghai(s.now());
        let mut back = review(Decision::Return, None);
        back.applicant_reason = Some("Upload your degree certificate.".into());
        back.return_deadline = Some((today + chrono::Days::new(14)).to_string());
        s.review_application(&reviewer, id, &back).await.unwrap();
        let returned = s.get_application(&founder, id).await.unwrap();
        assert_eq!(returned.messages.len(), 1);
        assert_eq!(returned.messages[0].body, "Upload your degree certificate.");
        assert_eq!(returned.message_action, Some(MessageAction::Answer));
        s.answer_reviewer(&founder, id, "Uploaded.").await.unwrap();
        s.submit_application(&founder, id).await.unwrap();
        // Returned again and resubmitted without a word: the resubmission
        // answers the request, so nothing waits for the applicant.
        back.applicant_reason = Some("Sign the lease too.".into());
        s.review_application(&reviewer, id, &back).await.unwrap();
        s.submit_application(&founder, id).await.unwrap();
        let again = s.get_application(&reviewer, id).await.unwrap();
        assert_eq!(again.messages.len(), 3);
        assert!(
            again.messages[2].answered_at.is_some(),
            "closed by the resubmission"
        );
        let queue = s
            .review_queue(&reviewer, &Default::default())
            .await
            .unwrap();
        let row = queue.items.iter().find(|a| a.id == id).unwrap();
        assert_eq!(row.open_questions, 0);
        // A rejection ends the case: nobody adds to its thread any more.
        let mut no = review(Decision::Reject, None);
        no.applicant_reason = Some("Not eligible.".into());
        s.review_application(&reviewer, id, &no).await.unwrap();
        let e = s
            .ask_applicant(&reviewer, id, "One more thing?")
            .await
            .unwrap_err();
        assert_eq!(code(&e), "thread_closed");
        let decided = s.get_application(&reviewer, id).await.unwrap();
        assert_eq!(decided.message_action, None);
        assert_eq!(decided.messages.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn of_answers_sent_at_once_exactly_one_is_written() {
    let mut rng = StdRng::seed_from_u64(seed());
    let rounds: Vec<usize> = (0..4).map(|_| rng.random_range(2..=5)).collect();
    each_backend(async |db| {
        // Two processes, so that on SQLite too the answers race in the
        // database, not in one process's writer turn.
        let (first, other) = opcity_testkit::two_processes(db).await;
        let Case {
            s,
            founder,
            reviewer,
            id,
        } = submitted_case(first).await;
        // The reference model: the thread as it must stand after each round.
        let mut expected = 0;
        for (round, &senders) in rounds.iter().enumerate() {
            s.ask_applicant(&reviewer, id, &format!("question {round}"))
                .await
                .unwrap();
            expected += 1;
            let bodies: Vec<String> = (0..senders)
                .map(|i| format!("answer {round}.{i}"))
                .collect();
            let answers = race(senders, |i| {
                let s = if i % 2 == 0 { s.clone() } else { other.clone() };
                let (founder, body) = (founder.clone(), bodies[i].clone());
                async move { s.answer_reviewer(&founder, id, &body).await }
            })
            .await;
            let mut written = 0;
            for (body, answer) in bodies.iter().zip(&answers) {
                match answer {
                    Ok(m) => {
                        assert_eq!(&m.body, body, "each caller hears about its own answer");
                        written += 1;
                    }
                    Err(e) => assert_eq!(code(e), "nothing_to_answer"),
                }
            }
            assert_eq!(written, 1, "round {round}: {senders} answers at once");
            expected += 1;
            let thread = s.get_application(&reviewer, id).await.unwrap().messages;
            assert_eq!(thread.len(), expected);
            assert!(
                thread
                    .iter()
                    .all(|m| m.from_applicant || m.answered_at.is_some())
            );
            let notices = s
                .inbox(&reviewer, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == "information_answered")
                .count();
            assert_eq!(notices, round + 1, "one notice per written answer");
        }
    })
    .await;
}
