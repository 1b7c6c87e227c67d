use sea_orm::entity::prelude::*;

/// A natural person with the talent facts of the policy spec. `None` means
/// "not known"; `has_shenzhen_hukou = Some(false)` is the known fact "no
/// Shenzhen hukou" (the spec's `hukou_shenzhen_since: null`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub account_id: Option<i64>,
    pub full_name: String,
    pub district: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<Date>,
    pub highest_degree: Option<String>,
    pub degree_date: Option<Date>,
    pub overseas_degree: Option<bool>,
    pub has_shenzhen_hukou: Option<bool>,
    pub hukou_shenzhen_since: Option<Date>,
    pub works_in_ai: Option<bool>,
    pub kunpeng_selected: Option<bool>,
    pub high_level_talent: Option<bool>,
    /// XChaCha20-Poly1305 ciphertext (nonce ‖ ciphertext, base64) of the resident id.
    pub resident_id_cipher: Option<String>,
    /// The keyed hash that finds the person by exact resident id
    /// (HMAC-SHA256 under a key derived from the data key, hex): no part of
    /// the number is stored in clear. Computed by the services, which hold the key.
    pub resident_id_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
