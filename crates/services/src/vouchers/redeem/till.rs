//! A hold placed at the provider's counter: the customer gives their
//! enterprise's unified social credit code (public registration data, shown
//! on their wallet), not a number of this platform's. Only an approved
//! provider may look a code up, and only to place the hold; a code that is
//! malformed or names no enterprise is the `uscc` field's error, and the
//! hold itself is checked as every hold is ([`super::hold`]).

use super::*;
use opcity_domain::uscc::Uscc;

/// A hold as the counter's form gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TillHold {
    pub transfer_id: String,
    /// The customer's credit code, as typed.
    pub uscc: String,
    pub kind: String,
    pub amount_fen: i64,
    pub use_kind: String,
    pub reference: String,
    pub contract_amount_fen: Option<i64>,
}

pub(super) async fn place_hold_at_till(
    svc: &Services,
    actor: &Actor,
    input: &TillHold,
) -> Result<TransferView> {
    // Authorised first: whoever is not an approved provider looks nothing up.
    svc.acting_provider(svc.store().db(), actor).await?;
    let enterprise_id = customer(svc, &input.uscc).await?;
    let hold = HoldInput {
        transfer_id: input.transfer_id.clone(),
        enterprise_id,
        kind: input.kind.clone(),
        amount_fen: input.amount_fen,
        use_kind: input.use_kind.clone(),
        reference: input.reference.clone(),
        contract_amount_fen: input.contract_amount_fen,
        timeout_secs: None,
    };
    svc.place_hold(actor, &hold).await
}

/// The enterprise whose credit code was typed.
async fn customer(svc: &Services, typed: &str) -> Result<i64> {
    let text = typed.trim().to_ascii_uppercase();
    if text.is_empty() {
        return Err(ServiceError::invalid("uscc", "required"));
    }
    let code = Uscc::parse(&text)
        .map_err(|e| ServiceError::Validation(vec![crate::registry::enterprises::uscc_error(e)]))?;
    opcity_store::registry::enterprise_id_by_uscc(svc.store().db(), code.as_str())
        .await?
        .ok_or_else(|| ServiceError::invalid("uscc", "unknown_customer"))
}
