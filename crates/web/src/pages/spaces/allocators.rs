//! Who allocates each district's housing in its OPC communities, on the
//! housing page: the city's administrators choose, per district, its
//! reviewers or each community's operator (`services::districts`). Stable
//! ids: one form `allocator-DISTRICT` per district, its select
//! `allocator-DISTRICT-choice`.

use super::shared::{answer, csrf};
use crate::extract::Viewer;
use crate::i18n::t;
use crate::pages::PageResult;
use crate::pages::flow::Posted;
use crate::pages::forms::{Values, district_name};
use axum::extract::Path;
use maud::{Markup, html};
use opcity_domain::HousingAllocator;
use opcity_services::districts::{DistrictSettings, DistrictSettingsInput};

/// One small form per district, each with its own save button.
pub(super) fn section(viewer: &Viewer, settings: &[DistrictSettings]) -> Markup {
    let l = viewer.locale;
    html! {
        section.card id="housing-allocators" {
            h2 { (t(l, "housing.allocators.heading")) }
            p.hint { (t(l, "housing.allocators.hint")) }
            ul.settings {
                @for s in settings {
                    @let id = format!("allocator-{}", s.district.id());
                    li {
                        form.inline id=(id) method="post" action={ "/housing/allocators/" (s.district.id()) } {
                            (csrf(viewer))
                            label for={ (id) "-choice" } { (district_name(l, s.district)) } " "
                            select id={ (id) "-choice" } name="housing_allocator" {
                                @for a in HousingAllocator::ALL {
                                    option value=(a.id()) selected[a == s.housing_allocator] { (t(l, &format!("housing.allocators.{}", a.id()))) }
                                }
                            }
                            " " button.secondary type="submit" { (t(l, "form.save")) }
                        }
                    }
                }
            }
        }
    }
}

/// Saves who allocates one district's community housing.
pub(super) async fn save(Path(district): Path<String>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let input = DistrictSettingsInput {
        housing_allocator: form.get("housing_allocator").cloned().unwrap_or_default(),
    };
    let s = &state.services;
    let run = async || {
        s.set_district_settings(&actor, &district, &input)
            .await
            .map(|_| 0)
    };
    answer::<super::housing::Housing>(
        state,
        viewer,
        form,
        &Values::new(),
        "allocator",
        Vec::new(),
        run,
    )
    .await
}
