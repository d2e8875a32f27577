//! What commands print: `up`/`down` reports, the dry run, `status` as a table or JSON.

use std::io::Write;

use crate::dry_run::{DryRun, StatementKind};
use crate::error::{Error, Result};
use crate::ledger::LockInfo;
use crate::runner::{MigrationState, Status, UpReport};

pub(super) fn write_up(out: &mut dyn Write, report_: &UpReport) -> Result<()> {
    report(out, "Applied", &report_.applied)?;
    if report_.deadline_reached {
        writeln!(
            out,
            "Stopped before the deadline; still pending: {}",
            report_.pending.join(", ")
        )
        .map_err(io_error)?;
    }
    Ok(())
}

/// Writes a dry run: as JSON (`{"dry_run": true, "direction", "migrations": [{"name",
/// "transactional", "statements": [{"kind": "read"|"write", "sql", "values"}], "stopped"}]}`), or
/// as text, one block per migration with one line per statement.
///
/// # Errors
/// [`Error::Io`] when `out` cannot be written.
pub fn write_dry_run(out: &mut dyn Write, plan: &DryRun, json: bool) -> Result<()> {
    if json {
        let mut value = serde_json::to_value(plan).map_err(|e| Error::Io(e.into()))?;
        value["dry_run"] = serde_json::Value::Bool(true);
        return writeln!(out, "{value}").map_err(io_error);
    }
    writeln!(
        out,
        "Dry run of `{}`: no write was sent, the ledger and the lock were not touched. Lines marked \
         `read` are queries the migrations made; they ran for real.",
        plan.direction
    )
    .map_err(io_error)?;
    if plan.migrations.is_empty() {
        writeln!(out, "No migrations to run: nothing to do").map_err(io_error)?;
    }
    for migration in &plan.migrations {
        writeln!(
            out,
            "-- {} ({}, {})",
            migration.name,
            plan.direction,
            if migration.transactional {
                "in one transaction"
            } else {
                "statement by statement"
            }
        )
        .map_err(io_error)?;
        for statement in &migration.statements {
            let kind = match statement.kind {
                StatementKind::Read => "read ",
                StatementKind::Write => "write",
            };
            write!(out, "{kind}  {}", statement.sql).map_err(io_error)?;
            if let Some(values) = &statement.values
                && !values.is_empty()
            {
                let values: Vec<serde_json::Value> =
                    values.iter().map(crate::dry_run::value_to_json).collect();
                write!(out, "  -- values: {}", serde_json::Value::from(values))
                    .map_err(io_error)?;
            }
            writeln!(out).map_err(io_error)?;
        }
        if let Some(why) = &migration.stopped {
            writeln!(out, "stopped: {why}").map_err(io_error)?;
        }
    }
    Ok(())
}

pub(super) fn report(out: &mut dyn Write, verb: &str, names: &[String]) -> Result<()> {
    if names.is_empty() && verb != "Dropped table" {
        writeln!(out, "{verb} no migrations: nothing to do").map_err(io_error)?;
    }
    for name in names {
        writeln!(out, "{verb} {name}").map_err(io_error)?;
    }
    Ok(())
}

/// Writes `states` as an aligned table: migration, status, applied at (UTC), duration, checksum
/// (`ok`, `DRIFT`, `-` when unknown), attempt, runner.
///
/// # Errors
/// [`Error::Io`] when `out` cannot be written.
pub fn write_status(out: &mut dyn Write, states: &[MigrationState]) -> Result<()> {
    let width = states
        .iter()
        .map(|s| s.name.len())
        .chain(std::iter::once("Migration".len()))
        .max()
        .unwrap_or_default();
    writeln!(
        out,
        "{:<width$}  {:<11}  {:<19}  {:>8}  {:<8}  {:>7}  By",
        "Migration", "Status", "Applied at (UTC)", "Duration", "Checksum", "Attempt"
    )
    .map_err(io_error)?;
    for state in states {
        let applied_at = match state.status {
            Status::Applied { applied_at } | Status::Missing { applied_at } if applied_at > 0 => {
                format_unix(applied_at)
            }
            Status::Applied { .. } | Status::Missing { .. } => "(unknown)".to_owned(),
            _ => "-".to_owned(),
        };
        let entry = state.entry.as_ref();
        let duration = entry
            .and_then(|e| e.duration_ms)
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"));
        let checksum = match (state.drift(), entry.and_then(|e| e.checksum.as_ref())) {
            (Some(_), _) => "DRIFT",
            (None, Some(_)) if state.checksum.is_some() => "ok",
            _ => "-",
        };
        let attempt = entry
            .filter(|e| e.attempt > 0)
            .map_or_else(|| "-".to_owned(), |e| e.attempt.to_string());
        let by = entry.and_then(|e| e.runner_id.as_deref()).unwrap_or("-");
        writeln!(
            out,
            "{:<width$}  {:<11}  {applied_at:<19}  {duration:>8}  {checksum:<8}  {attempt:>7}  {by}",
            state.name,
            state.status.label(),
        )
        .map_err(io_error)?;
    }
    Ok(())
}

pub(super) fn write_lock(out: &mut dyn Write, lock: Option<&LockInfo>) -> Result<()> {
    match lock {
        None => Ok(()),
        Some(lock) if lock.released => {
            writeln!(out, "Lock: free (last fence {})", lock.fence).map_err(io_error)
        }
        Some(lock) => writeln!(
            out,
            "Lock: held by {} for `{}` (fence {}, lease until {})",
            lock.owner,
            lock.operation,
            lock.fence,
            chrono::DateTime::from_timestamp_millis(lock.lease_expires_at_ms).map_or_else(
                || lock.lease_expires_at_ms.to_string(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            )
        )
        .map_err(io_error),
    }
}

/// Writes `states` and the lock as one JSON object: `{"migrations": [...], "lock": ..., "clean": bool}`.
///
/// # Errors
/// [`Error::Io`] when `out` cannot be written.
pub fn write_status_json(
    out: &mut dyn Write,
    states: &[MigrationState],
    lock: Option<&LockInfo>,
) -> Result<()> {
    let migrations: Vec<serde_json::Value> = states
        .iter()
        .map(|state| {
            let entry = state.entry.as_ref();
            serde_json::json!({
                "name": state.name,
                "status": state.status.label(),
                "applied_at": match state.status {
                    Status::Applied { applied_at } | Status::Missing { applied_at } if applied_at > 0 => Some(applied_at),
                    _ => None,
                },
                "checksum": state.checksum,
                "recorded_checksum": entry.and_then(|e| e.checksum.clone()),
                "drift": state.drift().is_some(),
                "attempt": entry.map(|e| e.attempt),
                "duration_ms": entry.and_then(|e| e.duration_ms),
                "runner_id": entry.and_then(|e| e.runner_id.clone()),
                "error": entry.and_then(|e| e.error.clone()),
            })
        })
        .collect();
    let value = serde_json::json!({
        "migrations": migrations,
        "lock": lock,
        "clean": !states.iter().any(MigrationState::needs_attention),
    });
    writeln!(out, "{value}").map_err(io_error)
}

fn format_unix(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || secs.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

pub(super) fn io_error(error: std::io::Error) -> Error {
    Error::Io(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{EntryState, LedgerEntry};

    fn state(name: &str, status: Status, entry: Option<LedgerEntry>) -> MigrationState {
        MigrationState {
            name: name.into(),
            status,
            checksum: Some("sha256:new".into()),
            entry,
        }
    }

    #[test]
    fn status_table_aligns_columns_and_marks_drift() {
        let mut applied = LedgerEntry::new("m1_long_name", EntryState::Applied);
        applied.finished_at_ms = Some(0);
        applied.checksum = Some("sha256:new".into());
        applied.attempt = 1;
        applied.duration_ms = Some(12);
        applied.runner_id = Some("r1".into());
        let mut drifted = LedgerEntry::new("m0_gone", EntryState::Applied);
        drifted.finished_at_ms = Some(1_764_201_600_000);
        drifted.checksum = Some("sha256:old".into());
        drifted.attempt = 2;
        let states = [
            state(
                "m1_long_name",
                Status::Applied { applied_at: 1 },
                Some(applied),
            ),
            state("m2", Status::Pending, None),
            state(
                "m3",
                Status::Applied {
                    applied_at: 1_764_201_600,
                },
                Some(drifted),
            ),
        ];
        let mut out = Vec::new();
        write_status(&mut out, &states).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "Migration     Status       Applied at (UTC)     Duration  Checksum  Attempt  By\n\
             m1_long_name  applied      1970-01-01 00:00:01     12 ms  ok              1  r1\n\
             m2            pending      -                           -  -               -  -\n\
             m3            applied      2025-11-27 00:00:00         -  DRIFT           2  -\n"
        );
        assert!(!states[0].needs_attention());
        assert!(states[1].needs_attention());
        assert!(states[2].needs_attention(), "drift needs attention");

        let mut out = Vec::new();
        write_status_json(&mut out, &states, None).expect("writes");
        let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(json["clean"], false);
        assert_eq!(json["migrations"][2]["drift"], true);
        assert_eq!(json["migrations"][2]["recorded_checksum"], "sha256:old");
        assert_eq!(json["migrations"][1]["status"], "pending");
    }

    #[test]
    fn dry_run_text_and_json_list_each_statement_with_its_values() {
        use crate::dry_run::{PlannedMigration, PlannedStatement};
        use sea_orm_migration::sea_orm::{DbBackend, Statement};
        let plan = DryRun {
            direction: crate::Direction::Up,
            migrations: vec![PlannedMigration {
                name: "m1".into(),
                transactional: false,
                statements: vec![
                    PlannedStatement::new(
                        StatementKind::Read,
                        &Statement::from_sql_and_values(
                            DbBackend::MySql,
                            "SELECT `id` FROM `users` WHERE `id` = ?",
                            ["1".into()],
                        ),
                    ),
                    PlannedStatement::new(
                        StatementKind::Write,
                        &Statement::from_string(DbBackend::MySql, "DROP TABLE `t`"),
                    ),
                ],
                stopped: Some("a read failed: boom".into()),
            }],
        };
        let mut out = Vec::new();
        write_dry_run(&mut out, &plan, false).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("Dry run of `up`: no write was sent"),
            "{text}"
        );
        assert_eq!(
            &lines[1..],
            [
                "-- m1 (up, statement by statement)",
                "read   SELECT `id` FROM `users` WHERE `id` = ?  -- values: [\"1\"]",
                "write  DROP TABLE `t`",
                "stopped: a read failed: boom",
            ]
        );

        let mut out = Vec::new();
        write_dry_run(&mut out, &plan, true).expect("writes");
        let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "dry_run": true,
                "direction": "up",
                "migrations": [{
                    "name": "m1",
                    "transactional": false,
                    "statements": [
                        {"kind": "read", "sql": "SELECT `id` FROM `users` WHERE `id` = ?", "values": ["1"]},
                        {"kind": "write", "sql": "DROP TABLE `t`", "values": null},
                    ],
                    "stopped": "a read failed: boom",
                }],
            })
        );
    }
}
