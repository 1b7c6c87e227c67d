use sea_orm::entity::prelude::*;

/// An offer or agreement holding a unit over `[start_at, end_at)`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_agreements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub request_id: Option<i64>,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub list_rent_fen: i64,
    pub monthly_rent_fen: i64,
    pub status: String,
    pub previous_id: Option<i64>,
    /// The operator's note with the offer (required for an alternative).
    pub offer_note: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
