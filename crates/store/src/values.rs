//! Set-based statements: many rows of parameters in one `VALUES` list, so a
//! group's writes take one round trip (`WITH rows (...) AS (VALUES ...)
//! UPDATE ... FROM rows`).

use sea_orm::{DbBackend, Value};

/// The parameter marker of the `n`-th bound value (1-based). SQLite's `?`
/// numbers in order of appearance, so values must be bound in the text's
/// order.
pub fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// Appends `rows` to `values` and returns their `VALUES` list text,
/// `($1, $2), ($3, $4)`. Every row has the same number of columns.
pub fn rows_of(
    backend: DbBackend,
    values: &mut Vec<Value>,
    rows: impl IntoIterator<Item = Vec<Value>>,
) -> String {
    let mut texts = Vec::new();
    for row in rows {
        let mut marks = Vec::with_capacity(row.len());
        for v in row {
            values.push(v);
            marks.push(placeholder(backend, values.len()));
        }
        texts.push(format!("({})", marks.join(", ")));
    }
    texts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_number_their_values_in_order() {
        let mut values = vec![Value::from(0i64)];
        let rows = vec![
            vec![Value::from(1i64), Value::from("a")],
            vec![Value::from(2i64), Value::from("b")],
        ];
        let text = rows_of(DbBackend::Postgres, &mut values, rows.clone());
        assert_eq!(text, "($2, $3), ($4, $5)");
        assert_eq!(values.len(), 5);
        assert_eq!(values[3], Value::from(2i64));
        let mut values = Vec::new();
        assert_eq!(
            rows_of(DbBackend::Sqlite, &mut values, rows),
            "(?, ?), (?, ?)"
        );
    }
}
