//! The transfer rules, one test each: every assertion here fails if its
//! rule is dropped or changed.

use super::*;
use chrono::{Duration, TimeZone};

const LEDGER: &str = "sz.voucher.model";
const POOL: i64 = 1;
const WALLET: i64 = 2;
const PROVIDER: i64 = 3;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).unwrap()
}

fn account(id: i64, wallet: bool, balances: Balances) -> Account {
    Account {
        id,
        ledger: LEDGER.to_owned(),
        closed: false,
        debits_must_not_exceed_credits: wallet,
        credits_must_not_exceed_debits: false,
        balances,
    }
}

/// A pool that has funded the wallet with 10,000 fen, 4,000 of which
/// the wallet holds for the provider.
fn accounts() -> Vec<Account> {
    vec![
        account(
            POOL,
            false,
            Balances {
                debits_posted: 10_000,
                ..Balances::default()
            },
        ),
        account(
            WALLET,
            true,
            Balances {
                debits_pending: 4_000,
                credits_posted: 10_000,
                ..Balances::default()
            },
        ),
        account(
            PROVIDER,
            false,
            Balances {
                credits_pending: 4_000,
                ..Balances::default()
            },
        ),
    ]
}

/// The wallet's hold of 4,000 for the provider, expiring in ten minutes.
fn hold() -> Hold<'static> {
    Hold {
        phase: "pending",
        ledger: LEDGER,
        debit: WALLET,
        credit: PROVIDER,
        amount_fen: 4_000,
        expires_at: Some(now() + Duration::minutes(10)),
        resolved_by: None,
    }
}

fn request(op: Op) -> NewTransfer {
    NewTransfer {
        id: "t-1".to_owned(),
        body_hash: crate::ledger::hash_body(&format!("{op:?}")),
        op,
        kind: "test".to_owned(),
        reference: None,
        contract_amount_fen: None,
        use_kind: None,
        actor: "unit".to_owned(),
        at: now(),
    }
}

fn posted(debit: i64, credit: i64, amount_fen: i64) -> Op {
    capped(debit, credit, amount_fen, None)
}

/// A posted transfer with a credit limit.
fn capped(debit: i64, credit: i64, amount_fen: i64, credit_limit: Option<i64>) -> Op {
    Op::Posted {
        ledger: LEDGER.to_owned(),
        debit,
        credit,
        amount_fen,
        credit_limit,
    }
}

fn post(amount_fen: Option<i64>) -> Op {
    Op::Post {
        pending_id: "hold-1".to_owned(),
        amount_fen,
    }
}

fn void() -> Op {
    Op::Void {
        pending_id: "hold-1".to_owned(),
    }
}

fn plan_in(accounts: &[Account], op: Op, hold: Option<Hold<'_>>) -> Result<Plan, LedgerError> {
    plan(&request(op), hold, |id| {
        accounts.iter().find(|a| a.id == id)
    })
}

fn plan_of(op: Op, hold: Option<Hold<'_>>) -> Result<Plan, LedgerError> {
    plan_in(&accounts(), op, hold)
}

#[test]
fn a_posted_transfer_moves_both_posted_balances() {
    let p = plan_of(posted(WALLET, PROVIDER, 2_500), None).unwrap();
    assert_eq!(
        (p.ledger.as_str(), p.debit, p.credit),
        (LEDGER, WALLET, PROVIDER)
    );
    assert_eq!(
        (p.amount_fen, p.pending_id, p.expires_at),
        (2_500, None, None)
    );
    assert_eq!(p.debit_after.debits_posted, 2_500);
    assert_eq!(p.debit_after.debits_pending, 4_000);
    assert_eq!(p.credit_after.credits_posted, 2_500);
    assert_eq!(p.credit_after.credits_pending, 4_000);
}

#[test]
fn a_pending_transfer_moves_both_pending_balances_until_it_expires() {
    let until = now() + Duration::hours(1);
    let op = Op::Pending {
        ledger: LEDGER.to_owned(),
        debit: WALLET,
        credit: PROVIDER,
        amount_fen: 1_000,
        expires_at: until,
    };
    let p = plan_of(op, None).unwrap();
    assert_eq!(p.expires_at, Some(until));
    assert_eq!(p.debit_after.debits_pending, 5_000);
    assert_eq!(p.debit_after.debits_posted, 0);
    assert_eq!(p.credit_after.credits_pending, 5_000);
    assert_eq!(p.credit_after.credits_posted, 0);
}

#[test]
fn a_wallet_spends_up_to_what_it_has_not_spent_or_held() {
    // 10,000 credited − 4,000 held: 6,000 available, to the fen.
    let all = plan_of(posted(WALLET, PROVIDER, 6_000), None).unwrap();
    assert_eq!(all.debit_after.debits_posted, 6_000);
    assert!(matches!(
        plan_of(posted(WALLET, PROVIDER, 6_001), None),
        Err(LedgerError::Insufficient {
            account_id: WALLET,
            available_fen: 6_000
        })
    ));
    // A hold counts as a debit too.
    let hold_more = Op::Pending {
        ledger: LEDGER.to_owned(),
        debit: WALLET,
        credit: PROVIDER,
        amount_fen: 6_001,
        expires_at: now() + Duration::hours(1),
    };
    assert!(matches!(
        plan_of(hold_more, None),
        Err(LedgerError::Insufficient {
            account_id: WALLET,
            ..
        })
    ));
}

#[test]
fn an_account_without_the_flag_may_go_past_its_credits() {
    // The pool has credits of 0 and debits of 10,000 already.
    let p = plan_of(posted(POOL, WALLET, 5_000), None).unwrap();
    assert_eq!(p.debit_after.debits_posted, 15_000);
    assert_eq!(p.credit_after.credits_posted, 15_000);
}

#[test]
fn an_account_flagged_credits_must_not_exceed_debits_refuses_more_credit() {
    let mut accounts = accounts();
    accounts[2].credits_must_not_exceed_debits = true;
    assert!(matches!(
        plan_in(&accounts, posted(WALLET, PROVIDER, 1), None),
        // 0 debited − 4,000 credited pending.
        Err(LedgerError::Insufficient {
            account_id: PROVIDER,
            available_fen: -4_000
        })
    ));
}

#[test]
fn an_extreme_amount_is_refused_not_overflowed() {
    assert!(matches!(
        plan_of(posted(WALLET, PROVIDER, i64::MAX), None),
        Err(LedgerError::Insufficient {
            account_id: WALLET,
            ..
        })
    ));
    let mut rich = accounts();
    rich[1].balances.credits_posted = i64::MAX - 1;
    let op = capped(POOL, WALLET, i64::MAX, Some(i64::MAX - 1));
    assert!(matches!(
        plan_in(&rich, op, None),
        Err(LedgerError::CreditLimit {
            account_id: WALLET,
            ..
        })
    ));
}

#[test]
fn a_credit_limit_caps_the_credit_accounts_credits_posted() {
    // The wallet has 10,000 credited: 2,000 more reaches 12,000.
    let p = plan_of(capped(POOL, WALLET, 2_000, Some(12_000)), None).unwrap();
    assert_eq!(p.credit_after.credits_posted, 12_000);
    assert!(matches!(
        plan_of(capped(POOL, WALLET, 2_001, Some(12_000)), None),
        Err(LedgerError::CreditLimit {
            account_id: WALLET,
            limit_fen: 12_000
        })
    ));
}

#[test]
fn a_transfer_needs_two_open_accounts_of_its_ledger() {
    assert!(matches!(
        plan_of(posted(WALLET, WALLET, 1), None),
        Err(LedgerError::SameAccount)
    ));
    assert!(matches!(
        plan_of(posted(WALLET, 99, 1), None),
        Err(LedgerError::AccountNotFound(99))
    ));
    let elsewhere = Op::Posted {
        ledger: "sz.voucher.data".to_owned(),
        debit: WALLET,
        credit: PROVIDER,
        amount_fen: 1,
        credit_limit: None,
    };
    assert!(matches!(
        plan_of(elsewhere, None),
        Err(LedgerError::LedgerMismatch(WALLET))
    ));
    let mut closed = accounts();
    closed[2].closed = true;
    assert!(matches!(
        plan_in(&closed, posted(WALLET, PROVIDER, 1), None),
        Err(LedgerError::AccountClosed(PROVIDER))
    ));
}

#[test]
fn a_closed_account_is_named_before_its_balance() {
    let mut closed = accounts();
    closed[1].closed = true;
    assert!(matches!(
        plan_in(&closed, posted(WALLET, PROVIDER, 1_000_000), None),
        Err(LedgerError::AccountClosed(WALLET))
    ));
}

#[test]
fn when_both_accounts_refuse_the_lower_id_is_named() {
    // The provider (3) is closed and the pool (1) is in another ledger.
    let mut accounts = accounts();
    accounts[2].closed = true;
    accounts[0].ledger = "sz.voucher.data".to_owned();
    assert!(matches!(
        plan_in(&accounts, posted(PROVIDER, POOL, 1), None),
        Err(LedgerError::LedgerMismatch(POOL))
    ));
    assert!(matches!(
        plan_in(&accounts, posted(POOL, PROVIDER, 1), None),
        Err(LedgerError::LedgerMismatch(POOL))
    ));
}

#[test]
fn a_capture_posts_part_of_the_hold_and_releases_the_rest() {
    let p = plan_of(post(Some(1_500)), Some(hold())).unwrap();
    assert_eq!((p.debit, p.credit, p.amount_fen), (WALLET, PROVIDER, 1_500));
    assert_eq!(p.pending_id.as_deref(), Some("hold-1"));
    assert_eq!(p.expires_at, None);
    assert_eq!(p.debit_after.debits_pending, 0);
    assert_eq!(p.debit_after.debits_posted, 1_500);
    assert_eq!(p.credit_after.credits_pending, 0);
    assert_eq!(p.credit_after.credits_posted, 1_500);
}

#[test]
fn a_capture_takes_the_whole_hold_by_default_and_never_more() {
    let p = plan_of(post(None), Some(hold())).unwrap();
    assert_eq!(p.amount_fen, 4_000);
    assert_eq!(p.debit_after.debits_posted, 4_000);
    assert!(matches!(
        plan_of(post(Some(4_001)), Some(hold())),
        Err(LedgerError::ExceedsPending {
            amount_fen: 4_001,
            held_fen: 4_000
        })
    ));
}

#[test]
fn a_void_releases_the_whole_hold_and_posts_nothing() {
    let p = plan_of(void(), Some(hold())).unwrap();
    assert_eq!(p.amount_fen, 4_000);
    assert_eq!(p.pending_id.as_deref(), Some("hold-1"));
    assert_eq!(p.debit_after.debits_pending, 0);
    assert_eq!(p.debit_after.debits_posted, 0);
    assert_eq!(p.credit_after.credits_pending, 0);
    assert_eq!(p.credit_after.credits_posted, 0);
}

#[test]
fn an_expired_hold_can_be_voided_but_not_captured() {
    let expired = Hold {
        expires_at: Some(now()),
        ..hold()
    };
    assert!(matches!(
        plan_of(post(None), Some(expired)),
        Err(LedgerError::PendingExpired(id)) if id == "hold-1"
    ));
    assert!(plan_of(void(), Some(expired)).is_ok());
}

#[test]
fn a_hold_is_resolved_once() {
    let captured = Hold {
        resolved_by: Some("capture"),
        ..hold()
    };
    for op in [post(None), void()] {
        assert!(matches!(
            plan_of(op, Some(captured)),
            Err(LedgerError::AlreadyResolved { pending_id, by })
                if pending_id == "hold-1" && by == "capture"
        ));
    }
}

#[test]
fn only_a_stored_hold_is_resolved() {
    assert!(matches!(
        plan_of(void(), None),
        Err(LedgerError::PendingNotFound(id)) if id == "hold-1"
    ));
    let spend = Hold {
        phase: "posted",
        ..hold()
    };
    assert!(matches!(
        plan_of(post(None), Some(spend)),
        Err(LedgerError::NotPending(id)) if id == "hold-1"
    ));
}

#[test]
fn a_hold_on_a_closed_account_is_still_resolved() {
    let mut closed = accounts();
    closed[1].closed = true;
    assert!(plan_in(&closed, post(Some(100)), Some(hold())).is_ok());
    assert!(plan_in(&closed, void(), Some(hold())).is_ok());
}

#[test]
fn a_hold_no_longer_pending_on_its_accounts_asks_for_a_retry() {
    // Resolved by another writer between the read of the hold and the
    // lock of its accounts: their pending balances no longer hold it.
    let mut gone = accounts();
    gone[1].balances.debits_pending = 0;
    assert!(matches!(
        plan_in(&gone, void(), Some(hold())),
        Err(LedgerError::Duplicate)
    ));
}

#[test]
fn a_replay_is_the_same_id_with_the_same_body() {
    let t = request(posted(WALLET, PROVIDER, 1));
    assert!(replay(&t, &t.body_hash).is_ok());
    assert!(matches!(
        replay(&t, "another body"),
        Err(LedgerError::IdConflict { id }) if id == "t-1"
    ));
}

#[test]
#[should_panic(expected = "ledger transfer of 0 fen")]
fn a_zero_amount_is_a_bug_not_a_refusal() {
    let _ = plan_of(posted(WALLET, PROVIDER, 0), None);
}

#[test]
#[should_panic(expected = "capture of -1 fen")]
fn a_negative_capture_is_a_bug_not_a_refusal() {
    let _ = plan_of(post(Some(-1)), Some(hold()));
}
