use sea_orm::entity::prelude::*;

/// A file uploaded as evidence for an application (immutable).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    /// The programme's evidence item this document answers.
    pub evidence_id: String,
    pub file_name: String,
    /// Read from the content, not taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Where the object store keeps the content.
    pub storage_key: String,
    pub uploaded_by: i64,
    pub uploaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
