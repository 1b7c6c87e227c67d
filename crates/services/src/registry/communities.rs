//! OPC communities: where founders get desks, offices and floors.

use super::{Checker, ListFilter, Paged, Paging, store_scope};
use crate::Services;
use crate::authz::{Action, Actor, Listing, Resource, authorize, list_scope};
use crate::error::{Result, ServiceError};
use chrono::NaiveDate;
use opcity_domain::District;
use opcity_store::StoreError;
use opcity_store::entity::community;
use opcity_store::registry::{self, CommunityFields};

/// The plan's size for a community with "significant agglomeration effect".
pub const TARGET_AREA_M2: i64 = 10_000;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunityInput {
    pub name_zh: String,
    pub name_en: String,
    /// District id, e.g. `nanshan`.
    pub district: String,
    pub address: String,
    pub area_m2: i64,
    pub operator_name: String,
    pub operator_account_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub opened_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CommunityView {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    #[schema(value_type = String)]
    pub district: District,
    pub address: String,
    pub area_m2: i64,
    pub operator_name: String,
    pub operator_account_id: Option<i64>,
    pub opened_on: Option<NaiveDate>,
    /// Whether it reaches the plan's 10,000 m².
    pub reaches_target_area: bool,
}

impl From<&community::Model> for CommunityView {
    fn from(c: &community::Model) -> Self {
        CommunityView {
            id: c.id,
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            district: c
                .district
                .parse()
                .expect("district ids are constrained by a foreign key"),
            address: c.address.clone(),
            area_m2: c.area_m2,
            operator_name: c.operator_name.clone(),
            operator_account_id: c.operator_account_id,
            opened_on: c.opened_on,
            reaches_target_area: c.area_m2 >= TARGET_AREA_M2,
        }
    }
}

pub(crate) struct ValidCommunity {
    name_zh: String,
    name_en: String,
    pub(crate) district: District,
    address: String,
    area_m2: i64,
    operator_name: String,
    operator_account_id: Option<i64>,
    opened_on: Option<NaiveDate>,
}

pub(crate) fn validate(input: &CommunityInput, today: NaiveDate) -> Result<ValidCommunity> {
    let mut c = Checker::default();
    let name_zh = c.required_text("name_zh", &input.name_zh, 100);
    let name_en = c.required_text("name_en", &input.name_en, 200);
    let district = c.district("district", &input.district);
    let address = c.required_text("address", &input.address, 300);
    if !(1..=10_000_000).contains(&input.area_m2) {
        c.push(
            crate::FieldError::new("area_m2", "out_of_range")
                .with("min", 1)
                .with("max", 10_000_000),
        );
    }
    let operator_name = c.required_text("operator_name", &input.operator_name, 200);
    let latest = today + chrono::Duration::days(3 * 366);
    let opened_on = c.date("opened_on", input.opened_on.as_deref(), latest);
    c.finish()?;
    Ok(ValidCommunity {
        name_zh,
        name_en,
        district: district.expect("checked"),
        address,
        area_m2: input.area_m2,
        operator_name,
        operator_account_id: input.operator_account_id,
        opened_on,
    })
}

/// What the store writes of a checked input.
pub(crate) fn fields(v: ValidCommunity) -> CommunityFields {
    CommunityFields {
        name_zh: v.name_zh,
        name_en: v.name_en,
        district: v.district.id().to_owned(),
        address: v.address,
        area_m2: v.area_m2,
        operator_name: v.operator_name,
        operator_account_id: v.operator_account_id,
        opened_on: v.opened_on,
    }
}

pub(crate) fn unknown_operator(err: StoreError) -> ServiceError {
    match err {
        StoreError::ForeignKey(_) => {
            ServiceError::invalid("operator_account_id", "unknown_account")
        }
        other => other.into(),
    }
}

impl Services {
    pub async fn list_communities(
        &self,
        actor: &Actor,
        filter: &ListFilter,
        paging: Paging,
    ) -> Result<Paged<CommunityView>> {
        let listed = registry::list_communities(
            self.store().db(),
            store_scope(list_scope(actor, Listing::Communities)),
            filter.district.map(|d| d.id()),
            filter.q.as_deref().filter(|q| !q.is_empty()),
            paging.store_page(),
        )
        .await?;
        let total = listed.total;
        Ok(Paged {
            items: listed.rows.iter().map(CommunityView::from).collect(),
            page: paging.page,
            per_page: paging.per_page,
            total,
        })
    }

    pub async fn get_community(&self, actor: &Actor, id: i64) -> Result<CommunityView> {
        let found = registry::community(self.store().db(), id).await?;
        let view = found
            .as_ref()
            .map(CommunityView::from)
            .ok_or(ServiceError::NotFound {
                entity: "community",
            })?;
        authorize(
            actor,
            Action::Read,
            Resource::Community {
                id: Some(id),
                district: view.district,
            },
        )?;
        Ok(view)
    }

    pub async fn create_community(
        &self,
        actor: &Actor,
        input: &CommunityInput,
    ) -> Result<CommunityView> {
        let now = self.now();
        let valid = validate(input, opcity_domain::today_in_shanghai(now))?;
        authorize(
            actor,
            Action::Create,
            Resource::Community {
                id: None,
                district: valid.district,
            },
        )?;
        let fields = fields(valid);
        let tx = self.store().begin().await?;
        let saved = registry::insert_community(&tx, fields, now)
            .await
            .map_err(unknown_operator)?;
        let view = CommunityView::from(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "community.create",
            saved.id,
            None,
            view,
        )
        .await
    }

    pub async fn update_community(
        &self,
        actor: &Actor,
        id: i64,
        input: &CommunityInput,
    ) -> Result<CommunityView> {
        let now = self.now();
        let valid = validate(input, opcity_domain::today_in_shanghai(now))?;
        let tx = self.store().begin().await?;
        let existing = registry::community(&tx, id)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "community",
            })?;
        let before = CommunityView::from(&existing);
        authorize(
            actor,
            Action::Update,
            Resource::Community {
                id: Some(id),
                district: before.district,
            },
        )?;
        // Moving a record to another district needs authority over both.
        authorize(
            actor,
            Action::Update,
            Resource::Community {
                id: Some(id),
                district: valid.district,
            },
        )?;
        let saved = registry::update_community(&tx, id, fields(valid), now)
            .await
            .map_err(unknown_operator)?;
        let after = CommunityView::from(&saved);
        crate::commit_change(
            tx,
            now,
            &actor.audit_label(),
            "community.update",
            id,
            Some(&before),
            after,
        )
        .await
    }
}
