//! The item codec: ledger rows and the lock item to and from DynamoDB items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{Error, Result};
use crate::ledger::{EntryState, LedgerEntry, LockInfo};

pub(super) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn string(item: &HashMap<String, AttributeValue>, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

pub(super) fn num(item: &HashMap<String, AttributeValue>, key: &str) -> Option<u64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub(super) fn int(item: &HashMap<String, AttributeValue>, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub(super) fn lock_info(item: &HashMap<String, AttributeValue>) -> Option<LockInfo> {
    Some(LockInfo {
        owner: string(item, "owner")?,
        fence: num(item, "fence").unwrap_or(0),
        operation: string(item, "operation").unwrap_or_default(),
        lease_expires_at_ms: int(item, "lease_expires_at").unwrap_or(0),
        released: item
            .get("released")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}

/// A migration row, including the article's (only `PK`/`SK`, perhaps a time): those are applied.
pub(super) fn parse_entry(item: &HashMap<String, AttributeValue>) -> Result<LedgerEntry> {
    let name = string(item, "SK")
        .ok_or_else(|| Error::Protocol("a ledger item has no string SK".into()))?;
    let state = match string(item, "status") {
        None => EntryState::Applied,
        Some(word) => EntryState::parse(&word).ok_or_else(|| {
            Error::Protocol(format!(
                "ledger item `{name}` has an unknown status `{word}`"
            ))
        })?,
    };
    let mut entry = LedgerEntry::new(name, state);
    entry.checksum = string(item, "checksum");
    entry.seq = num(item, "seq").map(|v| v as u32);
    entry.attempt = num(item, "attempt").map_or(1, |v| v as u32);
    entry.started_at_ms = int(item, "started_at_ms");
    entry.finished_at_ms = int(item, "finished_at_ms").or_else(|| article_time(item));
    entry.duration_ms = num(item, "duration_ms");
    entry.runner_id = string(item, "runner_id");
    entry.rolled_back = item
        .get("rolled_back")
        .and_then(|v| v.as_bool().ok())
        .copied();
    entry.error = string(item, "error");
    entry.fence = num(item, "fence");
    Ok(entry)
}

/// The time an article-format item may carry: a number (seconds or milliseconds) or an ISO-8601
/// string, under one of the names such runners use.
fn article_time(item: &HashMap<String, AttributeValue>) -> Option<i64> {
    ["timestamp", "appliedAt", "applied_at", "createdAt"]
        .iter()
        .find_map(|key| match item.get(*key)? {
            AttributeValue::N(v) => {
                let v: i64 = v.parse().ok()?;
                Some(if v > 100_000_000_000 { v } else { v * 1000 })
            }
            AttributeValue::S(v) => chrono::DateTime::parse_from_rfc3339(v)
                .ok()
                .map(|t| t.timestamp_millis()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::dynamo::MIGRATION_PK;

    #[test]
    fn an_item_with_an_unknown_status_is_unexpected_content() {
        let item = HashMap::from([
            ("PK".to_owned(), s(MIGRATION_PK)),
            ("SK".to_owned(), s("m1")),
            ("status".to_owned(), s("exploded")),
        ]);
        match parse_entry(&item) {
            Err(Error::Protocol(detail)) => assert!(detail.contains("exploded"), "{detail}"),
            other => panic!("{other:?}"),
        }
        let article = HashMap::from([
            ("PK".to_owned(), s(MIGRATION_PK)),
            ("SK".to_owned(), s("m1")),
        ]);
        assert_eq!(
            parse_entry(&article).expect("adopted").state,
            EntryState::Applied
        );
    }
}
