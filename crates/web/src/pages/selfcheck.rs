//! The public self-check: anyone enters their facts (no sign-in) and sees
//! every programme with its status, figures and reasons, and what facts
//! would change the answer. A GET form, so results can be bookmarked and the
//! page works without JavaScript.

use super::PageResult;
use super::forms::district_name;
use super::layout::page;
use crate::AppState;
use crate::error::field_message;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing;
use maud::{Markup, html};
use opcity_domain::{District, Fen};
use opcity_policy::{Detail, ResultRecord, Status};
use opcity_services::policy::{Bilingual, ProgrammeInfo};
use opcity_services::regions::RegionInfo;
use opcity_services::{FieldError, ServiceError};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

pub fn routes() -> Router<AppState> {
    Router::new().route("/self-check", routing::get(self_check))
}

type Params = HashMap<String, String>;

const DEGREES: [&str; 5] = ["none", "associate", "bachelor", "master", "doctorate"];
const SIZES: [&str; 4] = ["micro", "small", "medium", "large"];
const PERSON_FLAGS: [&str; 5] = [
    "works_in_ai",
    "is_founder",
    "overseas_degree",
    "kunpeng_selected",
    "high_level_talent",
];
const ENTERPRISE_FLAGS: [&str; 5] = [
    "in_opc_community",
    "ai_business",
    "gov_deployed_product",
    "demonstration_project",
    "consortium_lead",
];

fn get<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn flag(params: &Params, key: &str) -> Option<Value> {
    match get(params, key) {
        Some("true") => Some(Value::Bool(true)),
        Some("false") => Some(Value::Bool(false)),
        _ => None,
    }
}

/// The benefits one can say one already received: those of the chosen
/// region that are one-time or exclude others, as `(id, title)`.
fn grantable(catalogue: &[ProgrammeInfo], l: Locale) -> Vec<(&str, &str)> {
    catalogue
        .iter()
        .filter(|p| p.one_time || !p.exclusion_groups.is_empty())
        .map(|p| (p.id.as_str(), place(l, &p.title)))
        .collect()
}

/// The spec's case object from the form; unknown answers are left out, so
/// they count as missing facts. Only the `grantable` benefits can have been
/// received (a box left in the address from another region's form is not).
fn case_from(params: &Params, as_of: chrono::NaiveDate, grantable: &[(&str, &str)]) -> Value {
    let mut person = Map::new();
    person.insert("id".into(), json!("self-check"));
    for key in ["birth_date", "degree_date", "highest_degree"] {
        if let Some(v) = get(params, key) {
            person.insert(key.into(), json!(v));
        }
    }
    match get(params, "hukou") {
        Some("none") => {
            person.insert("hukou_shenzhen_since".into(), Value::Null);
        }
        Some("since") => {
            if let Some(d) = get(params, "hukou_since") {
                person.insert("hukou_shenzhen_since".into(), json!(d));
            }
        }
        _ => {}
    }
    for key in PERSON_FLAGS {
        if let Some(v) = flag(params, key) {
            person.insert(key.into(), v);
        }
    }
    let mut case = Map::new();
    case.insert("person".into(), Value::Object(person));
    if get(params, "has_enterprise") == Some("true") {
        let mut enterprise = Map::new();
        for key in ["registered_date", "district", "size"] {
            if let Some(v) = get(params, &format!("e_{key}")) {
                enterprise.insert(key.into(), json!(v));
            }
        }
        for key in ENTERPRISE_FLAGS {
            if let Some(v) = flag(params, &format!("e_{key}")) {
                enterprise.insert(key.into(), v);
            }
        }
        case.insert("enterprise".into(), Value::Object(enterprise));
    }
    let since = as_of.pred_opt().unwrap_or(as_of).to_string();
    let granted: Vec<Value> = grantable
        .iter()
        .map(|(id, _)| id)
        .filter(|id| get(params, &format!("granted_{id}")).is_some())
        .map(|id| json!({ "programme": id, "from": since, "to": null }))
        .collect();
    case.insert("granted".into(), Value::Array(granted));
    Value::Object(case)
}

/// The form field behind a case path such as `person.birth_date`.
fn form_field(path: &str) -> String {
    match path.split_once('.') {
        Some(("person", "hukou_shenzhen_since")) => "hukou_since".to_owned(),
        Some(("person", rest)) => rest.to_owned(),
        Some(("enterprise", rest)) => format!("e_{rest}"),
        _ => path.to_owned(),
    }
}

fn tri_select(l: Locale, name: &str, label: &str, params: &Params) -> Markup {
    let value = get(params, name).unwrap_or("");
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" selected[value.is_empty()] { (t(l, "form.unknown")) }
                option value="true" selected[value == "true"] { (t(l, "form.yes")) }
                option value="false" selected[value == "false"] { (t(l, "form.no")) }
            }
        }
    }
}

fn date_input(
    name: &str,
    label: &str,
    params: &Params,
    errors: &[FieldError],
    l: Locale,
) -> Markup {
    let own: Vec<&FieldError> = errors
        .iter()
        .filter(|e| form_field(&e.field) == name)
        .collect();
    html! {
        div.field.invalid[!own.is_empty()] {
            label for=(name) { (label) }
            input id=(name) name=(name) type="date" value=(get(params, name).unwrap_or(""));
            @for e in own { div.error id={ (name) "-error" } role="alert" { (field_message(l, e)) } }
        }
    }
}

fn choice(
    l: Locale,
    name: &str,
    label: &str,
    params: &Params,
    options: &[(String, String)],
) -> Markup {
    let value = get(params, name).unwrap_or("");
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { (t(l, "form.unknown")) }
                @for (v, text) in options { option value=(v) selected[v == value] { (text) } }
            }
        }
    }
}

fn options(l: Locale, field: &str, values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| {
            (
                (*v).to_owned(),
                t(l, &format!("option.{field}.{v}")).to_owned(),
            )
        })
        .collect()
}

/// A place's name in the viewer's language.
fn place(l: Locale, name: &Bilingual) -> &str {
    match l {
        Locale::Zh => &name.zh,
        Locale::En => &name.en,
    }
}

/// The region chooser of the self-check and consultation forms: the pack in
/// force first, then the other packs built in.
pub(super) fn region_field(l: Locale, regions: &[RegionInfo], chosen: &str) -> Markup {
    let in_force = regions.iter().find(|r| r.in_force);
    html! {
        div.field {
            label for="region" { (t(l, "selfcheck.region")) }
            @if let Some(home) = in_force {
                p.hint id="region-hint" { (tf(l, "selfcheck.region_hint", [("in_force", place(l, &home.region))])) }
            }
            select id="region" name="region" aria-describedby="region-hint" {
                @for r in regions {
                    option value=(r.pack.id) selected[r.pack.id == chosen] { (place(l, &r.region)) }
                }
            }
        }
    }
}

/// The self-check form: the region, then the facts its rules read.
struct Choice<'a> {
    regions: &'a [RegionInfo],
    chosen: &'a str,
    /// The facts (`person.birth_date`, …) some programme of the region
    /// reads: the form asks only these.
    asked: &'a HashSet<&'a str>,
    /// Whether the region has a programme for companies.
    enterprises: bool,
}

fn form(
    viewer: &Viewer,
    params: &Params,
    errors: &[FieldError],
    grantable: &[(&str, &str)],
    region: &Choice,
) -> Markup {
    let l = viewer.locale;
    let hukou = get(params, "hukou").unwrap_or("");
    let districts: Vec<(String, String)> = District::ALL
        .iter()
        .map(|d| (d.id().to_owned(), district_name(l, *d).to_owned()))
        .collect();
    let asks = |fact: &str| region.asked.contains(fact);
    html! {
        form.card method="get" action="/self-check" id="self-check-form" {
            (region_field(l, region.regions, region.chosen))
            h2 { (t(l, "selfcheck.about_you")) }
            div.grid {
                @if asks("person.birth_date") { (date_input("birth_date", t(l, "person.birth_date"), params, errors, l)) }
                @if asks("person.highest_degree") { (choice(l, "highest_degree", t(l, "person.highest_degree"), params, &options(l, "highest_degree", &DEGREES))) }
                @if asks("person.degree_date") { (date_input("degree_date", t(l, "person.degree_date"), params, errors, l)) }
                @if asks("person.hukou_shenzhen_since") {
                    div.field {
                        label for="hukou" { (t(l, "person.has_shenzhen_hukou")) }
                        select id="hukou" name="hukou" {
                            option value="" selected[hukou.is_empty()] { (t(l, "form.unknown")) }
                            option value="none" selected[hukou == "none"] { (t(l, "selfcheck.hukou_none")) }
                            option value="since" selected[hukou == "since"] { (t(l, "selfcheck.hukou_since")) }
                        }
                    }
                    (date_input("hukou_since", t(l, "person.hukou_shenzhen_since"), params, errors, l))
                }
                @for key in PERSON_FLAGS.iter().filter(|k| asks(&format!("person.{k}"))) { (tri_select(l, key, t(l, &format!("person.{key}")), params)) }
            }
            @if region.enterprises {
                h2 { (t(l, "selfcheck.your_company")) }
                div.grid {
                    (tri_select(l, "has_enterprise", t(l, "selfcheck.has_enterprise"), params))
                    @if asks("enterprise.registered_date") { (date_input("e_registered_date", t(l, "enterprise.registered_date"), params, errors, l)) }
                    @if asks("enterprise.district") { (choice(l, "e_district", t(l, "enterprise.district"), params, &districts)) }
                    @if asks("enterprise.size") { (choice(l, "e_size", t(l, "enterprise.size"), params, &options(l, "size", &SIZES))) }
                    @for key in ENTERPRISE_FLAGS.iter().filter(|k| asks(&format!("enterprise.{k}"))) { (tri_select(l, &format!("e_{key}"), t(l, &format!("enterprise.{key}")), params)) }
                }
            }
            @if !grantable.is_empty() {
                h2 { (t(l, "selfcheck.already_received")) }
                div.grid {
                    @for (id, title) in grantable {
                        @let name = format!("granted_{id}");
                        label { input type="checkbox" name=(name) value="on" checked[get(params, &name).is_some()]; " " (title) }
                    }
                }
            }
            div.grid { (date_input("as_of", t(l, "selfcheck.as_of"), params, errors, l)) }
            div.actions { button type="submit" id="check" { (t(l, "selfcheck.submit")) } }
        }
    }
}

fn figure(l: Locale, r: &ResultRecord) -> Option<String> {
    let fen = |v: Option<Fen>| v.map(|v| v.to_string());
    if let (Some(monthly), Some(months)) = (fen(r.monthly_fen), r.months) {
        return Some(tf(
            l,
            "selfcheck.monthly",
            [
                ("monthly", monthly.as_str()),
                ("months", months.to_string().as_str()),
            ],
        ));
    }
    if let Some(amount) = fen(r.amount_fen) {
        return Some(tf(l, "selfcheck.amount", [("amount", amount.as_str())]));
    }
    if let Some(ceiling) = fen(r.ceiling_fen) {
        return Some(tf(l, "selfcheck.ceiling", [("amount", ceiling.as_str())]));
    }
    r.months
        .map(|m| tf(l, "selfcheck.months", [("months", m.to_string().as_str())]))
}

/// A condition's outcome as a mark: holds, fails, or unknown (facts missing).
pub(super) fn holds_mark(holds: Option<bool>) -> &'static str {
    match holds {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "?",
    }
}

fn fact_label(l: Locale, fact: &str) -> &'static str {
    t(l, fact)
}

/// One programme's result; `apply` offers the way to apply (where
/// applying is the viewer's to do) below an eligible or undetermined one.
pub(super) fn result_card(
    l: Locale,
    r: &ResultRecord,
    programme: Option<&ProgrammeInfo>,
    apply: Option<&Viewer>,
) -> Markup {
    let status = r.status.name();
    let id = r.programme.as_str();
    let (title, description) = programme.map_or((id.to_owned(), String::new()), |p| match l {
        Locale::Zh => (p.title.zh.clone(), p.description.zh.clone()),
        Locale::En => (p.title.en.clone(), p.description.en.clone()),
    });
    let reasons = r.reasons();
    let failed: Vec<&str> = r.failed_conditions().collect();
    let missing = &r.missing_facts;
    html! {
        article.card.result id={ "result-" (id) } data-status=(status) {
            div.result-head {
                strong { (title) }
                span class={ "badge " (status) } { (t(l, &format!("status.{status}"))) }
            }
            @if let Some(p) = programme {
                p.hint {
                    @if p.measure > 0 { (tf(l, "selfcheck.measure", [("n", p.measure.to_string().as_str())])) " · " }
                    (description)
                }
            }
            @if r.is_eligible() {
                @if let Some(text) = figure(l, r) { p.figure { (text) } }
                @if let Some(note) = &r.note { p.hint { (note) } }
            }
            @if !missing.is_empty() {
                p { (t(l, "selfcheck.tell_us")) " " (missing.iter().map(|f| fact_label(l, f)).collect::<Vec<_>>().join("、")) }
            }
            @if !failed.is_empty() {
                p { (t(l, "selfcheck.not_met")) " " (failed.iter().map(|c| t(l, &format!("condition.{c}"))).collect::<Vec<_>>().join("；")) }
            }
            @if let Some(viewer) = apply.filter(|_| r.status != Status::Ineligible) {
                p.apply { (super::apply::apply_link(viewer, id, true)) }
            }
            @if !reasons.is_empty() {
                details {
                    summary { (t(l, "selfcheck.reasons")) }
                    ul.reasons {
                        @for c in reasons {
                            li { (holds_mark(c.holds)) " " (t(l, &format!("condition.{}", c.condition))) }
                        }
                    }
                }
            }
        }
    }
}

async fn self_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<Params>,
) -> PageResult {
    let l = viewer.locale;
    let region = get(&params, "region");
    let catalogue = state
        .services
        .region_catalogue(region)
        .map_err(|e| viewer.fail(e))?;
    let regions = state.services.regions();
    let in_force = regions
        .iter()
        .any(|r| r.in_force && r.pack.id == catalogue.pack.id);
    // Choosing a region alone (a link to another city's self-check) is not
    // a check yet.
    let submitted = params.keys().any(|k| k != "region");
    let mut errors = Vec::new();
    let as_of = match get(&params, "as_of") {
        None => opcity_domain::today_in_shanghai(chrono::Utc::now()),
        Some(text) => opcity_policy::parse_date(text).unwrap_or_else(|_| {
            errors.push(FieldError::new("as_of", "invalid_date").with("value", text));
            opcity_domain::today_in_shanghai(chrono::Utc::now())
        }),
    };
    let grantable = grantable(&catalogue.programmes, l);
    let asked: HashSet<&str> = catalogue
        .programmes
        .iter()
        .flat_map(|p| p.facts.iter().map(String::as_str))
        .collect();
    let enterprises = catalogue
        .programmes
        .iter()
        .any(|p| p.beneficiary == "enterprise");
    let outcome = if submitted && errors.is_empty() {
        match state.services.evaluate_case(
            region,
            &case_from(&params, as_of, &grantable).to_string(),
            as_of,
            Detail::Full,
        ) {
            Ok(v) => Some(v),
            Err(ServiceError::Validation(found)) => {
                errors.extend(found);
                None
            }
            Err(other) => return Err(viewer.fail(other)),
        }
    } else {
        None
    };
    // Applications are made under the pack in force only.
    let offered = in_force && super::apply::offers_apply(&state, &viewer);
    let by_id: HashMap<&str, &ProgrammeInfo> = catalogue
        .programmes
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let count = |s: Status| outcome.as_ref().map_or(0, |o| o.count(s)).to_string();
    let body = html! {
        h1 { (t(l, "selfcheck.title")) }
        p { (t(l, "selfcheck.lead")) }
        @if !errors.is_empty() {
            div.notice.error role="alert" id="form-errors" {
                (tf(l, "form.has_errors", [("n", errors.len().to_string().as_str())]))
            }
        }
        (form(&viewer, &params, &errors, &grantable, &Choice { regions: &regions, chosen: &catalogue.pack.id, asked: &asked, enterprises }))
        @if let Some(o) = outcome.as_ref().filter(|o| !o.results.is_empty()) {
            section id="results" {
                h2 { (tf(l, "selfcheck.summary", [("as_of", as_of.to_string().as_str()), ("eligible", count(Status::Eligible).as_str()), ("undetermined", count(Status::Undetermined).as_str()), ("ineligible", count(Status::Ineligible).as_str())])) }
                p.hint { (tf(l, "selfcheck.pack", [("id", o.pack.id.as_str()), ("version", o.pack.version.as_str())])) }
                @for status in [Status::Eligible, Status::Undetermined, Status::Ineligible] {
                    @let group: Vec<&ResultRecord> = o.results.iter().filter(|r| r.status == status).collect();
                    @if !group.is_empty() {
                        h3 { (t(l, &format!("status.{}", status.name()))) " (" (group.len()) ")" }
                        @for r in group { (result_card(l, r, by_id.get(r.programme.as_str()).copied(), offered.then_some(&viewer))) }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page(&viewer, t(l, "selfcheck.title"), body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result names its conditions in words: every condition of every
    /// pack built in has its label in both languages.
    #[test]
    fn every_condition_of_every_built_in_pack_has_a_label() {
        for id in opcity_packs::built_in() {
            let pack = opcity_packs::PackSource::Embedded(id).load().unwrap();
            for p in pack.programmes() {
                for name in p.condition_names() {
                    for l in [Locale::Zh, Locale::En] {
                        let key = format!("condition.{name}");
                        assert!(
                            crate::i18n::has(l, &key),
                            "{id} {}: {key} ({})",
                            p.id,
                            l.tag()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_answers_are_left_out_and_no_hukou_is_null() {
        let params: Params = [
            ("birth_date", "1995-03-01"),
            ("hukou", "none"),
            ("works_in_ai", "true"),
            ("is_founder", ""),
            ("has_enterprise", "true"),
            ("e_size", "micro"),
            ("granted_sz.housing.subsidy", "on"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let case = case_from(
            &params,
            "2026-06-01".parse().unwrap(),
            &[("sz.housing.subsidy", "Housing subsidy")],
        );
        assert_eq!(case["person"]["birth_date"], "1995-03-01");
        assert_eq!(case["person"]["hukou_shenzhen_since"], Value::Null);
        assert!(case["person"].get("is_founder").is_none());
        assert_eq!(case["enterprise"]["size"], "micro");
        assert_eq!(case["granted"][0]["programme"], "sz.housing.subsidy");
        assert_eq!(case["granted"][0]["from"], "2026-05-31");
        assert_eq!(form_field("person.hukou_shenzhen_since"), "hukou_since");
        assert_eq!(
            form_field("enterprise.registered_date"),
            "e_registered_date"
        );
    }
}
