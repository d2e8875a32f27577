//! The schema drift check after migrating (`SCHEMA_CHECK_AFTER_MIGRATE`): `schema`'s check of the
//! live database against what the migrations make on a scratch database of the same engine.
//!
//! The scratch database (`schema_check_<random>`) is created on the same cluster, through the Data
//! API with the function's own (master) secret, migrated with an in-memory ledger, read, and
//! dropped: no other network path, secret or IAM action is needed than the migrations' own
//! (`rds-data:ExecuteStatement` on the cluster, the master secret), and the master user may create
//! and drop databases on both engines.

use crate::config::OnDrift;
use crate::error::{Error, Result};

/// A drift check the function runs after each successful migration run.
#[derive(Debug, Clone)]
pub struct DriftCheck {
    /// The live database, as `schema` reaches it (the function's Data API target).
    pub target: schema::Target,
    /// What drift does to the invocation.
    pub on_drift: OnDrift,
}

impl DriftCheck {
    /// Runs the check: the report when the schema is clean or drift is only reported.
    ///
    /// # Errors
    /// [`Error::SchemaCheck`] when the check cannot run; [`Error::Drift`] when it finds drift and
    /// [`OnDrift::Fail`] is set.
    pub async fn run(&self) -> Result<schema::Report> {
        let report = schema::check(&self.target)
            .await
            .map_err(Error::SchemaCheck)?;
        if report.clean {
            tracing::info!("schema check: no drift");
            return Ok(report);
        }
        for difference in &report.differences {
            tracing::warn!(%difference, "schema drift");
        }
        match self.on_drift {
            OnDrift::Report => Ok(report),
            OnDrift::Fail => Err(Error::Drift {
                differences: report.differences,
            }),
        }
    }
}
