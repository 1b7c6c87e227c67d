//! The grants guard: the one place a benefit grant is recorded. A grant
//! row is the one record of a benefit held: instalments, a voucher, a space
//! or housing request and the agreement or lease that serves it, a title
//! and its support, a referral ([`Benefit`]), each with its subject,
//! programme, source, amount or quantity, period and granting district.
//!
//! A grant is refused when its subject already holds a grant that excludes
//! it (a programme sharing one of its exclusion groups), for a one-time
//! programme, an earlier grant of the same programme, or when its amount
//! would take the subject's total of the programme, from every district and
//! path, above the programme's per-beneficiary cap. [`insert_guarded`]
//! takes the subject's turn ([`lock_subject`]) before it reads, so two
//! grants that exclude each other cannot both pass, whichever path records
//! them (an accepted offer, a housing lease, a grant recorded by hand): on
//! PostgreSQL every writer of the subject's grants waits for the turn, on
//! SQLite the `IMMEDIATE` write transaction is the turn. Which programmes
//! exclude which comes from the policy pack, so callers pass the rule.

use crate::StoreError;
use crate::entity::benefit_grant;
use crate::intervals::lock_key;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use std::collections::{BTreeMap, BTreeSet};

/// What kind of benefit a grant row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benefit {
    /// Recorded by hand from a decision made elsewhere.
    Recorded,
    Instalments,
    Voucher,
    SpaceRequest,
    SpaceAgreement,
    HousingRequest,
    HousingLease,
    Title,
    /// One support item attached to a title (`detail` names it).
    Support,
    Referral,
}

impl Benefit {
    /// The stored name (`m0013_delivery` lists them in a CHECK).
    pub fn name(self) -> &'static str {
        match self {
            Benefit::Recorded => "recorded",
            Benefit::Instalments => "instalments",
            Benefit::Voucher => "voucher",
            Benefit::SpaceRequest => "space_request",
            Benefit::SpaceAgreement => "space_agreement",
            Benefit::HousingRequest => "housing_request",
            Benefit::HousingLease => "housing_lease",
            Benefit::Title => "title",
            Benefit::Support => "support",
            Benefit::Referral => "referral",
        }
    }
}

/// A grant about to be recorded; `subject` is `person:ID` or `enterprise:ID`.
#[derive(Debug, Clone, Copy)]
pub struct NewGrant<'a> {
    pub subject: &'a str,
    pub programme: &'a str,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub source: &'a str,
    pub at: DateTime<Utc>,
    pub benefit: Benefit,
    pub amount_fen: Option<i64>,
    pub quantity: Option<i32>,
    /// Which part of a benefit delivered in parts; empty otherwise.
    pub detail: &'a str,
    pub district: Option<&'a str>,
}

/// What a grant of a programme may not meet among the subject's grants.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// A second grant of the same programme is refused.
    pub one_time: bool,
    /// Programmes any grant of which excludes this one.
    pub excluded_by: &'a [String],
    /// The most the subject may hold of the programme in total (fen),
    /// whichever district or path granted it.
    pub cap_fen: Option<i64>,
}

/// Why a grant was refused: the grant that stands in its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The subject already had this one-time programme.
    AlreadyGranted(benefit_grant::Model),
    /// The subject holds a programme that excludes this one.
    ExcludedBy(benefit_grant::Model),
    /// The amount would take the subject's total of the programme above
    /// its cap.
    AboveCap { held_fen: i64, cap_fen: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("refused by an earlier grant: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for GrantError {
    fn from(e: sea_orm::DbErr) -> Self {
        GrantError::Store(e.into())
    }
}

/// Serialises the writers of `subject`'s grants until the transaction ends.
pub async fn lock_subject<C: ConnectionTrait>(tx: &C, subject: &str) -> Result<(), StoreError> {
    lock_key(tx, &format!("grants:{subject}")).await
}

/// The grants of `subject`, oldest first.
pub async fn of_subject<C: ConnectionTrait>(
    db: &C,
    subject: &str,
) -> Result<Vec<benefit_grant::Model>, StoreError> {
    Ok(benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Subject.eq(subject))
        .order_by_asc(benefit_grant::Column::From)
        .order_by_asc(benefit_grant::Column::Id)
        .all(db)
        .await?)
}

/// The grants recorded from `source` (an application's delivery), in the
/// order written.
pub async fn of_source<C: ConnectionTrait>(
    db: &C,
    source: &str,
) -> Result<Vec<benefit_grant::Model>, StoreError> {
    Ok(benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Source.eq(source))
        .order_by_asc(benefit_grant::Column::Id)
        .all(db)
        .await?)
}

/// The grants held on `on` (begun, and not ended before it), leaving out
/// a title's support items, which ride on the title: one row per holding.
pub async fn held_on<C: ConnectionTrait>(
    db: &C,
    on: NaiveDate,
) -> Result<Vec<benefit_grant::Model>, StoreError> {
    Ok(benefit_grant::Entity::find()
        .filter(held_condition(on))
        .filter(benefit_grant::Column::Benefit.ne(Benefit::Support.name()))
        .order_by_asc(benefit_grant::Column::Id)
        .all(db)
        .await?)
}

/// Grants begun on or before `on` and not ended before it.
fn held_condition(on: NaiveDate) -> Condition {
    Condition::all()
        .add(benefit_grant::Column::From.lte(on))
        .add(
            Condition::any()
                .add(benefit_grant::Column::To.is_null())
                .add(benefit_grant::Column::To.gte(on)),
        )
}

/// Which of `subjects` hold the support item `support` (a title's
/// `priority_industrial_space`, …) on `on`: what the spaces, investment and
/// scenario modules check.
pub async fn holding_support<C: ConnectionTrait>(
    db: &C,
    subjects: &BTreeSet<String>,
    support: &str,
    on: NaiveDate,
) -> Result<BTreeSet<String>, StoreError> {
    if subjects.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Benefit.eq(Benefit::Support.name()))
        .filter(benefit_grant::Column::Detail.eq(support))
        .filter(benefit_grant::Column::Subject.is_in(subjects))
        .filter(held_condition(on))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.subject)
        .collect())
}

/// Why `subject` may not be granted `amount_fen` of `programme` under
/// `rule`: the oldest grant that refuses it, or the cap its total would
/// pass. Read under [`lock_subject`] when a write depends on it.
pub async fn refusal<C: ConnectionTrait>(
    db: &C,
    subject: &str,
    programme: &str,
    amount_fen: Option<i64>,
    rule: Rule<'_>,
) -> Result<Option<Refusal>, StoreError> {
    let mut blocking =
        Condition::any().add(benefit_grant::Column::Programme.is_in(rule.excluded_by.iter()));
    if rule.one_time {
        blocking = blocking.add(benefit_grant::Column::Programme.eq(programme));
    }
    let first = benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Subject.eq(subject))
        .filter(blocking)
        .order_by_asc(benefit_grant::Column::From)
        .order_by_asc(benefit_grant::Column::Id)
        .one(db)
        .await?;
    if let Some(grant) = first {
        return Ok(Some(if grant.programme == programme {
            Refusal::AlreadyGranted(grant)
        } else {
            Refusal::ExcludedBy(grant)
        }));
    }
    let (Some(cap_fen), Some(amount)) = (rule.cap_fen, amount_fen) else {
        return Ok(None);
    };
    let held_fen = held_amount(db, subject, programme).await?;
    Ok((held_fen + amount > cap_fen).then_some(Refusal::AboveCap { held_fen, cap_fen }))
}

/// What `subject` has been granted of `programme` in total (fen), over
/// every grant row with an amount (a title's support items have none).
pub async fn held_amount<C: ConnectionTrait>(
    db: &C,
    subject: &str,
    programme: &str,
) -> Result<i64, StoreError> {
    Ok(benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Subject.eq(subject))
        .filter(benefit_grant::Column::Programme.eq(programme))
        .all(db)
        .await?
        .iter()
        .filter_map(|g| g.amount_fen)
        .sum())
}

/// [`held_amount`] for every pair of `subjects` and `programmes` at once,
/// keyed by (subject, programme); pairs holding nothing are left out.
pub async fn held_amounts<C: ConnectionTrait>(
    db: &C,
    subjects: &BTreeSet<String>,
    programmes: &BTreeSet<String>,
) -> Result<BTreeMap<(String, String), i64>, StoreError> {
    let mut held = BTreeMap::new();
    if subjects.is_empty() || programmes.is_empty() {
        return Ok(held);
    }
    let rows = benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Subject.is_in(subjects))
        .filter(benefit_grant::Column::Programme.is_in(programmes))
        .filter(benefit_grant::Column::AmountFen.is_not_null())
        .all(db)
        .await?;
    for g in rows {
        *held.entry((g.subject, g.programme)).or_insert(0) += g.amount_fen.unwrap_or(0);
    }
    Ok(held)
}

/// Records `grant` unless `rule` refuses it, deciding under the subject's
/// turn: the only way a grant row is written.
pub async fn insert_guarded(
    tx: &DatabaseTransaction,
    grant: NewGrant<'_>,
    rule: Rule<'_>,
) -> Result<benefit_grant::Model, GrantError> {
    let mut saved = insert_guarded_with(tx, grant, &[], rule).await?;
    Ok(saved.remove(0))
}

/// Records `grant` and the `parts` delivered with it (a title's support),
/// unless `rule` refuses the grant, deciding once under the subject's turn.
/// Answers the rows written, `grant` first.
pub async fn insert_guarded_with(
    tx: &DatabaseTransaction,
    grant: NewGrant<'_>,
    parts: &[NewGrant<'_>],
    rule: Rule<'_>,
) -> Result<Vec<benefit_grant::Model>, GrantError> {
    debug_assert!(
        parts
            .iter()
            .all(|p| p.subject == grant.subject && p.programme == grant.programme),
        "parts belong to the grant's subject and programme"
    );
    lock_subject(tx, grant.subject).await?;
    if let Some(refused) =
        refusal(tx, grant.subject, grant.programme, grant.amount_fen, rule).await?
    {
        return Err(GrantError::Refused(refused));
    }
    let mut saved = Vec::with_capacity(1 + parts.len());
    for g in std::iter::once(&grant).chain(parts) {
        saved.push(row(g).insert(tx).await?);
    }
    Ok(saved)
}

fn row(g: &NewGrant<'_>) -> benefit_grant::ActiveModel {
    benefit_grant::ActiveModel {
        subject: Set(g.subject.to_owned()),
        programme: Set(g.programme.to_owned()),
        from: Set(g.from),
        to: Set(g.to),
        source: Set(g.source.to_owned()),
        created_at: Set(g.at),
        benefit: Set(g.benefit.name().to_owned()),
        amount_fen: Set(g.amount_fen),
        quantity: Set(g.quantity),
        detail: Set(g.detail.to_owned()),
        district: Set(g.district.map(str::to_owned)),
        ..Default::default()
    }
}

/// Moves the end of a grant (a lease renewed or ended).
pub async fn set_end(
    tx: &DatabaseTransaction,
    grant: benefit_grant::Model,
    to: Option<NaiveDate>,
) -> Result<benefit_grant::Model, StoreError> {
    let mut model: benefit_grant::ActiveModel = grant.into();
    model.to = Set(to);
    Ok(model.update(tx).await?)
}

/// Ends on `to` the grants recorded from `source` (an application whose
/// payments stopped); one that ends earlier keeps its end.
pub async fn end_by_source(
    tx: &DatabaseTransaction,
    source: &str,
    to: NaiveDate,
) -> Result<(), StoreError> {
    benefit_grant::Entity::update_many()
        .col_expr(
            benefit_grant::Column::To,
            sea_orm::sea_query::Expr::value(to),
        )
        .filter(benefit_grant::Column::Source.eq(source))
        .filter(
            Condition::any()
                .add(benefit_grant::Column::To.is_null())
                .add(benefit_grant::Column::To.gt(to)),
        )
        .exec(tx)
        .await?;
    Ok(())
}
