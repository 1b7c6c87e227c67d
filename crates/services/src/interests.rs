//! The conflict-of-interest register: a reviewer declares, ahead of any
//! case, the enterprises and persons they are tied to (a relative, an
//! employer, a shareholding, anything else), picked by name. From their
//! next request the declarations recuse them as being the applicant does
//! (`applications::review::check_conflict_of_interest`, through
//! `Actor::declared`): they cannot decide those cases, are not offered them
//! and cannot be given them (`applications::workbench`). A declaration is
//! withdrawn, never deleted; administrators and auditors read the whole
//! register. Every change is audited (`interest.declare`,
//! `interest.withdraw`). The guard is `opcity_store::interests`.

use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{ErrorCode, FieldError, Result, ServiceError};
use crate::{Services, record_change};
use chrono::{DateTime, Utc};
use opcity_store::entity::{account, declared_interest, enterprise, person};
use opcity_store::interests::{self, NewInterest, Party};

/// The ties a declaration may name.
pub const RELATIONS: [&str; 4] = ["family", "employment", "ownership", "other"];
const NOTE_MAX: usize = 500;

/// A declaration as the form sends it: the party typed into a picker.
#[derive(Debug, Clone, Default)]
pub struct InterestInput {
    /// `enterprise` or `person`.
    pub kind: String,
    /// What was typed into the picker of that kind.
    pub party: String,
    pub relation: String,
    pub note: String,
}

/// One line of the register, with names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterestView {
    pub id: i64,
    pub reviewer_id: i64,
    pub reviewer: String,
    /// `enterprise` or `person`.
    pub kind: &'static str,
    pub party_id: i64,
    pub party_name: String,
    pub relation: String,
    pub note: String,
    pub declared_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl Services {
    /// Whether `actor` keeps declarations (pages ask before they offer the
    /// register).
    pub fn may_declare_interests(&self, actor: &Actor) -> bool {
        crate::authz::permits(
            actor,
            Action::Create,
            Resource::Interests {
                owner: actor.account_id,
            },
        )
    }

    /// Declares `actor`'s tie to a party they may read. The same party
    /// twice is `party: already_declared`.
    pub async fn declare_interest(
        &self,
        actor: &Actor,
        input: &InterestInput,
    ) -> Result<InterestView> {
        let owner = actor.account_id;
        authorize(actor, Action::Create, Resource::Interests { owner })?;
        let mut errors = Vec::new();
        let relation = input.relation.trim();
        if !RELATIONS.contains(&relation) {
            errors.push(FieldError::new("relation", "required"));
        }
        let note = input.note.trim();
        if note.chars().count() > NOTE_MAX {
            errors.push(FieldError::new("note", "too_long").with("max", NOTE_MAX));
        }
        let picked = match input.kind.as_str() {
            "enterprise" => self
                .pick_enterprise(actor, "party", &input.party)
                .await
                .map(|id| id.map(Party::Enterprise)),
            "person" => self
                .pick_person(actor, "party", &input.party)
                .await
                .map(|id| id.map(Party::Person)),
            _ => Err(ServiceError::invalid("kind", "required")),
        };
        let party = match picked {
            Ok(Some(party)) => Some(party),
            Ok(None) => {
                errors.push(FieldError::new("party", "required"));
                None
            }
            Err(ServiceError::Validation(more)) => {
                errors.extend(more);
                None
            }
            Err(other) => return Err(other),
        };
        let Some(party) = party.filter(|_| errors.is_empty()) else {
            return Err(ServiceError::Validation(errors));
        };
        let now = self.now();
        let tx = self.store().begin().await?;
        let new = NewInterest {
            account_id: owner,
            party,
            relation,
            note,
            at: now,
        };
        let Some(saved) = interests::declare(&tx, new).await? else {
            return Err(ServiceError::Conflict {
                code: ErrorCode::AlreadyDeclared,
                field: Some("party"),
            });
        };
        let view = self.interest_views(vec![saved]).await?.remove(0);
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "interest.declare",
            view.id,
            None,
            Some(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Withdraws `actor`'s declaration `id` (its history stays).
    pub async fn withdraw_interest(&self, actor: &Actor, id: i64) -> Result<()> {
        let owner = actor.account_id;
        authorize(actor, Action::Update, Resource::Interests { owner })?;
        let now = self.now();
        let tx = self.store().begin().await?;
        if !interests::withdraw(&tx, id, owner, now).await? {
            return Err(ServiceError::NotFound {
                entity: "declaration",
            });
        }
        let note = serde_json::json!({ "withdrawn_at": now });
        record_change(
            &tx,
            now,
            &actor.audit_label(),
            "interest.withdraw",
            id,
            None,
            Some(&note),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The register `actor` may read, newest first: their own, or (for
    /// administrators and auditors) everyone's.
    pub async fn interest_register(&self, actor: &Actor) -> Result<Vec<InterestView>> {
        let everyone =
            crate::authz::permits(actor, Action::Read, Resource::Interests { owner: -1 });
        let owner = actor.account_id;
        if !everyone {
            authorize(actor, Action::Read, Resource::Interests { owner })?;
        }
        let rows = interests::register(self.store().db(), (!everyone).then_some(owner)).await?;
        self.interest_views(rows).await
    }

    async fn interest_views(
        &self,
        rows: Vec<declared_interest::Model>,
    ) -> Result<Vec<InterestView>> {
        let db = self.store().db();
        let reviewers = crate::rows_by_id::<account::Entity, _>(
            db,
            account::Column::Id,
            rows.iter().map(|r| r.account_id),
            |a| a.id,
        )
        .await?;
        let enterprises = crate::rows_by_id::<enterprise::Entity, _>(
            db,
            enterprise::Column::Id,
            rows.iter().filter_map(|r| r.enterprise_id),
            |e| e.id,
        )
        .await?;
        let persons = crate::rows_by_id::<person::Entity, _>(
            db,
            person::Column::Id,
            rows.iter().filter_map(|r| r.person_id),
            |p| p.id,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (kind, party_id, party_name) = match (r.enterprise_id, r.person_id) {
                    (Some(e), _) => ("enterprise", e, enterprises.get(&e).map(|e| e.name.clone())),
                    (None, Some(p)) => ("person", p, persons.get(&p).map(|p| p.full_name.clone())),
                    (None, None) => ("person", 0, None),
                };
                InterestView {
                    id: r.id,
                    reviewer_id: r.account_id,
                    reviewer: reviewers
                        .get(&r.account_id)
                        .map_or_else(String::new, |a| a.display_name.clone()),
                    kind,
                    party_id,
                    party_name: party_name.unwrap_or_default(),
                    relation: r.relation,
                    note: r.note,
                    declared_at: r.declared_at,
                    withdrawn_at: r.withdrawn_at,
                }
            })
            .collect())
    }
}
