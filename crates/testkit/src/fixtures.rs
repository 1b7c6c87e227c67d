//! Fixtures for service-level stories: accounts of each role, founders with
//! their enterprise, valid credit codes. Each goes through the services'
//! own entry points, so what a story sets up passes the same checks a user
//! would.

use opcity_domain::{District, Role};
use opcity_services::accounts::NewAccount;
use opcity_services::applications::{Decision, ReviewInput};
use opcity_services::registry::communities::CommunityInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::{Actor, Services};

/// The password every fixture account has.
pub const PASSWORD: &str = "correct horse battery";

/// A new account of `role` (a district reviewer's in `district`), as the
/// actor its sign-in gives; its language is English.
pub async fn account(s: &Services, name: &str, role: Role, district: Option<District>) -> Actor {
    account_in(s, name, role, district, "en").await
}

/// [`account`] in another language (`zh-CN`, `en`): what its e-mails and
/// pages are written in.
pub async fn account_in(
    s: &Services,
    name: &str,
    role: Role,
    district: Option<District>,
    locale: &str,
) -> Actor {
    let view = s
        .create_account(
            None,
            NewAccount {
                username: name.into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                role,
                district,
                locale: locale.into(),
            },
        )
        .await
        .expect("create a fixture account");
    s.system_actor(view.id).await.expect("the account's actor")
}

/// A valid unified social credit code numbered `n`: the two check
/// characters are found by trying each (the domain crate validates both).
pub fn uscc(n: usize) -> String {
    let body = format!("91440300{n:08}");
    for org in "0123456789X".chars() {
        for check in "0123456789ABCDEFGHJKLMNPQRTUWXY".chars() {
            let candidate = format!("{body}{org}{check}");
            if opcity_domain::Uscc::parse(&candidate).is_ok() {
                return candidate;
            }
        }
    }
    panic!("no valid code for {n}")
}

/// A valid resident id number numbered `n` (distinct for distinct `n`
/// below 36,500,000): born `n / 1000` days after 1960-01-01, sequence `n % 1000`.
pub fn resident_id(n: usize) -> String {
    let born = chrono::NaiveDate::from_ymd_opt(1960, 1, 1).expect("a date")
        + chrono::Duration::days((n / 1000) as i64);
    let first17 = format!("440305{}{:03}", born.format("%Y%m%d"), n % 1000);
    let check = opcity_domain::resident_id::check_char(first17.as_bytes());
    format!("{first17}{check}")
}

/// A founder signed in, with the person record and the enterprise he
/// founded.
#[derive(Debug, Clone)]
pub struct Founder {
    pub actor: Actor,
    pub person_id: i64,
    pub enterprise_id: i64,
}

/// Who a fixture founder is: his account, his person record and the
/// enterprise he registers himself. Start from
/// [`FounderSpec::young_ai`] and change what a story needs.
#[derive(Debug, Clone)]
pub struct FounderSpec {
    pub username: String,
    pub locale: String,
    pub person: PersonInput,
    pub enterprise: EnterpriseInput,
}

impl FounderSpec {
    /// A young AI founder in Nanshan (born 1996, a master's degree, working
    /// in AI) with an AI micro-enterprise whose credit code is `uscc(n)`.
    pub fn young_ai(username: &str, n: usize) -> FounderSpec {
        FounderSpec {
            username: username.into(),
            locale: "en".into(),
            person: PersonInput {
                full_name: username.into(),
                district: Some("nanshan".into()),
                birth_date: Some("1996-05-20".into()),
                highest_degree: Some("master".into()),
                degree_date: Some("2023-07-01".into()),
                works_in_ai: Some(true),
                ..Default::default()
            },
            enterprise: EnterpriseInput {
                uscc: uscc(n),
                name: format!("{username} AI"),
                district: "nanshan".into(),
                ai_business: Some(true),
                size: Some("micro".into()),
                ..Default::default()
            },
        }
    }

    /// The same founder writing in `locale`.
    pub fn locale(mut self, locale: &str) -> FounderSpec {
        self.locale = locale.into();
        self
    }

    /// The same founder under other names: his own (as on his resident
    /// id) and his enterprise's.
    pub fn named(mut self, full_name: &str, enterprise: &str) -> FounderSpec {
        self.person.full_name = full_name.into();
        self.enterprise.name = enterprise.into();
        self
    }

    /// The same founder with an enterprise whose credit code is `code`.
    pub fn uscc(mut self, code: &str) -> FounderSpec {
        self.enterprise.uscc = code.into();
        self
    }
}

/// A founder as `spec` says, recorded by `admin` (the person) and by
/// himself (the enterprise, which makes him its founder).
pub async fn founder(s: &Services, admin: &Actor, spec: FounderSpec) -> Founder {
    let acct = account_in(s, &spec.username, Role::Founder, None, &spec.locale).await;
    let person = s
        .create_person(
            admin,
            &PersonInput {
                account_id: Some(acct.account_id),
                ..spec.person
            },
        )
        .await
        .expect("create the founder's person record");
    let me = s.system_actor(acct.account_id).await.expect("actor");
    let enterprise = s
        .create_enterprise(&me, &spec.enterprise)
        .await
        .expect("create the founder's enterprise");
    Founder {
        actor: s.system_actor(acct.account_id).await.expect("actor"),
        person_id: person.id,
        enterprise_id: enterprise.id,
    }
}

/// [`FounderSpec::young_ai`]'s founder with enterprise number `n`.
pub async fn founder_with_enterprise(s: &Services, admin: &Actor, name: &str, n: usize) -> Founder {
    founder(s, admin, FounderSpec::young_ai(name, n)).await
}

/// Nanshan's housing-subsidy budget for this year (the services' today),
/// holding `total_fen`.
pub async fn nanshan_housing_budget(s: &Services, admin: &Actor, total_fen: i64) {
    use chrono::Datelike;
    s.create_budget(
        admin,
        &opcity_services::applications::budgets::BudgetInput {
            programme: "sz.housing.subsidy".into(),
            year: opcity_domain::today_in_shanghai(s.now()).year(),
            authority: "nanshan".into(),
            total_fen,
        },
    )
    .await
    .expect("create the housing-subsidy budget");
}

/// A Nanshan talent apartment coded `code` (35 m², ¥3,000 a month at
/// market rent), added by `admin`; its id.
pub async fn nanshan_flat(s: &Services, admin: &Actor, code: &str) -> i64 {
    let unit = opcity_services::spaces::housing::HousingUnitInput {
        district: "nanshan".into(),
        community_id: None,
        address: "人才公寓1栋".into(),
        code: code.into(),
        kind: "apartment".into(),
        area_m2: 35,
        market_rent_fen: 300_000,
        active: None,
    };
    s.create_housing_unit(admin, &unit)
        .await
        .expect("add a housing unit")
        .id
}

/// "Bay", an OPC community in Nanshan opened in March 2026, run by the
/// community operator `operator_account_id`.
pub fn bay_community(operator_account_id: i64) -> CommunityInput {
    CommunityInput {
        name_zh: "湾区社区".into(),
        name_en: "Bay".into(),
        district: "nanshan".into(),
        address: "科技园1号".into(),
        area_m2: 12_000,
        operator_name: "运营方".into(),
        operator_account_id: Some(operator_account_id),
        opened_on: Some("2026-03-01".into()),
    }
}

/// A community in Nanshan, "Bay", run by `operator`, with one desk for
/// one: (community id, desk id).
pub async fn nanshan_desk(s: &Services, admin: &Actor, operator: &Actor) -> (i64, i64) {
    let community = s
        .create_community(admin, &bay_community(operator.account_id))
        .await
        .unwrap()
        .id;
    let building = s
        .create_building(
            admin,
            &opcity_services::spaces::inventory::BuildingInput {
                community_id: Some(community),
                district: Some("nanshan".into()),
                name: "A座".into(),
                address: "科技园1号".into(),
            },
        )
        .await
        .unwrap();
    let floor = s
        .create_floor(
            admin,
            &opcity_services::spaces::inventory::FloorInput {
                building_id: building.id,
                level: 3,
                label: "3F".into(),
            },
        )
        .await
        .unwrap();
    let desk = s
        .create_unit(
            admin,
            &opcity_services::spaces::inventory::UnitInput {
                floor_id: floor.id,
                kind: "desk".into(),
                code: "D-01".into(),
                area_m2: 6,
                capacity: 1,
                list_rent_fen: 72_000,
                discounted_rent_fen: 36_000,
                active: None,
            },
        )
        .await
        .unwrap();
    (community, desk.id)
}

/// An office for four (code `O-01`) on the floor of the [`nanshan_desk`]
/// `desk`: its id.
pub async fn office_beside(s: &Services, admin: &Actor, desk: i64) -> i64 {
    use opcity_store::sea_orm::EntityTrait;
    let floor = opcity_store::entity::space_unit::Entity::find_by_id(desk)
        .one(s.store().db())
        .await
        .expect("read the desk")
        .expect("the desk exists")
        .floor_id;
    s.create_unit(
        admin,
        &opcity_services::spaces::inventory::UnitInput {
            floor_id: floor,
            kind: "office".into(),
            code: "O-01".into(),
            area_m2: 30,
            capacity: 4,
            list_rent_fen: 600_000,
            discounted_rent_fen: 300_000,
            active: None,
        },
    )
    .await
    .expect("create the office")
    .id
}

/// A reviewer's `decision` for `amount_fen`, with no conflict of interest
/// declared and no scores, internal note or message to the applicant: what
/// most stories send.
pub fn review(decision: Decision, amount_fen: Option<i64>) -> ReviewInput {
    ReviewInput {
        decision,
        amount_fen,
        scores: Default::default(),
        comment: None,
        no_conflict_declared: true,
        return_deadline: None,
        applicant_reason: None,
        different_amount_confirmed: false,
    }
}

/// An approval of `amount_fen` ([`review`]).
pub fn approval(amount_fen: i64) -> ReviewInput {
    review(Decision::Approve, Some(amount_fen))
}

/// A GPU server of Shenzhen University's compute centre in Nanshan,
/// bookable by the hour 09:00–21:00 on weekdays, with a weekly `quota` in
/// hours (or none) and, when `approval`, bookings its manager confirms.
pub fn gpu_instrument(
    quota: Option<i32>,
    approval: bool,
) -> opcity_services::spaces::instruments::InstrumentInput {
    opcity_services::spaces::instruments::InstrumentInput {
        name: "A100 服务器".into(),
        kind: "gpu_server".into(),
        institution: "深圳大学算力中心".into(),
        district: "nanshan".into(),
        slot_minutes: 60,
        opens: "09:00".into(),
        closes: "21:00".into(),
        open_days: "12345".into(),
        quota_hours_week: quota,
        requires_approval: approval,
        cancel_notice_hours: 24,
        no_show_grace_minutes: 15,
        ..Default::default()
    }
}

/// `founder`'s housing-subsidy application (idempotency key `key`) with
/// its evidence supplied, ready to submit; its id.
pub async fn housing_application(s: &Services, founder: &Actor, key: &str) -> i64 {
    let application = s
        .create_application(
            founder,
            &opcity_services::applications::NewApplication {
                programme: "sz.housing.subsidy".into(),
                idempotency_key: Some(key.into()),
                ..Default::default()
            },
        )
        .await
        .expect("create a housing-subsidy application");
    crate::supply_evidence(s, founder, application.id).await;
    application.id
}

/// Runs `n` attempts at once (they wait for each other at a barrier) and
/// returns their outcomes in attempt order.
pub async fn race<T, E, F, Fut>(n: usize, attempt: F) -> Vec<Result<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let fut = attempt(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("an attempt panicked"));
    }
    out
}
