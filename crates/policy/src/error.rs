//! Pack load errors: every problem names its file, line and column where they
//! are known, and the key.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The file could not be read (only [`crate::Pack::load_dir`]).
    Io,
    /// Not YAML.
    Syntax,
    UnknownKey,
    MissingKey,
    /// A value of the wrong type or outside its allowed words.
    Type,
    UndefinedFact,
    UndefinedParameter,
    /// A condition that does not parse or does not type-check.
    Expression,
    Duplicate,
    /// A pack redefines what a pack it extends defines, without listing it
    /// under `overrides`.
    Shadow,
    /// Two rules of one pack apply to the same thing with neither taking
    /// precedence (two exceptions to one programme).
    Conflict,
    /// A name that refers to nothing: a programme, tier or group.
    UnknownReference,
    /// A value that is well-typed but not allowed (e.g. an inverted window).
    Invalid,
    UnexpectedFile,
    MissingFile,
}

impl LoadErrorKind {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            LoadErrorKind::Io => "io",
            LoadErrorKind::Syntax => "syntax",
            LoadErrorKind::UnknownKey => "unknown_key",
            LoadErrorKind::MissingKey => "missing_key",
            LoadErrorKind::Type => "type",
            LoadErrorKind::UndefinedFact => "undefined_fact",
            LoadErrorKind::UndefinedParameter => "undefined_parameter",
            LoadErrorKind::Expression => "expression",
            LoadErrorKind::Duplicate => "duplicate",
            LoadErrorKind::Shadow => "shadow",
            LoadErrorKind::Conflict => "conflict",
            LoadErrorKind::UnknownReference => "unknown_reference",
            LoadErrorKind::Invalid => "invalid",
            LoadErrorKind::UnexpectedFile => "unexpected_file",
            LoadErrorKind::MissingFile => "missing_file",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    /// Path inside the pack, e.g. `programmes/sz.housing.subsidy.yaml`.
    pub file: String,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted path of the key, e.g. `conditions[1].when`; empty for the file.
    pub key: String,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {} [{}]", self.message, self.kind.code())
    }
}

/// A serde message without the " at line L column C" that serde_json and
/// serde_norway append; callers report the position separately, or not at
/// all where it would only point inside one case.
pub(crate) fn without_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

/// The field named by serde's "missing field `x`" message. Serde reports it
/// at the enclosing object, so callers append it to the path.
pub(crate) fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

/// `path.name`, or `name` at the root (`serde_path_to_error` writes the root
/// as `.`).
pub(crate) fn join_path(path: &str, name: &str) -> String {
    match path {
        "" | "." => name.to_owned(),
        _ => format!("{path}.{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_take_serde_messages_apart() {
        assert_eq!(
            without_position("bad thing at line 3 column 9"),
            "bad thing"
        );
        assert_eq!(without_position("bad thing"), "bad thing");
        assert_eq!(missing_field("missing field `from`"), Some("from"));
        assert_eq!(missing_field("invalid type"), None);
        assert_eq!(join_path(".", "x"), "x");
        assert_eq!(join_path("granted[0]", "x"), "granted[0].x");
    }
}
