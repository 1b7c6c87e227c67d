//! Declarative forms: each registry form is a list of field specs, rendered
//! with current values and with each validation message beside its field;
//! and the small parts every page's lists draw ([`table_head`]).

use crate::error::field_message;
use crate::i18n::{Locale, t};
use maud::{Markup, html};
use opcity_domain::District;
use opcity_services::FieldError;
use std::collections::HashMap;

/// Submitted or current form values by field name.
pub type Values = HashMap<String, String>;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Number,
    Date,
    Email,
    /// One of fixed values; labels are `option.{field}.{value}`.
    Choice(&'static [&'static str]),
    /// An amount typed in yuan (`3,000`, `2500.5`) for a service field in
    /// fen: the control is named `{stem}_yuan` and shows the messages about
    /// `{stem}_fen` too (parse it with [`yuan`]).
    Yuan,
    /// Yes / no / unknown.
    TriBool,
    District,
    /// One of the given (value, label) pairs, computed per request.
    Dynamic,
    /// A person or an enterprise picked by name: a text field suggesting
    /// the labels of the given pairs; the services read what was typed
    /// (`Services::pick_person`, `pick_enterprise`).
    Search,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

pub const fn field(name: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        kind,
        required,
    }
}

/// Renders a form's fields. `options` supplies choices for `Kind::Dynamic`.
/// Each control's id is `f-{name}`.
pub fn render_fields(
    locale: Locale,
    entity: &str,
    fields: &[Field],
    values: &Values,
    errors: &[FieldError],
    options: &HashMap<&str, Vec<(String, String)>>,
) -> Markup {
    render_fields_as(locale, entity, "f-", fields, values, errors, options)
}

/// [`render_fields`] with ids `{id_prefix}{name}`, for a second form on a
/// page whose field names repeat those of the first (ids stay unique).
pub fn render_fields_as(
    locale: Locale,
    entity: &str,
    id_prefix: &str,
    fields: &[Field],
    values: &Values,
    errors: &[FieldError],
    options: &HashMap<&str, Vec<(String, String)>>,
) -> Markup {
    html! {
        @for f in fields {
            @let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == f.name || (matches!(f.kind, Kind::Yuan) && e.field == fen_twin(f.name))).collect();
            @let value = values.get(f.name).cloned().unwrap_or_default();
            @let id = format!("{id_prefix}{}", f.name);
            div.field.invalid[!own.is_empty()] {
                label for=(id) {
                    (t(locale, &format!("{entity}.{}", f.name)))
                    @if f.required { " *" }
                }
                (control(locale, f, &id, &value, options))
                (messages(locale, &id, own))
            }
        }
    }
}

/// The messages beside the control `id`, one alert (`{id}-error`) each.
pub fn messages<'a>(
    locale: Locale,
    id: &str,
    errors: impl IntoIterator<Item = &'a FieldError>,
) -> Markup {
    html! {
        @for e in errors {
            div.error id={ (id) "-error" } role="alert" { (field_message(locale, e)) }
        }
    }
}

fn control(
    locale: Locale,
    f: &Field,
    id: &str,
    value: &str,
    options: &HashMap<&str, Vec<(String, String)>>,
) -> Markup {
    let select = |choices: Vec<(String, String)>, blank: &str| {
        html! {
            select id=(id) name=(f.name) {
                option value="" selected[value.is_empty()] { (blank) }
                @for (v, label) in &choices {
                    option value=(v) selected[v == value] { (label) }
                }
            }
        }
    };
    let unknown = t(locale, "form.unknown");
    match f.kind {
        Kind::Text => {
            html! { input id=(id) name=(f.name) type="text" value=(value) required[f.required]; }
        }
        Kind::Email => html! { input id=(id) name=(f.name) type="email" value=(value); },
        Kind::Number => {
            html! { input id=(id) name=(f.name) type="text" inputmode="numeric" value=(value) required[f.required]; }
        }
        Kind::Yuan => html! {
            span.money { span aria-hidden="true" { "¥" } " "
                input id=(id) name=(f.name) type="text" inputmode="decimal" value=(value) required[f.required]; }
        },
        Kind::Date => {
            html! { input id=(id) name=(f.name) type="date" value=(value) required[f.required]; }
        }
        Kind::Choice(values) => select(
            values
                .iter()
                .map(|v| {
                    (
                        (*v).to_owned(),
                        t(locale, &format!("option.{}.{v}", f.name)).to_owned(),
                    )
                })
                .collect(),
            unknown,
        ),
        Kind::TriBool => select(
            vec![
                ("true".to_owned(), t(locale, "form.yes").to_owned()),
                ("false".to_owned(), t(locale, "form.no").to_owned()),
            ],
            unknown,
        ),
        Kind::District => select(
            District::ALL
                .iter()
                .map(|d| (d.id().to_owned(), district_name(locale, *d).to_owned()))
                .collect(),
            t(locale, "form.choose"),
        ),
        Kind::Dynamic => select(
            options.get(f.name).cloned().unwrap_or_default(),
            t(locale, "form.none"),
        ),
        Kind::Search => search(
            locale,
            (f.name, id, value),
            f.required,
            options.get(f.name).map_or(&[][..], Vec::as_slice),
        ),
    }
}

/// A picker's text field (`name`, `id`, `value`) with its suggestions, the
/// labels of `choices`, and a hint on how to use it.
pub fn search(
    locale: Locale,
    (name, id, value): (&str, &str, &str),
    required: bool,
    choices: &[(String, String)],
) -> Markup {
    html! {
        p.hint id={ (id) "-hint" } { (t(locale, "form.search_hint")) }
        input id=(id) name=(name) type="text" list={ (id) "-list" } autocomplete="off"
            aria-describedby={ (id) "-hint" } value=(value) required[required];
        datalist id={ (id) "-list" } {
            @for (_, label) in choices { option value=(label) {} }
        }
    }
}

pub fn district_name(locale: Locale, d: District) -> &'static str {
    match locale {
        Locale::Zh => d.name_zh(),
        Locale::En => d.name_en(),
    }
}

/// A submitted text value, or `None` when empty.
pub fn opt(values: &Values, name: &str) -> Option<String> {
    values
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub fn text(values: &Values, name: &str) -> String {
    opt(values, name).unwrap_or_default()
}

/// A yes/no/unknown select.
pub fn tri(values: &Values, name: &str) -> Option<bool> {
    match values.get(name).map(String::as_str) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

/// A whole-number field; a value that is not a number becomes a field error.
pub fn number(values: &Values, name: &'static str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let raw = opt(values, name)?;
    match raw.replace([',', '_', ' '], "").parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(name, "not_a_number"));
            None
        }
    }
}

/// The service's name of a yuan field (`list_rent_yuan` → `list_rent_fen`).
pub fn fen_twin(name: &str) -> String {
    match name.strip_suffix("_yuan") {
        Some(stem) => format!("{stem}_fen"),
        None => name.to_owned(),
    }
}

/// An amount typed in yuan, in fen (`domain::money`'s one parser); empty is
/// `None` (and a `required` error when `required`), anything else that is
/// not an amount a field error.
pub fn yuan(
    values: &Values,
    name: &'static str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    let Some(raw) = opt(values, name) else {
        if required {
            errors.push(FieldError::new(name, "required"));
        }
        return None;
    };
    let fen = opcity_domain::Fen::parse_yuan(&raw).map(|f| f.0);
    if fen.is_none() {
        errors.push(FieldError::new(name, "not_an_amount"));
    }
    fen
}

pub fn bool_text(v: Option<bool>) -> String {
    v.map(|b| b.to_string()).unwrap_or_default()
}

/// How a yes/no/unknown fact reads on a page.
pub fn tri_label(locale: Locale, v: Option<bool>) -> &'static str {
    match v {
        Some(true) => t(locale, "form.yes"),
        Some(false) => t(locale, "form.no"),
        None => t(locale, "form.unknown"),
    }
}

/// A table's head: each column's heading by its translation key, except
/// `#` (the id column) and `""` (the actions column), drawn as they are.
pub fn table_head(l: Locale, columns: &[&str]) -> Markup {
    html! {
        thead { tr {
            @for c in columns {
                @match *c { "#" | "" => th { (c) }, key => th { (t(l, key)) } }
            }
        } }
    }
}
