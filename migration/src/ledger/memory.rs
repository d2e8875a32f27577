//! An in-memory ledger, for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use sea_orm_migration::{DbErr, SchemaManagerConnection};

use super::{AppliedMigration, Ledger};

/// Keeps applied migrations in a map; nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    applied: Mutex<BTreeMap<String, i64>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, i64>> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts/removes).
        self.applied
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl Ledger for MemoryLedger {
    async fn prepare(&self) -> Result<(), DbErr> {
        Ok(())
    }

    async fn applied(&self) -> Result<Vec<AppliedMigration>, DbErr> {
        Ok(self
            .map()
            .iter()
            .map(|(name, at)| AppliedMigration {
                name: name.clone(),
                applied_at: *at,
            })
            .collect())
    }

    async fn record(
        &self,
        _conn: &SchemaManagerConnection<'_>,
        migration: &AppliedMigration,
    ) -> Result<(), DbErr> {
        self.map()
            .insert(migration.name.clone(), migration.applied_at);
        Ok(())
    }

    async fn remove(&self, _conn: &SchemaManagerConnection<'_>, name: &str) -> Result<(), DbErr> {
        self.map().remove(name);
        Ok(())
    }
}
