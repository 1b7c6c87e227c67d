use sea_orm::entity::prelude::*;

/// A benefit granted to `person:ID` or `enterprise:ID`; `to = None` is open-ended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: String,
    pub programme: String,
    pub from: Date,
    pub to: Option<Date>,
    pub source: String,
    pub created_at: DateTimeUtc,
    /// What kind of benefit: `instalments`, `voucher`, `title`, … (see
    /// `m0013_delivery`); `recorded` for a grant recorded by hand.
    pub benefit: String,
    pub amount_fen: Option<i64>,
    pub quantity: Option<i32>,
    /// The part of a benefit delivered in parts (a title's support item);
    /// empty otherwise.
    pub detail: String,
    /// The district that granted it (`None`: the city, or unknown).
    pub district: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
