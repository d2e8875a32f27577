//! An in-memory ledger, for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::machine::apply;
use super::{Ledger, LedgerEntry, Transition};
use crate::error::{Error, Result};

/// Keeps the ledger in a map; nothing survives the process. Transitions follow the same
/// preconditions as [`super::DynamoLedger`]'s conditional writes (see [`super::machine`]); there is
/// no lock.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    rows: Mutex<BTreeMap<String, LedgerEntry>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, LedgerEntry>> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts/removes).
        self.rows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

const RUNNER: &str = "memory";

#[async_trait::async_trait]
impl Ledger for MemoryLedger {
    fn describe(&self) -> String {
        "in-memory ledger".into()
    }

    async fn prepare(&self) -> Result<()> {
        Ok(())
    }

    async fn entries(&self) -> Result<Vec<LedgerEntry>> {
        Ok(self.map().values().cloned().collect())
    }

    async fn write(&self, name: &str, transition: &Transition) -> Result<()> {
        let mut map = self.map();
        let next =
            apply(map.get(name), name, transition, RUNNER, 0, now_ms()).map_err(|detail| {
                Error::LedgerConflict {
                    name: name.to_owned(),
                    transition: transition.label().into(),
                    detail,
                }
            })?;
        match next {
            Some(entry) => map.insert(name.to_owned(), entry),
            None => map.remove(name),
        };
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
