use sea_orm::entity::prelude::*;

/// One change of a policy draft: a parameter's value or a condition's text
/// from a date (see migration m0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_draft_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draft_id: i64,
    pub kind: String,
    pub effective_from: Date,
    pub parameter: Option<String>,
    pub value: Option<i64>,
    pub programme: Option<String>,
    pub condition: Option<String>,
    pub expression: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
