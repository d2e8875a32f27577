//! The SQL side: pools per database, typed binding, result decoding, engine errors, in the backend's
//! own vocabulary ([`Value`], [`Column`], [`Error`]). Nothing here knows the wire format: `protocol`
//! turns these into `Field`, `ColumnMetadata` and the AWS errors, and a test
//! (`emulator/tests/it/layering.rs`) checks that no file under `backend/` names `protocol`, the
//! handlers or HTTP.

mod budget;
mod catalog;
mod datetime;
mod error;
mod mysql;
mod pool;
mod postgres;
mod value;

pub(crate) use self::budget::Budget;
pub(crate) use self::datetime::{format_time, format_timestamp};
pub use self::error::{DatabaseError, Error, Result};
pub use self::value::{Array, Column, Nullability, Value};

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Mutex;

use self::pool::{Options, Pool, Pooled, Raw};

use crate::params::{Dialect, Rewritten};

/// The SQL engine behind a cluster ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// MySQL / MariaDB (Aurora MySQL).
    MySql,
    /// PostgreSQL (Aurora PostgreSQL).
    Postgres,
}

impl Engine {
    /// The lexer dialect.
    pub fn dialect(self) -> Dialect {
        match self {
            Engine::MySql => Dialect::MySql,
            Engine::Postgres => Dialect::Postgres,
        }
    }
}

/// A parameter value after `typeHint` validation, ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    /// `isNull`: bound untyped on PostgreSQL, so the server infers the type, as pgJDBC's `setNull` does.
    Null,
    /// `booleanValue` → bool.
    Bool(bool),
    /// `longValue` → int8 / BIGINT.
    Long(i64),
    /// `doubleValue` → float8 / DOUBLE.
    Double(f64),
    /// `stringValue` without hint → text.
    Text(String),
    /// `blobValue` → bytea / BLOB.
    Bytes(Vec<u8>),
    /// `DATE` hint.
    Date(NaiveDate),
    /// `TIME` hint.
    Time(NaiveTime),
    /// `TIMESTAMP` hint.
    Timestamp(NaiveDateTime),
    /// `DECIMAL` hint (text kept exact).
    Decimal(String),
    /// `JSON` hint (validated text).
    Json(String),
    /// `UUID` hint.
    Uuid(uuid::Uuid),
}

/// What one statement produced.
#[derive(Debug, Clone, Default)]
pub struct StatementOutput {
    /// `Some` when the statement has a result set (even an empty one).
    pub records: Option<Vec<Vec<Value>>>,
    /// One per result column.
    pub columns: Vec<Column>,
    /// Rows changed (0 for statements with a result set).
    pub rows_affected: u64,
    /// MySQL auto-increment id of an INSERT (0 when none).
    pub last_insert_id: u64,
}

/// A connection taken from a pool: for one call, or held by a transaction.
#[derive(Debug)]
pub struct Conn(Pooled);

/// One database server, with a pool per database name (the request's `database` member) and user.
#[derive(Debug)]
pub struct Server {
    engine: Engine,
    options: Options,
    default_database: Option<String>,
    max_connections: usize,
    max_pools: usize,
    pools: Mutex<HashMap<PoolKey, Entry>>,
}

/// A pool and when a call last took a connection from it (least recently used pools close first).
#[derive(Debug)]
struct Entry {
    pool: Pool,
    used: std::time::Instant,
}

/// A pool serves one database with one set of credentials (`None`: the URL's).
type PoolKey = (String, Option<DbUser>);

/// Database credentials a secret names: its statements run as this user, so the server's grants apply.
#[derive(Clone, PartialEq, Eq, Hash, serde::Deserialize)]
pub struct DbUser {
    /// The login name.
    pub username: String,
    /// The password (never logged nor shown by `Debug`).
    pub password: String,
}

impl std::fmt::Debug for DbUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbUser")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Pools (one per database and user) a server keeps unless [`Server::with_pools`] says otherwise.
pub const DEFAULT_MAX_POOLS: usize = 64;

/// Connections per database unless [`Server::with_max_connections`] says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;

impl Server {
    /// A server from `mysql://…` / `mariadb://…` or `postgres://…` / `postgresql://…`. No connection is
    /// made until a request needs one. Sessions run in UTC.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an unknown scheme or an unparsable URL.
    pub fn new(url: &str) -> Result<Arc<Self>> {
        Self::with_max_connections(url, DEFAULT_MAX_CONNECTIONS)
    }

    /// As [`Server::new`], with at most `max_connections` connections per database.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an unknown scheme or an unparsable URL.
    pub fn with_max_connections(url: &str, max_connections: usize) -> Result<Arc<Self>> {
        Self::with_pools(url, max_connections, DEFAULT_MAX_POOLS)
    }

    /// As [`Server::new`], with at most `max_connections` connections per pool and `max_pools` pools
    /// (one per database and user; opening one more closes the least recently used).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an unknown scheme or an unparsable URL.
    pub fn with_pools(url: &str, max_connections: usize, max_pools: usize) -> Result<Arc<Self>> {
        let error = |reason: String| Error::InvalidUrl {
            url: url.split('@').next_back().unwrap_or(url).to_owned(),
            reason,
        };
        let (engine, options, default_database) = if url.starts_with("mysql://")
            || url.starts_with("mariadb://")
        {
            let url = url.replacen("mariadb://", "mysql://", 1);
            let options: MySqlConnectOptions = url.parse().map_err(|e| error(format!("{e}")))?;
            let database = options.get_database().map(str::to_owned);
            (
                Engine::MySql,
                // Aurora MySQL's sql_mode has no PIPES_AS_CONCAT (sqlx adds it by default).
                Options::MySql(
                    options
                        .timezone(Some("+00:00".into()))
                        .pipes_as_concat(false),
                ),
                database,
            )
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options: PgConnectOptions = url.parse().map_err(|e| error(format!("{e}")))?;
            let database = options.get_database().map(str::to_owned);
            let options = options.options([("TimeZone", "UTC"), ("DateStyle", "ISO")]);
            (Engine::Postgres, Options::Postgres(options), database)
        } else {
            return Err(error(
                "expected mysql://, mariadb://, postgres:// or postgresql://".into(),
            ));
        };
        Ok(Arc::new(Self {
            engine,
            options,
            default_database,
            max_connections,
            max_pools: max_pools.max(1),
            pools: Mutex::new(HashMap::new()),
        }))
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// A connection to `database` (the URL's database when `None`) as `user` (the URL's user when
    /// `None`).
    ///
    /// # Errors
    /// [`Error::Database`] when the database does not exist or the server refuses the login;
    /// [`Error::Connect`], [`Error::ConnectTimeout`] or [`Error::PoolTimeout`] when the server
    /// cannot be reached or no connection is free.
    pub async fn acquire(&self, database: Option<&str>, user: Option<&DbUser>) -> Result<Conn> {
        let name = database
            .map(str::to_owned)
            .or_else(|| self.default_database.clone())
            .unwrap_or_default();
        let key = (name, user.cloned());
        let pool = {
            let mut pools = self.pools.lock().await;
            if !pools.contains_key(&key) && pools.len() >= self.max_pools {
                let oldest = pools
                    .iter()
                    .min_by_key(|(_, entry)| entry.used)
                    .map(|(key, _)| key.clone());
                if let Some(entry) = oldest.and_then(|key| pools.remove(&key)) {
                    tracing::debug!("closing the least recently used pool");
                    entry.pool.close_idle();
                }
            }
            let entry = pools.entry(key.clone()).or_insert_with(|| Entry {
                pool: Pool::new(self.options_for(&key.0, user), self.max_connections),
                used: std::time::Instant::now(),
            });
            entry.used = std::time::Instant::now();
            entry.pool.clone()
        };
        match pool.acquire().await {
            Ok(conn) => Ok(Conn(conn)),
            Err(error) => {
                // A database that does not exist (or a login refused) leaves no pool behind.
                let mut pools = self.pools.lock().await;
                if pools.get(&key).is_some_and(|entry| entry.pool.is_unused()) {
                    pools.remove(&key);
                }
                Err(error)
            }
        }
    }

    /// How many pools are open (one per database and user that served a call).
    pub async fn pool_count(&self) -> usize {
        self.pools.lock().await.len()
    }

    fn options_for(&self, database: &str, user: Option<&DbUser>) -> Options {
        let mut options = self.options.clone();
        match &mut options {
            Options::MySql(o) => {
                if !database.is_empty() {
                    *o = o.clone().database(database);
                }
                if let Some(user) = user {
                    *o = o.clone().username(&user.username).password(&user.password);
                }
            }
            Options::Postgres(o) => {
                if !database.is_empty() {
                    *o = o.clone().database(database);
                }
                if let Some(user) = user {
                    *o = o.clone().username(&user.username).password(&user.password);
                }
            }
        }
        options
    }

    /// Cancels what connection `connection_id` is running (`KILL QUERY` / `pg_cancel_backend`), from
    /// a connection of its own, so a full pool cannot block it.
    ///
    /// # Errors
    /// As [`Server::acquire`], when the server cannot be reached or refuses.
    pub async fn cancel(&self, connection_id: u64) -> Result<()> {
        let (raw, _) = self.options.connect().await?;
        let err = |e| Error::statement(self.engine, e);
        match raw {
            Raw::MySql(mut conn) => {
                sqlx::query(&format!("KILL QUERY {connection_id}"))
                    .execute(&mut conn)
                    .await
                    .map_err(err)?;
                let _ = sqlx::Connection::close(conn).await;
            }
            Raw::Postgres(mut conn) => {
                sqlx::query("SELECT pg_cancel_backend($1)")
                    .bind(i32::try_from(connection_id).unwrap_or_default())
                    .execute(&mut conn)
                    .await
                    .map_err(err)?;
                let _ = sqlx::Connection::close(conn).await;
            }
        }
        tracing::info!(
            connection = connection_id,
            "cancelled a timed-out statement"
        );
        Ok(())
    }
}

impl Conn {
    /// Runs one rewritten statement with its bind values.
    ///
    /// # Errors
    /// [`Error::Database`] with the engine's error; [`Error::UnsupportedType`] for a result column
    /// of a type the Data API cannot return; [`Error::TooLarge`] as below.
    ///
    /// Reading stops as soon as the rows read cannot fit a response of `max_response_bytes`
    /// (`Budget`); the connection, left mid-result, is then closed.
    pub async fn execute(
        &mut self,
        statement: &Rewritten,
        values: Vec<BindValue>,
        metadata: bool,
        max_response_bytes: usize,
    ) -> Result<StatementOutput> {
        let catalog = metadata.then(|| self.0.catalog());
        let budget = Budget::new(max_response_bytes);
        let output = match self.0.raw() {
            Raw::MySql(conn) => mysql::execute(conn, statement, values, metadata, budget).await,
            Raw::Postgres(conn) => {
                postgres::execute(conn, statement, values, catalog.as_deref(), budget).await
            }
        };
        if let Err(error) = &output
            && error.leaves_connection_unusable()
        {
            // The transport failed mid-statement, or the result was left unread: the connection is
            // in no state to be reused.
            self.0.discard();
        }
        if statement.changes_session {
            // Its session may carry state into the next caller's call: closed, not reused.
            self.0.discard();
        }
        output
    }

    /// Whether the connection will be closed rather than reused.
    pub fn is_discarded(&self) -> bool {
        self.0.is_discarded()
    }

    /// The server's id for this connection (`dbConnectionId`).
    pub fn id(&self) -> u64 {
        self.0.id()
    }

    /// Closes the connection when it is dropped instead of reusing it.
    pub fn discard(&mut self) {
        self.0.discard();
    }

    /// Runs SQL without parameters or results (transaction control).
    ///
    /// # Errors
    /// As [`Conn::execute`].
    pub async fn simple(&mut self, sql: &str) -> Result<()> {
        let plain = Rewritten {
            sql: sql.to_owned(),
            binds: Vec::new(),
            multiple_statements: false,
            changes_session: false,
        };
        self.execute(&plain, Vec::new(), false, usize::MAX)
            .await
            .map(drop)
    }
}

/// Assembles what a statement produced: rows and metadata when it has result columns (SELECT,
/// `… RETURNING`; no rows counted as updated), else the count and MySQL's insert id.
fn output<C, R>(
    columns: &[C],
    rows: &[R],
    rows_affected: u64,
    last_insert_id: u64,
    metadata: impl Fn(&C) -> Column,
    field: impl Fn(&R, usize) -> Result<Value>,
) -> Result<StatementOutput> {
    if columns.is_empty() {
        return Ok(StatementOutput {
            rows_affected,
            last_insert_id,
            ..StatementOutput::default()
        });
    }
    let records = rows
        .iter()
        .map(|row| (0..columns.len()).map(|i| field(row, i)).collect())
        .collect::<Result<Vec<Vec<Value>>>>()?;
    Ok(StatementOutput {
        records: Some(records),
        columns: columns.iter().map(metadata).collect(),
        rows_affected: 0,
        last_insert_id: 0,
    })
}

pub(crate) fn unsupported(column: &str, type_name: &str) -> Error {
    Error::UnsupportedType {
        column: column.to_owned(),
        type_name: type_name.to_owned(),
    }
}
