//! Transaction ids → the connection each holds, with the Data API's expiry and one-statement-at-a-time
//! rule.

use crate::sync::lock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::backend::{Conn, Engine};
use crate::protocol::error::{ApiError, ErrorCode};

/// How long transactions may live.
#[derive(Debug, Clone, Copy)]
pub struct Expiry {
    /// Rolled back after this long without a call (AWS: 3 minutes).
    pub idle: Duration,
    /// Rolled back this long after it began (AWS: 24 hours).
    pub max_lifetime: Duration,
}

/// One open transaction.
#[derive(Debug)]
pub struct Transaction {
    resource_arn: String,
    engine: Engine,
    /// `None` once ended. Locked while a statement runs.
    conn: Arc<tokio::sync::Mutex<Option<Conn>>>,
    started: Instant,
    last_used: Mutex<Instant>,
}

/// A transaction locked for one statement; dropping it marks the transaction as just used.
#[derive(Debug)]
pub struct InUse {
    guard: tokio::sync::OwnedMutexGuard<Option<Conn>>,
    tx: Arc<Transaction>,
}

impl InUse {
    /// The held connection.
    pub fn conn(&mut self) -> &mut Conn {
        self.guard.as_mut().expect("checked when locked")
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        *lock(&self.tx.last_used) = Instant::now();
    }
}

fn still_running() -> ApiError {
    ApiError::new(
        ErrorCode::DatabaseErrorException,
        "Transaction is still running a query",
    )
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::TransactionNotFoundException,
        "Transaction may be expired",
    )
}

/// All open transactions.
#[derive(Debug)]
pub struct Transactions {
    open: Mutex<HashMap<String, Arc<Transaction>>>,
    expiry: Expiry,
}

impl Transactions {
    /// An empty registry.
    pub fn new(expiry: Expiry) -> Arc<Self> {
        Arc::new(Self {
            open: Mutex::new(HashMap::new()),
            expiry,
        })
    }

    /// Starts a transaction on `conn` and returns its id.
    ///
    /// # Errors
    /// `DatabaseErrorException` when the engine refuses `BEGIN`.
    pub async fn begin(
        &self,
        resource_arn: &str,
        engine: Engine,
        mut conn: Conn,
    ) -> Result<String, ApiError> {
        conn.simple(match engine {
            Engine::MySql => "START TRANSACTION",
            Engine::Postgres => "BEGIN",
        })
        .await?;
        let id = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let tx = Arc::new(Transaction {
            resource_arn: resource_arn.to_owned(),
            engine,
            conn: Arc::new(tokio::sync::Mutex::new(Some(conn))),
            started: now,
            last_used: Mutex::new(now),
        });
        lock(&self.open).insert(id.clone(), tx);
        tracing::debug!(transaction = %id, "transaction begun");
        Ok(id)
    }

    /// The open transaction `id` of `resource_arn`.
    ///
    /// # Errors
    /// `TransactionNotFoundException` when unknown, of another cluster, or expired (it is then rolled back).
    pub fn get(&self, id: &str, resource_arn: &str) -> Result<Arc<Transaction>, ApiError> {
        let tx = lock(&self.open).get(id).cloned().ok_or_else(not_found)?;
        if tx.resource_arn != resource_arn {
            return Err(not_found());
        }
        if self.expired(&tx, Instant::now()) {
            self.end_in_background(id);
            return Err(not_found());
        }
        Ok(tx)
    }

    /// Locks the open transaction `id` of `resource_arn` for one statement.
    ///
    /// # Errors
    /// As [`Transactions::get`]; `DatabaseErrorException` "Transaction is still running a query" when
    /// another call holds it (Data API v2 does not queue).
    pub fn statement(&self, id: &str, resource_arn: &str) -> Result<InUse, ApiError> {
        let tx = self.get(id, resource_arn)?;
        let guard = tx
            .conn
            .clone()
            .try_lock_owned()
            .map_err(|_| still_running())?;
        if guard.is_none() {
            return Err(not_found());
        }
        Ok(InUse { guard, tx })
    }

    fn expired(&self, tx: &Transaction, now: Instant) -> bool {
        now.duration_since(*lock(&tx.last_used)) > self.expiry.idle
            || now.duration_since(tx.started) > self.expiry.max_lifetime
    }

    /// Ends `id` with `COMMIT` (`commit`) or `ROLLBACK`.
    ///
    /// # Errors
    /// `TransactionNotFoundException`; `DatabaseErrorException` when a statement is still running or
    /// the engine refuses (the transaction is gone either way after the engine answered).
    pub async fn end(&self, id: &str, resource_arn: &str, commit: bool) -> Result<(), ApiError> {
        let tx = self.get(id, resource_arn)?;
        let mut guard = tx.conn.try_lock().map_err(|_| still_running())?;
        lock(&self.open).remove(id);
        let mut conn = guard.take().ok_or_else(not_found)?;
        conn.simple(if commit { "COMMIT" } else { "ROLLBACK" })
            .await
            .map_err(ApiError::from)
    }

    /// Removes `id` and rolls it back on a background task.
    pub fn end_in_background(&self, id: &str) {
        let Some(tx) = lock(&self.open).remove(id) else {
            return;
        };
        tokio::spawn(async move {
            let mut guard = tx.conn.lock().await;
            // A discarded connection (say, left mid-result) is closed instead: the server rolls back.
            if let Some(mut conn) = guard.take()
                && !conn.is_discarded()
                && let Err(error) = conn.simple("ROLLBACK").await
            {
                tracing::warn!(%error, engine = ?tx.engine, "rolling back an expired transaction failed");
            }
        });
    }

    /// Whether any transaction is open (an open transaction keeps an auto-pausing cluster up).
    pub fn any_open(&self) -> bool {
        !lock(&self.open).is_empty()
    }

    /// Rolls back every expired transaction; run periodically.
    pub fn reap(&self) {
        let now = Instant::now();
        let expired: Vec<String> = lock(&self.open)
            .iter()
            // A transaction running a statement is not idle.
            .filter(|(_, tx)| tx.conn.try_lock().is_ok() && self.expired(tx, now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            tracing::info!(transaction = %id, "transaction expired; rolling back");
            self.end_in_background(&id);
        }
    }
}
