//! Per-beneficiary caps as reviewers approve. An approval may not take the
//! beneficiary's total of a capped programme (the pack's `beneficiary_cap`,
//! across districts and paths) above the cap, counting what is granted and
//! what is approved but not yet accepted, so the reviewer hears it at once
//! and no offer is made that could not be accepted. The grants guard
//! (`opcity_store::grants`) holds the cap again at acceptance, under the
//! subject's turn: that is what guarantees it.

use super::delivery::subject_of;
use crate::Services;
use crate::error::{FieldError, Result, ServiceError};
use chrono::NaiveDate;
use opcity_store::applications as store;
use opcity_store::entity::application;
use opcity_store::grants;
use std::collections::{BTreeMap, BTreeSet};

/// What the subjects of a group of approvals hold or have been offered of
/// their capped programmes, kept up to date as the group's approvals are
/// decided in order.
pub(super) struct CapRoom {
    /// The cap of each capped programme among the group's.
    caps: BTreeMap<String, i64>,
    /// (subject, programme) → fen granted or offered.
    used: BTreeMap<(String, String), i64>,
}

impl CapRoom {
    /// Reads, for `apps`, what counts against their caps on `on`: two
    /// queries, none when no programme among them is capped.
    pub(super) async fn read(
        s: &Services,
        apps: &BTreeMap<i64, application::Model>,
        on: NaiveDate,
    ) -> Result<CapRoom> {
        let pack = s.pack();
        let programmes: BTreeSet<&str> = apps.values().map(|a| a.programme.as_str()).collect();
        let caps: BTreeMap<String, i64> = programmes
            .into_iter()
            .filter_map(|id| {
                Some((
                    id.to_owned(),
                    pack.beneficiary_cap(pack.programme(id)?, on)?,
                ))
            })
            .collect();
        let mut room = CapRoom {
            caps,
            used: BTreeMap::new(),
        };
        if room.caps.is_empty() {
            return Ok(room);
        }
        let capped: Vec<&application::Model> = apps
            .values()
            .filter(|a| room.caps.contains_key(&a.programme))
            .collect();
        let subjects: BTreeSet<String> = capped.iter().map(|a| subject_of(a).to_string()).collect();
        let programmes: BTreeSet<String> = room.caps.keys().cloned().collect();
        let db = s.store().db();
        room.used = grants::held_amounts(db, &subjects, &programmes).await?;
        let enterprises = capped.iter().filter_map(|a| a.enterprise_id).collect();
        let persons = capped
            .iter()
            .filter(|a| a.enterprise_id.is_none())
            .filter_map(|a| a.person_id)
            .collect();
        let offers = store::offers_awaiting_acceptance(db, &programmes, &enterprises, &persons);
        for offer in offers.await? {
            *room.used.entry(key(&offer)).or_insert(0) += offer.approved_fen.unwrap_or(0);
        }
        Ok(room)
    }

    /// Counts `amount` of `app`'s programme for its subject; refused, with
    /// what is held or offered and the cap, when it would pass the cap.
    pub(super) fn take(&mut self, app: &application::Model, amount: Option<i64>) -> Result<()> {
        let (Some(amount), Some(&cap)) = (amount, self.caps.get(&app.programme)) else {
            return Ok(());
        };
        let used = self.used.entry(key(app)).or_insert(0);
        if *used + amount > cap {
            return Err(ServiceError::Validation(vec![
                FieldError::new("amount_fen", "above_beneficiary_cap")
                    .with("held_fen", *used)
                    .with("cap_fen", cap),
            ]));
        }
        *used += amount;
        Ok(())
    }
}

fn key(app: &application::Model) -> (String, String) {
    (subject_of(app).to_string(), app.programme.clone())
}
