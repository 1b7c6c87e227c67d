use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub programme: String,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub district: String,
    pub state: String,
    pub requested_fen: Option<i64>,
    pub approved_fen: Option<i64>,
    pub budget_id: Option<i64>,
    pub created_by: i64,
    pub idempotency_key: Option<String>,
    /// The applicant's form fields (JSON object).
    pub form_data: String,
    /// The engine's result for this programme at submission (JSON).
    pub explanation: Option<String>,
    pub pack_version: Option<String>,
    pub return_deadline: Option<Date>,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
