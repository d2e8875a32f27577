//! The ledger row's state machine, in plain Rust: which [`Transition`] each state allows, and the
//! row it leads to.
//!
//! ```text
//!   (no row) --Start(1)--> in_progress --Succeed--> applied --RevertStart--> reverting
//!                               |  \--Unknown (stays, marked)                 |   |  \--Unknown
//!                               Fail                                  RevertDone  RevertFail
//!                               v                                          v        v
//!   failed (rolled back) --Start(n+1)--> ...        reverted --Start(n+1)-->   applied / failed
//!   failed (dirty): only repairs          (no row) --Baseline--> baselined (counts as applied)
//! ```
//!
//! Runs (`Start`, `Succeed`, `Fail`, `Unknown`, `Revert*`) need the row in the state they leave,
//! and `Succeed`/`Fail`/`Unknown`/`RevertDone`/`RevertFail` need it started by this runner with its
//! fence. Repairs (`MarkApplied`, `MarkFailed`, `Forget`, `Rechecksum`) are the operator's and
//! accept more. [`super::MemoryLedger`] applies it directly; `DynamoLedger` states the same
//! preconditions as condition expressions on the row (its `row_action`), so a change here must be
//! made there too.

use super::{EntryState, LedgerEntry, Transition, truncate};

/// The row after `transition`, or why the row's current state forbids it. `None` deletes the row.
///
/// `runner_id` and `fence` identify the writer; `now_ms` stamps the row.
///
/// # Errors
/// A description of the row found (`no row`, `state applied`) when its state forbids `transition`.
pub fn apply(
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

    const ME: &str = "r";
    const FENCE: u64 = 7;

    fn start(attempt: u32) -> Transition {
        Transition::Start {
            seq: 3,
            checksum: Some("sha256:a".into()),
            attempt,
            tx_mode: TxMode::None,
        }
    }

    fn step(
        current: Option<&LedgerEntry>,
        transition: &Transition,
    ) -> Result<Option<LedgerEntry>, String> {
        apply(current, "m", transition, ME, FENCE, 100)
    }

    /// The row after `transition`, which must be allowed and keep a row.
    fn next(current: Option<&LedgerEntry>, transition: &Transition) -> LedgerEntry {
        step(current, transition)
            .unwrap_or_else(|e| panic!("{transition:?} refused: {e}"))
            .unwrap_or_else(|| panic!("{transition:?} deleted the row"))
    }

    fn row(state: EntryState) -> LedgerEntry {
        let mut row = LedgerEntry::new("m", state);
        row.attempt = 1;
        row.runner_id = Some(ME.into());
        row.fence = Some(FENCE);
        row
    }

    fn other_runner(mut row: LedgerEntry) -> LedgerEntry {
        row.runner_id = Some("other".into());
        row
    }

    fn other_fence(mut row: LedgerEntry) -> LedgerEntry {
        row.fence = Some(FENCE + 1);
        row
    }

    fn failed(rolled_back: bool) -> LedgerEntry {
        let mut row = row(EntryState::Failed);
        row.rolled_back = Some(rolled_back);
        row
    }

    const EVERY_STATE: [EntryState; 6] = [
        EntryState::InProgress,
        EntryState::Applied,
        EntryState::Failed,
        EntryState::Reverting,
        EntryState::Reverted,
        EntryState::Baselined,
    ];

    #[test]
    fn start_creates_the_first_attempt_only_where_no_row_exists() {
        let first = next(None, &start(1));
        assert_eq!(first.state, EntryState::InProgress);
        assert_eq!(
            (first.seq, first.attempt, first.fence),
            (Some(3), 1, Some(FENCE))
        );
        assert_eq!(first.checksum.as_deref(), Some("sha256:a"));
        assert_eq!(
            (first.started_at_ms, first.runner_id.as_deref()),
            (Some(100), Some(ME))
        );
        assert!(
            step(None, &start(2)).is_err(),
            "a second attempt needs a row"
        );
        for state in EVERY_STATE {
            assert!(step(Some(&row(state)), &start(1)).is_err(), "{state:?}");
        }
    }

    #[test]
    fn start_again_needs_a_rolled_back_failure_or_a_revert_and_the_next_attempt_number() {
        let retried = next(Some(&failed(true)), &start(2));
        assert_eq!(
            (retried.state, retried.attempt),
            (EntryState::InProgress, 2)
        );
        assert_eq!(retried.error, None, "a new attempt starts clean");
        assert_eq!(next(Some(&row(EntryState::Reverted)), &start(2)).attempt, 2);
        assert!(step(Some(&failed(false)), &start(2)).is_err(), "dirty");
        assert!(
            step(Some(&failed(true)), &start(3)).is_err(),
            "attempt must follow"
        );
        for state in [
            EntryState::InProgress,
            EntryState::Applied,
            EntryState::Reverting,
            EntryState::Baselined,
        ] {
            assert!(step(Some(&row(state)), &start(2)).is_err(), "{state:?}");
        }
    }

    #[test]
    fn succeed_applies_only_this_runners_in_progress_row() {
        let done = Transition::Succeed {
            checksum: Some("sha256:b".into()),
            duration_ms: 5,
        };
        let applied = next(Some(&row(EntryState::InProgress)), &done);
        assert_eq!(applied.state, EntryState::Applied);
        assert_eq!(applied.checksum.as_deref(), Some("sha256:b"));
        assert_eq!(
            (applied.finished_at_ms, applied.duration_ms),
            (Some(100), Some(5))
        );
        let in_progress = row(EntryState::InProgress);
        assert!(step(Some(&other_runner(in_progress.clone())), &done).is_err());
        assert!(step(Some(&other_fence(in_progress)), &done).is_err());
        assert!(step(None, &done).is_err());
        assert!(step(Some(&row(EntryState::Reverting)), &done).is_err());
    }

    #[test]
    fn fail_records_the_error_and_whether_it_was_rolled_back() {
        for rolled_back in [true, false] {
            let fail = Transition::Fail {
                error: "boom".into(),
                rolled_back,
            };
            let row_ = next(Some(&row(EntryState::InProgress)), &fail);
            assert_eq!(row_.state, EntryState::Failed);
            assert_eq!(row_.rolled_back, Some(rolled_back));
            assert_eq!(row_.error.as_deref(), Some("boom"));
            assert!(step(Some(&other_runner(row(EntryState::InProgress))), &fail).is_err());
            assert!(step(Some(&row(EntryState::Applied)), &fail).is_err());
        }
    }

    #[test]
    fn unknown_keeps_the_state_and_marks_the_error() {
        let up = Transition::Unknown {
            error: "no answer".into(),
            reverting: false,
        };
        let marked = next(Some(&row(EntryState::InProgress)), &up);
        assert_eq!(marked.state, EntryState::InProgress);
        assert_eq!(marked.error.as_deref(), Some("outcome unknown: no answer"));
        let down = Transition::Unknown {
            error: "no answer".into(),
            reverting: true,
        };
        assert_eq!(
            next(Some(&row(EntryState::Reverting)), &down).state,
            EntryState::Reverting
        );
        assert!(
            step(Some(&row(EntryState::InProgress)), &down).is_err(),
            "wrong direction"
        );
        assert!(step(Some(&other_runner(row(EntryState::InProgress))), &up).is_err());
        assert!(step(None, &up).is_err());
    }

    #[test]
    fn revert_start_takes_an_applied_or_baselined_row() {
        for state in [EntryState::Applied, EntryState::Baselined] {
            let mut applied = other_runner(row(state));
            applied.fence = Some(1);
            let reverting = next(Some(&applied), &Transition::RevertStart);
            assert_eq!(reverting.state, EntryState::Reverting);
            assert_eq!(
                (reverting.runner_id.as_deref(), reverting.fence),
                (Some(ME), Some(FENCE))
            );
        }
        for state in [
            EntryState::InProgress,
            EntryState::Failed,
            EntryState::Reverting,
            EntryState::Reverted,
        ] {
            assert!(
                step(Some(&row(state)), &Transition::RevertStart).is_err(),
                "{state:?}"
            );
        }
        assert!(step(None, &Transition::RevertStart).is_err());
    }

    #[test]
    fn revert_done_makes_this_runners_reverting_row_reverted() {
        let done = Transition::RevertDone { duration_ms: 9 };
        let reverted = next(Some(&row(EntryState::Reverting)), &done);
        assert_eq!(
            (reverted.state, reverted.duration_ms),
            (EntryState::Reverted, Some(9))
        );
        assert!(step(Some(&other_fence(row(EntryState::Reverting))), &done).is_err());
        assert!(step(Some(&row(EntryState::Applied)), &done).is_err());
    }

    #[test]
    fn revert_fail_goes_back_to_applied_when_rolled_back_and_to_failed_otherwise() {
        let fail = |rolled_back| Transition::RevertFail {
            error: "boom".into(),
            rolled_back,
        };
        assert_eq!(
            next(Some(&row(EntryState::Reverting)), &fail(true)).state,
            EntryState::Applied
        );
        let dirty = next(Some(&row(EntryState::Reverting)), &fail(false));
        assert_eq!(
            (dirty.state, dirty.rolled_back),
            (EntryState::Failed, Some(false))
        );
        assert!(step(Some(&other_runner(row(EntryState::Reverting))), &fail(true)).is_err());
        assert!(step(Some(&row(EntryState::InProgress)), &fail(true)).is_err());
    }

    #[test]
    fn mark_applied_accepts_any_row_or_none_and_clears_the_failure() {
        let mark = Transition::MarkApplied {
            checksum: Some("sha256:c".into()),
        };
        let fresh = next(None, &mark);
        assert_eq!((fresh.state, fresh.attempt), (EntryState::Applied, 1));
        for state in EVERY_STATE {
            let mut before = other_runner(failed(false));
            before.state = state;
            before.error = Some("x".into());
            let after = next(Some(&before), &mark);
            assert_eq!(after.state, EntryState::Applied, "{state:?}");
            assert_eq!((after.error, after.rolled_back), (None, None), "{state:?}");
            assert_eq!(after.checksum.as_deref(), Some("sha256:c"));
            assert_eq!(after.runner_id.as_deref(), Some(ME));
        }
    }

    #[test]
    fn mark_failed_needs_a_row() {
        let mark = Transition::MarkFailed { rolled_back: true };
        for state in EVERY_STATE {
            let after = next(Some(&other_runner(row(state))), &mark);
            assert_eq!(
                (after.state, after.rolled_back),
                (EntryState::Failed, Some(true)),
                "{state:?}"
            );
        }
        assert!(step(None, &mark).is_err());
    }

    #[test]
    fn forget_deletes_an_existing_row() {
        for state in EVERY_STATE {
            assert_eq!(
                step(Some(&row(state)), &Transition::Forget),
                Ok(None),
                "{state:?}"
            );
        }
        assert!(step(None, &Transition::Forget).is_err());
    }

    #[test]
    fn rechecksum_changes_only_an_applied_rows_checksum() {
        let rechecksum = Transition::Rechecksum {
            checksum: Some("sha256:new".into()),
        };
        for state in [EntryState::Applied, EntryState::Baselined] {
            let after = next(Some(&row(state)), &rechecksum);
            assert_eq!(
                (after.state, after.checksum.as_deref()),
                (state, Some("sha256:new"))
            );
        }
        for state in [
            EntryState::InProgress,
            EntryState::Failed,
            EntryState::Reverting,
            EntryState::Reverted,
        ] {
            assert!(step(Some(&row(state)), &rechecksum).is_err(), "{state:?}");
        }
        assert!(step(None, &rechecksum).is_err());
    }

    #[test]
    fn baseline_records_a_migration_that_has_no_row() {
        let baseline = Transition::Baseline {
            seq: 4,
            checksum: Some("sha256:d".into()),
        };
        let row_ = next(None, &baseline);
        assert_eq!(
            (row_.state, row_.seq, row_.attempt),
            (EntryState::Baselined, Some(4), 1)
        );
        assert!(row_.state.is_applied());
        for state in EVERY_STATE {
            assert!(step(Some(&row(state)), &baseline).is_err(), "{state:?}");
        }
    }
}
