//! Identifiers: UUIDv7, so ids sort by creation time and keyset paging by id is chronological.

use uuid::Uuid;

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// A reproducible UUIDv7 for demo data: the same seed and index always give the same id.
pub fn seeded_id(seed_millis: u64, index: u64) -> String {
    let mut random = [0u8; 10];
    random[2..].copy_from_slice(&index.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(seed_millis, &random)
        .into_uuid()
        .to_string()
}

/// A path id is a UUID or names nothing.
pub fn parse_id(raw: &str) -> Option<String> {
    Uuid::parse_str(raw).ok().map(|u| u.to_string())
}

/// An id in a request body must be a UUID naming something real.
pub fn body_id(field: &str, raw: &str) -> Result<String, crate::error::FieldError> {
    parse_id(raw).ok_or_else(|| crate::error::FieldError::new(field, "invalid_id", "is not an id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_reproducible_and_distinct() {
        assert_eq!(seeded_id(1, 5), seeded_id(1, 5));
        assert_ne!(seeded_id(1, 5), seeded_id(1, 6));
        assert_eq!(
            Uuid::parse_str(&seeded_id(1, 5)).unwrap().get_version_num(),
            7
        );
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let first = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id() > first);
    }
}
