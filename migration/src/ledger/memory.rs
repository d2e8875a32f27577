//! An in-memory ledger, for tests, and the ledger's state machine in plain Rust.

use std::collections::BTreeMap;
use std::sync::Mutex;

use sea_orm_migration::SchemaManagerConnection;

use super::{EntryState, Ledger, LedgerEntry, Transition, truncate};
use crate::error::{Error, Result};

/// Keeps the ledger in a map; nothing survives the process. Transitions follow the same
/// preconditions as [`super::DynamoLedger`]'s conditional writes (see [`apply`]); there is no lock.
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

    async fn write(
        &self,
        _conn: &SchemaManagerConnection<'_>,
        name: &str,
        transition: &Transition,
    ) -> Result<()> {
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

/// The row after `transition`, or why the row's current state forbids it. `None` deletes the row.
///
/// This is the ledger's state machine; the DynamoDB ledger expresses the same preconditions as
/// condition expressions.
pub(crate) fn apply(
    current: Option<&LedgerEntry>,
    name: &str,
    transition: &Transition,
    runner_id: &str,
    fence: u64,
    now_ms: i64,
) -> std::result::Result<Option<LedgerEntry>, String> {
    let state = current.map(|e| e.state);
    let describe = || match current {
        None => "no row".to_owned(),
        Some(e) => format!("state {}", e.state.as_str()),
    };
    let mine =
        |e: &LedgerEntry| e.runner_id.as_deref() == Some(runner_id) && e.fence == Some(fence);
    match transition {
        Transition::Start {
            seq,
            checksum,
            attempt,
            tx_mode: _,
        } => {
            let allowed = match current {
                None => *attempt == 1,
                Some(e) => {
                    e.attempt + 1 == *attempt
                        && (e.state == EntryState::Reverted
                            || (e.state == EntryState::Failed && e.rolled_back == Some(true)))
                }
            };
            if !allowed {
                return Err(format!("{} (attempt {attempt})", describe()));
            }
            let mut entry = LedgerEntry::new(name, EntryState::InProgress);
            entry.seq = Some(*seq);
            entry.checksum.clone_from(checksum);
            entry.attempt = *attempt;
            entry.started_at_ms = Some(now_ms);
            entry.runner_id = Some(runner_id.to_owned());
            entry.fence = Some(fence);
            Ok(Some(entry))
        }
        Transition::Succeed {
            checksum,
            duration_ms,
        } => match current {
            Some(e) if e.state == EntryState::InProgress && mine(e) => {
                let mut entry = e.clone();
                entry.state = EntryState::Applied;
                if checksum.is_some() {
                    entry.checksum.clone_from(checksum);
                }
                entry.finished_at_ms = Some(now_ms);
                entry.duration_ms = Some(*duration_ms);
                Ok(Some(entry))
            }
            _ => Err(describe()),
        },
        Transition::Fail { error, rolled_back } => match current {
            Some(e) if e.state == EntryState::InProgress && mine(e) => {
                let mut entry = e.clone();
                entry.state = EntryState::Failed;
                entry.error = Some(truncate(error));
                entry.rolled_back = Some(*rolled_back);
                entry.finished_at_ms = Some(now_ms);
                Ok(Some(entry))
            }
            _ => Err(describe()),
        },
        Transition::Unknown { error, reverting } => {
            let state = if *reverting {
                EntryState::Reverting
            } else {
                EntryState::InProgress
            };
            match current {
                Some(e) if e.state == state && mine(e) => {
                    let mut entry = e.clone();
                    entry.error = Some(truncate(&format!("{}{error}", super::UNKNOWN_OUTCOME)));
                    Ok(Some(entry))
                }
                _ => Err(describe()),
            }
        }
        Transition::RevertStart => match current {
            Some(e) if e.state.is_applied() => {
                let mut entry = e.clone();
                entry.state = EntryState::Reverting;
                entry.started_at_ms = Some(now_ms);
                entry.runner_id = Some(runner_id.to_owned());
                entry.fence = Some(fence);
                Ok(Some(entry))
            }
            _ => Err(describe()),
        },
        Transition::RevertDone { duration_ms } => match current {
            Some(e) if e.state == EntryState::Reverting && mine(e) => {
                let mut entry = e.clone();
                entry.state = EntryState::Reverted;
                entry.finished_at_ms = Some(now_ms);
                entry.duration_ms = Some(*duration_ms);
                Ok(Some(entry))
            }
            _ => Err(describe()),
        },
        Transition::RevertFail { error, rolled_back } => match current {
            Some(e) if e.state == EntryState::Reverting && mine(e) => {
                let mut entry = e.clone();
                entry.state = if *rolled_back {
                    EntryState::Applied
                } else {
                    EntryState::Failed
                };
                entry.rolled_back = Some(*rolled_back);
                entry.error = Some(truncate(error));
                Ok(Some(entry))
            }
            _ => Err(describe()),
        },
        Transition::MarkApplied { checksum } => {
            let mut entry = current
                .cloned()
                .unwrap_or_else(|| LedgerEntry::new(name, EntryState::Applied));
            entry.state = EntryState::Applied;
            if checksum.is_some() {
                entry.checksum.clone_from(checksum);
            }
            entry.error = None;
            entry.rolled_back = None;
            entry.finished_at_ms = Some(now_ms);
            entry.runner_id = Some(runner_id.to_owned());
            entry.fence = Some(fence);
            entry.attempt = entry.attempt.max(1);
            Ok(Some(entry))
        }
        Transition::MarkFailed { rolled_back } => match current {
            Some(e) => {
                let mut entry = e.clone();
                entry.state = EntryState::Failed;
                entry.rolled_back = Some(*rolled_back);
                entry.runner_id = Some(runner_id.to_owned());
                entry.fence = Some(fence);
                Ok(Some(entry))
            }
            None => Err(describe()),
        },
        Transition::Forget => match state {
            Some(_) => Ok(None),
            None => Err(describe()),
        },
        Transition::Rechecksum { checksum } => match current {
            Some(e) if e.state.is_applied() => {
                let mut entry = e.clone();
                entry.checksum.clone_from(checksum);
                Ok(Some(entry))
            }
            _ => Err(describe()),
        },
        Transition::Baseline { seq, checksum } => match current {
            None => {
                let mut entry = LedgerEntry::new(name, EntryState::Baselined);
                entry.seq = Some(*seq);
                entry.checksum.clone_from(checksum);
                entry.attempt = 1;
                entry.finished_at_ms = Some(now_ms);
                entry.runner_id = Some(runner_id.to_owned());
                entry.fence = Some(fence);
                Ok(Some(entry))
            }
            Some(_) => Err(describe()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::TxMode;

    fn start(attempt: u32) -> Transition {
        Transition::Start {
            seq: 0,
            checksum: Some("sha256:a".into()),
            attempt,
            tx_mode: TxMode::None,
        }
    }

    #[test]
    fn state_machine_allows_only_the_documented_transitions() {
        let row = apply(None, "m", &start(1), "r", 7, 1).expect("first start");
        let row = row.expect("a row");
        assert_eq!(row.state, EntryState::InProgress);
        // An unknown outcome keeps the row in progress, marked, and only its runner may mark it.
        let unknown = Transition::Unknown {
            error: "no answer".into(),
            reverting: false,
        };
        assert!(apply(Some(&row), "m", &unknown, "other", 7, 1).is_err());
        assert!(apply(None, "m", &unknown, "r", 7, 1).is_err());
        let marked = apply(Some(&row), "m", &unknown, "r", 7, 1)
            .expect("unknown")
            .expect("row");
        assert_eq!(marked.state, EntryState::InProgress);
        assert_eq!(marked.error.as_deref(), Some("outcome unknown: no answer"));
        let reverting_unknown = Transition::Unknown {
            error: "no answer".into(),
            reverting: true,
        };
        assert!(apply(Some(&row), "m", &reverting_unknown, "r", 7, 1).is_err());
        // A second start of an in-progress row is refused (another runner got there first).
        assert!(apply(Some(&row), "m", &start(1), "r", 7, 1).is_err());
        assert!(apply(Some(&row), "m", &start(2), "r", 7, 1).is_err());
        // Only the runner (and fence) that started it may finish it.
        let done = Transition::Succeed {
            checksum: None,
            duration_ms: 5,
        };
        assert!(apply(Some(&row), "m", &done, "other", 7, 2).is_err());
        assert!(apply(Some(&row), "m", &done, "r", 8, 2).is_err());
        let failed = apply(
            Some(&row),
            "m",
            &Transition::Fail {
                error: "boom".into(),
                rolled_back: false,
            },
            "r",
            7,
            2,
        )
        .expect("fail")
        .expect("row");
        // A dirty failure cannot be retried; a rolled-back one can.
        assert!(apply(Some(&failed), "m", &start(2), "r", 8, 3).is_err());
        let mut rolled = failed.clone();
        rolled.rolled_back = Some(true);
        let retried = apply(Some(&rolled), "m", &start(2), "r", 8, 3)
            .expect("retry")
            .expect("row");
        assert_eq!(retried.attempt, 2);
        let applied = apply(Some(&retried), "m", &done, "r", 8, 4)
            .expect("done")
            .expect("row");
        assert_eq!(applied.state, EntryState::Applied);
        assert_eq!(applied.checksum.as_deref(), Some("sha256:a"));
        assert!(
            apply(
                Some(&applied),
                "m",
                &Transition::Baseline {
                    seq: 0,
                    checksum: None
                },
                "r",
                8,
                5
            )
            .is_err()
        );
        assert_eq!(
            apply(Some(&applied), "m", &Transition::Forget, "r", 8, 5),
            Ok(None)
        );
        assert!(apply(None, "m", &Transition::Forget, "r", 8, 5).is_err());
    }
}
