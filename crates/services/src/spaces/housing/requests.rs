//! The housing queue: transitional housing approved through an application
//! (`applications::delivery`) waits here for the district's allocator, who
//! serves it with a lease (`allocate`, naming the request).

use super::*;
use crate::authz::permits;
use opcity_store::delivery;
use opcity_store::entity::housing_request;

/// A waiting (or served) housing request, as its allocator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct HousingRequestView {
    pub id: i64,
    pub application_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub enterprise_id: Option<i64>,
    /// The enterprise's name, when the request names one.
    pub enterprise_name: Option<String>,
    #[schema(value_type = String)]
    pub district: District,
    pub wanted_from: NaiveDate,
    /// The months the approval gave.
    pub months: i32,
    /// `waiting`, `allocated` or `withdrawn`.
    pub status: String,
    pub lease_id: Option<i64>,
    pub requested_at: DateTime<Utc>,
}

fn request_view(
    r: &housing_request::Model,
    (person_name, enterprise_name): (String, Option<String>),
) -> HousingRequestView {
    HousingRequestView {
        id: r.id,
        application_id: r.application_id,
        person_id: r.person_id,
        person_name,
        enterprise_id: r.enterprise_id,
        enterprise_name,
        district: r.district.parse().expect("district ids are foreign keys"),
        wanted_from: r.wanted_from,
        months: r.months,
        status: r.status.clone(),
        lease_id: r.lease_id,
        requested_at: r.requested_at,
    }
}

/// Who may serve a request: whoever allocates housing outside communities
/// in its district (the district's reviewer, the city).
fn allocates_for(actor: &Actor, district: &str) -> bool {
    permits(actor, Action::Update, premises(None, district))
}

/// The waiting requests the actor may serve, oldest first; founders see
/// their own, whatever their status.
pub(super) async fn housing_requests(
    svc: &Services,
    actor: &Actor,
) -> Result<Vec<HousingRequestView>> {
    let db = svc.store().db();
    let scope = allocation_scope(actor);
    let rows = if let Some(person) = scope.person_id.filter(|_| !scope.all) {
        delivery::housing_requests_of(db, person).await?
    } else {
        let district = if scope.all {
            None
        } else {
            scope.district.map(District::id)
        };
        if !scope.all && district.is_none() {
            return Ok(Vec::new());
        }
        delivery::housing_requests(db, district, delivery::WAITING)
            .await?
            .into_iter()
            .filter(|r| allocates_for(actor, &r.district))
            .collect()
    };
    let names = crate::rows_by_id::<person::Entity, _>(
        db,
        person::Column::Id,
        rows.iter().map(|r| r.person_id),
        |p| p.id,
    )
    .await?;
    let enterprises = crate::rows_by_id::<enterprise::Entity, _>(
        db,
        enterprise::Column::Id,
        rows.iter().filter_map(|r| r.enterprise_id),
        |e| e.id,
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let name = names.get(&r.person_id).map(|p| p.full_name.clone());
            let firm = r
                .enterprise_id
                .and_then(|e| enterprises.get(&e))
                .map(|e| e.name.clone());
            request_view(r, (name.unwrap_or_default(), firm))
        })
        .collect())
}

/// Checks that request `id` may be served by a lease of `unit` to
/// `person_id`: it waits, it is that person's, and the unit lies in its
/// district. The serving itself is [`serve`], in the lease's transaction.
pub(super) async fn check_servable<C: ConnectionTrait>(
    db: &C,
    id: i64,
    person_id: i64,
    unit: &housing_unit::Model,
) -> Result<()> {
    let r = delivery::housing_request(db, id)
        .await?
        .ok_or_else(|| refuse("request_id", "unknown_request"))?;
    if r.person_id != person_id {
        return Err(refuse("request_id", "request_of_another_person"));
    }
    if r.district != unit.district {
        return Err(refuse("housing_unit_id", "outside_request_district"));
    }
    if r.status != delivery::WAITING {
        return Err(conflict(ErrorCode::RequestNotWaiting, "request_id"));
    }
    Ok(())
}

/// Marks request `id` served by `lease_id`; refused when another
/// allocation served or withdrew it meanwhile (the store's guarded UPDATE).
pub(super) async fn serve(
    tx: &DatabaseTransaction,
    id: i64,
    lease_id: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    delivery::allocate_housing_request(tx, id, lease_id, at)
        .await?
        .map(|_| ())
        .ok_or_else(|| conflict(ErrorCode::RequestNotWaiting, "request_id"))
}
