use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub district: Option<String>,
    pub locale: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    /// Where e-mail notifications go (optional).
    pub email: Option<String>,
    /// Whether the account wants its notifications by e-mail too.
    pub email_notifications: bool,
    /// Notifications created before this instant are not e-mailed (set when
    /// the account opts in or changes its address).
    pub email_since: Option<DateTimeUtc>,
    /// The administrator who created the account (`None`: the command line
    /// or the demo data).
    pub created_by: Option<i64>,
    /// What a self-registered account waits for before it may sign in:
    /// `email` or `operator` (see migration m0020); `None` once confirmed.
    pub awaiting: Option<String>,
    /// A keyed hash of the address a sign-up came from (its rate limit).
    pub signup_sender: Option<String>,
    /// The identity provider's subject this account signs in as
    /// (`ISSUER#SUB`, see migration m0021); unique.
    #[sea_orm(unique)]
    pub sso_subject: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
