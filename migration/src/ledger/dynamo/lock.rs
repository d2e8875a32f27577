//! The lock item and its lease: taking, heartbeating and releasing it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::expr::Expr;
use super::item::{lock_info, n, num, s, string};
use super::{DynamoLedger, now_ms, sdk_err};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, LockInfo};

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
pub(super) struct Held {
    pub(super) fence: u64,
    pub(super) lease_id: String,
    pub(super) lease: Arc<LeaseState>,
    pub(super) heartbeat: tokio::task::JoinHandle<()>,
}

/// Shared between the holder and its heartbeat task.
#[derive(Debug)]
pub(super) struct LeaseState {
    /// Monotonic end of the lease as the holder sees it.
    valid_until: Mutex<Instant>,
    /// Set when a heartbeat found the lock taken over or released.
    pub(super) lost: AtomicBool,
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

impl DynamoLedger {
    /// A conditional `UpdateItem` of the lock item: `update` applied only when `condition` holds,
    /// with `e`'s names and values. Every lock transition (take, release, heartbeat, forced unlock)
    /// is one of these.
    pub(super) fn update_lock(
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
    pub(super) async fn try_acquire(
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
    pub(super) fn hold(&self, fence: u64, lease_id: &str, sent: Instant) {
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
    pub(super) async fn read_lock(&self) -> Result<Option<(LockInfo, String)>> {
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

    pub(super) async fn release(&self, held: Held) -> Result<()> {
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

#[allow(
    clippy::too_many_arguments,
    reason = "the task's own copy of the lease's context"
)]
pub(super) async fn heartbeat(
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

pub(super) fn lock_held(held: &Mutex<Option<Held>>) -> std::sync::MutexGuard<'_, Option<Held>> {
    held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fails unless the lock is held, no heartbeat found it lost, and more than `budget` of the lease
/// is left on the monotonic clock.
pub(super) fn check_held(held: &Mutex<Option<Held>>, budget: Duration) -> Result<()> {
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
