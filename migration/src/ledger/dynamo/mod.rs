//! The ledger in DynamoDB: migration rows, a lock item with a lease and a fencing counter, and
//! writes that only the lock's current holder can make.
//!
//! # Items (one table, string keys `PK` and `SK`)
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | migration row | `MIGRATION` | the migration's name | `status`, `seq`, `checksum`, `attempt`, `started_at`/`finished_at` (ISO-8601 UTC), `started_at_ms`/`finished_at_ms`, `duration_ms`, `runner_id`, `fence`, `tx_mode`, `rolled_back`, `error` |
//! | lock | `MIGRATION_LOCK` | `LOCK` | `owner`, `lease_id`, `fence`, `lease_expires_at` (Unix ms), `lease_ms`, `acquired_at`, `heartbeat_at`, `released`, `operation` |
//!
//! The row keys are the article's, so an item its runner wrote (only `PK`/`SK`, perhaps a
//! `timestamp`) reads as `applied` without a checksum: the ledger adopts it. The rows are read with
//! one strongly consistent `Query` on `PK = MIGRATION`, following `LastEvaluatedKey`.
//!
//! # Lock
//!
//! Taking the lock is one conditional `UpdateItem`: it succeeds when the item does not exist, was
//! released, or its lease expired more than [`LockConfig::skew`] ago by this machine's clock, and it
//! increments `fence` and sets a fresh `lease_id`. While held, a background task extends the lease
//! every [`LockConfig::heartbeat`] (condition: same owner and `lease_id`), and the holder measures
//! what remains of its lease on a monotonic clock from the send time of the last successful
//! heartbeat ([`Ledger::check_lease`]). A runner that cannot take the lock retries with jittered
//! backoff for up to [`LockConfig::wait`] and then fails with [`Error::LockHeld`] naming the holder.
//!
//! # Fenced writes
//!
//! Every row write is a `TransactWriteItems` of a `ConditionCheck` on the lock item (`owner`,
//! `fence` and `lease_id` are this runner's and it is not released) and the row's own conditional
//! `Put`/`Update`/`Delete`. A runner whose lease was taken over (or force-unlocked) therefore cannot
//! change the ledger: its writes fail with [`Error::LeaseLost`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType,
};

use super::{Ledger, LedgerEntry, LockInfo, Transition};
use crate::error::{Error, Result};

mod expr;
mod fenced;
mod item;
mod lock;

use expr::Expr;
use item::{int, lock_info, n, num, parse_entry, s};
pub use lock::LockConfig;
use lock::{Held, check_held, lock_held};

/// Partition key of migration rows (the article's).
pub const MIGRATION_PK: &str = "MIGRATION";
/// Partition key of the lock item.
pub const LOCK_PK: &str = "MIGRATION_LOCK";
/// Sort key of the lock item.
pub const LOCK_SK: &str = "LOCK";

/// The DynamoDB ledger (see the [module docs](self)).
#[derive(Debug)]
pub struct DynamoLedger {
    client: Client,
    table: String,
    runner_id: String,
    config: LockConfig,
    calls: Arc<AtomicU64>,
    held: Arc<Mutex<Option<Held>>>,
    /// The lock item as this runner's acquisition found it (for [`Ledger::lease_end_ms`]).
    previous: Mutex<Option<HashMap<String, AttributeValue>>>,
    page_size: Option<i32>,
}

impl DynamoLedger {
    /// A ledger in `table`, with the default [`LockConfig`] and a runner id made of the host name,
    /// the process id and a random suffix.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            runner_id: default_runner_id(),
            config: LockConfig::default(),
            calls: Arc::new(AtomicU64::new(0)),
            held: Arc::new(Mutex::new(None)),
            previous: Mutex::new(None),
            page_size: None,
        }
    }

    /// A ledger in `table` with a client from the environment (`aws-config`: region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`).
    pub async fn from_env(table: impl Into<String>) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(Client::new(&shared), table)
    }

    /// The same table and client for another runner (fresh lock state and call counter).
    pub fn for_runner(&self, runner_id: impl Into<String>) -> Self {
        Self {
            client: self.client.clone(),
            table: self.table.clone(),
            runner_id: runner_id.into(),
            config: self.config,
            calls: Arc::new(AtomicU64::new(0)),
            held: Arc::new(Mutex::new(None)),
            previous: Mutex::new(None),
            page_size: self.page_size,
        }
    }

    /// Caps the rows per `Query` page (DynamoDB's own limit is 1 MB per page); for tests of the
    /// pagination.
    pub fn with_page_size(mut self, rows: i32) -> Self {
        self.page_size = Some(rows);
        self
    }

    /// Sets the runner id recorded in the lock and in rows (e.g. `lambda:<fn>:<request id>`).
    pub fn with_runner_id(mut self, runner_id: impl Into<String>) -> Self {
        self.runner_id = runner_id.into();
        self
    }

    /// Sets the lease and waiting.
    pub fn with_lock_config(mut self, config: LockConfig) -> Self {
        self.config = config;
        self
    }

    /// This runner's id.
    pub fn runner_id(&self) -> &str {
        &self.runner_id
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// DynamoDB requests this ledger has sent (heartbeats included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The fence of the lock while this runner holds it.
    pub fn fence(&self) -> Option<u64> {
        self.held_guard().as_ref().map(|h| h.fence)
    }

    /// Creates the ledger table (`PK`, `SK` strings, on-demand) — for tests and local setups; in AWS
    /// the infrastructure creates it with point-in-time recovery and deletion protection.
    ///
    /// # Errors
    /// [`Error::Dynamo`] from `CreateTable`.
    pub async fn create_table(client: &Client, table: &str) -> Result<()> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build_err("CreateTable"))
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_err("CreateTable"))
        };
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("PK", KeyType::Hash)?)
            .key_schema(key("SK", KeyType::Range)?)
            .attribute_definitions(attr("PK")?)
            .attribute_definitions(attr("SK")?)
            .send()
            .await
            .map_err(sdk_err("CreateTable"))?;
        Ok(())
    }

    fn held_guard(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        lock_held(&self.held)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn lock_key() -> HashMap<String, AttributeValue> {
        HashMap::from([("PK".to_owned(), s(LOCK_PK)), ("SK".to_owned(), s(LOCK_SK))])
    }

    fn row_key(name: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("PK".to_owned(), s(MIGRATION_PK)),
            ("SK".to_owned(), s(name)),
        ])
    }
}

impl Drop for DynamoLedger {
    /// A ledger dropped while holding the lock (a panic, a cancelled future) stops heartbeating, so
    /// the lease expires instead of being extended for the life of the process.
    fn drop(&mut self) {
        if let Some(held) = self.held_guard().take() {
            held.heartbeat.abort();
        }
    }
}

#[async_trait::async_trait]
impl Ledger for DynamoLedger {
    fn describe(&self) -> String {
        format!("DynamoDB table `{}`", self.table)
    }

    async fn prepare(&self) -> Result<()> {
        Ok(())
    }

    async fn entries(&self) -> Result<Vec<LedgerEntry>> {
        let mut entries = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            self.count();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "PK")
                .expression_attribute_values(":pk", s(MIGRATION_PK))
                .consistent_read(true)
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("Query"))?;
            for item in output.items() {
                entries.push(parse_entry(item)?);
            }
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(entries)
    }

    async fn write(&self, name: &str, transition: &Transition) -> Result<()> {
        let (fence, lease_id) = {
            let held = self.held_guard();
            let held = held.as_ref().ok_or_else(|| Error::LeaseLost {
                fence: 0,
                detail: "this runner does not hold the migration lock".into(),
            })?;
            (held.fence, held.lease_id.clone())
        };
        let items = vec![
            self.lock_check(fence, &lease_id)?,
            self.row_action(name, transition, fence)?,
        ];
        let mut conflicts = 0;
        loop {
            self.count();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => {
                    tracing::debug!(
                        migration = name,
                        transition = transition.label(),
                        fence,
                        "ledger written"
                    );
                    return Ok(());
                }
                Err(error) => error,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
                error.as_service_error()
            else {
                return Err(sdk_err("TransactWriteItems")(error));
            };
            let reasons = cancel.cancellation_reasons();
            let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
            if code(0) == "ConditionalCheckFailed" {
                if let Some(held) = self.held_guard().as_ref() {
                    held.lease.lost.store(true, Ordering::Relaxed);
                }
                // The cancellation reason carries the lock item when the service returns it;
                // otherwise read it (this is the failure path, not the common one).
                let holder = match reasons.first().and_then(|r| r.item()).and_then(lock_info) {
                    Some(info) => Some(info),
                    None => self.read_lock().await.ok().flatten().map(|(info, _)| info),
                };
                let holder = match holder {
                    None => "the lock item is gone".to_owned(),
                    Some(h) if h.released => format!("the lock (fence {}) was released", h.fence),
                    Some(h) => format!(
                        "the lock is now held by `{}` with fence {}",
                        h.owner, h.fence
                    ),
                };
                return Err(Error::LeaseLost {
                    fence,
                    detail: format!(
                        "DynamoDB refused the fenced {} write of `{name}`: {holder}",
                        transition.label()
                    ),
                });
            }
            if code(1) == "ConditionalCheckFailed" {
                let found = reasons.get(1).and_then(|r| r.item()).map_or_else(
                    || "no row".to_owned(),
                    |item| match parse_entry(item) {
                        Ok(entry) => format!(
                            "found state {} (attempt {}, runner {})",
                            entry.state.as_str(),
                            entry.attempt,
                            entry.runner_id.as_deref().unwrap_or("-")
                        ),
                        Err(e) => e.to_string(),
                    },
                );
                return Err(Error::LedgerConflict {
                    name: name.to_owned(),
                    transition: transition.label().into(),
                    detail: found,
                });
            }
            if (code(0) == "TransactionConflict" || code(1) == "TransactionConflict")
                && conflicts < 5
            {
                // Another request touched the lock item at the same moment (a heartbeat, a
                // challenger); the transaction did not apply, so it is safe to send again.
                conflicts += 1;
                tokio::time::sleep(Duration::from_millis(20 * conflicts)).await;
                continue;
            }
            return Err(sdk_err("TransactWriteItems")(error));
        }
    }

    async fn lock(&self, operation: &str) -> Result<()> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        let mut announced = false;
        loop {
            let lease_id = uuid::Uuid::new_v4().to_string();
            match self.try_acquire(operation, &lease_id).await? {
                Ok(fence) => {
                    tracing::info!(fence, runner = %self.runner_id, operation, "migration lock acquired");
                    return Ok(());
                }
                Err(holder) => {
                    let waited = started.elapsed();
                    let holder = holder.unwrap_or_else(|| LockInfo {
                        owner: "(unknown)".into(),
                        fence: 0,
                        operation: "-".into(),
                        lease_expires_at_ms: 0,
                        released: false,
                    });
                    if waited >= self.config.wait {
                        return Err(Error::LockHeld {
                            owner: holder.owner,
                            fence: holder.fence,
                            operation: holder.operation,
                            expires_in_ms: holder.lease_expires_at_ms - now_ms(),
                            waited_ms: waited.as_millis() as u64,
                        });
                    }
                    if !announced {
                        tracing::info!(
                            holder = %holder.owner,
                            fence = holder.fence,
                            operation = %holder.operation,
                            "migration lock is held; waiting up to {:?}",
                            self.config.wait
                        );
                        announced = true;
                    }
                    let remaining = self.config.wait - waited;
                    tokio::time::sleep(jitter(delay).min(remaining)).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    async fn unlock(&self) -> Result<()> {
        let held = self.held_guard().take();
        match held {
            Some(held) => self.release(held).await,
            None => Ok(()),
        }
    }

    async fn abandon(&self) {
        if let Some(held) = self.held_guard().take() {
            held.heartbeat.abort();
            tracing::warn!(
                fence = held.fence,
                "keeping the migration lock until its lease expires (an outcome is unknown)"
            );
        }
    }

    fn check_lease(&self) -> Result<()> {
        check_held(&self.held, self.config.statement_budget)
    }

    fn lease_guard(&self) -> Option<super::LeaseGuard> {
        let (held, budget) = (self.held.clone(), self.config.statement_budget);
        Some(Arc::new(move || check_held(&held, budget)))
    }

    fn lease_end_ms(&self, fence: u64) -> Option<i64> {
        let previous = self
            .previous
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let old = previous.as_ref()?;
        let old_fence = num(old, "fence")?;
        if old_fence > fence {
            // A later acquisition happened, so `fence`'s lease had ended by then.
            return int(old, "acquired_at");
        }
        if old_fence < fence {
            return None;
        }
        let released = old.get("released").and_then(|v| v.as_bool().ok()) == Some(&true);
        let forced = old.contains_key("released_by");
        match (released && !forced, int(old, "released_at")) {
            // Its owner released it: it had finished.
            (true, Some(at)) => Some(at),
            // Expired, or force-released while the owner may still have believed it held.
            _ => int(old, "lease_expires_at"),
        }
    }

    async fn lock_info(&self) -> Result<Option<LockInfo>> {
        Ok(self.read_lock().await?.map(|(info, _)| info))
    }

    async fn force_unlock(&self, fence: u64) -> Result<LockInfo> {
        let mut e = Expr::default();
        let update = format!(
            "SET {rel} = {true_}, {rel_at} = {now}, {rel_by} = {me}",
            rel = e.n("released"),
            true_ = e.v("true", AttributeValue::Bool(true)),
            rel_at = e.n("released_at"),
            now = e.v("now", n(now_ms())),
            rel_by = e.n("released_by"),
            me = e.v("me", s(&format!("unlock --force by {}", self.runner_id))),
        );
        let condition = format!(
            "{fence} = {f} AND {rel} = {false_}",
            fence = e.n("fence"),
            f = e.v("f", n(fence as i64)),
            rel = e.n("released"),
            false_ = e.v("false", AttributeValue::Bool(false)),
        );
        self.count();
        let result = Self::update_lock(&self.client, &self.table, update, condition, &e)
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes().and_then(lock_info).ok_or_else(|| {
                Error::Refused("the lock item vanished while it was being released".into())
            }),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                let current = self.lock_info().await?;
                Err(Error::Refused(match current {
                    None => "there is no migration lock to release".into(),
                    Some(info) if info.released => {
                        format!("the migration lock (fence {}) is not held", info.fence)
                    }
                    Some(info) => format!(
                        "the migration lock is held with fence {}, not {fence} (by `{}`); \
                         check `status` and pass the current fence",
                        info.fence, info.owner
                    ),
                }))
            }
            Err(error) => Err(sdk_err("UpdateItem (force unlock)")(error)),
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// `delay` ± 50 %, from the clock's nanoseconds (no RNG dependency).
fn jitter(delay: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let factor = 0.5 + f64::from(nanos % 1000) / 1000.0;
    delay.mul_f64(factor)
}

fn default_runner_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &suffix[..8])
}

fn sdk_err<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |error| Error::Dynamo {
        operation,
        source: Box::new(error),
    }
}

fn build_err(operation: &'static str) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> Error {
    move |error| Error::Dynamo {
        operation,
        source: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamodb_error_keeps_the_sdk_error_as_its_source() {
        let error = build_err("CreateTable")(aws_sdk_dynamodb::error::BuildError::missing_field(
            "table_name",
            "required",
        ));
        assert_eq!(error.to_string(), "DynamoDB CreateTable failed");
        let source = std::error::Error::source(&error).expect("a source");
        assert!(
            source
                .downcast_ref::<aws_sdk_dynamodb::error::BuildError>()
                .is_some(),
            "{source:?}"
        );
        let chain = crate::error_chain(&error);
        assert!(chain.contains("table_name"), "{chain}");
    }
}
