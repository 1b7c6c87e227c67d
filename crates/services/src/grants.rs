//! Granted benefits: what a person or an enterprise has been granted, from
//! a date, open-ended or to a date. Allocations that are benefits record
//! their grant here (transitional housing does), and programmes that exclude
//! each other are checked against it (the pack's `exclusion_groups`: the
//! housing subsidy and transitional housing).
//!
//! Applications and their grants are being built separately; this table is
//! meant to be the one they record into, so the exclusions hold whichever
//! path granted the benefit.

use crate::authz::{Action, Actor, Resource, authorize};
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use crate::{Services, record_change};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::District;
use opcity_store::entity::{benefit_grant, enterprise, person};
pub(crate) use opcity_store::grants::Benefit;
use opcity_store::grants::{self as store_grants, GrantError, Refusal};
use opcity_store::sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use std::fmt;
use std::str::FromStr;

pub const TRANSITIONAL_HOUSING: &str = "sz.housing.transitional";
pub const HOUSING_SUBSIDY: &str = "sz.housing.subsidy";

/// Who received a benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Person(i64),
    Enterprise(i64),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Person(id) => write!(f, "person:{id}"),
            Subject::Enterprise(id) => write!(f, "enterprise:{id}"),
        }
    }
}

impl FromStr for Subject {
    type Err = ();

    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        let (kind, id) = s.split_once(':').ok_or(())?;
        let id: i64 = id.parse().map_err(|_| ())?;
        match kind {
            "person" if id > 0 => Ok(Subject::Person(id)),
            "enterprise" if id > 0 => Ok(Subject::Enterprise(id)),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    /// `person:ID` or `enterprise:ID`.
    pub subject: String,
    /// A programme id of the pack in force.
    pub programme: String,
    /// `YYYY-MM-DD`.
    pub from: String,
    /// `YYYY-MM-DD`; absent or null: open-ended.
    pub to: Option<String>,
    /// What granted it (a decision number, an application).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct GrantView {
    pub id: i64,
    pub subject: String,
    pub programme: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    /// `recorded`, `instalments`, `voucher`, `space_request`,
    /// `space_agreement`, `housing_request`, `housing_lease`, `title`,
    /// `support` or `referral`.
    pub benefit: String,
    pub amount_fen: Option<i64>,
    pub quantity: Option<i32>,
    /// The support item, for `support`; empty otherwise.
    pub detail: String,
    /// The granting district; absent for the city.
    pub district: Option<String>,
}

impl From<&benefit_grant::Model> for GrantView {
    fn from(g: &benefit_grant::Model) -> Self {
        GrantView {
            id: g.id,
            subject: g.subject.clone(),
            programme: g.programme.clone(),
            from: g.from,
            to: g.to,
            source: g.source.clone(),
            created_at: g.created_at,
            benefit: g.benefit.clone(),
            amount_fen: g.amount_fen,
            quantity: g.quantity,
            detail: g.detail.clone(),
            district: g.district.clone(),
        }
    }
}

/// A grant about to be recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewGrant<'a> {
    pub subject: Subject,
    pub programme: &'a str,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub source: &'a str,
    pub benefit: Benefit,
    pub amount_fen: Option<i64>,
    pub quantity: Option<i32>,
    /// The granting district; `None` for the city.
    pub district: Option<District>,
    /// What is delivered with it, one row each (a title and its support).
    pub parts: &'a [Part<'a>],
}

/// A part delivered with a grant, held from the grant's start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part<'a> {
    pub benefit: Benefit,
    /// Which part (a support item's name); empty for a title.
    pub detail: &'a str,
    pub to: Option<NaiveDate>,
}

impl<'a> NewGrant<'a> {
    /// A grant of `benefit` without amount, quantity, district or support.
    pub(crate) fn plain(
        subject: Subject,
        programme: &'a str,
        (from, to): (NaiveDate, Option<NaiveDate>),
        source: &'a str,
        benefit: Benefit,
    ) -> Self {
        NewGrant {
            subject,
            programme,
            from,
            to,
            source,
            benefit,
            amount_fen: None,
            quantity: None,
            district: None,
            parts: &[],
        }
    }
}

/// The grants of `subject`, oldest first.
pub(crate) async fn grants_for<C: ConnectionTrait>(
    db: &C,
    subject: Subject,
) -> Result<Vec<benefit_grant::Model>> {
    Ok(store_grants::of_subject(db, &subject.to_string()).await?)
}

impl Services {
    /// The district that decides access to a subject's records (`None` for
    /// a person without one); `NotFound` when the subject does not exist.
    pub(crate) async fn subject_district<C: ConnectionTrait>(
        &self,
        db: &C,
        subject: Subject,
    ) -> Result<Option<District>> {
        match subject {
            Subject::Person(id) => person::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|p| p.district.and_then(|d| d.parse().ok()))
                .ok_or(ServiceError::NotFound { entity: "person" }),
            Subject::Enterprise(id) => enterprise::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|e| e.district.parse().ok())
                .ok_or(ServiceError::NotFound {
                    entity: "enterprise",
                }),
        }
    }

    /// The grants of a subject, for the subject's founder, the district's
    /// reviewer, administrators and auditors.
    pub async fn grants_of(&self, actor: &Actor, subject: &str) -> Result<Vec<GrantView>> {
        let subject: Subject = subject
            .parse()
            .map_err(|_| ServiceError::invalid("subject", "invalid_subject"))?;
        let db = self.store().db();
        let district = self.subject_district(db, subject).await?;
        let (enterprise_id, person_id) = match subject {
            Subject::Person(p) => (None, Some(p)),
            Subject::Enterprise(e) => (Some(e), None),
        };
        authorize(
            actor,
            Action::Read,
            Resource::Holding {
                enterprise_id,
                person_id,
                district,
            },
        )?;
        Ok(grants_for(db, subject)
            .await?
            .iter()
            .map(GrantView::from)
            .collect())
    }

    /// What a founder holds, for themselves and each enterprise they
    /// control: every grant row, oldest first (the "My benefits" page).
    pub async fn my_holdings(&self, actor: &Actor) -> Result<Vec<GrantView>> {
        let subjects = actor.person_id.map(Subject::Person).into_iter().chain(
            actor
                .enterprise_ids
                .iter()
                .copied()
                .map(Subject::Enterprise),
        );
        let mut held = Vec::new();
        for subject in subjects {
            held.extend(self.grants_of(actor, &subject.to_string()).await?);
        }
        held.sort_by_key(|g| (g.from, g.id));
        Ok(held)
    }

    /// Records a grant decided elsewhere (a district decision), refused when
    /// the subject already holds a programme that excludes it, or already
    /// had a one-time programme. Authorised with the subject's district.
    pub async fn record_grant(&self, actor: &Actor, input: &GrantInput) -> Result<GrantView> {
        // Refused before the input is looked at when the actor may record no
        // grant at all (not even in their own district).
        let own = Resource::Grant {
            district: actor.district,
        };
        authorize(actor, Action::Create, own)?;
        let mut c = Checker::default();
        let subject = input.subject.trim().parse::<Subject>().ok();
        if subject.is_none() {
            c.push(FieldError::new("subject", "invalid_subject"));
        }
        if self.pack().programme(input.programme.trim()).is_none() {
            c.push(FieldError::new("programme", "unknown_programme"));
        }
        let latest = NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid");
        let from = c.date("from", Some(&input.from), latest);
        if from.is_none() && input.from.trim().is_empty() {
            c.push(FieldError::new("from", "required"));
        }
        let to = c.date("to", input.to.as_deref(), latest);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            c.push(FieldError::new("to", "ends_before_start"));
        }
        let source = c.required_text("source", &input.source, 200);
        c.finish()?;
        let (subject, from) = (subject.expect("checked"), from.expect("checked"));
        let now = self.now();
        let tx = self.store().begin().await?;
        let district = self.subject_district(&tx, subject).await?;
        authorize(actor, Action::Create, Resource::Grant { district })?;
        let view = self
            .grant_in_tx(
                &tx,
                now,
                &actor.audit_label(),
                NewGrant {
                    district,
                    ..NewGrant::plain(
                        subject,
                        input.programme.trim(),
                        (from, to),
                        &source,
                        Benefit::Recorded,
                    )
                },
            )
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Records a grant inside `tx` through the store's guard
    /// (`opcity_store::grants::insert_guarded`): refused when the subject
    /// holds a grant that excludes it or already had a one-time programme,
    /// decided under the subject's turn, so two grants that exclude each
    /// other cannot both pass whichever path records them.
    pub(crate) async fn grant_in_tx(
        &self,
        tx: &DatabaseTransaction,
        now: DateTime<Utc>,
        actor_label: &str,
        grant: NewGrant<'_>,
    ) -> Result<GrantView> {
        let (subject, programme) = (grant.subject, grant.programme);
        let excluded_by = self.excluded_by(programme)?;
        let rule = self.rule(programme, &excluded_by);
        let subject_key = subject.to_string();
        let row = store_grants::NewGrant {
            subject: &subject_key,
            programme,
            from: grant.from,
            to: grant.to,
            source: grant.source,
            at: now,
            benefit: grant.benefit,
            amount_fen: grant.amount_fen,
            quantity: grant.quantity,
            detail: "",
            district: grant.district.map(District::id),
        };
        let parts: Vec<store_grants::NewGrant<'_>> = grant
            .parts
            .iter()
            .map(|part| store_grants::NewGrant {
                benefit: part.benefit,
                amount_fen: None,
                quantity: None,
                detail: part.detail,
                to: part.to,
                ..row
            })
            .collect();
        let saved = match store_grants::insert_guarded_with(tx, row, &parts, rule).await {
            Ok(mut saved) => saved.remove(0),
            Err(GrantError::Refused(refused)) => {
                return Err(ServiceError::Validation(vec![refusal_error(
                    subject, &refused,
                )]));
            }
            Err(GrantError::Store(e)) => return Err(e.into()),
        };
        let view = GrantView::from(&saved);
        record_change(
            tx,
            now,
            actor_label,
            "grant.create",
            saved.id,
            None,
            Some(&view),
        )
        .await?;
        // A grant is a fact: the subject's results move with it.
        self.refresh_entitlements(tx, affected(subject), opcity_domain::today_in_shanghai(now))
            .await?;
        Ok(view)
    }

    /// Why `subject` may not be granted `programme`, judged on its granted
    /// benefits: a grant of a programme in one of its exclusion groups
    /// (`excluded_by_grant`), or an earlier grant of a one-time programme
    /// (`already_granted`). The spec: "any grant of one makes the other
    /// ineligible". A write that depends on it decides through
    /// [`Services::grant_in_tx`], which asks again under the subject's turn.
    pub(crate) async fn refusal_by_grants<C: ConnectionTrait>(
        &self,
        db: &C,
        subject: Subject,
        programme: &str,
    ) -> Result<Option<FieldError>> {
        let excluded_by = match self.excluded_by(programme) {
            Ok(excluded_by) => excluded_by,
            Err(_) => return Ok(Some(FieldError::new("programme", "unknown_programme"))),
        };
        let rule = self.rule(programme, &excluded_by);
        Ok(
            store_grants::refusal(db, &subject.to_string(), programme, None, rule)
                .await?
                .map(|refused| refusal_error(subject, &refused)),
        )
    }

    /// The programmes of the pack in force any grant of which excludes
    /// `programme`: those sharing one of its exclusion groups.
    fn excluded_by(&self, programme: &str) -> Result<Vec<String>> {
        let pack = self.pack();
        let wanted = pack
            .programme(programme)
            .ok_or_else(|| ServiceError::invalid("programme", "unknown_programme"))?;
        Ok(pack
            .programmes()
            .iter()
            .filter(|other| {
                other.id != wanted.id
                    && other
                        .exclusion_groups
                        .iter()
                        .any(|g| wanted.exclusion_groups.contains(g))
            })
            .map(|other| other.id.to_string())
            .collect())
    }

    /// The pack's rule for a grant of `programme`, excluded by `excluded_by`.
    fn rule<'a>(&self, programme: &str, excluded_by: &'a [String]) -> store_grants::Rule<'a> {
        let pack = self.pack();
        let today = opcity_domain::today_in_shanghai(self.now());
        let wanted = pack.programme(programme);
        store_grants::Rule {
            one_time: wanted.is_some_and(|p| p.one_time),
            excluded_by,
            cap_fen: wanted.and_then(|p| pack.beneficiary_cap(p, today)),
        }
    }

    /// Moves the end of a grant (a lease renewed or ended), audited.
    pub(crate) async fn set_grant_end(
        &self,
        tx: &DatabaseTransaction,
        now: DateTime<Utc>,
        actor_label: &str,
        grant: benefit_grant::Model,
        to: Option<NaiveDate>,
    ) -> Result<()> {
        if grant.to == to {
            return Ok(());
        }
        let before = GrantView::from(&grant);
        let saved = store_grants::set_end(tx, grant, to).await?;
        let after = GrantView::from(&saved);
        record_change(
            tx,
            now,
            actor_label,
            "grant.update",
            saved.id,
            Some(&before),
            Some(&after),
        )
        .await?;
        if let Ok(subject) = saved.subject.parse() {
            self.refresh_entitlements(tx, affected(subject), opcity_domain::today_in_shanghai(now))
                .await?;
        }
        Ok(())
    }
}

fn affected(subject: Subject) -> crate::matching::Affected {
    match subject {
        Subject::Person(id) => crate::matching::Affected::person(id),
        Subject::Enterprise(id) => crate::matching::Affected::enterprise(id),
    }
}

/// The field error a refused grant answers with.
fn refusal_error(subject: Subject, refused: &Refusal) -> FieldError {
    let (code, grant) = match refused {
        Refusal::AlreadyGranted(grant) => ("already_granted", grant),
        Refusal::ExcludedBy(grant) => ("excluded_by_grant", grant),
        Refusal::AboveCap { held_fen, cap_fen } => {
            return FieldError::new("amount_fen", "above_beneficiary_cap")
                .with("held_fen", held_fen)
                .with("cap_fen", cap_fen);
        }
    };
    let field = match refused {
        Refusal::ExcludedBy(_) => subject_field(subject),
        _ => "programme",
    };
    FieldError::new(field, code)
        .with("programme", &grant.programme)
        .with("from", grant.from)
}

fn subject_field(subject: Subject) -> &'static str {
    match subject {
        Subject::Person(_) => "person_id",
        Subject::Enterprise(_) => "enterprise_id",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse_and_print() {
        assert_eq!("person:12".parse(), Ok(Subject::Person(12)));
        assert_eq!("enterprise:3".parse(), Ok(Subject::Enterprise(3)));
        assert_eq!(Subject::Person(12).to_string(), "person:12");
        for bad in [
            "person:",
            "person:x",
            "team:1",
            "12",
            "person:-1",
            "person:0",
        ] {
            assert!(bad.parse::<Subject>().is_err(), "{bad}");
        }
    }
}
