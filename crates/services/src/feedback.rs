//! Feedback from any page of the portal, signed in or not: kept with the
//! page it came from; administrators and auditors read it.

use crate::Services;
use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use chrono::{DateTime, Utc};
use opcity_store::feedback::NewFeedback;
use opcity_store::rate::{Kept, Limit};

/// The longest message kept, in characters.
const MESSAGE_MAX: usize = 2_000;
/// The longest page path kept.
const PAGE_MAX: usize = 300;
/// How much feedback one sender (an account, else an address) may give:
/// enough for anyone with something to say, too little to flood the list.
pub const FEEDBACK_LIMIT: Limit = Limit {
    per_sender: 5,
    window: chrono::Duration::hours(1),
};

/// One piece of feedback as administrators read it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FeedbackView {
    pub id: i64,
    /// Who gave it, by name, when signed in.
    pub from: Option<String>,
    pub page: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// A page of feedback, newest first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FeedbackPage {
    pub items: Vec<FeedbackView>,
    pub total: u64,
}

/// `page` as kept: a path of the portal, else nothing.
fn page_of(page: &str) -> String {
    let page = page.trim();
    if page.starts_with('/') && !page.starts_with("//") && page.len() <= PAGE_MAX {
        page.to_owned()
    } else {
        String::new()
    }
}

impl Services {
    /// Keeps feedback given on `page` by `actor` when signed in, else from
    /// `address` (the client's, when known); at most [`FEEDBACK_LIMIT`] a
    /// sender, beyond which `message` is refused with how long to wait.
    pub async fn give_feedback(
        &self,
        (actor, address): (Option<&Actor>, Option<&str>),
        page: &str,
        message: &str,
    ) -> Result<()> {
        let message = message.trim();
        if message.is_empty() {
            return Err(ServiceError::invalid("message", "required"));
        }
        let length = message.chars().count();
        if length > MESSAGE_MAX
            || message
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(ServiceError::Validation(vec![
                FieldError::new("message", "feedback_invalid").with("max", MESSAGE_MAX),
            ]));
        }
        let sender = match (actor, address) {
            (Some(a), _) => format!("account:{}", a.account_id),
            // Only a keyed hash of the address is kept.
            (None, Some(address)) => format!("address:{}", self.data_key().search_hash(address)),
            (None, None) => "anonymous".to_owned(),
        };
        let new = NewFeedback {
            account_id: actor.map(|a| a.account_id),
            sender: &sender,
            page: &page_of(page),
            message,
            at: self.now(),
        };
        let tx = self.store().begin().await?;
        match opcity_store::feedback::insert_within(&tx, new, FEEDBACK_LIMIT).await? {
            Kept::Yes(_) => {
                tx.commit().await?;
                Ok(())
            }
            Kept::Wait(wait) => {
                let minutes = (wait.num_seconds().max(0) + 59) / 60;
                Err(ServiceError::Validation(vec![
                    FieldError::new("message", "feedback_too_often")
                        .with("minutes", minutes.max(1)),
                ]))
            }
        }
    }

    /// Feedback, newest first (administrators and auditors).
    pub async fn feedback(&self, actor: &Actor, offset: u64, limit: u64) -> Result<FeedbackPage> {
        authorize(actor, Action::Read, Resource::AuditLog)?;
        let db = self.store().db();
        let (rows, total) = opcity_store::feedback::newest(db, offset, limit).await?;
        let names = crate::rows_by_id::<opcity_store::entity::account::Entity, _>(
            db,
            opcity_store::entity::account::Column::Id,
            rows.iter().filter_map(|r| r.account_id),
            |a| a.id,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(|r| FeedbackView {
                id: r.id,
                from: r
                    .account_id
                    .and_then(|id| names.get(&id))
                    .map(|a| a.display_name.clone()),
                page: r.page,
                message: r.message,
                created_at: r.created_at,
            })
            .collect();
        Ok(FeedbackPage { items, total })
    }
}
