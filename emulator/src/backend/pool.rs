//! A small connection pool per database that knows each connection's server-side id.
//!
//! sqlx's pool does not expose the backend id of a connection (PostgreSQL's `pg_backend_pid()`,
//! MySQL's `CONNECTION_ID()`), and the emulator needs it twice: `StatementTimeoutException` carries
//! it as `dbConnectionId`, and cancelling a timed-out statement (`pg_cancel_backend`, `KILL QUERY`)
//! names it. So connections are kept here, each with its id, read once when it is opened.
//!
//! Idle connections are reused last-in first-out; one idle for longer than [`PING_AFTER`] is pinged
//! before it is handed out. A connection whose statement failed at the transport level, or was
//! cancelled, is closed rather than returned.

use crate::sync::lock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, MySqlConnection, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::catalog::Cache;
use super::{Engine, Error, Result};

/// Idle connections older than this are pinged before use.
const PING_AFTER: Duration = Duration::from_secs(30);
/// How long a call waits for a free connection before `DatabaseUnavailableException`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where connections of one pool go.
#[derive(Debug, Clone)]
pub(super) enum Options {
    MySql(MySqlConnectOptions),
    Postgres(PgConnectOptions),
}

impl Options {
    pub(super) fn engine(&self) -> Engine {
        match self {
            Options::MySql(_) => Engine::MySql,
            Options::Postgres(_) => Engine::Postgres,
        }
    }

    /// Opens a connection and reads its server-side id.
    pub(super) async fn connect(&self) -> Result<(Raw, u64)> {
        tokio::time::timeout(ACQUIRE_TIMEOUT, self.connect_now())
            .await
            .map_err(|_| Error::ConnectTimeout {
                seconds: ACQUIRE_TIMEOUT.as_secs(),
            })?
    }

    async fn connect_now(&self) -> Result<(Raw, u64)> {
        let engine = self.engine();
        let err = |e| Error::connect(engine, e);
        match self {
            Options::MySql(options) => {
                let mut conn = options.connect().await.map_err(err)?;
                // MySQL 8 (Aurora) rounds fractional seconds that do not fit a DATETIME, TIME or
                // TIMESTAMP; MariaDB truncates unless TIME_ROUND_FRACTIONAL (a mode MySQL 8 lacks).
                sqlx::query(
                    "SET SESSION sql_mode = IF(VERSION() LIKE '%MariaDB%', \
                     CONCAT(@@sql_mode, ',TIME_ROUND_FRACTIONAL'), @@sql_mode)",
                )
                .execute(&mut conn)
                .await
                .map_err(err)?;
                let (id,): (u64,) = sqlx::query_as("SELECT CONNECTION_ID()")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(err)?;
                Ok((Raw::MySql(conn), id))
            }
            Options::Postgres(options) => {
                let mut conn = options.connect().await.map_err(err)?;
                let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(err)?;
                Ok((Raw::Postgres(conn), u64::try_from(pid).unwrap_or_default()))
            }
        }
    }
}

/// A live connection.
#[derive(Debug)]
pub(super) enum Raw {
    MySql(MySqlConnection),
    Postgres(PgConnection),
}

impl Raw {
    async fn ping(&mut self) -> bool {
        match self {
            Raw::MySql(conn) => conn.ping().await.is_ok(),
            Raw::Postgres(conn) => conn.ping().await.is_ok(),
        }
    }

    async fn close(self) {
        let _ = match self {
            Raw::MySql(conn) => conn.close().await,
            Raw::Postgres(conn) => conn.close().await,
        };
    }
}

#[derive(Debug)]
struct Idle {
    raw: Raw,
    id: u64,
    since: Instant,
}

#[derive(Debug)]
struct Shared {
    options: Options,
    idle: Mutex<Vec<Idle>>,
    catalog: Arc<Cache>,
}

/// The pool of one database.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    max_connections: usize,
}

impl Pool {
    pub(super) fn new(options: Options, max_connections: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                idle: Mutex::new(Vec::new()),
                catalog: Arc::default(),
            }),
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            max_connections: max_connections.max(1),
        }
    }

    /// Whether no connection is open, idle or lent out.
    pub(super) fn is_unused(&self) -> bool {
        lock(&self.shared.idle).is_empty()
            && self.permits.available_permits() == self.max_connections
    }

    /// Closes the idle connections (the pool is being dropped; lent ones close when they return to
    /// a pool nobody holds).
    pub(super) fn close_idle(&self) {
        let idle = std::mem::take(&mut *lock(&self.shared.idle));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            for connection in idle {
                runtime.spawn(connection.raw.close());
            }
        }
    }

    /// A connection: an idle one (pinged when it idled long) or a new one.
    pub(super) async fn acquire(&self) -> Result<Pooled> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Error::PoolTimeout)?
            .map_err(|_| Error::PoolClosed)?;
        loop {
            let idle = lock(&self.shared.idle).pop();
            let Some(mut idle) = idle else {
                break;
            };
            if idle.since.elapsed() < PING_AFTER || idle.raw.ping().await {
                return Ok(Pooled {
                    raw: Some(idle.raw),
                    id: idle.id,
                    shared: self.shared.clone(),
                    _permit: permit,
                    discard: false,
                });
            }
            tracing::debug!(connection = idle.id, "dropping a dead idle connection");
        }
        let (raw, id) = self.shared.options.connect().await?;
        tracing::debug!(connection = id, "opened a database connection");
        Ok(Pooled {
            raw: Some(raw),
            id,
            shared: self.shared.clone(),
            _permit: permit,
            discard: false,
        })
    }
}

/// A connection lent out by a [`Pool`]; back to the pool on drop unless discarded.
#[derive(Debug)]
pub(super) struct Pooled {
    raw: Option<Raw>,
    id: u64,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
    discard: bool,
}

impl Pooled {
    pub(super) fn raw(&mut self) -> &mut Raw {
        self.raw.as_mut().expect("present until drop")
    }

    /// The column facts cached for this connection's database.
    pub(super) fn catalog(&self) -> Arc<Cache> {
        self.shared.catalog.clone()
    }

    /// The server-side connection id.
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// Closes the connection on drop instead of reusing it.
    pub(super) fn discard(&mut self) {
        self.discard = true;
    }

    /// Whether it will be closed on drop.
    pub(super) fn is_discarded(&self) -> bool {
        self.discard
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(raw) = self.raw.take() else {
            return;
        };
        if self.discard {
            tracing::debug!(connection = self.id, "closing a discarded connection");
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(raw.close());
            }
            return;
        }
        lock(&self.shared.idle).push(Idle {
            raw,
            id: self.id,
            since: Instant::now(),
        });
    }
}
