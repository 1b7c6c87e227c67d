//! The enterprise confirms or disputes a capture.

use super::*;

/// The enterprise confirms or disputes one capture of its voucher, once.
pub(super) async fn review_use(
    svc: &Services,
    actor: &Actor,
    transfer_id: &str,
    input: &UseReviewInput,
) -> Result<UseReviewView> {
    let mut c = crate::registry::Checker::default();
    if !["confirmed", "disputed"].contains(&input.decision.as_str()) {
        c.push(FieldError::new("decision", "not_one_of").with("allowed", "confirmed, disputed"));
    }
    let comment = c.optional_text("comment", input.comment.as_deref(), 1_000);
    if input.decision == "disputed" && comment.is_none() {
        c.push(FieldError::new("comment", "required"));
    }
    c.finish()?;
    let now = svc.now();
    let tx = svc.store().begin().await?;
    let capture = ledger::find_transfer(&tx, transfer_id)
        .await?
        .ok_or(ServiceError::NotFound { entity: "transfer" })?;
    let wallet = ledger_account::Entity::find_by_id(capture.debit_account_id)
        .one(&tx)
        .await?
        .ok_or(ServiceError::NotFound { entity: "wallet" })?;
    let enterprise_id = wallet.enterprise_id.ok_or(ServiceError::Conflict {
        code: ErrorCode::NotACapture,
        field: None,
    })?;
    let (_, district) = crate::vouchers::enterprise_in_district(&tx, enterprise_id).await?;
    authorize(
        actor,
        Action::Update,
        Resource::VoucherWallet {
            enterprise_id,
            district,
            municipal: crate::vouchers::kind_spec(&capture.ledger)
                .is_some_and(|k| k.is_municipal(&svc.pack())),
        },
    )?;
    if capture.phase != "post" {
        return Err(ServiceError::Conflict {
            code: ErrorCode::NotACapture,
            field: None,
        });
    }
    if voucher_use_review::Entity::find_by_id(transfer_id.to_owned())
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(ServiceError::Conflict {
            code: ErrorCode::UseAlreadyReviewed,
            field: None,
        });
    }
    let review = vouchers::NewUseReview {
        transfer_id: transfer_id.to_owned(),
        enterprise_id,
        decision: input.decision.clone(),
        comment,
        account_id: actor.account_id,
        at: now,
    };
    let saved = vouchers::insert_use_review(&tx, review)
        .await
        .map_err(|e| match e {
            opcity_store::StoreError::Unique(_) => ServiceError::Conflict {
                code: ErrorCode::UseAlreadyReviewed,
                field: None,
            },
            other => other.into(),
        })?;
    let view = UseReviewView {
        transfer_id: saved.transfer_id,
        enterprise_id,
        decision: saved.decision,
        comment: saved.comment,
        at: saved.at,
    };
    crate::commit_change(
        tx,
        now,
        &actor.audit_label(),
        "voucher.review_use",
        enterprise_id,
        None,
        view,
    )
    .await
}
