//! Registry pages: list, view, create and edit communities, enterprises and
//! persons. One set of generic handlers serves all three through [`Kind`];
//! each kind declares its fields, how a record becomes form values, and which
//! service functions it calls.

use super::forms::{self, Field, Kind as F, Values, district_name, field, render_fields};
use super::home::grouped;
use super::layout::page;
use super::{PageError, PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_services::registry::communities::{CommunityInput, CommunityView};
use opcity_services::registry::enterprises::{EnterpriseInput, EnterpriseView};
use opcity_services::registry::persons::{PersonInput, PersonView};
use opcity_services::registry::{DEGREES, ListFilter, Paged, Paging, SIZES};
use opcity_services::{Actor, FieldError, Result, ServiceError, Services};
use std::collections::HashMap;
use std::future::Future;

type Options = HashMap<&'static str, Vec<(String, String)>>;

/// One kind of registry record as the portal shows it.
pub trait Kind: Send + Sync + 'static {
    /// Text-key prefix (`community`) and URL path (`/communities`).
    const ENTITY: &'static str;
    const PATH: &'static str;
    const FIELDS: &'static [Field];
    /// Fields shown as list columns.
    const COLUMNS: &'static [&'static str];
    type View: Send + Sync;
    type Input: Send + Sync;

    fn id(view: &Self::View) -> i64;
    fn title(view: &Self::View) -> String;
    fn values(view: &Self::View) -> Values;
    /// Facts shown on the record's page besides its fields: (text key, value).
    fn extra_facts(_view: &Self::View, _locale: Locale) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// Actions on the record's page besides editing it.
    fn actions(_view: &Self::View, _viewer: &Viewer) -> Markup {
        html! {}
    }
    fn input(values: &Values, errors: &mut Vec<FieldError>) -> Self::Input;
    /// Whether the viewer may add a record of this kind (the "new" link).
    fn may_create(s: &Services, a: &Actor) -> bool;
    /// Whether the viewer may edit this record (the "edit" link).
    fn may_update(s: &Services, a: &Actor, view: &Self::View) -> bool;
    fn options(_s: &Services, _actor: &Actor) -> impl Future<Output = Result<Options>> + Send {
        async { Ok(Options::new()) }
    }
    fn list(
        s: &Services,
        a: &Actor,
        f: &ListFilter,
        p: Paging,
    ) -> impl Future<Output = Result<Paged<Self::View>>> + Send;
    fn get(s: &Services, a: &Actor, id: i64) -> impl Future<Output = Result<Self::View>> + Send;
    fn create(
        s: &Services,
        a: &Actor,
        i: &Self::Input,
    ) -> impl Future<Output = Result<Self::View>> + Send;
    fn update(
        s: &Services,
        a: &Actor,
        id: i64,
        i: &Self::Input,
    ) -> impl Future<Output = Result<Self::View>> + Send;
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(kind_routes::<Communities>())
        .merge(kind_routes::<Enterprises>())
        .merge(kind_routes::<Persons>())
        .route("/persons/{id}/resident-id", post(reveal_resident_id))
}

fn kind_routes<K: Kind>() -> Router<AppState> {
    Router::new()
        .route(K::PATH, get(list_page::<K>).post(create::<K>))
        .route(&format!("{}/new", K::PATH), get(new_form::<K>))
        .route(
            &format!("{}/{{id}}", K::PATH),
            get(show::<K>).post(update::<K>),
        )
        .route(&format!("{}/{{id}}/edit", K::PATH), get(edit_form::<K>))
}

/// How one field's value reads on a page.
fn display(locale: Locale, f: &Field, value: &str, options: &Options) -> String {
    if value.is_empty() {
        return "—".to_owned();
    }
    match f.kind {
        F::TriBool => forms::tri_label(locale, value.parse().ok()).to_owned(),
        F::Choice(_) => t(locale, &format!("option.{}.{value}", f.name)).to_owned(),
        F::District => value.parse().map_or_else(
            |_| value.to_owned(),
            |d| district_name(locale, d).to_owned(),
        ),
        F::Number => value.parse().map_or_else(|_| value.to_owned(), grouped),
        F::Dynamic => options
            .get(f.name)
            .and_then(|opts| opts.iter().find(|(v, _)| v == value))
            .map_or_else(|| format!("#{value}"), |(_, label)| label.clone()),
        _ => value.to_owned(),
    }
}

async fn list_page<K: Kind>(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let district = q
        .get("district")
        .filter(|d| !d.is_empty())
        .and_then(|d| d.parse().ok());
    let text = q.get("q").filter(|s| !s.is_empty()).cloned();
    // A hand-edited page number shows the nearest page a person can reach
    // (the API, by contrast, refuses it).
    let asked = q.get("page").and_then(|p| p.parse::<u64>().ok());
    let paging = Paging::new(asked.map(|p| p.min(crate::extract::MAX_PAGE)), None);
    let filter = ListFilter {
        district,
        q: text.clone(),
    };
    let (paged, options) = tokio::try_join!(
        K::list(&state.services, actor, &filter, paging),
        K::options(&state.services, actor)
    )
    .map_err(|e| viewer.fail(e))?;
    let columns: Vec<&Field> = K::COLUMNS
        .iter()
        .filter_map(|c| K::FIELDS.iter().find(|f| f.name == *c))
        .collect();
    let pages = paged.total.div_ceil(paged.per_page).max(1);
    let link = |page: u64| {
        let mut params = vec![format!("page={page}")];
        if let Some(d) = district {
            params.push(format!("district={}", d.id()));
        }
        if let Some(s) = &text {
            params.push(format!("q={}", urlencoding::encode(s)));
        }
        format!("{}?{}", K::PATH, params.join("&"))
    };
    let body = html! {
        h1 { (t(l, &format!("{}.plural", K::ENTITY))) }
        form.filters method="get" action=(K::PATH) {
            div.field {
                label for="filter-q" { (t(l, "list.search")) }
                input id="filter-q" name="q" type="search" value=(text.clone().unwrap_or_default());
            }
            div.field {
                label for="filter-district" { (t(l, "list.district")) }
                select id="filter-district" name="district" {
                    option value="" { (t(l, "list.all_districts")) }
                    @for d in opcity_domain::District::ALL {
                        option value=(d.id()) selected[district == Some(d)] { (district_name(l, d)) }
                    }
                }
            }
            button.secondary type="submit" { (t(l, "list.filter")) }
            @if K::may_create(&state.services, actor) {
                a.button href={ (K::PATH) "/new" } id="new-record" { (t(l, "list.new")) }
            }
            @if K::PATH[1..].parse().is_ok_and(|kind| state.services.may_import(actor, kind)) {
                " " a.button.secondary href="/imports" id="bulk-import" { (t(l, "import.title")) }
            }
        }
        p { (tf(l, "list.count", [("n", grouped(paged.total as i64).as_str())])) }
        table id="records" {
            thead { tr { th { "#" } @for c in &columns { th { (t(l, &format!("{}.{}", K::ENTITY, c.name))) } } } }
            tbody {
                @for item in &paged.items {
                    @let values = K::values(item);
                    tr {
                        td { a href={ (K::PATH) "/" (K::id(item)) } { (K::id(item)) } }
                        @for c in &columns {
                            td { (display(l, c, values.get(c.name).map_or("", String::as_str), &options)) }
                        }
                    }
                }
            }
        }
        @if paged.items.is_empty() { p.notice { (t(l, "list.empty")) } }
        nav.pager aria-label=(t(l, "list.pages")) {
            @if paged.page > 1 { a href=(link(paged.page - 1)) rel="prev" { (t(l, "list.prev")) } }
            span { (tf(l, "list.page_of", [("page", paged.page.to_string().as_str()), ("pages", pages.to_string().as_str())])) }
            @if paged.page < pages { a href=(link(paged.page + 1)) rel="next" { (t(l, "list.next")) } }
        }
    };
    Ok(page(&viewer, t(l, &format!("{}.plural", K::ENTITY)), body).into_response())
}

async fn show<K: Kind>(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let (view, options) = tokio::try_join!(
        K::get(&state.services, actor, id),
        K::options(&state.services, actor)
    )
    .map_err(|e| viewer.fail(e))?;
    let values = K::values(&view);
    let body = html! {
        @if q.contains_key("saved") { div.notice.success role="status" id="saved" { (t(l, "form.saved")) } }
        h1 { (K::title(&view)) }
        section.card {
            dl.facts {
                @for f in K::FIELDS {
                    dt { (t(l, &format!("{}.{}", K::ENTITY, f.name))) }
                    dd id={ "v-" (f.name) } { (display(l, f, values.get(f.name).map_or("", String::as_str), &options)) }
                }
                @for (key, value) in K::extra_facts(&view, l) {
                    dt { (t(l, key)) } dd { (value) }
                }
            }
        }
        div.actions {
            (K::actions(&view, &viewer))
            @if K::may_update(&state.services, actor, &view) {
                a.button href={ (K::PATH) "/" (id) "/edit" } id="edit-record" { (t(l, "form.edit")) }
            }
            a.button.secondary href=(K::PATH) { (t(l, "form.back")) }
        }
    };
    Ok(page(&viewer, &K::title(&view), body).into_response())
}

fn form_page<K: Kind>(
    viewer: &Viewer,
    action: &str,
    heading: &str,
    values: &Values,
    errors: &[FieldError],
    options: &Options,
) -> Markup {
    let l = viewer.locale;
    page(
        viewer,
        heading,
        html! {
            h1 { (heading) }
            (flow::error_summary(l, K::ENTITY, "f-", errors))
            form.stack method="post" action=(action) novalidate {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                (render_fields(l, K::ENTITY, K::FIELDS, values, errors, options))
                div.actions {
                    button type="submit" id="save" { (t(l, "form.save")) }
                    a.button.secondary href=(K::PATH) { (t(l, "form.cancel")) }
                }
            }
        },
    )
}

async fn new_form<K: Kind>(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let actor = viewer.require()?;
    if !K::may_create(&state.services, actor) {
        return Err(viewer.fail(ServiceError::Forbidden));
    }
    let options = K::options(&state.services, actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let heading = t(viewer.locale, &format!("{}.new", K::ENTITY));
    Ok(form_page::<K>(&viewer, K::PATH, heading, &Values::new(), &[], &options).into_response())
}

async fn edit_form<K: Kind>(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> PageResult {
    let actor = viewer.require()?;
    let (view, options) = tokio::try_join!(
        K::get(&state.services, actor, id),
        K::options(&state.services, actor)
    )
    .map_err(|e| viewer.fail(e))?;
    if !K::may_update(&state.services, actor, &view) {
        return Err(viewer.fail(ServiceError::Forbidden));
    }
    let heading = tf(
        viewer.locale,
        "form.edit_title",
        [("name", K::title(&view).as_str())],
    );
    Ok(form_page::<K>(
        &viewer,
        &format!("{}/{id}", K::PATH),
        &heading,
        &K::values(&view),
        &[],
        &options,
    )
    .into_response())
}

/// Turns a service result into a redirect to the saved record, or the form
/// again with each message beside its field (status 422) and nothing written.
async fn save<K: Kind>(
    state: &AppState,
    viewer: &Viewer,
    form: &Values,
    action: &str,
    heading: &str,
    run: impl AsyncFnOnce(&K::Input) -> Result<K::View>,
) -> PageResult {
    let actor = viewer.require()?;
    let mut parse_errors = Vec::new();
    let input = K::input(form, &mut parse_errors);
    let saved = |view: K::View| {
        Redirect::to(&format!("{}/{}?saved=1", K::PATH, K::id(&view))).into_response()
    };
    let again = async |errors: Vec<FieldError>| {
        let options = K::options(&state.services, actor)
            .await
            .map_err(|e| viewer.fail(e))?;
        Ok(form_page::<K>(viewer, action, heading, form, &errors, &options).into_response())
    };
    flow::post(
        viewer,
        form,
        parse_errors,
        async || run(&input).await,
        saved,
        again,
    )
    .await
}

async fn create<K: Kind>(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let heading = t(viewer.locale, &format!("{}.new", K::ENTITY));
    save::<K>(&state, &viewer, &form, K::PATH, heading, async |input| {
        K::create(&state.services, &actor, input).await
    })
    .await
}

async fn update<K: Kind>(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> Result<impl IntoResponse, PageError> {
    let actor = viewer.require()?.clone();
    let heading = tf(
        viewer.locale,
        "form.edit_title",
        [("name", format!("#{id}").as_str())],
    );
    let action = format!("{}/{id}", K::PATH);
    save::<K>(&state, &viewer, &form, &action, &heading, async |input| {
        K::update(&state.services, &actor, id, input).await
    })
    .await
}

fn date_text(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

pub struct Communities;

impl Kind for Communities {
    const ENTITY: &'static str = "community";
    const PATH: &'static str = "/communities";
    const FIELDS: &'static [Field] = &[
        field("name_zh", F::Text, true),
        field("name_en", F::Text, true),
        field("district", F::District, true),
        field("address", F::Text, true),
        field("area_m2", F::Number, true),
        field("operator_name", F::Text, true),
        field("opened_on", F::Date, false),
    ];
    const COLUMNS: &'static [&'static str] = &["name_zh", "name_en", "district", "area_m2"];
    type View = CommunityView;
    type Input = CommunityInput;

    fn id(v: &CommunityView) -> i64 {
        v.id
    }
    fn title(v: &CommunityView) -> String {
        format!("{} · {}", v.name_zh, v.name_en)
    }
    fn values(v: &CommunityView) -> Values {
        Values::from([
            ("name_zh".into(), v.name_zh.clone()),
            ("name_en".into(), v.name_en.clone()),
            ("district".into(), v.district.id().to_owned()),
            ("address".into(), v.address.clone()),
            ("area_m2".into(), v.area_m2.to_string()),
            ("operator_name".into(), v.operator_name.clone()),
            ("opened_on".into(), date_text(v.opened_on)),
        ])
    }
    fn extra_facts(v: &CommunityView, l: Locale) -> Vec<(&'static str, String)> {
        vec![(
            "community.reaches_target_area",
            forms::tri_label(l, Some(v.reaches_target_area)).to_owned(),
        )]
    }
    fn may_create(s: &Services, a: &Actor) -> bool {
        s.may_create_community(a)
    }
    fn may_update(s: &Services, a: &Actor, v: &CommunityView) -> bool {
        s.may_update_community(a, v)
    }
    fn input(values: &Values, errors: &mut Vec<FieldError>) -> CommunityInput {
        CommunityInput {
            name_zh: forms::text(values, "name_zh"),
            name_en: forms::text(values, "name_en"),
            district: forms::text(values, "district"),
            address: forms::text(values, "address"),
            area_m2: forms::number(values, "area_m2", errors).unwrap_or(0),
            operator_name: forms::text(values, "operator_name"),
            operator_account_id: None,
            opened_on: forms::opt(values, "opened_on"),
        }
    }
    async fn list(
        s: &Services,
        a: &Actor,
        f: &ListFilter,
        p: Paging,
    ) -> Result<Paged<CommunityView>> {
        s.list_communities(a, f, p).await
    }
    async fn get(s: &Services, a: &Actor, id: i64) -> Result<CommunityView> {
        s.get_community(a, id).await
    }
    async fn create(s: &Services, a: &Actor, i: &CommunityInput) -> Result<CommunityView> {
        s.create_community(a, i).await
    }
    async fn update(s: &Services, a: &Actor, id: i64, i: &CommunityInput) -> Result<CommunityView> {
        // Keep the operator link, which this form does not edit.
        let current = s.get_community(a, id).await?;
        let input = CommunityInput {
            operator_account_id: current.operator_account_id,
            ..i.clone()
        };
        s.update_community(a, id, &input).await
    }
}

pub struct Enterprises;

impl Kind for Enterprises {
    const ENTITY: &'static str = "enterprise";
    const PATH: &'static str = "/enterprises";
    const FIELDS: &'static [Field] = &[
        field("uscc", F::Text, true),
        field("name", F::Text, true),
        field("registered_date", F::Date, false),
        field("district", F::District, true),
        field("community_id", F::Dynamic, false),
        field("size", F::Choice(&SIZES), false),
        field("ai_business", F::TriBool, false),
        field("gov_deployed_product", F::TriBool, false),
        field("demonstration_project", F::TriBool, false),
        field("consortium_lead", F::TriBool, false),
    ];
    const COLUMNS: &'static [&'static str] = &["name", "uscc", "district", "size", "ai_business"];
    type View = EnterpriseView;
    type Input = EnterpriseInput;

    fn id(v: &EnterpriseView) -> i64 {
        v.id
    }
    fn title(v: &EnterpriseView) -> String {
        v.name.clone()
    }
    fn values(v: &EnterpriseView) -> Values {
        Values::from([
            ("uscc".into(), v.uscc.clone()),
            ("name".into(), v.name.clone()),
            ("registered_date".into(), date_text(v.registered_date)),
            ("district".into(), v.district.id().to_owned()),
            (
                "community_id".into(),
                v.community_id.map(|c| c.to_string()).unwrap_or_default(),
            ),
            ("size".into(), v.size.clone().unwrap_or_default()),
            ("ai_business".into(), forms::bool_text(v.ai_business)),
            (
                "gov_deployed_product".into(),
                forms::bool_text(v.gov_deployed_product),
            ),
            (
                "demonstration_project".into(),
                forms::bool_text(v.demonstration_project),
            ),
            (
                "consortium_lead".into(),
                forms::bool_text(v.consortium_lead),
            ),
        ])
    }
    fn extra_facts(v: &EnterpriseView, l: Locale) -> Vec<(&'static str, String)> {
        let founders = v
            .founders
            .iter()
            .map(|p| format!("#{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        vec![
            (
                "enterprise.in_opc_community",
                forms::tri_label(l, Some(v.in_opc_community)).to_owned(),
            ),
            (
                "enterprise.founders",
                if founders.is_empty() {
                    "—".to_owned()
                } else {
                    founders
                },
            ),
        ]
    }
    fn may_create(s: &Services, a: &Actor) -> bool {
        s.may_create_enterprise(a)
    }
    fn may_update(s: &Services, a: &Actor, v: &EnterpriseView) -> bool {
        s.may_update_enterprise(a, v)
    }
    fn input(values: &Values, errors: &mut Vec<FieldError>) -> EnterpriseInput {
        EnterpriseInput {
            uscc: forms::text(values, "uscc"),
            name: forms::text(values, "name"),
            registered_date: forms::opt(values, "registered_date"),
            district: forms::text(values, "district"),
            community_id: forms::number(values, "community_id", errors),
            size: forms::opt(values, "size"),
            ai_business: forms::tri(values, "ai_business"),
            gov_deployed_product: forms::tri(values, "gov_deployed_product"),
            demonstration_project: forms::tri(values, "demonstration_project"),
            consortium_lead: forms::tri(values, "consortium_lead"),
            founder_person_id: None,
        }
    }
    async fn options(s: &Services, a: &Actor) -> Result<Options> {
        let communities = s
            .list_communities(
                a,
                &ListFilter::default(),
                Paging::new(Some(1), Some(Paging::MAX_PER_PAGE)),
            )
            .await?;
        let choices = communities
            .items
            .iter()
            .map(|c| (c.id.to_string(), format!("{} ({})", c.name_zh, c.name_en)))
            .collect();
        Ok(Options::from([("community_id", choices)]))
    }
    async fn list(
        s: &Services,
        a: &Actor,
        f: &ListFilter,
        p: Paging,
    ) -> Result<Paged<EnterpriseView>> {
        s.list_enterprises(a, f, p).await
    }
    async fn get(s: &Services, a: &Actor, id: i64) -> Result<EnterpriseView> {
        s.get_enterprise(a, id).await
    }
    async fn create(s: &Services, a: &Actor, i: &EnterpriseInput) -> Result<EnterpriseView> {
        s.create_enterprise(a, i).await
    }
    async fn update(
        s: &Services,
        a: &Actor,
        id: i64,
        i: &EnterpriseInput,
    ) -> Result<EnterpriseView> {
        s.update_enterprise(a, id, i).await
    }
}

pub struct Persons;

impl Kind for Persons {
    const ENTITY: &'static str = "person";
    const PATH: &'static str = "/persons";
    const FIELDS: &'static [Field] = &[
        field("full_name", F::Text, true),
        field("district", F::District, false),
        field("email", F::Email, false),
        field("birth_date", F::Date, false),
        field("highest_degree", F::Choice(&DEGREES), false),
        field("degree_date", F::Date, false),
        field("overseas_degree", F::TriBool, false),
        field("has_shenzhen_hukou", F::TriBool, false),
        field("hukou_shenzhen_since", F::Date, false),
        field("works_in_ai", F::TriBool, false),
        field("kunpeng_selected", F::TriBool, false),
        field("high_level_talent", F::TriBool, false),
        field("resident_id", F::Text, false),
    ];
    const COLUMNS: &'static [&'static str] =
        &["full_name", "district", "highest_degree", "works_in_ai"];
    type View = PersonView;
    type Input = PersonInput;

    fn id(v: &PersonView) -> i64 {
        v.id
    }
    fn title(v: &PersonView) -> String {
        v.full_name.clone()
    }
    fn values(v: &PersonView) -> Values {
        Values::from([
            ("full_name".into(), v.full_name.clone()),
            (
                "district".into(),
                v.district.map(|d| d.id().to_owned()).unwrap_or_default(),
            ),
            ("email".into(), v.email.clone().unwrap_or_default()),
            // The year only, for readers who need no more (the service says).
            (
                "birth_date".into(),
                v.birth_date.map_or_else(
                    || v.birth_year.map(|y| y.to_string()).unwrap_or_default(),
                    |d| d.to_string(),
                ),
            ),
            (
                "highest_degree".into(),
                v.highest_degree.clone().unwrap_or_default(),
            ),
            ("degree_date".into(), date_text(v.degree_date)),
            (
                "overseas_degree".into(),
                forms::bool_text(v.overseas_degree),
            ),
            (
                "has_shenzhen_hukou".into(),
                forms::bool_text(v.has_shenzhen_hukou),
            ),
            (
                "hukou_shenzhen_since".into(),
                date_text(v.hukou_shenzhen_since),
            ),
            ("works_in_ai".into(), forms::bool_text(v.works_in_ai)),
            (
                "kunpeng_selected".into(),
                forms::bool_text(v.kunpeng_selected),
            ),
            (
                "high_level_talent".into(),
                forms::bool_text(v.high_level_talent),
            ),
            // The full number is never put back into a form; an empty field keeps it.
            ("resident_id".into(), String::new()),
        ])
    }
    fn extra_facts(v: &PersonView, _l: Locale) -> Vec<(&'static str, String)> {
        let shown = v
            .resident_id
            .clone()
            .or_else(|| v.resident_id_masked.clone())
            .unwrap_or_else(|| "—".to_owned());
        vec![("person.resident_id_on_file", shown)]
    }
    fn actions(v: &PersonView, viewer: &Viewer) -> Markup {
        let l = viewer.locale;
        html! {
            @if v.may_reveal_resident_id && v.resident_id.is_none() {
                form.inline method="post" action={ "/persons/" (v.id) "/resident-id" } {
                    input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                    button.secondary type="submit" id="reveal-resident-id" title=(t(l, "person.reveal_note")) {
                        (t(l, "person.reveal_resident_id"))
                    }
                }
            }
        }
    }
    fn may_create(s: &Services, a: &Actor) -> bool {
        s.may_create_person(a)
    }
    fn may_update(s: &Services, a: &Actor, v: &PersonView) -> bool {
        s.may_update_person(a, v)
    }
    fn input(values: &Values, _errors: &mut Vec<FieldError>) -> PersonInput {
        PersonInput {
            full_name: forms::text(values, "full_name"),
            district: forms::opt(values, "district"),
            email: forms::opt(values, "email"),
            birth_date: forms::opt(values, "birth_date"),
            highest_degree: forms::opt(values, "highest_degree"),
            degree_date: forms::opt(values, "degree_date"),
            overseas_degree: forms::tri(values, "overseas_degree"),
            has_shenzhen_hukou: forms::tri(values, "has_shenzhen_hukou"),
            hukou_shenzhen_since: forms::opt(values, "hukou_shenzhen_since"),
            works_in_ai: forms::tri(values, "works_in_ai"),
            kunpeng_selected: forms::tri(values, "kunpeng_selected"),
            high_level_talent: forms::tri(values, "high_level_talent"),
            resident_id: forms::opt(values, "resident_id"),
            account_id: None,
        }
    }
    async fn list(s: &Services, a: &Actor, f: &ListFilter, p: Paging) -> Result<Paged<PersonView>> {
        s.list_persons(a, f, p).await
    }
    async fn get(s: &Services, a: &Actor, id: i64) -> Result<PersonView> {
        s.get_person(a, id).await
    }
    async fn create(s: &Services, a: &Actor, i: &PersonInput) -> Result<PersonView> {
        s.create_person(a, i).await
    }
    async fn update(s: &Services, a: &Actor, id: i64, i: &PersonInput) -> Result<PersonView> {
        s.update_person(a, id, i).await
    }
}

/// The whole resident id number of a person, on the explicit action of a
/// reader who may reveal it (the service decides and writes the audit
/// entry); the page is not to be stored.
async fn reveal_resident_id(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let l = viewer.locale;
    let revealed = state
        .services
        .reveal_resident_id(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let view = state
        .services
        .get_person(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let body = html! {
        h1 { (view.full_name) }
        section.card {
            dl.facts {
                dt { (t(l, "person.resident_id_full")) }
                dd id="revealed-resident-id" { (revealed.resident_id) }
            }
        }
        p.notice role="status" id="reveal-audited" { (t(l, "person.revealed_note")) }
        div.actions {
            a.button.secondary href={ "/persons/" (id) } { (t(l, "form.back")) }
        }
    };
    Ok((
        [(header::CACHE_CONTROL, "private, no-store")],
        page(&viewer, &view.full_name, body),
    )
        .into_response())
}
