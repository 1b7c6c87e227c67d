use sea_orm::entity::prelude::*;

/// A reviewer's decision on an application.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    pub reviewer_id: i64,
    pub decision: String,
    pub amount_fen: Option<i64>,
    /// The total of `scores`, when the programme has a rubric.
    pub score: Option<i32>,
    /// Rubric scores as a JSON object: criterion → points.
    pub scores: Option<String>,
    pub comment: Option<String>,
    /// The reviewer declared no conflict of interest.
    pub no_conflict_declared: bool,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
