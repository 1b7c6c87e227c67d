//! Vouchers end to end through the services, on SQLite and PostgreSQL: an
//! administrator issues a training voucher to an entitled startup, a compute
//! provider registers, is approved, holds against a contract (at most 60% of
//! it for a startup, per the pack), captures part, voids the rest; the
//! enterprise confirms the use; settlement reports it; holds and vouchers
//! expire on their own; reconciliation is clean. Every bad request is refused
//! with its code and moves nothing. Disputed captures are upheld or reversed
//! once by an administrator (a reversal is a new transfer back to the wallet,
//! or to the pool once the wallet has closed), replays answer with the first
//! resolution, concurrent ones too.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use opcity_domain::{District, Fen, Role};
use opcity_packs::PackSource;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::vouchers::disputes::ResolveDispute;
use opcity_services::vouchers::issue::{Clawback, FundPool, IssueVoucher};
use opcity_services::vouchers::providers::{ProviderDecision, ProviderInput};
use opcity_services::vouchers::redeem::{
    CaptureInput, HoldInput, ProviderOp, TillHold, UseReviewInput, VoidInput,
};
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::entity::{budget, ledger_account, ledger_transfer};
use opcity_store::sea_orm::EntityTrait;
use opcity_testkit::{account, each_backend};

const TRAINING: &str = "sz.voucher.training";

struct World {
    admin: Actor,
    reviewer: Actor,
    founder: Actor,
    vendor: Actor,
    enterprise: i64,
    other_enterprise: i64,
}

async fn world(s: &Services) -> World {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let reviewer = account(
        s,
        "reviewer",
        Role::DistrictReviewer,
        Some(District::Nanshan),
    )
    .await;
    let founder = account(s, "founder", Role::Founder, None).await;
    let vendor = account(s, "vendor", Role::ServiceProvider, None).await;
    s.create_person(
        &admin,
        &PersonInput {
            full_name: "林晨曦".into(),
            district: Some("nanshan".into()),
            works_in_ai: Some(true),
            account_id: Some(founder.account_id),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let founder = s.system_actor(founder.account_id).await.unwrap();
    let enterprise = s
        .create_enterprise(
            &founder,
            &EnterpriseInput {
                uscc: "91440300708461136T".into(),
                name: "深蓝智算科技有限公司".into(),
                // Registered last year: a startup for the training voucher.
                registered_date: Some("2025-06-01".into()),
                district: "nanshan".into(),
                size: Some("micro".into()),
                ai_business: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let other_enterprise = s
        .create_enterprise(
            &admin,
            &EnterpriseInput {
                uscc: "914403001922038216".into(),
                name: "非AI贸易有限公司".into(),
                district: "nanshan".into(),
                ai_business: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let founder = s.system_actor(founder.account_id).await.unwrap();
    World {
        admin,
        reviewer,
        founder,
        vendor,
        enterprise,
        other_enterprise,
    }
}

/// Every ledger balance, transfer count and budget figure: "nothing moved".
async fn snapshot(s: &Services) -> (Vec<[i64; 4]>, usize, Vec<[i64; 3]>) {
    let db = s.store().db();
    let accounts = ledger_account::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|a| {
            [
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
            ]
        })
        .collect();
    let transfers = ledger_transfer::Entity::find().all(db).await.unwrap().len();
    let budgets = budget::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|b| [b.total_fen, b.reserved_fen, b.spent_fen])
        .collect();
    (accounts, transfers, budgets)
}

fn code(e: &ServiceError) -> String {
    match e {
        ServiceError::Validation(fields) => {
            fields.iter().map(|f| f.code).collect::<Vec<_>>().join(",")
        }
        other => other.code().as_str().to_owned(),
    }
}

/// Asserts the result is the refusal `expected` and nothing moved.
async fn refused<T: std::fmt::Debug>(
    s: &Services,
    result: Result<T, ServiceError>,
    expected: &str,
    before: &(Vec<[i64; 4]>, usize, Vec<[i64; 3]>),
) {
    match result {
        Err(e) => assert_eq!(code(&e), expected, "{e:?}"),
        Ok(v) => panic!("expected {expected}, got {v:?}"),
    }
    assert_eq!(&snapshot(s).await, before, "{expected} moved something");
}

/// "field code" of each error of a validation refusal.
fn fields_of<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> Vec<String> {
    match result {
        Err(ServiceError::Validation(errors)) => errors
            .into_iter()
            .map(|e| format!("{} {}", e.field, e.code))
            .collect(),
        other => panic!("expected a validation refusal, got {other:?}"),
    }
}

fn hold(id: &str, enterprise: i64, amount: i64, contract: i64) -> HoldInput {
    HoldInput {
        transfer_id: id.into(),
        enterprise_id: enterprise,
        kind: TRAINING.into(),
        amount_fen: amount,
        use_kind: "model_training".into(),
        reference: "HT-2026-001".into(),
        contract_amount_fen: Some(contract),
        timeout_secs: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vouchers_from_issue_to_settlement_and_expiry() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let w = world(&s).await;
        let today = opcity_domain::today_in_shanghai(Utc::now());
        let valid_until = today + Duration::days(30);
        let kinds = s.voucher_kinds(today);
        let training = kinds.iter().find(|k| k.id == TRAINING).unwrap();
        assert_eq!(training.ceiling_fen, Some(1_000_000_000));
        assert_eq!(
            (training.contract_percent, training.startup_contract_percent),
            (Some(50), Some(60))
        );

        // Issuing: the administrator issues; a district reviewer may not
        // issue a municipal kind; bad input is refused.
        let issue = |amount: i64, id: &str| IssueVoucher {
            enterprise_id: w.enterprise,
            kind: TRAINING.into(),
            amount_fen: amount,
            valid_until,
            transfer_id: Some(id.into()),
        };
        let before = snapshot(&s).await;
        refused(
            &s,
            s.issue_voucher(&w.reviewer, &issue(1_000_000, "iss-0"))
                .await,
            "forbidden",
            &before,
        )
        .await;
        refused(
            &s,
            s.issue_voucher(&w.admin, &issue(0, "iss-0")).await,
            "amount_not_positive",
            &before,
        )
        .await;
        refused(
            &s,
            s.issue_voucher(&w.admin, &issue(-5, "iss-0")).await,
            "amount_not_positive",
            &before,
        )
        .await;
        let mut unknown = issue(100, "iss-0");
        unknown.kind = "sz.voucher.gold".into();
        refused(
            &s,
            s.issue_voucher(&w.admin, &unknown).await,
            "unknown_voucher_kind",
            &before,
        )
        .await;
        let mut past = issue(100, "iss-0");
        past.valid_until = today;
        refused(
            &s,
            s.issue_voucher(&w.admin, &past).await,
            "valid_until_past",
            &before,
        )
        .await;
        let mut not_ai = issue(100, "iss-0");
        not_ai.enterprise_id = w.other_enterprise;
        refused(
            &s,
            s.issue_voucher(&w.admin, &not_ai).await,
            "not_entitled_to_voucher",
            &before,
        )
        .await;
        refused(
            &s,
            s.issue_voucher(&w.admin, &issue(1_000_000_001, "iss-0"))
                .await,
            "voucher_ceiling_exceeded",
            &before,
        )
        .await;
        let mut smart = issue(100, "iss-0");
        smart.kind = "sz.voucher.smart".into();
        // Smart vouchers are for enterprises in an OPC community.
        refused(
            &s,
            s.issue_voucher(&w.admin, &smart).await,
            "not_entitled_to_voucher",
            &before,
        )
        .await;

        let issued = s
            .issue_voucher(&w.admin, &issue(1_000_000, "iss-1"))
            .await
            .unwrap();
        assert!(!issued.replayed);
        assert_eq!(issued.wallet.available_fen, 1_000_000);
        // The same request again answers with the first result.
        let again = s
            .issue_voucher(&w.admin, &issue(1_000_000, "iss-1"))
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.wallet, issued.wallet);
        let before = snapshot(&s).await;
        refused(
            &s,
            s.issue_voucher(&w.admin, &issue(2_000_000, "iss-1")).await,
            "transfer_id_reused",
            &before,
        )
        .await;
        let pools = s.voucher_pools(&w.admin).await.unwrap();
        assert_eq!(pools.len(), 1);
        assert_eq!(
            pools[0].total_fen, 50_000_000_000,
            "funded from the pack's yearly pool"
        );
        assert_eq!(pools[0].reserved_fen, 1_000_000);
        assert_eq!(pools[0].issued_fen, 1_000_000);

        // Providers: register, not yet approved, then approved for training.
        let registration = ProviderInput {
            name: "鹏城算力服务有限公司".into(),
            uscc: None,
            category: "compute".into(),
            kinds: vec![TRAINING.into()],
            account_id: None,
        };
        let mut wrong = registration.clone();
        wrong.kinds = vec!["sz.voucher.data".into()];
        refused(
            &s,
            s.register_provider(&w.vendor, &wrong).await,
            "kind_not_for_category",
            &before,
        )
        .await;
        let p = s.register_provider(&w.vendor, &registration).await.unwrap();
        assert_eq!(p.status, "pending");
        let before = snapshot(&s).await;
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-1", w.enterprise, 500_000, 1_000_000))
                .await,
            "provider_not_approved",
            &before,
        )
        .await;
        let decision = ProviderDecision {
            decision: "approve".into(),
            kinds: vec![TRAINING.into()],
        };
        refused(
            &s,
            s.decide_provider(&w.vendor, p.id, &decision).await,
            "forbidden",
            &before,
        )
        .await;
        s.decide_provider(&w.admin, p.id, &decision).await.unwrap();
        let mut model_hold = hold("h-m", w.enterprise, 1, 10);
        model_hold.kind = "sz.voucher.model".into();
        model_hold.use_kind = "api_usage".into();
        refused(
            &s,
            s.place_hold(&w.vendor, &model_hold).await,
            "provider_not_approved_for_kind",
            &before,
        )
        .await;

        // Holds against a contract of 1,000,000: a startup's voucher covers 60%.
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-1", w.enterprise, 600_001, 1_000_000))
                .await,
            "exceeds_contract_share",
            &before,
        )
        .await;
        let mut agent = hold("h-1", w.enterprise, 1, 1_000_000);
        agent.use_kind = "agent_building".into();
        refused(
            &s,
            s.place_hold(&w.vendor, &agent).await,
            "use_not_eligible",
            &before,
        )
        .await;
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h 1", w.enterprise, 0, 1_000_000))
                .await,
            "invalid_transfer_id,amount_not_positive",
            &before,
        )
        .await;
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-1", w.other_enterprise, 10, 1_000_000))
                .await,
            "no_voucher",
            &before,
        )
        .await;
        // At the counter the customer is named by credit code: only a
        // provider looks one up; a code that is empty, malformed or
        // unregistered is the code's refusal; a registered enterprise
        // without the voucher is refused as any hold is.
        let till = |uscc: &str| TillHold {
            transfer_id: "h-1".into(),
            uscc: uscc.into(),
            kind: TRAINING.into(),
            amount_fen: 500_000,
            use_kind: "model_training".into(),
            reference: "HT-2026-001".into(),
            contract_amount_fen: Some(1_000_000),
        };
        let unregistered = opcity_testkit::fixtures::uscc(99);
        for (who, code, expected) in [
            (&w.founder, "91440300708461136T", "forbidden"),
            (&w.vendor, " ", "required"),
            (&w.vendor, "9144030070846", "uscc_length"),
            (&w.vendor, unregistered.as_str(), "unknown_customer"),
            (&w.vendor, "914403001922038216", "no_voucher"),
        ] {
            refused(
                &s,
                s.place_hold_at_till(who, &till(code)).await,
                expected,
                &before,
            )
            .await;
        }
        // A hold replayed three times at once is placed once.
        let replays: Vec<_> = (0..3)
            .map(|_| {
                let (s, vendor, h) = (
                    s.clone(),
                    w.vendor.clone(),
                    hold("h-1", w.enterprise, 500_000, 1_000_000),
                );
                tokio::spawn(async move { s.place_hold(&vendor, &h).await })
            })
            .collect();
        let mut created = 0;
        for r in replays {
            let v = r.await.unwrap().unwrap();
            created += usize::from(!v.replayed);
            assert_eq!(v.amount_fen, 500_000);
        }
        assert_eq!(created, 1);
        // The same hold from the counter, by the code typed in lower case,
        // names the same wallet: a replay of the first answer.
        let again = s
            .place_hold_at_till(&w.vendor, &till("91440300708461136t"))
            .await
            .unwrap();
        assert!(again.replayed && again.amount_fen == 500_000, "{again:?}");
        let before = snapshot(&s).await;
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-2", w.enterprise, 100_001, 1_000_000))
                .await,
            "exceeds_contract_share",
            &before,
        )
        .await;
        s.place_hold(&w.vendor, &hold("h-2", w.enterprise, 100_000, 1_000_000))
            .await
            .unwrap();
        // Suspended, the provider places nothing new, but a replay still
        // gets its first answer; approved again, it goes on.
        let suspend = ProviderDecision {
            decision: "suspend".into(),
            kinds: vec![],
        };
        s.decide_provider(&w.admin, p.id, &suspend).await.unwrap();
        let before = snapshot(&s).await;
        let replayed = s
            .place_hold(&w.vendor, &hold("h-2", w.enterprise, 100_000, 1_000_000))
            .await
            .unwrap();
        assert!(replayed.replayed);
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-3", w.enterprise, 1, 1_000_000))
                .await,
            "provider_not_approved",
            &before,
        )
        .await;
        s.decide_provider(&w.admin, p.id, &decision).await.unwrap();
        let wallet = s.wallet(&w.founder, w.enterprise).await.unwrap();
        assert_eq!(wallet.wallets[0].held_fen, 600_000);
        assert_eq!(wallet.open_holds.len(), 2);

        // Capture part of the first hold; the rest goes back to the wallet.
        let capture = |id: &str, hold_id: &str, amount: Option<i64>| CaptureInput {
            transfer_id: id.into(),
            hold_id: hold_id.into(),
            amount_fen: amount,
        };
        let before = snapshot(&s).await;
        refused(
            &s,
            s.capture_hold(&w.vendor, &capture("c-1", "h-1", Some(500_001)))
                .await,
            "capture_exceeds_hold",
            &before,
        )
        .await;
        refused(
            &s,
            s.capture_hold(&w.vendor, &capture("c-1", "nope", None))
                .await,
            "not_found",
            &before,
        )
        .await;
        refused(
            &s,
            s.capture_hold(&w.founder, &capture("c-1", "h-1", None))
                .await,
            "forbidden",
            &before,
        )
        .await;
        let captured = s
            .capture_hold(&w.vendor, &capture("c-1", "h-1", Some(300_000)))
            .await
            .unwrap();
        assert_eq!(captured.amount_fen, 300_000);
        let before = snapshot(&s).await;
        refused(
            &s,
            s.capture_hold(&w.vendor, &capture("c-2", "h-1", Some(1)))
                .await,
            "hold_already_resolved",
            &before,
        )
        .await;
        refused(
            &s,
            s.void_hold(
                &w.vendor,
                &VoidInput {
                    transfer_id: "v-1".into(),
                    hold_id: "h-1".into(),
                },
            )
            .await,
            "hold_already_resolved",
            &before,
        )
        .await;
        s.void_hold(
            &w.vendor,
            &VoidInput {
                transfer_id: "v-2".into(),
                hold_id: "h-2".into(),
            },
        )
        .await
        .unwrap();
        let wallet = s.wallet(&w.founder, w.enterprise).await.unwrap();
        assert_eq!(wallet.wallets[0].available_fen, 700_000);
        assert_eq!(wallet.wallets[0].debited_fen, 300_000);
        assert!(wallet.open_holds.is_empty());
        let pools = s.voucher_pools(&w.admin).await.unwrap();
        assert_eq!(
            (pools[0].reserved_fen, pools[0].spent_fen),
            (700_000, 300_000)
        );

        // The enterprise confirms the use once; others may not.
        let confirm = UseReviewInput {
            decision: "confirmed".into(),
            comment: None,
        };
        let before = snapshot(&s).await;
        refused(
            &s,
            s.review_use(&w.vendor, "c-1", &confirm).await,
            "forbidden",
            &before,
        )
        .await;
        s.review_use(&w.founder, "c-1", &confirm).await.unwrap();
        refused(
            &s,
            s.review_use(&w.founder, "c-1", &confirm).await,
            "use_already_reviewed",
            &before,
        )
        .await;
        let wallet = s.wallet(&w.founder, w.enterprise).await.unwrap();
        let line = wallet
            .history
            .iter()
            .find(|h| h.transfer.id == "c-1")
            .unwrap();
        assert_eq!(line.review.as_deref(), Some("confirmed"));

        // Settlement for today: the capture, confirmed, payable.
        let report = s.settlement(&w.vendor, p.id, today, today).await.unwrap();
        assert_eq!(report.lines.len(), 1);
        assert_eq!((report.total_fen, report.payable_fen), (300_000, 300_000));
        assert_eq!(report.lines[0].uscc, "91440300708461136T");
        let csv = report.to_csv();
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains("c-1,h-1,") && csv.contains(",300000,3000.00,confirmed"),
            "{csv}"
        );
        assert!(report.to_xlsx().unwrap().starts_with(b"PK"));
        assert_eq!(
            code(
                &s.settlement(&w.founder, p.id, today, today)
                    .await
                    .unwrap_err()
            ),
            "forbidden"
        );

        // A batch: two holds and a capture of the first, in one commit; replayed.
        let ops = vec![
            ProviderOp::Hold(hold("bh-1", w.enterprise, 50_000, 1_000_000)),
            ProviderOp::Hold(hold("bh-2", w.enterprise, 40_000, 1_000_000)),
            ProviderOp::Capture(capture("bc-1", "bh-1", None)),
        ];
        let results = s.provider_batch(&w.vendor, &ops).await.unwrap();
        assert!(results.iter().all(|r| r.created), "{results:?}");
        let results = s.provider_batch(&w.vendor, &ops).await.unwrap();
        assert!(results.iter().all(|r| !r.created), "{results:?}");
        // The contract has 300,000 captured + 50,000 + 40,000 held: 210,000
        // of its 600,000 left; a batch going over it is refused whole.
        let before = snapshot(&s).await;
        let over = vec![
            ProviderOp::Hold(hold("bh-3", w.enterprise, 200_000, 1_000_000)),
            ProviderOp::Hold(hold("bh-4", w.enterprise, 10_001, 1_000_000)),
        ];
        refused(
            &s,
            s.provider_batch(&w.vendor, &over).await,
            "exceeds_contract_share",
            &before,
        )
        .await;
        let pools = s.voucher_pools(&w.admin).await.unwrap();
        assert_eq!(pools[0].spent_fen, 350_000);

        // A transfer id twice in one batch is refused before anything runs
        // (a capture listed twice would move money once and skip its spend).
        let twice = [
            ProviderOp::Capture(capture("bc-twice", "bh-2", Some(1_000))),
            ProviderOp::Capture(capture("bc-twice", "bh-2", Some(1_000))),
        ];
        let errors = fields_of(s.provider_batch(&w.vendor, &twice).await);
        assert_eq!(errors, ["ops[1].transfer_id duplicate_in_batch"]);
        assert_eq!(snapshot(&s).await, before);
        // A refusal inside a batch names its op, and nothing is written.
        let late = [
            ProviderOp::Hold(hold("bh-5", w.enterprise, 1_000, 1_000_000)),
            ProviderOp::Capture(capture("bc-5", "bh-2", Some(40_001))),
        ];
        match s.provider_batch(&w.vendor, &late).await {
            Err(ServiceError::InBatch { index: 1, error }) => {
                assert_eq!(error.code(), "capture_exceeds_hold")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(snapshot(&s).await, before);
        // Amounts past the input maximum are refused by field, not overflowed.
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-huge", w.enterprise, i64::MAX, i64::MAX))
                .await,
            "amount_above_maximum,amount_above_maximum",
            &before,
        )
        .await;
        let huge = [ProviderOp::Hold(hold(
            "bh-huge",
            w.enterprise,
            i64::MAX,
            1_000_000,
        ))];
        let errors = fields_of(s.provider_batch(&w.vendor, &huge).await);
        assert_eq!(errors, ["ops[0].amount_fen amount_above_maximum"]);
        let mut fund_huge = FundPool {
            kind: TRAINING.into(),
            year: 2026,
            district: None,
            amount_fen: i64::MAX,
        };
        refused(
            &s,
            s.fund_voucher_pool(&w.admin, &fund_huge).await,
            "amount_above_maximum",
            &before,
        )
        .await;
        fund_huge.amount_fen = Fen::MAX_AMOUNT.0 + 1;
        refused(
            &s,
            s.fund_voucher_pool(&w.admin, &fund_huge).await,
            "amount_above_maximum",
            &before,
        )
        .await;
        // Settlement periods far outside the programme are refused by field.
        let errors = fields_of(
            s.settlement(&w.vendor, p.id, NaiveDate::MIN, NaiveDate::MAX)
                .await,
        );
        assert_eq!(errors, ["from out_of_range", "to out_of_range"]);

        // Holds expire on their own: bh-2 voided by the job, then not capturable.
        let expired = s
            .expire_holds(Utc::now() + Duration::days(8))
            .await
            .unwrap();
        assert_eq!(expired, 1);
        assert_eq!(
            s.expire_holds(Utc::now() + Duration::days(8))
                .await
                .unwrap(),
            0,
            "once"
        );
        let before = snapshot(&s).await;
        refused(
            &s,
            s.capture_hold(&w.vendor, &capture("bc-2", "bh-2", None))
                .await,
            "hold_already_resolved",
            &before,
        )
        .await;

        // Claw back a little, then let the voucher expire: the rest returns to the pool.
        let claw = Clawback {
            transfer_id: "claw-1".into(),
            enterprise_id: w.enterprise,
            kind: TRAINING.into(),
            amount_fen: 50_000,
            reason: "duplicate invoice".into(),
        };
        refused(
            &s,
            s.claw_back_voucher(&w.reviewer, &claw).await,
            "forbidden",
            &before,
        )
        .await;
        let after_claw = s.claw_back_voucher(&w.admin, &claw).await.unwrap();
        assert_eq!(after_claw.available_fen, 1_000_000 - 350_000 - 50_000);
        // The claw-back's second transfer has an id derived from the
        // client's; a new request naming that id is a conflict, not a replay.
        let before = snapshot(&s).await;
        let mut derived = claw.clone();
        derived.transfer_id = "claw-1:return".into();
        refused(
            &s,
            s.claw_back_voucher(&w.admin, &derived).await,
            "transfer_id_reused",
            &before,
        )
        .await;
        s.place_hold(&w.vendor, &hold("h-late", w.enterprise, 1_000, 1_000_000))
            .await
            .unwrap();
        let later = valid_until + Duration::days(1);
        let report = s
            .expire_vouchers(later, Utc::now() + Duration::days(31))
            .await
            .unwrap();
        assert_eq!((report.vouchers_expired, report.holds_expired), (1, 1));
        assert_eq!(report.returned_fen, 600_000);
        let pools = s.voucher_pools(&w.admin).await.unwrap();
        assert_eq!((pools[0].reserved_fen, pools[0].spent_fen), (0, 350_000));
        assert_eq!(pools[0].returned_fen, 650_000);
        let wallet = s.wallet(&w.founder, w.enterprise).await.unwrap();
        assert!(wallet.wallets[0].closed);
        assert_eq!(wallet.wallets[0].available_fen, 0);
        let before = snapshot(&s).await;
        refused(
            &s,
            s.place_hold(&w.vendor, &hold("h-after", w.enterprise, 1, 1_000_000))
                .await,
            "voucher_expired",
            &before,
        )
        .await;

        // A district pool funded by the district; only for its own district.
        let fund = FundPool {
            kind: "sz.voucher.smart".into(),
            year: 2026,
            district: Some("nanshan".into()),
            amount_fen: 5_000_000,
        };
        s.fund_voucher_pool(&w.reviewer, &fund).await.unwrap();
        let mut elsewhere = fund.clone();
        elsewhere.district = Some("futian".into());
        assert_eq!(
            code(
                &s.fund_voucher_pool(&w.reviewer, &elsewhere)
                    .await
                    .unwrap_err()
            ),
            "forbidden"
        );

        let rec = s.reconcile_vouchers(&w.admin).await.unwrap();
        assert!(rec.clean, "{rec:?}");
        assert!(rec.transfers >= 10);
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_vouchers_follow_the_pack_and_the_district_pool() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let nanshan = account(
            &s,
            "nanshan",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        let futian = account(&s, "futian", Role::DistrictReviewer, Some(District::Futian)).await;
        let community = s
            .create_community(
                &admin,
                &opcity_services::registry::communities::CommunityInput {
                    name_zh: "南山智谷OPC社区".into(),
                    name_en: "Nanshan AI Valley".into(),
                    district: "nanshan".into(),
                    address: "科苑南路".into(),
                    area_m2: 12_000,
                    operator_name: "运营方".into(),
                    operator_account_id: None,
                    opened_on: None,
                },
            )
            .await
            .unwrap();
        let enterprise = s
            .create_enterprise(
                &admin,
                &EnterpriseInput {
                    uscc: "91440300708461136T".into(),
                    name: "社区智能体工作室".into(),
                    district: "nanshan".into(),
                    community_id: Some(community.id),
                    ai_business: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let until = opcity_domain::today_in_shanghai(Utc::now()) + Duration::days(60);
        let smart = |amount: i64, id: &str| IssueVoucher {
            enterprise_id: enterprise,
            kind: "sz.voucher.smart".into(),
            amount_fen: amount,
            valid_until: until,
            transfer_id: Some(id.into()),
        };
        let before = snapshot(&s).await;
        // The pack ships Nanshan's ceiling unset: nothing can be issued.
        refused(
            &s,
            s.issue_voucher(&nanshan, &smart(100, "s-0")).await,
            "voucher_ceiling_unset",
            &before,
        )
        .await;

        // The district sets it (a new pack in force): ¥50,000.
        let dir = tempfile::tempdir().unwrap();
        let pack =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026");
        copy_dir(&pack, dir.path());
        let file = dir.path().join("parameters/smart-vouchers.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        let marker = "smart_voucher_ceiling_nanshan_fen:";
        let at = text.find(marker).unwrap();
        let null_at = at + text[at..].find("null").unwrap();
        let edited = format!("{}5000000{}", &text[..null_at], &text[null_at + 4..]);
        std::fs::write(&file, edited).unwrap();
        s.reload_pack(&PackSource::Dir(dir.path().into())).unwrap();

        // No district pool yet; the district funds ¥20,000.
        refused(
            &s,
            s.issue_voucher(&nanshan, &smart(1_500_000, "s-1")).await,
            "voucher_pool_not_funded",
            &before,
        )
        .await;
        let fund = FundPool {
            kind: "sz.voucher.smart".into(),
            year: opcity_domain::today_in_shanghai(Utc::now()).year(),
            district: Some("nanshan".into()),
            amount_fen: 2_000_000,
        };
        s.fund_voucher_pool(&nanshan, &fund).await.unwrap();
        // Only Nanshan's reviewer (or the city) issues Nanshan's smart vouchers.
        let before = snapshot(&s).await;
        refused(
            &s,
            s.issue_voucher(&futian, &smart(1_500_000, "s-1")).await,
            "forbidden",
            &before,
        )
        .await;
        let issued = s
            .issue_voucher(&nanshan, &smart(1_500_000, "s-1"))
            .await
            .unwrap();
        assert_eq!(issued.wallet.available_fen, 1_500_000);
        let before = snapshot(&s).await;
        refused(
            &s,
            s.issue_voucher(&nanshan, &smart(600_000, "s-2")).await,
            "voucher_pool_exhausted",
            &before,
        )
        .await;
        let more = FundPool {
            amount_fen: 10_000_000,
            ..fund
        };
        s.fund_voucher_pool(&admin, &more).await.unwrap();
        let before = snapshot(&s).await;
        refused(
            &s,
            s.issue_voucher(&nanshan, &smart(3_600_000, "s-2")).await,
            "voucher_ceiling_exceeded",
            &before,
        )
        .await;
        s.issue_voucher(&nanshan, &smart(3_500_000, "s-3"))
            .await
            .unwrap();
        let pools = s.voucher_pools(&futian).await.unwrap();
        assert_eq!(pools[0].authority, "nanshan");
        assert_eq!(
            (pools[0].total_fen, pools[0].reserved_fen),
            (12_000_000, 5_000_000)
        );
        assert!(s.reconcile_vouchers(&admin).await.unwrap().clean);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disputes_are_upheld_or_reversed_once() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let w = world(&s).await;
        let today = opcity_domain::today_in_shanghai(Utc::now());
        s.issue_voucher(
            &w.admin,
            &IssueVoucher {
                enterprise_id: w.enterprise,
                kind: TRAINING.into(),
                amount_fen: 1_000_000,
                valid_until: today + Duration::days(30),
                transfer_id: Some("iss-1".into()),
            },
        )
        .await
        .unwrap();
        let p = s
            .register_provider(
                &w.vendor,
                &ProviderInput {
                    name: "鹏城算力服务有限公司".into(),
                    uscc: None,
                    category: "compute".into(),
                    kinds: vec![TRAINING.into()],
                    account_id: None,
                },
            )
            .await
            .unwrap();
        s.decide_provider(
            &w.admin,
            p.id,
            &ProviderDecision {
                decision: "approve".into(),
                kinds: vec![TRAINING.into()],
            },
        )
        .await
        .unwrap();
        for n in 1..=4 {
            s.place_hold(
                &w.vendor,
                &hold(&format!("h-{n}"), w.enterprise, 100_000, 1_000_000),
            )
            .await
            .unwrap();
            s.capture_hold(
                &w.vendor,
                &CaptureInput {
                    transfer_id: format!("c-{n}"),
                    hold_id: format!("h-{n}"),
                    amount_fen: None,
                },
            )
            .await
            .unwrap();
        }
        let dispute = UseReviewInput {
            decision: "disputed".into(),
            comment: Some("the compute was never delivered".into()),
        };
        for c in ["c-1", "c-2", "c-4"] {
            s.review_use(&w.founder, c, &dispute).await.unwrap();
        }
        let confirm = UseReviewInput {
            decision: "confirmed".into(),
            comment: None,
        };
        s.review_use(&w.founder, "c-3", &confirm).await.unwrap();
        // Open disputes are withheld from the provider's payment.
        let report = s.settlement(&w.vendor, p.id, today, today).await.unwrap();
        assert_eq!(
            (report.total_fen, report.disputed_fen, report.payable_fen),
            (400_000, 300_000, 100_000)
        );

        let reverse = ResolveDispute {
            outcome: "reversed".into(),
            transfer_id: Some("reversal:c-2".into()),
            comment: Some("not delivered".into()),
        };
        let uphold = ResolveDispute {
            outcome: "upheld".into(),
            transfer_id: None,
            comment: None,
        };
        let before = snapshot(&s).await;
        for (actor, capture, input, expected) in [
            (&w.founder, "c-2", &reverse, "forbidden"),
            // A municipal voucher: the city decides, not the district.
            (&w.reviewer, "c-2", &reverse, "forbidden"),
            (&w.admin, "c-3", &reverse, "use_not_disputed"),
            (&w.admin, "h-1", &reverse, "not_a_capture"),
            (&w.admin, "c-404", &reverse, "not_found"),
        ] {
            refused(
                &s,
                s.resolve_dispute(actor, capture, input).await,
                expected,
                &before,
            )
            .await;
        }
        let mut maybe = uphold.clone();
        maybe.outcome = "maybe".into();
        refused(
            &s,
            s.resolve_dispute(&w.admin, "c-2", &maybe).await,
            "not_one_of",
            &before,
        )
        .await;
        let mut bad_id = reverse.clone();
        bad_id.transfer_id = Some("no spaces allowed".into());
        refused(
            &s,
            s.resolve_dispute(&w.admin, "c-2", &bad_id).await,
            "invalid_transfer_id",
            &before,
        )
        .await;
        let mut taken_id = reverse.clone();
        taken_id.transfer_id = Some("c-3".into());
        refused(
            &s,
            s.resolve_dispute(&w.admin, "c-2", &taken_id).await,
            "transfer_id_reused",
            &before,
        )
        .await;

        // Eight identical reversals at once: one moves money, the rest replay it.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (s, admin, input) = (s.clone(), w.admin.clone(), reverse.clone());
                tokio::spawn(async move { s.resolve_dispute(&admin, "c-2", &input).await })
            })
            .collect();
        let mut created = 0;
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            assert_eq!(
                (r.outcome.as_str(), r.reversal_id.as_deref(), r.amount_fen),
                ("reversed", Some("reversal:c-2"), 100_000)
            );
            created += usize::from(!r.replayed);
        }
        assert_eq!(created, 1, "exactly one reversal moved money");
        assert!(
            s.resolve_dispute(&w.admin, "c-2", &reverse)
                .await
                .unwrap()
                .replayed
        );
        let wallet = s.wallet(&w.founder, w.enterprise).await.unwrap();
        assert_eq!(
            wallet.wallets[0].available_fen,
            1_000_000 - 400_000 + 100_000,
            "the reversal restored the wallet"
        );
        assert!(
            wallet
                .history
                .iter()
                .any(|h| h.transfer.id == "reversal:c-2" && h.transfer.kind == "reversal")
        );
        let line = wallet
            .history
            .iter()
            .find(|h| h.transfer.id == "c-2")
            .unwrap();
        assert_eq!(
            (line.review.as_deref(), line.resolution.as_deref()),
            (Some("disputed"), Some("reversed"))
        );
        let pools = s.voucher_pools(&w.admin).await.unwrap();
        assert_eq!(
            (pools[0].reserved_fen, pools[0].spent_fen),
            (700_000, 300_000),
            "the reversed amount counts as unspent again"
        );
        // A second, different resolution is refused.
        let before = snapshot(&s).await;
        refused(
            &s,
            s.resolve_dispute(&w.admin, "c-2", &uphold).await,
            "dispute_already_resolved",
            &before,
        )
        .await;

        // Upheld: payable; replayed once more, the same answer.
        let upheld = s.resolve_dispute(&w.admin, "c-1", &uphold).await.unwrap();
        assert!(!upheld.replayed && upheld.reversal_id.is_none());
        assert!(
            s.resolve_dispute(&w.admin, "c-1", &uphold)
                .await
                .unwrap()
                .replayed
        );
        let mut reversed_instead = reverse.clone();
        reversed_instead.transfer_id = None;
        assert_eq!(
            code(
                &s.resolve_dispute(&w.admin, "c-1", &reversed_instead)
                    .await
                    .unwrap_err()
            ),
            "dispute_already_resolved"
        );

        // The voucher expires with c-4 still disputed; reversing it then
        // returns the money to the pool (the wallet is closed).
        let report = s
            .expire_vouchers(today + Duration::days(31), Utc::now() + Duration::days(31))
            .await
            .unwrap();
        assert_eq!(report.returned_fen, 700_000);
        s.resolve_dispute(&w.admin, "c-4", &reversed_instead)
            .await
            .unwrap();
        let pools = s.voucher_pools(&w.admin).await.unwrap();
        assert_eq!(
            (
                pools[0].reserved_fen,
                pools[0].spent_fen,
                pools[0].returned_fen
            ),
            (0, 200_000, 800_000)
        );
        let wallet = s.wallet(&w.founder, w.enterprise).await.unwrap();
        assert_eq!(wallet.wallets[0].available_fen, 0);

        // Settlement: c-1 upheld and c-3 confirmed are payable; reversed are not.
        let report = s.settlement(&w.vendor, p.id, today, today).await.unwrap();
        assert_eq!(
            (
                report.total_fen,
                report.disputed_fen,
                report.reversed_fen,
                report.payable_fen
            ),
            (400_000, 0, 200_000, 200_000)
        );
        let c2 = report
            .lines
            .iter()
            .find(|l| l.transfer_id == "c-2")
            .unwrap();
        assert_eq!(c2.resolution.as_deref(), Some("reversed"));
        let csv = report.to_csv();
        assert!(
            csv.contains(",100000,1000.00,disputed,reversed\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("reversed,,,,,,,,,200000,2000.00,,\r\n"),
            "{csv}"
        );
        assert!(report.to_xlsx().unwrap().starts_with(b"PK"));
        let console = s.provider_console(&w.vendor).await.unwrap();
        assert_eq!(console.receivables[0].captured_fen, 200_000);

        // The administrators' list, the enterprise's notifications, the books.
        let disputes = s.voucher_disputes(&w.admin).await.unwrap();
        assert_eq!(disputes.len(), 3);
        assert!(disputes.iter().all(|d| d.resolution.is_some()));
        assert_eq!(
            code(&s.voucher_disputes(&w.founder).await.unwrap_err()),
            "forbidden"
        );
        let notes = s.notifications(&w.founder, 50).await.unwrap();
        let kinds: Vec<&str> = notes
            .iter()
            .map(|n| n.kind.as_str())
            .filter(|k| k.starts_with("voucher_dispute"))
            .collect();
        assert_eq!(
            kinds,
            [
                "voucher_dispute_reversed",
                "voucher_dispute_upheld",
                "voucher_dispute_reversed"
            ]
        );
        let rec = s.reconcile_vouchers(&w.admin).await.unwrap();
        assert!(rec.clean, "{rec:?}");
        assert!(
            opcity_store::budget::reconcile(s.store().db())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}
