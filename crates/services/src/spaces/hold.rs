//! Writing holdings: check the interval is free inside the write
//! transaction, and when the database refuses a write anyway (on PostgreSQL a
//! racing transaction committed first; its exclusion constraint decides),
//! answer with the interval that now holds the resource.

use crate::ErrorCode;
use crate::Services;
use crate::error::{Result, ServiceError};
use chrono::{DateTime, Utc};
use opcity_store::intervals::{Held, Holdings, find_overlap, lock_key};
use opcity_store::sea_orm::{ConnectionTrait, DatabaseTransaction};
use std::sync::Mutex;

/// An interval of one resource that a write is about to hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim {
    pub kind: Holdings,
    pub resource_id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The record being changed, which does not conflict with itself.
    pub except: Option<i64>,
    /// Error code and field when the interval is taken.
    pub code: ErrorCode,
    pub field: &'static str,
}

impl Claim {
    /// The lock its resource's holding writers take turns on.
    pub(crate) fn turn_key(&self) -> String {
        format!("holdings:{}:{}", self.kind.table(), self.resource_id)
    }

    /// The holding that overlaps this claim, as `db` sees it.
    pub(crate) async fn holder<C: ConnectionTrait>(&self, db: &C) -> Result<Option<Held>> {
        Ok(find_overlap(
            db,
            self.kind,
            self.resource_id,
            self.start,
            self.end,
            self.except,
        )
        .await?)
    }

    /// Why the database refused this claim's write: the interval is taken
    /// by `holder`, the holding that overlaps it, or, should that one be
    /// gone by now, still a conflict.
    pub(crate) fn refused_by(&self, holder: Option<Held>) -> ServiceError {
        match holder {
            Some(held) => taken(self, held),
            None => ServiceError::Conflict {
                code: self.code,
                field: Some(self.field),
            },
        }
    }
}

fn taken(claim: &Claim, held: Held) -> ServiceError {
    ServiceError::Taken {
        code: claim.code,
        field: claim.field,
        held_id: held.id,
        held_from: held.start_at,
        held_until: held.end_at,
    }
}

/// The claims a transaction checked, so that a refusal at write time can be
/// explained afterwards.
#[derive(Debug, Default)]
pub(crate) struct Guard {
    claims: Mutex<Vec<Claim>>,
}

impl Guard {
    /// Refuses the claim when a holding overlaps it (as seen by `db`).
    ///
    /// Writers of holdings of one resource take turns first (PostgreSQL:
    /// an advisory lock until the transaction ends). Without it, concurrent
    /// inserts of overlapping intervals can deadlock in the exclusion
    /// constraint's check, each waiting for the other's transaction; in
    /// turn, each later writer finds the earlier one's holding and is told
    /// whose it is.
    pub async fn check<C: ConnectionTrait>(&self, db: &C, claim: Claim) -> Result<()> {
        lock_key(db, &claim.turn_key()).await?;
        self.claims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(claim);
        match claim.holder(db).await? {
            Some(held) => Err(taken(&claim, held)),
            None => Ok(()),
        }
    }

    fn claims(&self) -> Vec<Claim> {
        self.claims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Services {
    /// Runs `work` in one write transaction and commits it. `work` checks
    /// each interval it holds through the [`Guard`]; if the database still
    /// refuses an overlapping write, the error names the holding that won.
    /// Should PostgreSQL still choose this transaction to fail for a
    /// concurrent one (a deadlock between writers of several resources), it
    /// is answered the same way when a winner's holding is there by then,
    /// and otherwise with `contention` (try again), never as an internal
    /// error.
    pub(crate) async fn guarded<T>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction, &Guard) -> Result<T>,
    ) -> Result<T> {
        let guard = Guard::default();
        let outcome = async {
            let tx = self.store().begin().await?;
            let value = work(&tx, &guard).await?;
            tx.commit().await?;
            Ok(value)
        }
        .await;
        match outcome {
            Err(ServiceError::Conflict {
                code: code @ (ErrorCode::IntervalOverlap | ErrorCode::Contention),
                ..
            }) => {
                let claims = guard.claims();
                for claim in &claims {
                    if let Some(held) = claim.holder(self.store().db()).await? {
                        return Err(taken(claim, held));
                    }
                }
                if code == ErrorCode::Contention {
                    return Err(ServiceError::Conflict { code, field: None });
                }
                // The winner rolled back in the meantime; still a conflict.
                Err(ServiceError::Conflict {
                    code: claims
                        .first()
                        .map_or(ErrorCode::IntervalOverlap, |c| c.code),
                    field: claims.first().map(|c| c.field),
                })
            }
            other => other,
        }
    }
}
