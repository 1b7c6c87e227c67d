//! What the policy engine says about an application: its result for the
//! programme and subject today (leaving out the grant the application
//! itself led to), kept as the application's explanation at submission and
//! checked again at approval and before each payment: an
//! [`Explanation`], stored as JSON and read back typed.

use crate::Services;
use crate::error::{Result, ServiceError};
use crate::matching::CaseSubject;
use opcity_policy::{Detail, Explanation};
use opcity_store::WriteTx;
use opcity_store::entity::application;
use std::collections::BTreeMap;

impl Services {
    /// The engine's current result for the application's programme and
    /// subject, leaving out grants that came from this application itself.
    pub(crate) async fn current_result(
        &self,
        tx: &WriteTx,
        app: &application::Model,
    ) -> Result<Explanation> {
        let case = self
            .case_for(
                tx,
                app.person_id,
                app.enterprise_id,
                Some(&format!("application:{}", app.id)),
            )
            .await?;
        self.explanation(&case, &app.programme)
    }

    /// The case of each of `apps`, as `current_result` reads it (without
    /// the grant the application itself may have led to), read for all of
    /// them with one query per table.
    pub(super) async fn cases_of_applications(
        &self,
        apps: &BTreeMap<i64, application::Model>,
    ) -> Result<BTreeMap<i64, opcity_policy::Case>> {
        let sources: BTreeMap<i64, String> = apps
            .keys()
            .map(|id| (*id, format!("application:{id}")))
            .collect();
        let subjects: Vec<CaseSubject<'_>> = apps
            .values()
            .map(|a| CaseSubject {
                person_id: a.person_id,
                enterprise_id: a.enterprise_id,
                exclude_source: Some(&sources[&a.id]),
            })
            .collect();
        let cases = self.cases_for(self.store().db(), &subjects).await?;
        Ok(apps.keys().copied().zip(cases).collect())
    }

    /// The engine's result for `programme` on `case` today, with the pack it
    /// came from: what an application keeps as its explanation.
    pub(crate) fn explanation(
        &self,
        case: &opcity_policy::Case,
        programme: &str,
    ) -> Result<Explanation> {
        self.explanation_on(
            case,
            programme,
            opcity_domain::today_in_shanghai(self.now()),
        )
    }

    /// The engine's result for `programme` on `case` as of `as_of`.
    pub(crate) fn explanation_on(
        &self,
        case: &opcity_policy::Case,
        programme: &str,
        as_of: chrono::NaiveDate,
    ) -> Result<Explanation> {
        let pack = self.pack();
        let result = pack
            .at(as_of)
            .evaluate_programme(case, programme, Detail::Full)
            .ok_or(ServiceError::NotFound {
                entity: "programme",
            })?;
        Ok(Explanation::new(&pack, as_of, &result))
    }
}

/// Programme `id` of `pack`; one the pack does not hold is not found.
pub(super) fn programme_in<'p>(
    pack: &'p opcity_policy::Pack,
    id: &str,
) -> Result<&'p opcity_policy::Programme> {
    pack.programme(id).ok_or(ServiceError::NotFound {
        entity: "programme",
    })
}

/// An application's stored explanation, read back typed. One that does not
/// read (a newer schema, a damaged row) is an error, never taken for an
/// empty result.
pub(crate) fn stored_explanation(app: &application::Model) -> Result<Option<Explanation>> {
    app.explanation
        .as_deref()
        .map(Explanation::parse)
        .transpose()
        .map_err(|e| ServiceError::Internal(Box::new(e)))
}
