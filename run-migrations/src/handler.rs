//! One invocation of the run-migrations function: applies pending migrations and returns a JSON
//! summary.
//!
//! The binary reads its configuration once (`CLUSTER_ARN`, `SECRET_ARN`,
//! `DATABASE_NAME`, `DATABASE_ENGINE` for the Data API target; `DYNAMODB_TABLE_NAME` for the
//! ledger), then calls [`handle`] for each invocation with the invocation's request id, function
//! name and deadline. Safe when invoked twice at once (a Lambda retry, a CloudFormation re-send):
//! the ledger's lock admits one runner, the other waits and then finds nothing left to do.
//!
//! - The runner id recorded in the lock and the ledger is `lambda:<function>:<request id>`.
//! - The invocation's deadline is the run's deadline: a migration that may not finish (its recorded
//!   duration, or the default estimate, plus a 45 s margin) is not started, and the invocation then
//!   fails with [`Error::Incomplete`] naming what is still pending (invoke
//!   again to continue): a deploy-time trigger must not let the API go out with migrations pending.
//! - A failed migration, a lock that stays held, or an unknown outcome returns `Err`, so the
//!   invocation fails (and a CloudFormation custom resource reports the failure).
//! - A CloudFormation custom-resource `Delete` event (`"RequestType": "Delete"`) runs nothing.
//! - With an [`ApiUserSecret`] (`API_SECRET_ARN`), a run that leaves nothing pending then creates
//!   or updates the API's database user from that secret.
//! - With a [`DriftCheck`] (`SCHEMA_CHECK_AFTER_MIGRATE=report|fail`), a run that leaves nothing
//!   pending is followed by the schema drift check; its report is in the summary, and with `fail`
//!   drift fails the invocation.

use std::time::{Instant, SystemTime};

use migration::{DynamoLedger, Ledger, Migrator, RunOptions, Runner, Target};

use crate::api_user::ApiUserSecret;
use crate::drift::DriftCheck;
use crate::error::{Error, Result};

/// What the handler knows about one invocation.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: String,
    /// The function's name.
    pub function_name: String,
    /// When Lambda stops the invocation.
    pub deadline: Option<SystemTime>,
}

impl Invocation {
    /// `lambda:<function>:<request id>`.
    pub fn runner_id(&self) -> String {
        format!("lambda:{}:{}", self.function_name, self.request_id)
    }

    /// The deadline on the monotonic clock.
    pub fn deadline_instant(&self) -> Option<Instant> {
        let deadline = self.deadline?;
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        Some(Instant::now() + left)
    }
}

/// The JSON the Lambda returns.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// `ok` (nothing pending) or `skipped` (a CloudFormation `Delete`).
    pub status: &'static str,
    /// Applied by this invocation, in order.
    pub applied: Vec<String>,
    /// Still pending.
    pub pending: Vec<String>,
    /// Whether the deadline stopped the run.
    pub deadline_reached: bool,
    /// This invocation's runner id.
    pub runner_id: String,
    /// Where the ledger lives.
    pub ledger: String,
    /// The drift check's report, when `SCHEMA_CHECK_AFTER_MIGRATE` asks for one (`null` otherwise).
    pub schema_check: Option<schema::Report>,
    /// The API's database user this run created or updated (`null` without `API_SECRET_ARN`).
    pub api_user: Option<String>,
}

/// The ledger and target built once per Lambda container.
#[derive(Debug)]
pub struct Setup {
    /// The database.
    pub target: Target,
    /// The DynamoDB ledger; each invocation gets its own runner id on this table and client.
    pub ledger: DynamoLedger,
    /// Options applied to every run (the deadline is set per invocation).
    pub options: RunOptions,
    /// The drift check after migrating, when switched on.
    pub drift_check: Option<DriftCheck>,
    /// The API's own database user, created and granted after migrating.
    pub api_user: Option<ApiUserSecret>,
}

/// Handles one invocation: applies every pending migration that fits before the deadline, then,
/// when [`Setup::drift_check`] is set, checks the live schema against the migrations'.
///
/// # Errors
/// [`Error::Migration`] with whatever [`Runner::up_report`] reports (a failed migration, the lock
/// held past the wait, an unknown outcome, an edited applied migration, a lost lease);
/// [`Error::Incomplete`] when the deadline left migrations pending; [`Error::SecretsManager`],
/// [`Error::Secret`] or [`Error::ApiUser`] from the API's user; [`Error::SchemaCheck`] or
/// [`Error::Drift`] from the drift check.
pub async fn handle(
    setup: &Setup,
    event: &serde_json::Value,
    invocation: &Invocation,
) -> Result<Summary> {
    let runner_id = invocation.runner_id();
    let ledger = setup.ledger.for_runner(&runner_id);
    let describe = ledger.describe();
    if event.get("RequestType").and_then(|v| v.as_str()) == Some("Delete") {
        tracing::info!("CloudFormation Delete: nothing to migrate");
        return Ok(Summary {
            status: "skipped",
            applied: Vec::new(),
            pending: Vec::new(),
            deadline_reached: false,
            runner_id,
            ledger: describe,
            schema_check: None,
            api_user: None,
        });
    }
    let mut options = setup.options.clone();
    options.deadline = invocation.deadline_instant();
    let runner = Runner::new::<Migrator>(setup.target.clone(), ledger).with_options(options);
    let report = runner.up_report(None).await?;
    tracing::info!(applied = ?report.applied, pending = ?report.pending, "run-migrations done");
    if !report.pending.is_empty() {
        return Err(Error::Incomplete {
            applied: report.applied,
            pending: report.pending,
        });
    }
    let api_user = match &setup.api_user {
        Some(secret) => Some(secret.ensure(&setup.target).await?),
        None => None,
    };
    let schema_check = match &setup.drift_check {
        Some(check) => Some(check.run().await?),
        None => None,
    };
    Ok(Summary {
        status: "ok",
        applied: report.applied,
        pending: report.pending,
        deadline_reached: report.deadline_reached,
        runner_id,
        ledger: describe,
        schema_check,
        api_user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runner_id_and_deadline_come_from_the_invocation() {
        let invocation = Invocation {
            request_id: "req-1".into(),
            function_name: "run-migrations".into(),
            deadline: Some(SystemTime::now() + Duration::from_secs(100)),
        };
        assert_eq!(invocation.runner_id(), "lambda:run-migrations:req-1");
        let left = invocation
            .deadline_instant()
            .expect("a deadline")
            .saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(98) && left <= Duration::from_secs(100),
            "{left:?}"
        );
        let past = Invocation {
            deadline: Some(SystemTime::now() - Duration::from_secs(5)),
            ..invocation.clone()
        };
        let left = past
            .deadline_instant()
            .expect("a deadline")
            .saturating_duration_since(Instant::now());
        assert!(
            left < Duration::from_millis(100),
            "a past deadline is now: {left:?}"
        );
        let none = Invocation {
            deadline: None,
            ..invocation
        };
        assert_eq!(none.deadline_instant(), None);
    }
}
