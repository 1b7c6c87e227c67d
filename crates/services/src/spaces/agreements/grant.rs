//! An agreement is a benefit held. The subject's grant of the agreement's
//! programme covers its accepted agreements of that programme, from the
//! first one's first day to the last one's last day, as a person's
//! transitional-housing grant covers their leases
//! (`housing::allocate::sync_housing_grant`): the grant an approved
//! application's space request recorded, when there is one, else a new
//! `space_agreement` grant. Kept in step when an offer is accepted, an
//! agreement ends early or moves.

use super::*;
use crate::grants::{Benefit, NewGrant, Subject, grants_for};

/// Brings the grant of `a`'s subject and programme in line with their
/// accepted agreements (active, or ended early or by a move), in `tx`.
pub(super) async fn sync_space_grant(
    svc: &Services,
    tx: &DatabaseTransaction,
    now: DateTime<Utc>,
    actor_label: &str,
    a: &space_agreement::Model,
    district: Option<District>,
) -> Result<()> {
    let subject = match (a.enterprise_id, a.person_id) {
        (Some(e), _) => Subject::Enterprise(e),
        (None, Some(p)) => Subject::Person(p),
        (None, None) => return Ok(()),
    };
    if svc.pack().programme(&a.programme).is_none() {
        return Ok(());
    }
    let holder = match subject {
        Subject::Enterprise(e) => space_agreement::Column::EnterpriseId.eq(e),
        Subject::Person(p) => space_agreement::Column::PersonId.eq(p),
    };
    let live = space_agreement::Entity::find()
        .filter(holder)
        .filter(space_agreement::Column::Programme.eq(&a.programme))
        .filter(space_agreement::Column::Status.is_in(["active", "ended"]))
        .all(tx)
        .await?;
    let existing = grants_for(tx, subject)
        .await?
        .into_iter()
        .find(|g| g.programme == a.programme && g.detail.is_empty());
    let first = live.iter().map(|l| shanghai_date(l.start_at)).min();
    let last = live.iter().map(|l| shanghai_date(l.end_at)).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(());
    };
    let to = last.pred_opt();
    match existing {
        Some(grant) => svc.set_grant_end(tx, now, actor_label, grant, to).await,
        None => {
            let source = format!("space_agreement:{}", a.id);
            let grant = NewGrant {
                district,
                ..NewGrant::plain(
                    subject,
                    &a.programme,
                    (first, to),
                    &source,
                    Benefit::SpaceAgreement,
                )
            };
            svc.grant_in_tx(tx, now, actor_label, grant).await.map(drop)
        }
    }
}
