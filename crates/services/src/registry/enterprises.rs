//! Enterprises, identified by their Unified Social Credit Code, and the
//! founder link to persons.

use super::{Checker, ListFilter, Paged, Paging, SIZES, store_scope};
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Action, Actor, Listing, Resource, authorize, list_scope};
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use chrono::NaiveDate;
use opcity_domain::{District, Uscc, UsccError};
use opcity_store::StoreError;
use opcity_store::entity::enterprise;
use opcity_store::registry::{self, EnterpriseFields};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseInput {
    /// 18-character Unified Social Credit Code (GB 32100-2015).
    pub uscc: String,
    pub name: String,
    pub registered_date: Option<String>,
    pub district: String,
    /// The OPC community it is sited in, if any (must be in the same district).
    pub community_id: Option<i64>,
    /// `micro`, `small`, `medium` or `large`.
    pub size: Option<String>,
    pub ai_business: Option<bool>,
    pub gov_deployed_product: Option<bool>,
    pub demonstration_project: Option<bool>,
    pub consortium_lead: Option<bool>,
    /// Administrators may name the founding person at creation; a founder
    /// creating an enterprise is linked automatically.
    pub founder_person_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct EnterpriseView {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub registered_date: Option<NaiveDate>,
    #[schema(value_type = String)]
    pub district: District,
    pub community_id: Option<i64>,
    pub in_opc_community: bool,
    pub size: Option<String>,
    pub ai_business: Option<bool>,
    pub gov_deployed_product: Option<bool>,
    pub demonstration_project: Option<bool>,
    pub consortium_lead: Option<bool>,
    /// Person ids of its founders.
    pub founders: Vec<i64>,
}

fn view(e: &enterprise::Model, founders: Vec<i64>) -> EnterpriseView {
    EnterpriseView {
        id: e.id,
        uscc: e.uscc.clone(),
        name: e.name.clone(),
        registered_date: e.registered_date,
        district: e
            .district
            .parse()
            .expect("district ids are constrained by a foreign key"),
        community_id: e.community_id,
        in_opc_community: e.community_id.is_some(),
        size: e.size.clone(),
        ai_business: e.ai_business,
        gov_deployed_product: e.gov_deployed_product,
        demonstration_project: e.demonstration_project,
        consortium_lead: e.consortium_lead,
        founders,
    }
}

pub(crate) struct ValidEnterprise {
    uscc: Uscc,
    name: String,
    registered_date: Option<NaiveDate>,
    pub(crate) district: District,
    size: Option<String>,
}

pub(crate) fn validate(input: &EnterpriseInput, today: NaiveDate) -> Result<ValidEnterprise> {
    let mut c = Checker::default();
    let uscc_text = input.uscc.trim().to_ascii_uppercase();
    let uscc = if uscc_text.is_empty() {
        c.push(FieldError::new("uscc", "required"));
        None
    } else {
        match Uscc::parse(&uscc_text) {
            Ok(u) => Some(u),
            Err(err) => {
                c.push(uscc_error(err));
                None
            }
        }
    };
    let name = c.required_text("name", &input.name, 200);
    let registered_date = c.date("registered_date", input.registered_date.as_deref(), today);
    let district = c.district("district", &input.district);
    let size = c.one_of("size", input.size.as_deref(), &SIZES);
    c.finish()?;
    Ok(ValidEnterprise {
        uscc: uscc.expect("checked"),
        name,
        registered_date,
        district: district.expect("checked"),
        size,
    })
}

/// A precise, localisable error for each way a credit code can be wrong.
pub(crate) fn uscc_error(err: UsccError) -> FieldError {
    let e = |code| FieldError::new("uscc", code);
    match err {
        UsccError::Length(n) => e("uscc_length").with("length", n),
        UsccError::Character { position, ch } => e("uscc_character")
            .with("position", position)
            .with("char", ch),
        UsccError::Division => e("uscc_division"),
        UsccError::OrganisationCheck { found, expected } => e("uscc_organisation_check")
            .with("found", found)
            .with("expected", expected),
        UsccError::Check { found, expected } => e("uscc_check")
            .with("found", found)
            .with("expected", expected),
    }
}

/// Refuses a community that does not exist or lies in another district.
async fn check_community(
    tx: &opcity_store::WriteTx,
    community_id: Option<i64>,
    district: District,
) -> Result<()> {
    let Some(id) = community_id else {
        return Ok(());
    };
    match registry::community(tx, id).await? {
        None => Err(ServiceError::invalid("community_id", "unknown_community")),
        Some(c) if c.district != district.id() => Err(ServiceError::Validation(vec![
            FieldError::new("community_id", "community_district_mismatch")
                .with("district", c.district),
        ])),
        Some(_) => Ok(()),
    }
}

pub(crate) fn duplicate_uscc(err: StoreError) -> ServiceError {
    match err {
        e if e.is_unique_on("uscc") => ServiceError::Conflict {
            code: ErrorCode::UsccTaken,
            field: Some("uscc"),
        },
        e => e.into(),
    }
}

/// What the store writes of a checked input.
pub(crate) fn fields(input: &EnterpriseInput, v: ValidEnterprise) -> EnterpriseFields {
    EnterpriseFields {
        uscc: v.uscc.to_string(),
        name: v.name,
        registered_date: v.registered_date,
        district: v.district.id().to_owned(),
        community_id: input.community_id,
        size: v.size,
        ai_business: input.ai_business,
        gov_deployed_product: input.gov_deployed_product,
        demonstration_project: input.demonstration_project,
        consortium_lead: input.consortium_lead,
    }
}

impl Services {
    pub async fn list_enterprises(
        &self,
        actor: &Actor,
        filter: &ListFilter,
        paging: Paging,
    ) -> Result<Paged<EnterpriseView>> {
        let db = self.store().db();
        let listed = registry::list_enterprises(
            db,
            store_scope(list_scope(actor, Listing::Enterprises)),
            filter.district.map(|d| d.id()),
            filter.q.as_deref().filter(|q| !q.is_empty()),
            paging.store_page(),
        )
        .await?;
        let (rows, total) = (listed.rows, listed.total);
        let ids: Vec<i64> = rows.iter().map(|e| e.id).collect();
        let links = registry::founder_links(db, ids).await?;
        let items = rows
            .iter()
            .map(|e| {
                view(
                    e,
                    links
                        .iter()
                        .filter(|l| l.enterprise_id == e.id)
                        .map(|l| l.person_id)
                        .collect(),
                )
            })
            .collect();
        Ok(Paged {
            items,
            page: paging.page,
            per_page: paging.per_page,
            total,
        })
    }

    pub async fn get_enterprise(&self, actor: &Actor, id: i64) -> Result<EnterpriseView> {
        let db = self.store().db();
        let model = registry::enterprise(db, id)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "enterprise",
            })?;
        let v = view(&model, registry::founders_of(db, id).await?);
        authorize(
            actor,
            Action::Read,
            Resource::Enterprise {
                id: Some(id),
                district: v.district,
                community_id: v.community_id,
            },
        )?;
        Ok(v)
    }

    pub async fn create_enterprise(
        &self,
        actor: &Actor,
        input: &EnterpriseInput,
    ) -> Result<EnterpriseView> {
        let now = self.now();
        let valid = validate(input, opcity_domain::today_in_shanghai(now))?;
        let district = valid.district;
        authorize(
            actor,
            Action::Create,
            Resource::Enterprise {
                id: None,
                district,
                community_id: input.community_id,
            },
        )?;
        let founder_id = match (actor.person_id, input.founder_person_id) {
            (_, Some(named)) if actor.role == opcity_domain::Role::MunicipalAdmin => Some(named),
            (_, Some(_)) => return Err(ServiceError::invalid("founder_person_id", "not_allowed")),
            (own, None) if actor.role == opcity_domain::Role::Founder => own,
            (_, None) => None,
        };
        let tx = self.store().begin().await?;
        check_community(&tx, input.community_id, district).await?;
        let saved = registry::insert_enterprise(&tx, fields(input, valid), now)
            .await
            .map_err(duplicate_uscc)?;
        if let Some(person_id) = founder_id {
            registry::link_founder(
                &tx,
                person_id,
                saved.id,
                registry::LEGAL_REPRESENTATIVE,
                now,
            )
            .await
            .map_err(|e| match e {
                StoreError::ForeignKey(_) => {
                    ServiceError::invalid("founder_person_id", "unknown_person")
                }
                other => other.into(),
            })?;
        }
        let v = view(&saved, founder_id.into_iter().collect());
        let label = actor.audit_label();
        let change = crate::change(&label, "enterprise.create", saved.id, None, Some(&v));
        self.commit_fact_change(tx, now, change, Affected::enterprise(saved.id))
            .await?;
        Ok(v)
    }

    pub async fn update_enterprise(
        &self,
        actor: &Actor,
        id: i64,
        input: &EnterpriseInput,
    ) -> Result<EnterpriseView> {
        let now = self.now();
        let valid = validate(input, opcity_domain::today_in_shanghai(now))?;
        if input.founder_person_id.is_some() {
            return Err(ServiceError::invalid("founder_person_id", "not_allowed"));
        }
        let tx = self.store().begin().await?;
        let existing = registry::enterprise(&tx, id)
            .await?
            .ok_or(ServiceError::NotFound {
                entity: "enterprise",
            })?;
        let founders = registry::founders_of(&tx, id).await?;
        let before = view(&existing, founders.clone());
        authorize(
            actor,
            Action::Update,
            Resource::Enterprise {
                id: Some(id),
                district: before.district,
                community_id: before.community_id,
            },
        )?;
        authorize(
            actor,
            Action::Update,
            Resource::Enterprise {
                id: Some(id),
                district: valid.district,
                community_id: input.community_id,
            },
        )?;
        check_community(&tx, input.community_id, valid.district).await?;
        let saved = registry::update_enterprise(&tx, id, fields(input, valid), now)
            .await
            .map_err(duplicate_uscc)?;
        let after = view(&saved, founders);
        let label = actor.audit_label();
        let change = crate::change(&label, "enterprise.update", id, Some(&before), Some(&after));
        self.commit_fact_change(tx, now, change, Affected::enterprise(id))
            .await?;
        Ok(after)
    }
}
