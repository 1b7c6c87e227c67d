//! Continuous eligibility at scale: `opcity entitlements recheck` over
//! COUNT benefits being delivered (monthly housing subsidies, one per young
//! founder and enterprise), of which one in a hundred no longer qualifies
//! (its holder is over the age limit). Times the first recheck (every
//! benefit re-evaluated, the lapses flagged and their notices written) and
//! a second (the lapses found flagged already), and fails unless each
//! counts exactly what it must.
//!
//! The population is written straight into the tables in bulk (persons,
//! enterprises, founder links, applications in the state a delivered
//! benefit is in, the district reviewer's approval of each, and the grant
//! its delivery recorded, which the recheck reads with the case): building
//! 100,000 through the use cases would take the benchmark's time, and the
//! recheck reads only these rows. Each lapse is told to its applicant and
//! to the reviewer who approved it (two notices), and the run fails unless
//! exactly those are written.
//!
//! `cargo run --release -p opcity-bench --bin recheck_bench -- URL [COUNT]`
//! (URL: `sqlite://FILE` or `postgres://…/DB` of an empty database).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{NaiveDate, Utc};
use opcity_domain::{District, Role, Uscc};
use opcity_services::Services;
use opcity_services::accounts::NewAccount;
use opcity_services::crypto::DataKey;
use opcity_store::Store;
use opcity_store::entity::{
    application, benefit_grant, enterprise, founder, notification, person, review,
};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::time::Instant;

const PROGRAMME: &str = "sz.housing.subsidy";
/// Rows per INSERT.
const CHUNK: usize = 1_000;
/// One holder in this many no longer qualifies.
const LAPSED_ONE_IN: usize = 100;

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// A valid credit code for enterprise `n`.
fn uscc(n: usize) -> String {
    (0..)
        .find_map(|k| Uscc::complete(&format!("91440300{:08}", n * 10 + k)).ok())
        .expect("some suffix completes")
        .to_string()
}

async fn populate(s: &Services, count: usize, created_by: i64, reviewer: i64) {
    let db = s.store().db();
    let now = Utc::now();
    for start in (0..count).step_by(CHUNK) {
        let range = start..(start + CHUNK).min(count);
        // Ids are given, so the founder links and applications can name them.
        let persons = range.clone().map(|i| person::ActiveModel {
            id: Set(i as i64 + 1),
            account_id: Set(None),
            full_name: Set(format!("holder {i}")),
            district: Set(Some("nanshan".into())),
            email: Set(None),
            birth_date: Set(Some(if i % LAPSED_ONE_IN == 0 {
                date("1980-01-01")
            } else {
                date("1996-05-20")
            })),
            highest_degree: Set(Some("master".into())),
            degree_date: Set(Some(date("2023-07-01"))),
            overseas_degree: Set(None),
            has_shenzhen_hukou: Set(None),
            hukou_shenzhen_since: Set(None),
            works_in_ai: Set(Some(true)),
            kunpeng_selected: Set(None),
            high_level_talent: Set(None),
            resident_id_cipher: Set(None),
            resident_id_hash: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        person::Entity::insert_many(persons)
            .exec_without_returning(db)
            .await
            .expect("persons");
        let enterprises = range.clone().map(|i| enterprise::ActiveModel {
            id: Set(i as i64 + 1),
            uscc: Set(uscc(i)),
            name: Set(format!("holder {i} AI")),
            registered_date: Set(Some(date("2025-03-01"))),
            district: Set("nanshan".into()),
            community_id: Set(None),
            size: Set(Some("micro".into())),
            ai_business: Set(Some(true)),
            gov_deployed_product: Set(None),
            demonstration_project: Set(None),
            consortium_lead: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        enterprise::Entity::insert_many(enterprises)
            .exec_without_returning(db)
            .await
            .expect("enterprises");
        let links = range.clone().map(|i| founder::ActiveModel {
            person_id: Set(i as i64 + 1),
            enterprise_id: Set(i as i64 + 1),
            capacity: Set("legal_representative".into()),
            created_at: Set(now),
        });
        founder::Entity::insert_many(links)
            .exec_without_returning(db)
            .await
            .expect("founder links");
        let apps = range.clone().map(|i| application::ActiveModel {
            id: Set(i as i64 + 1),
            programme: Set(PROGRAMME.into()),
            person_id: Set(Some(i as i64 + 1)),
            enterprise_id: Set(None),
            district: Set("nanshan".into()),
            state: Set("disbursing".into()),
            requested_fen: Set(None),
            approved_fen: Set(Some(3_000_000)),
            budget_id: Set(None),
            created_by: Set(created_by),
            idempotency_key: Set(None),
            form_data: Set("{}".into()),
            explanation: Set(None),
            pack_version: Set(None),
            return_deadline: Set(None),
            submitted_at: Set(Some(now)),
            decided_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
        });
        application::Entity::insert_many(apps)
            .exec_without_returning(db)
            .await
            .expect("applications");
        // The approval that decided each benefit: its reviewer is told of a lapse.
        let reviews = range.clone().map(|i| review::ActiveModel {
            application_id: Set(i as i64 + 1),
            reviewer_id: Set(reviewer),
            decision: Set("approve".into()),
            amount_fen: Set(Some(3_000_000)),
            score: Set(None),
            scores: Set(None),
            comment: Set(None),
            no_conflict_declared: Set(true),
            at: Set(now),
            ..Default::default()
        });
        review::Entity::insert_many(reviews)
            .exec_without_returning(db)
            .await
            .expect("reviews");
        // What the delivery recorded: 24 monthly instalments from this year's start.
        let grants = range.map(|i| benefit_grant::ActiveModel {
            subject: Set(format!("person:{}", i + 1)),
            programme: Set(PROGRAMME.into()),
            from: Set(date("2026-01-01")),
            to: Set(Some(date("2027-12-31"))),
            source: Set(format!("application:{}", i + 1)),
            created_at: Set(now),
            benefit: Set("instalments".into()),
            amount_fen: Set(Some(3_000_000)),
            quantity: Set(None),
            detail: Set(String::new()),
            district: Set(Some("nanshan".into())),
            ..Default::default()
        });
        benefit_grant::Entity::insert_many(grants)
            .exec_without_returning(db)
            .await
            .expect("grants");
    }
}

/// The notices of `kind` written so far.
async fn notices(s: &Services, kind: &str) -> u64 {
    notification::Entity::find()
        .filter(notification::Column::Kind.eq(kind))
        .count(s.store().db())
        .await
        .expect("notifications")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("database URL").clone();
    let count: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let pack = opcity_policy::Pack::load_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/shenzhen-2026"
    ))
    .expect("pack");
    let store = Store::open(&url).await.expect("database");
    let s = Services::new(
        store,
        DataKey::from_base64(&DataKey::generate_base64()).expect("key"),
        pack,
    );
    let admin = s
        .create_account(
            None,
            NewAccount {
                username: "admin".into(),
                display_name: "admin".into(),
                password: "recheck bench password".into(),
                role: Role::MunicipalAdmin,
                district: None,
                locale: "en".into(),
            },
        )
        .await
        .expect("account");
    let reviewer = s
        .create_account(
            None,
            NewAccount {
                username: "reviewer".into(),
                display_name: "reviewer".into(),
                password: "recheck bench password".into(),
                role: Role::DistrictReviewer,
                district: Some(District::Nanshan),
                locale: "en".into(),
            },
        )
        .await
        .expect("account");
    let start = Instant::now();
    populate(&s, count, admin.id, reviewer.id).await;
    println!(
        "populated {count} benefits in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let today = opcity_domain::today_in_shanghai(s.now());
    let lapsed = count.div_ceil(LAPSED_ONE_IN);
    for (round, already) in [("first", 0), ("second", lapsed)] {
        let start = Instant::now();
        let run = s.recheck_entitlements(today).await.expect("recheck");
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{round} recheck: {} benefits in {seconds:.2} s = {:.0}/s; {} flagged, {} flagged already",
            run.checked,
            run.checked as f64 / seconds,
            run.flagged,
            run.already_flagged
        );
        assert_eq!(run.checked, count);
        assert_eq!(run.still_eligible, count - lapsed);
        assert_eq!(
            (run.flagged, run.already_flagged),
            (lapsed - already, already)
        );
        // Each lapse told once, to its applicant and to its reviewer.
        assert_eq!(
            (
                notices(&s, "benefit_flagged").await,
                notices(&s, "flag_to_review").await
            ),
            (lapsed as u64, lapsed as u64)
        );
    }
}
