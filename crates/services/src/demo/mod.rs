//! A realistic, clearly fictional demo data set: communities in the four
//! first-wave districts, a few hundred persons and enterprises with varied
//! facts, one account per role (and a second provider), spaces, housing and
//! instruments ([`spaces`]), approved providers and model vouchers with
//! holds and captures ([`vouchers`]), and budgets for every programme that
//! pays ([`budgets`]). Everything goes through the same
//! service functions as real input, so it is validated and audited like
//! real data. Seeding lives here, apart from the use cases it calls, so a
//! production module never carries demo code.

mod budgets;
mod spaces;
mod vouchers;

use crate::ErrorCode;
use crate::Services;
use crate::accounts::NewAccount;
use crate::authz::Actor;
use crate::error::{Result, ServiceError};
use crate::registry::communities::CommunityInput;
use crate::registry::enterprises::EnterpriseInput;
use crate::registry::persons::PersonInput;
use chrono::{Datelike, Duration, NaiveDate};
use opcity_domain::{District, Role, Uscc};
use opcity_store::entity::account;
use opcity_store::sea_orm::{EntityTrait, PaginatorTrait};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// A demo login, printed once when the data is loaded.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub logins: Vec<DemoLogin>,
    pub communities: usize,
    pub persons: usize,
    pub enterprises: usize,
}

const SURNAMES: [&str; 16] = [
    "陈", "林", "黄", "张", "李", "王", "吴", "刘", "蔡", "杨", "郑", "谢", "何", "许", "邓", "梁",
];
const GIVEN: [&str; 20] = [
    "一鸣", "思远", "雨桐", "子涵", "浩然", "欣怡", "俊杰", "诗涵", "晨曦", "梓轩", "嘉怡", "宇航",
    "若曦", "明哲", "佳琪", "天佑", "语嫣", "志强", "静怡", "博文",
];
const FIRMS: [&str; 12] = [
    "智算", "灵犀", "深蓝", "星火", "元启", "云帆", "极光", "鹏程", "知微", "数澜", "启明", "海纳",
];
const TRADES: [&str; 6] = [
    "智能科技",
    "数据服务",
    "机器人",
    "模型工坊",
    "智能体工作室",
    "算力服务",
];

/// Division codes of the districts (used in generated credit codes).
fn division_code(d: District) -> &'static str {
    match d {
        District::Futian => "440304",
        District::Luohu => "440303",
        District::Yantian => "440308",
        District::Nanshan => "440305",
        District::Baoan => "440306",
        District::Longgang => "440307",
        District::Longhua => "440309",
        District::Pingshan => "440310",
        District::Guangming => "440311",
        District::Dapeng => "440343",
    }
}

/// The fictional communities: (zh, en, district, address, m²).
const COMMUNITIES: [(&str, &str, District, &str, i64); 8] = [
    (
        "南山智谷OPC社区",
        "Nanshan AI Valley OPC Community",
        District::Nanshan,
        "南山区科苑南路示例大厦1-6层",
        18_500,
    ),
    (
        "蛇口创想OPC社区",
        "Shekou Ideas OPC Community",
        District::Nanshan,
        "南山区望海路示例园区B栋",
        9_200,
    ),
    (
        "大运AI小镇OPC社区",
        "Dayun AI Town OPC Community",
        District::Longgang,
        "龙岗区龙飞大道示例基地",
        26_000,
    ),
    (
        "坂田智造OPC社区",
        "Bantian Smart Making OPC Community",
        District::Longgang,
        "龙岗区坂田示例创新港3号楼",
        12_400,
    ),
    (
        "河套前沿OPC社区",
        "Hetao Frontier OPC Community",
        District::Futian,
        "福田区福保示例科研楼",
        15_800,
    ),
    (
        "香蜜湖OPC社区",
        "Xiangmihu OPC Community",
        District::Futian,
        "福田区香蜜湖示例中心",
        6_300,
    ),
    (
        "光明科学城OPC社区",
        "Guangming Science City OPC Community",
        District::Guangming,
        "光明区示例科学城启动区",
        21_000,
    ),
    (
        "凤凰OPC社区",
        "Fenghuang OPC Community",
        District::Guangming,
        "光明区凤凰街道示例园",
        7_700,
    ),
];

fn random_uscc(rng: &mut StdRng, district: District) -> Uscc {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    loop {
        let body: String = (0..8)
            .map(|_| char::from(*CHARS.choose(rng).expect("non-empty")))
            .collect();
        // "91" = enterprise registered with market regulation.
        if let Ok(code) = Uscc::complete(&format!("91{}{body}", division_code(district))) {
            return code;
        }
    }
}

fn date_between(rng: &mut StdRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    from + Duration::days(rng.random_range(0..=(to - from).num_days()))
}

/// A yes/no fact that is known with probability `known` and, when known, true
/// with probability `yes`.
fn maybe_bool(rng: &mut StdRng, known: f64, yes: f64) -> Option<bool> {
    rng.random_bool(known).then(|| rng.random_bool(yes))
}

impl Services {
    /// Loads the demo data into an empty database. Refuses when accounts exist,
    /// so it never mixes with real data.
    pub async fn load_demo(&self, seed: u64) -> Result<DemoReport> {
        if account::Entity::find().count(self.store().db()).await? > 0 {
            return Err(ServiceError::Conflict {
                code: ErrorCode::DatabaseNotEmpty,
                field: None,
            });
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut logins = Vec::new();
        // Passwords come from the operating system's randomness, not the seeded
        // generator, so that a known seed never means known logins.
        let mut make =
            async |username: &str, name: &str, role: Role, district: Option<District>| {
                let password = crate::accounts::random_token(12);
                let view = self
                    .create_account(
                        None,
                        NewAccount {
                            username: username.to_owned(),
                            display_name: name.to_owned(),
                            password: password.clone(),
                            role,
                            district,
                            locale: "zh-CN".to_owned(),
                        },
                    )
                    .await?;
                logins.push(DemoLogin {
                    username: username.to_owned(),
                    role,
                    password,
                });
                Ok::<i64, ServiceError>(view.id)
            };
        let admin_id = make("admin", "市工信局管理员", Role::MunicipalAdmin, None).await?;
        make(
            "reviewer.nanshan",
            "南山区审核员",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await?;
        make(
            "reviewer.longgang",
            "龙岗区审核员",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await?;
        let operator_id = make(
            "operator",
            "社区运营方（示例）",
            Role::CommunityOperator,
            None,
        )
        .await?;
        let founder_id = make("founder", "陈思远（示例创业者）", Role::Founder, None).await?;
        let provider_id = make("provider", "示例算力服务商", Role::ServiceProvider, None).await?;
        let model_vendor_id = make(
            "provider.model",
            "示例模型接口服务商",
            Role::ServiceProvider,
            None,
        )
        .await?;
        make("investor", "示例天使投资人", Role::Investor, None).await?;
        make("auditor", "审计员", Role::Auditor, None).await?;

        let admin = self.system_actor(admin_id).await?;
        let mut community_ids = Vec::new();
        for (i, (zh, en, district, address, area)) in COMMUNITIES.iter().enumerate() {
            let input = CommunityInput {
                name_zh: (*zh).to_owned(),
                name_en: (*en).to_owned(),
                district: district.id().to_owned(),
                address: (*address).to_owned(),
                area_m2: *area,
                operator_name: "示例运营管理有限公司".to_owned(),
                // The demo operator runs the first two communities.
                operator_account_id: (i < 2).then_some(operator_id),
                opened_on: Some(format!("2026-{:02}-15", 1 + i)),
            };
            community_ids.push((self.create_community(&admin, &input).await?.id, *district));
        }

        self.demo_spaces(&admin, community_ids[0].0, provider_id)
            .await?;
        let persons = self.demo_persons(&admin, &mut rng, founder_id).await?;
        let enterprises = self
            .demo_enterprises(&admin, &mut rng, &persons, &community_ids)
            .await?;
        self.demo_budgets(&admin).await?;
        self.demo_vouchers(&admin, &mut rng, founder_id, [provider_id, model_vendor_id])
            .await?;
        Ok(DemoReport {
            logins,
            communities: community_ids.len(),
            persons: persons.len(),
            enterprises,
        })
    }

    /// The actor for the account signing in as `username` (the command
    /// line's `--as`), if it exists and is not disabled.
    pub async fn actor_by_username(&self, username: &str) -> Result<Actor> {
        use opcity_store::sea_orm::{ColumnTrait, QueryFilter};
        let account = account::Entity::find()
            .filter(account::Column::Username.eq(username))
            .one(self.store().db())
            .await?
            .ok_or(ServiceError::NotFound { entity: "account" })?;
        if account.disabled {
            return Err(ServiceError::Forbidden);
        }
        self.actor_for(&account, None).await
    }

    /// The actor for an account, used by the command line and the demo loader.
    pub async fn system_actor(&self, account_id: i64) -> Result<Actor> {
        let account = account::Entity::find_by_id(account_id)
            .one(self.store().db())
            .await?
            .ok_or(ServiceError::NotFound { entity: "account" })?;
        self.actor_for(&account, None).await
    }

    async fn demo_persons(
        &self,
        admin: &Actor,
        rng: &mut StdRng,
        founder_account: i64,
    ) -> Result<Vec<(i64, District)>> {
        let districts = [
            District::Nanshan,
            District::Longgang,
            District::Futian,
            District::Guangming,
            District::Baoan,
            District::Longhua,
        ];
        let degrees = [
            "bachelor",
            "bachelor",
            "master",
            "master",
            "doctorate",
            "associate",
            "none",
        ];
        let mut out = Vec::new();
        for i in 0..300 {
            let district = *districts.choose(rng).expect("non-empty");
            let birth = date_between(
                rng,
                NaiveDate::from_ymd_opt(1980, 1, 1).expect("valid"),
                NaiveDate::from_ymd_opt(2003, 12, 31).expect("valid"),
            );
            let degree = *degrees.choose(rng).expect("non-empty");
            let graduation_year = (birth.year() + rng.random_range(21..=30)).min(2026);
            let degree_date = NaiveDate::from_ymd_opt(graduation_year, 7, 1).expect("valid");
            let hukou = rng.random_bool(0.6);
            let hukou_since = hukou.then(|| {
                date_between(
                    rng,
                    NaiveDate::from_ymd_opt(2018, 1, 1).expect("valid"),
                    NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid"),
                )
            });
            let name = format!(
                "{}{}",
                SURNAMES.choose(rng).expect("non-empty"),
                GIVEN.choose(rng).expect("non-empty")
            );
            let input = PersonInput {
                full_name: if i == 0 { "陈思远".to_owned() } else { name },
                district: Some(district.id().to_owned()),
                email: Some(format!("person{i}@example.org")),
                birth_date: Some(birth.to_string()),
                highest_degree: Some(degree.to_owned()),
                degree_date: (degree != "none").then(|| degree_date.to_string()),
                overseas_degree: maybe_bool(rng, 0.9, 0.2),
                has_shenzhen_hukou: if hukou || rng.random_bool(0.9) {
                    Some(hukou)
                } else {
                    None
                },
                hukou_shenzhen_since: hukou_since.map(|d| d.to_string()),
                works_in_ai: maybe_bool(rng, 0.95, 0.85),
                kunpeng_selected: maybe_bool(rng, 0.8, 0.05),
                high_level_talent: maybe_bool(rng, 0.8, 0.03),
                resident_id: None,
                account_id: (i == 0).then_some(founder_account),
            };
            let view = self.create_person(admin, &input).await?;
            out.push((view.id, district));
        }
        Ok(out)
    }

    async fn demo_enterprises(
        &self,
        admin: &Actor,
        rng: &mut StdRng,
        persons: &[(i64, District)],
        communities: &[(i64, District)],
    ) -> Result<usize> {
        let sizes = ["micro", "micro", "micro", "small", "small", "medium"];
        let mut count = 0;
        // Every other person has founded an enterprise.
        for (i, (person_id, district)) in persons.iter().step_by(2).enumerate() {
            let in_district: Vec<i64> = communities
                .iter()
                .filter(|(_, d)| d == district)
                .map(|(id, _)| *id)
                .collect();
            let community_id = if in_district.is_empty() || rng.random_bool(0.4) {
                None
            } else {
                in_district.choose(rng).copied()
            };
            let name = format!(
                "深圳市{}{}有限公司（示例）",
                FIRMS.choose(rng).expect("non-empty"),
                TRADES.choose(rng).expect("non-empty")
            );
            let input = EnterpriseInput {
                uscc: random_uscc(rng, *district).to_string(),
                name,
                registered_date: Some(
                    date_between(
                        rng,
                        NaiveDate::from_ymd_opt(2019, 1, 1).expect("valid"),
                        NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid"),
                    )
                    .to_string(),
                ),
                district: district.id().to_owned(),
                community_id,
                size: Some((*sizes.choose(rng).expect("non-empty")).to_owned()),
                // The demo founder's own enterprise (the first) works in
                // AI, so its login shows vouchers.
                ai_business: Some(rng.random_bool(0.85) || i == 0),
                gov_deployed_product: Some(rng.random_bool(0.08)),
                demonstration_project: Some(rng.random_bool(0.1)),
                consortium_lead: Some(rng.random_bool(0.03)),
                founder_person_id: Some(*person_id),
            };
            self.create_enterprise(admin, &input).await?;
            count += 1;
        }
        Ok(count)
    }
}
