use sea_orm::entity::prelude::*;

/// One immutable change of a budget.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub budget_id: i64,
    pub application_id: Option<i64>,
    pub disbursement_id: Option<i64>,
    pub kind: String,
    pub amount_fen: i64,
    pub actor: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
