//! JSON kept in a Text column (portable across SQLite and PostgreSQL).

use serde::de::DeserializeOwned;
use serde::Serialize;

pub fn to_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

pub fn from_text<T: DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}
