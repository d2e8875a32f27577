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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
    KeyType, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
    TransactWriteItem, Update,
};

use super::{EntryState, Ledger, LedgerEntry, LockInfo, Transition, truncate};
use crate::error::{Error, Result};

/// Partition key of migration rows (the article's).
pub const MIGRATION_PK: &str = "MIGRATION";
/// Partition key of the lock item.
pub const LOCK_PK: &str = "MIGRATION_LOCK";
/// Sort key of the lock item.
pub const LOCK_SK: &str = "LOCK";

/// Lease and waiting of the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockConfig {
    /// How long an acquisition or heartbeat keeps the lock (default 120 s: longer than the Data
    /// API's 45 s statement limit, with room for missed heartbeats).
    pub lease: Duration,
    /// How often the holder extends its lease (default 30 s, a quarter of the lease).
    pub heartbeat: Duration,
    /// How long a runner waits for a held lock before giving up (default 60 s).
    pub wait: Duration,
    /// Clock-skew allowance: an expired lease is taken over only this long after its expiry by the
    /// challenger's clock (default 30 s).
    pub skew: Duration,
    /// Lease that must remain before the runner starts a migration (default 45 s, the Data API's
    /// statement limit); see [`Ledger::check_lease`].
    pub statement_budget: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(120),
            heartbeat: Duration::from_secs(30),
            wait: Duration::from_secs(60),
            skew: Duration::from_secs(30),
            statement_budget: Duration::from_secs(45),
        }
    }
}

impl LockConfig {
    /// A config with `lease`, heartbeats at a quarter of it, and the statement budget capped at
    /// half of it; `wait` and `skew` as given.
    pub fn with_lease(lease: Duration, wait: Duration, skew: Duration) -> Self {
        Self {
            lease,
            heartbeat: lease / 4,
            wait,
            skew,
            statement_budget: Duration::from_secs(45).min(lease / 2),
        }
    }
}

/// The lock as this runner holds it.
#[derive(Debug)]
struct Held {
    fence: u64,
    lease_id: String,
    lease: Arc<LeaseState>,
    heartbeat: tokio::task::JoinHandle<()>,
}

/// Shared between the holder and its heartbeat task.
#[derive(Debug)]
struct LeaseState {
    /// Monotonic end of the lease as the holder sees it.
    valid_until: Mutex<Instant>,
    /// Set when a heartbeat found the lock taken over or released.
    lost: AtomicBool,
}

impl LeaseState {
    fn valid_until(&self) -> Instant {
        *self
            .valid_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn extend(&self, until: Instant) {
        *self
            .valid_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = until;
    }
}

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

    /// A conditional `UpdateItem` of the lock item: `update` applied only when `condition` holds,
    /// with `e`'s names and values. Every lock transition (take, release, heartbeat, forced unlock)
    /// is one of these.
    fn update_lock(
        client: &Client,
        table: &str,
        update: String,
        condition: String,
        e: &Expr,
    ) -> UpdateItemFluentBuilder {
        client
            .update_item()
            .table_name(table)
            .set_key(Some(Self::lock_key()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
    }

    /// One attempt at taking the lock: `Ok(Ok(fence))`, `Ok(Err(holder))` when someone else holds
    /// it.
    async fn try_acquire(
        &self,
        operation: &str,
        lease_id: &str,
    ) -> Result<std::result::Result<u64, Option<LockInfo>>> {
        let now = now_ms();
        let cutoff = now - self.config.skew.as_millis() as i64;
        let mut e = Expr::default();
        let update = format!(
            "SET {owner} = {me}, {lid} = {lid_v}, {fence} = if_not_exists({fence}, {zero}) + {one}, \
             {exp} = {exp_v}, {lms} = {lms_v}, {acq} = {now}, {hb} = {now}, {rel} = {false_}, \
             {op} = {op_v} REMOVE {rel_by}, {rel_at}",
            rel_by = e.n("released_by"),
            rel_at = e.n("released_at"),
            owner = e.n("owner"),
            me = e.v("me", s(&self.runner_id)),
            lid = e.n("lease_id"),
            lid_v = e.v("lid", s(lease_id)),
            fence = e.n("fence"),
            zero = e.v("zero", n(0)),
            one = e.v("one", n(1)),
            exp = e.n("lease_expires_at"),
            exp_v = e.v("exp", n(now + self.config.lease.as_millis() as i64)),
            lms = e.n("lease_ms"),
            lms_v = e.v("lms", n(self.config.lease.as_millis() as i64)),
            acq = e.n("acquired_at"),
            now = e.v("now", n(now)),
            hb = e.n("heartbeat_at"),
            rel = e.n("released"),
            false_ = e.v("false", AttributeValue::Bool(false)),
            op = e.n("operation"),
            op_v = e.v("op", s(operation)),
        );
        let condition = format!(
            "attribute_not_exists({pk}) OR {rel} = {true_} OR {exp} < {cutoff}",
            pk = e.n("PK"),
            rel = e.n("released"),
            true_ = e.v("true", AttributeValue::Bool(true)),
            exp = e.n("lease_expires_at"),
            cutoff = e.v("cutoff", n(cutoff)),
        );
        self.count();
        let sent = Instant::now();
        let result = Self::update_lock(&self.client, &self.table, update, condition, &e)
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let old = output.attributes();
                let fence = old.and_then(|a| num(a, "fence")).unwrap_or(0) + 1;
                *self
                    .previous
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = old.cloned();
                if let Some(old) = old.and_then(lock_info)
                    && !old.released
                {
                    tracing::warn!(
                        previous_owner = %old.owner,
                        previous_fence = old.fence,
                        "took over an expired migration lock that was never released"
                    );
                }
                self.hold(fence, lease_id, sent);
                Ok(Ok(fence))
            }
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                let holder = match service.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => {
                        c.item().and_then(lock_info)
                    }
                    _ => None,
                };
                match holder {
                    Some(holder) => Ok(Err(Some(holder))),
                    None => Ok(Err(self.lock_info().await?)),
                }
            }
            Err(error) => {
                // No answer or a server error: the update may have happened. Re-read and compare.
                tracing::warn!(error = %DisplayErrorContext(&error), "lock acquisition outcome unknown; re-reading");
                let info = self.read_lock().await?;
                match info {
                    Some((info, id)) if info.owner == self.runner_id && id == lease_id => {
                        self.hold(info.fence, lease_id, sent);
                        Ok(Ok(info.fence))
                    }
                    _ => Err(sdk_err("UpdateItem (acquire lock)")(error)),
                }
            }
        }
    }

    /// Records the lock as held and starts the heartbeat task.
    fn hold(&self, fence: u64, lease_id: &str, sent: Instant) {
        let lease = Arc::new(LeaseState {
            valid_until: Mutex::new(sent + self.config.lease),
            lost: AtomicBool::new(false),
        });
        let heartbeat = tokio::spawn(heartbeat(
            self.client.clone(),
            self.table.clone(),
            self.runner_id.clone(),
            lease_id.to_owned(),
            fence,
            self.config,
            lease.clone(),
            self.calls.clone(),
        ));
        let previous = self.held_guard().replace(Held {
            fence,
            lease_id: lease_id.to_owned(),
            lease,
            heartbeat,
        });
        if let Some(previous) = previous {
            previous.heartbeat.abort();
        }
    }

    /// The lock item (consistent read) and its `lease_id`.
    async fn read_lock(&self) -> Result<Option<(LockInfo, String)>> {
        self.count();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::lock_key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem (lock)"))?;
        Ok(output.item().and_then(|item| {
            let info = lock_info(item)?;
            let lease_id = string(item, "lease_id").unwrap_or_default();
            Some((info, lease_id))
        }))
    }

    /// The lock condition every fenced write carries.
    fn lock_check(&self, fence: u64, lease_id: &str) -> Result<TransactWriteItem> {
        let mut e = Expr::default();
        let condition = format!(
            "{owner} = {me} AND {fence} = {f} AND {lid} = {lid_v} AND {rel} = {false_}",
            owner = e.n("owner"),
            me = e.v("me", s(&self.runner_id)),
            fence = e.n("fence"),
            f = e.v("f", n(fence as i64)),
            lid = e.n("lease_id"),
            lid_v = e.v("lid", s(lease_id)),
            rel = e.n("released"),
            false_ = e.v("false", AttributeValue::Bool(false)),
        );
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::lock_key()))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .map_err(build_err("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The row action for `transition` (see [`super::machine::apply`] for the same rules in Rust).
    fn row_action(
        &self,
        name: &str,
        transition: &Transition,
        fence: u64,
    ) -> Result<TransactWriteItem> {
        let now = now_ms();
        let mut e = Expr::default();
        let mine = |e: &mut Expr| {
            format!(
                "{status} = {{state}} AND {runner} = {me} AND {fence} = {f}",
                status = e.n("status"),
                runner = e.n("runner_id"),
                me = e.v("me", s(&self.runner_id)),
                fence = e.n("fence"),
                f = e.v("f", n(fence as i64)),
            )
        };
        let applied_states = |e: &mut Expr| {
            format!(
                "(attribute_not_exists({status}) OR {status} IN ({a}, {b}))",
                status = e.n("status"),
                a = e.v("applied", s(EntryState::Applied.as_str())),
                b = e.v("baselined", s(EntryState::Baselined.as_str())),
            )
        };
        let build = build_err("TransactWriteItems");
        let item = match transition {
            Transition::Start {
                seq,
                checksum,
                attempt,
                tx_mode,
            } => {
                let mut item = self.base_item(name, EntryState::InProgress, fence, now);
                item.insert("seq".into(), n(i64::from(*seq)));
                item.insert("attempt".into(), n(i64::from(*attempt)));
                item.insert("tx_mode".into(), s(tx_mode.as_str()));
                item.insert("started_at_ms".into(), n(now));
                item.insert("started_at".into(), s(&iso(now)));
                if let Some(sum) = checksum {
                    item.insert("checksum".into(), s(sum));
                }
                let condition = if *attempt <= 1 {
                    format!("attribute_not_exists({})", e.n("SK"))
                } else {
                    format!(
                        // A row without `attempt` (the article's) counts as attempt 1.
                        "({att} = {prev}{adopted}) AND ({status} = {reverted} OR ({status} = {failed} AND {rb} = {true_}))",
                        att = e.n("attempt"),
                        prev = e.v("prev", n(i64::from(*attempt) - 1)),
                        adopted = if *attempt == 2 {
                            " OR attribute_not_exists(#attempt)"
                        } else {
                            ""
                        },
                        status = e.n("status"),
                        reverted = e.v("reverted", s(EntryState::Reverted.as_str())),
                        failed = e.v("failed", s(EntryState::Failed.as_str())),
                        rb = e.n("rolled_back"),
                        true_ = e.v("true", AttributeValue::Bool(true)),
                    )
                };
                return self.put(item, condition, e);
            }
            Transition::Baseline { seq, checksum } => {
                let mut item = self.base_item(name, EntryState::Baselined, fence, now);
                item.insert("seq".into(), n(i64::from(*seq)));
                item.insert("attempt".into(), n(1));
                item.insert("finished_at_ms".into(), n(now));
                item.insert("finished_at".into(), s(&iso(now)));
                if let Some(sum) = checksum {
                    item.insert("checksum".into(), s(sum));
                }
                let condition = format!("attribute_not_exists({})", e.n("SK"));
                return self.put(item, condition, e);
            }
            Transition::Forget => {
                let condition = format!("attribute_exists({})", e.n("SK"));
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(Self::row_key(name)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build)?;
                return Ok(TransactWriteItem::builder().delete(delete).build());
            }
            Transition::Succeed {
                checksum,
                duration_ms,
            } => {
                let state = e.v("in_progress", s(EntryState::InProgress.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let mut set = format!(
                    "SET {status} = {applied}, {fin} = {now}, {fin_iso} = {now_iso}, {dur} = {dur_v}",
                    status = e.n("status"),
                    applied = e.v("applied", s(EntryState::Applied.as_str())),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    dur = e.n("duration_ms"),
                    dur_v = e.v("dur", n(*duration_ms as i64)),
                );
                if let Some(sum) = checksum {
                    set.push_str(&format!(", {} = {}", e.n("checksum"), e.v("sum", s(sum))));
                }
                (set, Some(condition))
            }
            Transition::Fail { error, rolled_back } => {
                let state = e.v("in_progress", s(EntryState::InProgress.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let set = format!(
                    "SET {status} = {failed}, {err} = {err_v}, {rb} = {rb_v}, {fin} = {now}, {fin_iso} = {now_iso}",
                    status = e.n("status"),
                    failed = e.v("failed", s(EntryState::Failed.as_str())),
                    err = e.n("error"),
                    err_v = e.v("err", s(&truncate(error))),
                    rb = e.n("rolled_back"),
                    rb_v = e.v("rb", AttributeValue::Bool(*rolled_back)),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                );
                (set, Some(condition))
            }
            Transition::Unknown { error, reverting } => {
                let state = if *reverting {
                    EntryState::Reverting
                } else {
                    EntryState::InProgress
                };
                let state = e.v("state", s(state.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let set = format!(
                    "SET {err} = {err_v}, {outcome} = {unknown}",
                    err = e.n("error"),
                    err_v = e.v(
                        "err",
                        s(&truncate(&format!("{}{error}", super::UNKNOWN_OUTCOME)))
                    ),
                    outcome = e.n("outcome"),
                    unknown = e.v("unknown", s("unknown")),
                );
                (set, Some(condition))
            }
            Transition::RevertStart => {
                let condition = format!(
                    "attribute_exists({}) AND {}",
                    e.n("SK"),
                    applied_states(&mut e)
                );
                let set = format!(
                    "SET {status} = {reverting}, {st} = {now}, {st_iso} = {now_iso}, {runner} = {me}, {fence} = {f}",
                    status = e.n("status"),
                    reverting = e.v("reverting", s(EntryState::Reverting.as_str())),
                    st = e.n("started_at_ms"),
                    now = e.v("now", n(now)),
                    st_iso = e.n("started_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    runner = e.n("runner_id"),
                    me = e.v("me", s(&self.runner_id)),
                    fence = e.n("fence"),
                    f = e.v("f", n(fence as i64)),
                );
                (set, Some(condition))
            }
            Transition::RevertDone { duration_ms } => {
                let state = e.v("reverting", s(EntryState::Reverting.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let set = format!(
                    "SET {status} = {reverted}, {fin} = {now}, {fin_iso} = {now_iso}, {dur} = {dur_v}",
                    status = e.n("status"),
                    reverted = e.v("reverted", s(EntryState::Reverted.as_str())),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    dur = e.n("duration_ms"),
                    dur_v = e.v("dur", n(*duration_ms as i64)),
                );
                (set, Some(condition))
            }
            Transition::RevertFail { error, rolled_back } => {
                let state = e.v("reverting", s(EntryState::Reverting.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let next = if *rolled_back {
                    EntryState::Applied
                } else {
                    EntryState::Failed
                };
                let set = format!(
                    "SET {status} = {next}, {err} = {err_v}, {rb} = {rb_v}",
                    status = e.n("status"),
                    next = e.v("next", s(next.as_str())),
                    err = e.n("error"),
                    err_v = e.v("err", s(&truncate(error))),
                    rb = e.n("rolled_back"),
                    rb_v = e.v("rb", AttributeValue::Bool(*rolled_back)),
                );
                (set, Some(condition))
            }
            Transition::MarkApplied { checksum } => {
                let mut set = format!(
                    "SET {status} = {applied}, {fin} = {now}, {fin_iso} = {now_iso}, {runner} = {me}, \
                     {fence} = {f}, {att} = if_not_exists({att}, {one}), {rec} = {true_}",
                    status = e.n("status"),
                    applied = e.v("applied", s(EntryState::Applied.as_str())),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    runner = e.n("runner_id"),
                    me = e.v("me", s(&self.runner_id)),
                    fence = e.n("fence"),
                    f = e.v("f", n(fence as i64)),
                    att = e.n("attempt"),
                    one = e.v("one", n(1)),
                    rec = e.n("recovered"),
                    true_ = e.v("true", AttributeValue::Bool(true)),
                );
                if let Some(sum) = checksum {
                    set.push_str(&format!(", {} = {}", e.n("checksum"), e.v("sum", s(sum))));
                }
                set.push_str(&format!(" REMOVE {}, {}", e.n("error"), e.n("rolled_back")));
                (set, None)
            }
            Transition::MarkFailed { rolled_back } => {
                let condition = format!("attribute_exists({})", e.n("SK"));
                let set = format!(
                    "SET {status} = {failed}, {rb} = {rb_v}, {runner} = {me}, {fence} = {f}",
                    status = e.n("status"),
                    failed = e.v("failed", s(EntryState::Failed.as_str())),
                    rb = e.n("rolled_back"),
                    rb_v = e.v("rb", AttributeValue::Bool(*rolled_back)),
                    runner = e.n("runner_id"),
                    me = e.v("me", s(&self.runner_id)),
                    fence = e.n("fence"),
                    f = e.v("f", n(fence as i64)),
                );
                (set, Some(condition))
            }
            Transition::Rechecksum { checksum } => {
                let condition = format!(
                    "attribute_exists({}) AND {}",
                    e.n("SK"),
                    applied_states(&mut e)
                );
                let set = match checksum {
                    Some(sum) => format!("SET {} = {}", e.n("checksum"), e.v("sum", s(sum))),
                    None => format!("REMOVE {}", e.n("checksum")),
                };
                (set, Some(condition))
            }
        };
        let (update, condition) = item;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::row_key(name)))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn base_item(
        &self,
        name: &str,
        state: EntryState,
        fence: u64,
        now: i64,
    ) -> HashMap<String, AttributeValue> {
        let mut item = Self::row_key(name);
        item.insert("status".into(), s(state.as_str()));
        item.insert("runner_id".into(), s(&self.runner_id));
        item.insert("fence".into(), n(fence as i64));
        item.insert("written_at_ms".into(), n(now));
        item
    }

    fn put(
        &self,
        item: HashMap<String, AttributeValue>,
        condition: String,
        e: Expr,
    ) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn release(&self, held: Held) -> Result<()> {
        held.heartbeat.abort();
        let _ = held.heartbeat.await;
        if held.lease.lost.load(Ordering::Relaxed) {
            tracing::warn!(
                fence = held.fence,
                "not releasing a lock lease that was lost"
            );
            return Ok(());
        }
        let mut e = Expr::default();
        let update = format!(
            "SET {rel} = {true_}, {rel_at} = {now}",
            rel = e.n("released"),
            true_ = e.v("true", AttributeValue::Bool(true)),
            rel_at = e.n("released_at"),
            now = e.v("now", n(now_ms())),
        );
        let condition = format!(
            "{owner} = {me} AND {lid} = {lid_v}",
            owner = e.n("owner"),
            me = e.v("me", s(&self.runner_id)),
            lid = e.n("lease_id"),
            lid_v = e.v("lid", s(&held.lease_id)),
        );
        self.count();
        let result = Self::update_lock(&self.client, &self.table, update, condition, &e)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::debug!(fence = held.fence, "migration lock released");
                Ok(())
            }
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                tracing::warn!(
                    fence = held.fence,
                    "the migration lock was taken over before release"
                );
                Ok(())
            }
            Err(error) => Err(sdk_err("UpdateItem (release lock)")(error)),
        }
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

#[allow(
    clippy::too_many_arguments,
    reason = "the task's own copy of the lease's context"
)]
async fn heartbeat(
    client: Client,
    table: String,
    runner_id: String,
    lease_id: String,
    fence: u64,
    config: LockConfig,
    lease: Arc<LeaseState>,
    calls: Arc<AtomicU64>,
) {
    loop {
        tokio::time::sleep(config.heartbeat).await;
        let now = now_ms();
        let mut e = Expr::default();
        let update = format!(
            "SET {exp} = {exp_v}, {hb} = {now}",
            exp = e.n("lease_expires_at"),
            exp_v = e.v("exp", n(now + config.lease.as_millis() as i64)),
            hb = e.n("heartbeat_at"),
            now = e.v("now", n(now)),
        );
        let condition = format!(
            "{owner} = {me} AND {lid} = {lid_v} AND {rel} = {false_}",
            owner = e.n("owner"),
            me = e.v("me", s(&runner_id)),
            lid = e.n("lease_id"),
            lid_v = e.v("lid", s(&lease_id)),
            rel = e.n("released"),
            false_ = e.v("false", AttributeValue::Bool(false)),
        );
        calls.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let result = DynamoLedger::update_lock(&client, &table, update, condition, &e)
            .send()
            .await;
        match result {
            Ok(_) => {
                lease.extend(sent + config.lease);
                tracing::trace!(fence, "lease extended");
            }
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                lease.lost.store(true, Ordering::Relaxed);
                tracing::error!(
                    fence,
                    "migration lock lease lost (taken over or released); stopping heartbeats"
                );
                return;
            }
            Err(error) => {
                // Transient: the lease is not extended; check_lease stops new work once too little
                // of it is left. Retried at the next tick (idempotent: same lease_id).
                tracing::warn!(fence, error = %DisplayErrorContext(&error), "lease heartbeat failed");
            }
        }
    }
}

fn lock_held(held: &Mutex<Option<Held>>) -> std::sync::MutexGuard<'_, Option<Held>> {
    held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fails unless the lock is held, no heartbeat found it lost, and more than `budget` of the lease
/// is left on the monotonic clock.
fn check_held(held: &Mutex<Option<Held>>, budget: Duration) -> Result<()> {
    let held = lock_held(held);
    let Some(held) = held.as_ref() else {
        return Err(Error::LeaseLost {
            fence: 0,
            detail: "this runner does not hold the migration lock".into(),
        });
    };
    if held.lease.lost.load(Ordering::Relaxed) {
        return Err(Error::LeaseLost {
            fence: held.fence,
            detail: "a heartbeat found the lock taken over or released".into(),
        });
    }
    let left = held
        .lease
        .valid_until()
        .saturating_duration_since(Instant::now());
    if left <= budget {
        return Err(Error::LeaseLost {
            fence: held.fence,
            detail: format!(
                "only {left:?} of the lease is left, less than the {budget:?} a statement may take \
                 (heartbeats are failing)"
            ),
        });
    }
    Ok(())
}

/// Expression attribute names and values, named after the attribute.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn n(&mut self, attr: &str) -> String {
        let key = format!("#{attr}");
        self.names.insert(key.clone(), attr.to_owned());
        key
    }

    fn v(&mut self, key: &str, value: AttributeValue) -> String {
        let key = format!(":{key}");
        self.values.insert(key.clone(), value);
        key
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn string(item: &HashMap<String, AttributeValue>, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

fn num(item: &HashMap<String, AttributeValue>, key: &str) -> Option<u64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn int(item: &HashMap<String, AttributeValue>, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn lock_info(item: &HashMap<String, AttributeValue>) -> Option<LockInfo> {
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
fn parse_entry(item: &HashMap<String, AttributeValue>) -> Result<LedgerEntry> {
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
        let chain = crate::cli::error_chain(&error);
        assert!(chain.contains("table_name"), "{chain}");
    }

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
