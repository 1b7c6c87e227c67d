//! The use cases of opcity: registry, accounts, audit, dashboard, the policy
//! pack in force, matching, applications, vouchers, spaces, e-mail and demo
//! data, each a method of [`Services`] taking the [`Actor`].
//!
//! Architecture invariants:
//! - Access is decided in [`authz`]: every function that reads or changes a
//!   record takes the [`Actor`] and asks [`authz::authorize`] (or a list
//!   scope) before touching it; [`authz::permits`] answers the same question
//!   without an error, for pages deciding which forms to offer. Use cases
//!   still read the actor's role for what follows from an allowed act (the
//!   party a reviewer plays, whether reviews are shown, recusal, defaults).
//! - Every state change appends to the audit log in the same transaction.
//! - `services` reads with sea-orm query builders where a view needs a join
//!   or filter; every write goes through a named guard in `opcity_store`
//!   (being finished: issue #16, part 1).
//! - This crate knows nothing about HTTP; it returns typed values and
//!   [`ServiceError`]s whose codes are one table, [`ErrorCode`].
//!
//! Concurrency, path by path. PostgreSQL runs READ COMMITTED, so a read
//! followed by a write is a race unless the write is guarded or the row
//! locked:
//! - every group commit (`groups`, over `opcity_store::group`) answers each
//!   request with the row of its own identity: submissions and approvals by
//!   application id (`RETURNING` of one guarded UPDATE), instrument bookings
//!   by instrument, interval, enterprise and booker, in rounds of pairwise
//!   disjoint bookings;
//! - every benefit grant is written by `opcity_store::grants::insert_guarded`
//!   (the subject's turn, then the pack's exclusions and one-time rule): an
//!   accepted offer, a transitional-housing lease, a grant recorded by hand;
//! - a write that depends on a row it read locks the row first
//!   (`opcity_store::rows::lock_by_id`): a lease's renewal, move-in and
//!   move-out, an agreement's responses, end and move, a booking's decision,
//!   cancellation, check-in and no-show release, an application's form and
//!   documents; application moves are guarded UPDATEs (state and form as
//!   read), budgets and ledger balances conditional UPDATEs;
//! - a four-eyes approval reads the approvals already given with the
//!   application locked, in its group's transaction, so two reviewers at
//!   once complete it;
//! - left as they are, deliberately: edits of registry records, inventory
//!   and providers replace a whole record with what the editor sent (last
//!   writer wins; nothing is derived from the read).
//!
//! `opcity_testkit::workload` proves them together: a seeded, randomized
//! concurrent workload over two processes' services on both backends, held
//! against a reference model built from the answers (`tests/workload.rs`; a
//! longer soak: `bench/workload/soak.sh`); the `opcity` binary's
//! `tests/crash_safety.rs` kills `opcity serve` with SIGKILL under load and
//! finds every acknowledged write.

pub mod account_admin;
pub mod accounts;
pub mod applications;
pub mod audit;
pub mod authz;
pub mod consult;
pub mod crypto;
pub mod dashboard;
pub mod demo;
pub mod districts;
mod error;
mod error_code;
pub mod feedback;
pub mod grants;
mod groups;
pub mod import;
pub mod integrity;
pub mod interests;
pub mod locale_files;
pub mod mail;
pub mod matching;
pub mod policy;
pub mod policy_drafts;
pub mod regions;
pub mod registry;
pub mod sheet;
pub mod sign_up;
pub mod spaces;
pub mod sso;
pub mod vouchers;

pub use authz::Actor;
pub use error::{ErrorCode, ErrorStatus, FieldError, Result, ServiceError};

use chrono::{DateTime, Utc};
use crypto::DataKey;
use opcity_store::Store;
use std::sync::Arc;

/// The services over one store. Cheap to clone (shared state is behind `Arc`).
#[derive(Debug, Clone)]
pub struct Services {
    store: Store,
    data_key: Arc<DataKey>,
    pack: policy::PackHandle,
    documents: Option<applications::DocumentStore>,
    /// The group committers, each started on first use.
    groups: Arc<groups::Groups>,
    /// The clause index of the pack in force, when consultation is on.
    library: consult::LibraryHandle,
    /// The SMTP transport, when e-mail is on.
    mailer: Option<mail::Mailer>,
    /// The identity provider, when single sign-on is on.
    sso: Option<Arc<sso::Sso>>,
    /// The other regions' packs, for the self-check and consultation.
    other_packs: regions::OtherPacks,
}

impl Services {
    pub fn new(store: Store, data_key: DataKey, pack: opcity_policy::Pack) -> Services {
        Services {
            store,
            data_key: Arc::new(data_key),
            pack: policy::PackHandle::new(pack),
            documents: None,
            groups: Arc::default(),
            library: consult::LibraryHandle::default(),
            mailer: None,
            sso: None,
            other_packs: regions::OtherPacks::default(),
        }
    }

    /// Sends e-mail through `mailer`: links of sign-up and password reset
    /// at once (notifications go through the outbox, `mail`).
    pub fn with_mailer(mut self, mailer: mail::Mailer) -> Services {
        self.mailer = Some(mailer);
        self
    }

    pub(crate) fn mailer(&self) -> Option<&mail::Mailer> {
        self.mailer.as_ref()
    }

    /// Whether the platform sends e-mail (SMTP configured).
    pub fn mail_enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// These services for a group committer's task, with queues of their
    /// own: holding the shared ones would keep every committer alive for
    /// as long as any of them runs.
    pub(crate) fn for_committers(&self) -> Services {
        Services {
            groups: Arc::default(),
            ..self.clone()
        }
    }

    /// Where application documents are kept (without one, uploads fail).
    pub fn with_documents(mut self, documents: applications::DocumentStore) -> Services {
        self.documents = Some(documents);
        self
    }

    pub(crate) fn document_store(&self) -> Option<&applications::DocumentStore> {
        self.documents.as_ref()
    }

    /// The size limit of one uploaded document, in bytes.
    pub fn document_limit(&self) -> usize {
        self.documents
            .as_ref()
            .map_or(applications::evidence::DEFAULT_MAX_BYTES, |d| d.max_bytes())
    }

    pub(crate) fn pack_handle(&self) -> &policy::PackHandle {
        &self.pack
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn data_key(&self) -> &DataKey {
        &self.data_key
    }

    /// The current instant. One place, so that every record of one request is
    /// stamped from the same clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Appends the audit entry for one change, inside the change's transaction.
/// The entity is the first word of the action (`enterprise.update`).
pub(crate) async fn record_change<T: serde::Serialize>(
    tx: &opcity_store::sea_orm::DatabaseTransaction,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    entity_id: i64,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<()> {
    opcity_store::audit::append(tx, now, change(actor, action, entity_id, before, after)).await?;
    Ok(())
}

/// The rows of `E` whose `id` column is among `ids`, keyed by `key`: the
/// records a page of other rows names, loaded in one query.
pub(crate) async fn rows_by_id<E, C>(
    db: &C,
    id: E::Column,
    ids: impl IntoIterator<Item = i64>,
    key: impl Fn(&E::Model) -> i64,
) -> Result<std::collections::BTreeMap<i64, E::Model>>
where
    E: opcity_store::sea_orm::EntityTrait,
    C: opcity_store::sea_orm::ConnectionTrait,
{
    use opcity_store::sea_orm::{ColumnTrait, QueryFilter};
    Ok(E::find()
        .filter(id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (key(&row), row))
        .collect())
}

/// A view of something an enterprise or a person asked for or holds (an
/// application, a request, an agreement, a booking, a lease), named on
/// reads by [`name_parties`].
pub(crate) trait Party {
    /// The enterprise and the person it is for.
    fn party(&self) -> (Option<i64>, Option<i64>);
    fn set_party_name(&mut self, name: Option<String>);
}

/// Names each view's party by the enterprise's name when one is named,
/// else the person's (two queries for any number of views).
pub(crate) async fn name_parties<'v, C, V>(
    db: &C,
    views: impl IntoIterator<Item = &'v mut V>,
) -> Result<()>
where
    C: opcity_store::sea_orm::ConnectionTrait,
    V: Party + 'v,
{
    use opcity_store::entity::{enterprise, person};
    let mut views: Vec<&mut V> = views.into_iter().collect();
    let enterprises = rows_by_id::<enterprise::Entity, _>(
        db,
        enterprise::Column::Id,
        views.iter().filter_map(|v| v.party().0),
        |e| e.id,
    )
    .await?;
    let persons = rows_by_id::<person::Entity, _>(
        db,
        person::Column::Id,
        views.iter().filter_map(|v| match v.party() {
            (None, person) => person,
            _ => None,
        }),
        |p| p.id,
    )
    .await?;
    for v in &mut views {
        let name = match v.party() {
            (Some(e), _) => enterprises.get(&e).map(|e| e.name.clone()),
            (None, Some(p)) => persons.get(&p).map(|p| p.full_name.clone()),
            (None, None) => None,
        };
        v.set_party_name(name);
    }
    Ok(())
}

/// Ends a write: its audit entry ([`record_change`], `after` being the
/// result) in `tx`, the commit, and the result for the caller.
pub(crate) async fn commit_change<T: serde::Serialize>(
    tx: opcity_store::WriteTx,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    entity_id: i64,
    before: Option<&T>,
    after: T,
) -> Result<T> {
    record_change(&tx, now, actor, action, entity_id, before, Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// The audit entry of a change to the entity named by `action`'s first
/// part (`booking.create`: a booking), with its views before and after.
pub(crate) fn change<'a, T: serde::Serialize>(
    actor: &'a str,
    action: &'a str,
    entity_id: i64,
    before: Option<&T>,
    after: Option<&T>,
) -> opcity_store::audit::Change<'a> {
    let to_json = |v: &T| serde_json::to_value(v).expect("views serialise");
    opcity_store::audit::Change {
        actor,
        action,
        entity: action.split('.').next().unwrap_or(action),
        entity_id: entity_id.to_string(),
        before: before.map(to_json),
        after: after.map(to_json),
    }
}

impl Services {
    /// Whether the database answers, for readiness probes.
    pub async fn ping(&self) -> Result<()> {
        self.store.db().ping().await?;
        Ok(())
    }
}
