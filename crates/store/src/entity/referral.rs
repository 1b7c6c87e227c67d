use sea_orm::entity::prelude::*;

/// An approved benefit handed to the partner that decides it (a guaranteed
/// loan to the financing desk).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    pub programme: String,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub district: String,
    /// `financing` or `national_compute`.
    pub partner: String,
    pub amount_fen: Option<i64>,
    /// `open`, `in_progress` or `closed`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
