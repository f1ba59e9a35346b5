//! JSON kept in a Text column (portable across SQLite and PostgreSQL), read and written in one
//! place. Both directions fail loudly: a column that does not read as what it should hold is a
//! bug or a broken migration, answered as a 500 with the column named in the log, never a
//! silent default that would lose what the row said.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{AppError, AppResult};

/// The JSON text to store for `value`.
pub fn to_text<T: Serialize>(value: &T) -> AppResult<String> {
    serde_json::to_string(value)
        .map_err(|e| AppError::internal(format!("cannot write JSON for a column: {e}")))
}

/// What the JSON text in `column` holds.
pub fn from_text<T: DeserializeOwned>(column: &'static str, text: &str) -> AppResult<T> {
    serde_json::from_str(text)
        .map_err(|e| AppError::internal(format!("column {column} does not read as expected: {e}")))
}

/// The value of a serde enum that `column` holds by its name (`"phb"`, `"female"`).
pub fn enum_from_text<T: DeserializeOwned>(column: &'static str, text: &str) -> AppResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        AppError::internal(format!(
            "column {column} holds {text:?}, not one of its values"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_that_does_not_read_is_an_error_naming_it() {
        let read: AppResult<Vec<i32>> = from_text("alert_thresholds", "[80, \"x\"]");
        let error = read.unwrap_err().to_string();
        assert!(error.contains("alert_thresholds"), "{error}");
        assert_eq!(
            from_text::<Vec<i32>>("alert_thresholds", "[80,100]").unwrap(),
            vec![80, 100]
        );
        assert_eq!(to_text(&vec![80, 100]).unwrap(), "[80,100]");
    }
}
