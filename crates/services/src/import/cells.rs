//! Reading a row as people write it: column headers by field id or by
//! their label in either language, districts and options by name, yes/no
//! in both languages, numbers with separators, amounts in yuan; and how a
//! row's messages are gathered, one per cell.

use super::RecordKind;
use crate::error::{FieldError, Result, ServiceError};
use crate::registry::Checker;
use opcity_domain::Fen;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The interface texts of both languages that name columns
/// (`import.column.*`) and options (`option.*`), as people write them.
pub(crate) static LABELS: LazyLock<crate::locale_files::Texts> = LazyLock::new(|| {
    let mut texts = crate::locale_files::Texts::new();
    for (name, source) in [
        (
            "en/import.toml",
            include_str!("../../../../locales/en/import.toml"),
        ),
        (
            "zh-CN/import.toml",
            include_str!("../../../../locales/zh-CN/import.toml"),
        ),
        (
            "en/core.toml",
            include_str!("../../../../locales/en/core.toml"),
        ),
        (
            "zh-CN/core.toml",
            include_str!("../../../../locales/zh-CN/core.toml"),
        ),
        (
            "en/spaces.toml",
            include_str!("../../../../locales/en/spaces.toml"),
        ),
        (
            "zh-CN/spaces.toml",
            include_str!("../../../../locales/zh-CN/spaces.toml"),
        ),
    ] {
        // Both languages share keys: each file's texts are collected apart.
        let mut one = crate::locale_files::Texts::new();
        crate::locale_files::read_into(name, source, &mut one);
        texts.extend(one.into_iter().map(|(k, v)| (format!("{name}:{k}"), v)));
    }
    texts
});

/// The labels of both languages under `prefix.ID`, each with its `ID`.
fn labels(prefix: &str) -> impl Iterator<Item = (&'static str, &'static String)> {
    let prefix = format!("{prefix}.");
    LABELS.iter().filter_map(move |(key, label)| {
        let (_, key) = key.split_once(':')?;
        Some((key.strip_prefix(prefix.as_str())?, label))
    })
}

/// The key of a column's label (`locales/*/import.toml`): the kind's own
/// (`import.instruments.column.name`) where it has one, else the shared
/// one (`import.column.name`).
pub fn column_label_key(kind: RecordKind, id: &str) -> String {
    let own = format!("import.{}.column.{id}", kind.id());
    if LABELS.contains_key(&format!("en/import.toml:{own}")) {
        own
    } else {
        format!("import.column.{id}")
    }
}

/// Each kind's header texts by normalised form (field id, English or
/// Chinese label).
pub(crate) static HEADERS: LazyLock<HashMap<(RecordKind, String), &'static str>> =
    LazyLock::new(|| {
        let mut out = HashMap::new();
        for kind in RecordKind::ALL {
            for column in kind.columns() {
                out.insert((kind, normalise(column.id)), column.id);
            }
            for column in kind.columns() {
                let key = column_label_key(kind, column.id);
                for lang in ["en", "zh-CN"] {
                    if let Some(label) = LABELS.get(&format!("{lang}/import.toml:{key}")) {
                        // A field id is never taken over by another column's label.
                        out.entry((kind, normalise(label))).or_insert(column.id);
                    }
                }
            }
        }
        out
    });

/// An option's id from its id or its label in either language (`硕士`,
/// `Master's degree`); other text unchanged, for validation to refuse.
pub(crate) fn option_id(value: Option<&str>, group: &str) -> Option<String> {
    let value = value?;
    let wanted = normalise(value);
    let id = labels(&format!("option.{group}"))
        .find(|(_, label)| normalise(label) == wanted)
        .map(|(id, _)| id);
    Some(id.unwrap_or(value).to_owned())
}

/// A district's id from its id or its name in either language (`南山区`,
/// `南山`, `Nanshan`); other text unchanged, for validation to refuse.
pub(crate) fn district_id(value: Option<&str>) -> Option<String> {
    let value = value?;
    let wanted = normalise(value);
    let found = opcity_domain::District::ALL.into_iter().find(|d| {
        [d.id(), d.name_zh(), d.name_en()].into_iter().any(|name| {
            normalise(name) == wanted || normalise(name.trim_end_matches('区')) == wanted
        })
    });
    Some(found.map_or(value, |d| d.id()).to_owned())
}

/// A row's field errors: those gathered while reading its cells and those
/// of its record's validation, together.
pub(crate) fn checked<V>(
    c: Checker,
    validated: Result<V>,
) -> std::result::Result<V, Vec<FieldError>> {
    checked_renamed(c, validated, &[])
}

/// [`checked`], with the validation's field names `renames` (`from`, `to`)
/// given their column's (`list_rent_fen` is typed as `list_rent_yuan`). A
/// cell that could not be read keeps its one message: validation's view of
/// the placeholder it left is dropped.
pub(crate) fn checked_renamed<V>(
    c: Checker,
    validated: Result<V>,
    renames: &[(&str, &str)],
) -> std::result::Result<V, Vec<FieldError>> {
    let mut errors = c.errors;
    match validated {
        Ok(v) if errors.is_empty() => Ok(v),
        Ok(_) => Err(errors),
        Err(ServiceError::Validation(more)) => {
            for mut error in more {
                if let Some((_, to)) = renames.iter().find(|(from, _)| *from == error.field) {
                    error.field = (*to).to_owned();
                }
                if !errors.iter().any(|e| e.field == error.field) {
                    errors.push(error);
                }
            }
            Err(errors)
        }
        Err(other) => {
            errors.push(FieldError::new("row", "invalid_value").with("reason", other));
            Err(errors)
        }
    }
}

/// A whole number the row must give; 0 (with the cell's message) when it
/// does not.
pub(crate) fn required_int(c: &mut Checker, cells: &Cells<'_>, field: &str) -> i64 {
    if cells.get(field).is_none() {
        c.push(FieldError::new(field, "required"));
        return 0;
    }
    cells.int(c, field).unwrap_or_default()
}

/// An amount in yuan the row must give, as fen; 0 (with the cell's
/// message) when it does not.
pub(crate) fn required_yuan(c: &mut Checker, cells: &Cells<'_>, field: &str) -> i64 {
    if cells.get(field).is_none() {
        c.push(FieldError::new(field, "required"));
        return 0;
    }
    cells.yuan(c, field).unwrap_or_default()
}

/// The refusal of a row in a district the actor may not add records to.
pub(crate) fn not_yours() -> FieldError {
    FieldError::new("district", "district_not_yours")
}

/// A header as compared: without case, spaces, underscores, a required
/// marker (`*`) or full-width brackets' difference.
pub(crate) fn normalise(header: &str) -> String {
    header
        .trim()
        .trim_end_matches('*')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The cells of one row, by field id.
pub(crate) struct Cells<'a> {
    pub values: &'a [String],
    /// Field id → the column's position in the row.
    pub index: &'a HashMap<&'static str, usize>,
}

impl Cells<'_> {
    /// The cell of column `field`, trimmed; empty when the file has no such column.
    pub fn text(&self, field: &str) -> &str {
        self.index
            .get(field)
            .and_then(|&i| self.values.get(i))
            .map_or("", |v| v.as_str())
    }

    /// The cell, or `None` when it is empty.
    pub fn get(&self, field: &str) -> Option<&str> {
        Some(self.text(field)).filter(|t| !t.is_empty())
    }

    /// An owned copy of a non-empty cell.
    pub fn owned(&self, field: &str) -> Option<String> {
        self.get(field).map(str::to_owned)
    }

    /// A whole number (thousands separators allowed).
    pub fn int(&self, c: &mut Checker, field: &str) -> Option<i64> {
        let text = self.get(field)?;
        let parsed = text.replace([',', '，'], "").parse().ok();
        if parsed.is_none() {
            c.push(FieldError::new(field, "not_a_number"));
        }
        parsed
    }

    /// An amount in yuan (`3,000`, `2500.50`, `¥800`), as fen.
    pub fn yuan(&self, c: &mut Checker, field: &str) -> Option<i64> {
        let text = self.get(field)?;
        let parsed = Fen::parse_yuan(text).filter(|f| f.0 >= 0).map(|f| f.0);
        if parsed.is_none() {
            c.push(FieldError::new(field, "not_an_amount"));
        }
        parsed
    }

    /// Yes or no, as people write it in either language or a spreadsheet does.
    pub fn flag(&self, c: &mut Checker, field: &str) -> Option<bool> {
        let text = self.get(field)?;
        match text.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "有" => Some(true),
            "false" | "no" | "n" | "0" | "否" | "无" => Some(false),
            _ => {
                c.push(FieldError::new(field, "not_yes_no"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column is found by its id and by its label in each language,
    /// and no label names another column of its kind.
    #[test]
    fn each_header_names_its_own_column() {
        for kind in RecordKind::ALL {
            for column in kind.columns() {
                assert_eq!(HEADERS.get(&(kind, normalise(column.id))), Some(&column.id));
                let key = column_label_key(kind, column.id);
                for lang in ["en", "zh-CN"] {
                    let label = LABELS
                        .get(&format!("{lang}/import.toml:{key}"))
                        .unwrap_or_else(|| panic!("{key} has no {lang} label"));
                    assert_eq!(
                        HEADERS.get(&(kind, normalise(label))),
                        Some(&column.id),
                        "{kind:?}: {label}"
                    );
                }
            }
        }
    }

    #[test]
    fn districts_and_options_are_read_as_people_write_them() {
        for text in ["nanshan", "南山区", "南山", "Nanshan", " NANSHAN "] {
            assert_eq!(
                district_id(Some(text)).as_deref(),
                Some("nanshan"),
                "{text}"
            );
        }
        assert_eq!(district_id(Some("Gotham")).as_deref(), Some("Gotham"));
        assert_eq!(
            option_id(Some("硕士"), "highest_degree").as_deref(),
            Some("master")
        );
        assert_eq!(option_id(Some("micro"), "size").as_deref(), Some("micro"));
    }
}
