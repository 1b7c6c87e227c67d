use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprises")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uscc: String,
    pub name: String,
    pub registered_date: Option<Date>,
    pub district: String,
    pub community_id: Option<i64>,
    pub size: Option<String>,
    pub ai_business: Option<bool>,
    pub gov_deployed_product: Option<bool>,
    pub demonstration_project: Option<bool>,
    pub consortium_lead: Option<bool>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
