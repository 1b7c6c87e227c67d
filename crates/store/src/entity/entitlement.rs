use sea_orm::entity::prelude::*;

/// The current result of one programme for one subject (`person:ID` or
/// `enterprise:ID`), kept up to date by proactive matching.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "entitlements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub programme: String,
    pub status: String,
    pub amount_fen: Option<i64>,
    pub ceiling_fen: Option<i64>,
    pub monthly_fen: Option<i64>,
    pub months: Option<i64>,
    /// JSON array of fact names.
    pub missing_facts: String,
    pub as_of: Date,
    pub pack_version: String,
    pub evaluated_at: DateTimeUtc,
    /// The date the subject became eligible (kept while eligible).
    pub eligible_since: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
