//! What the SeaORM adapter costs. Prints markdown tables; `docs/BENCHMARKS.md` records a run.
//!
//! ```sh
//! cargo bench -p data-api --bench adapter -- [--engine mysql|postgres|both] [--ops N] [--quick]
//! ```
//!
//! 1. **Client-side cost, canned server.** A tiny in-process axum server answers every
//!    `POST /Execute` with one fixed ExecuteStatement response, so the network and the database are
//!    out of the picture. A 3-parameter INSERT and a 1,000-row × 3-column SELECT go through the
//!    adapter (SeaORM `Statement` → `execute` / `find_by_statement(..).all()` into a model) and through
//!    the raw `aws-sdk-rdsdata` client with the same request already in named form. The difference is
//!    the adapter's translate + encode + decode cost (plus SeaORM's proxy plumbing). Two more paths
//!    split the SELECT: SeaORM's `query_all` through the adapter (rows, before SeaORM maps them to
//!    the model), and the raw response decoded into the same model by hand (what code without the
//!    adapter would write). A third workload, part 2's point select (`find_by_id(..).one()`)
//!    against a canned 1-row response, gives the client-side share of part 2's numbers.
//! 2. **Round trips through the emulator.** The same SeaORM workload (point select by primary key,
//!    single-row insert through the entity, and part 1's 1,000-row SELECT) against the raw SDK call
//!    carrying the same request, via the Data API emulator (in-process, `emulator::run`) on MariaDB
//!    and PostgreSQL. The adapter's overhead is reported as a share of the round trip. The point
//!    select also runs prebuilt through `query_one` (the adapter without SeaORM's query building
//!    and model mapping), and the SELECT also as the raw call plus SeaORM's row maps without
//!    decoding (the floor any adapter on SeaORM 1.1's proxy pays).
//! 3. **100-row inserts through the emulator.** `Entity::insert_many(..).exec` (the adapter sends one
//!    multi-row INSERT as one ExecuteStatement) against one raw `BatchExecuteStatement` of 100
//!    parameter sets, plus the same batch inside a transaction and the adapter's multi-row INSERT
//!    sent raw.
//!
//! Before measuring, each comparison sends one operation per path through a recording server and
//! checks that the adapter and the raw client put the same JSON on the wire (SQL, parameters, type
//! hints), so the raw baseline is exactly the adapter's request. Inputs (SeaORM statements or models,
//! raw parameter lists) are built before the clock starts; SeaORM's own query building, where an
//! entity API is used, is inside it. Each comparison warms up every path, then interleaves them
//! operation by operation (rotating which goes first), so drift on a shared machine hits all alike.
//! One client, one operation at a time, on a current-thread runtime; the canned servers and the
//! emulator run on a runtime of their own (one worker thread), so every request crosses threads the
//! same way whichever path sent it.
//!
//! Operation counts (`--ops N`, default 2000, 100 with `--quick`): canned insert and point select
//! 5N, canned 1,000-row select N/4, emulator point select and insert N, 100-row inserts N/20 (at least 5 each).
//! Servers: `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and `TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`). Each run creates a `bench_<uuid>` database
//! per engine and drops it.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a reporting tool: the tables are its output, progress goes to stderr"
)]
#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make the bench-local entity's items pub"
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use aws_sdk_rdsdata::types::{Field, SqlParameter, TypeHint};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::routing::post;
use chrono::{NaiveDateTime, TimeDelta};
use clap::{Parser, ValueEnum};
use data_api::{Config, DataApi};
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, QuerySelect,
    QueryTrait, Statement,
};
use tokio::net::TcpListener;
use tokio::runtime::Handle;

const CLUSTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:bench";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench";
/// Rows in `items` (the point select's key range) and in the canned SELECT response.
const ROWS: u64 = 1000;
/// Rows per `insert_many`.
const BATCH: u64 = 100;

#[derive(Debug, Parser)]
struct Args {
    /// Which engines to measure.
    #[arg(long, value_enum, default_value = "both")]
    engine: Which,
    /// Scale of the operation counts (see the module docs) [default: 2000, or 100 with --quick].
    #[arg(long, value_parser = clap::value_parser!(u64).range(20..))]
    ops: Option<u64>,
    /// A short smoke run.
    #[arg(long)]
    quick: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Mysql,
    Postgres,
    Both,
}

/// The bench's table, as a SeaORM entity.
mod item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub qty: i32,
        pub created_at: DateTime,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The three columns of the canned SELECT.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
struct Line {
    name: String,
    qty: i32,
    created_at: NaiveDateTime,
}

/// The SQL of the canned SELECT (no parameters: the decode is what is measured).
const CANNED_SELECT: &str = "SELECT name, qty, created_at FROM items";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    MySql,
    Postgres,
}

impl Engine {
    fn adapter(self) -> data_api::Engine {
        match self {
            Engine::MySql => data_api::Engine::MySql,
            Engine::Postgres => data_api::Engine::Postgres,
        }
    }

    fn backend(self) -> DbBackend {
        self.adapter().backend()
    }

    fn label(self) -> &'static str {
        match self {
            Engine::MySql => "MariaDB",
            Engine::Postgres => "PostgreSQL",
        }
    }

    fn admin_url(self) -> String {
        let (var, default) = match self {
            Engine::MySql => ("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
            Engine::Postgres => (
                "TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
        };
        std::env::var(var).unwrap_or_else(|_| default.into())
    }

    /// `CREATE DATABASE`, `DROP DATABASE`, and the table.
    fn ddl(self, db: &str) -> [String; 3] {
        let columns = "name VARCHAR(64) NOT NULL, qty INT NOT NULL";
        match self {
            Engine::MySql => [
                format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"),
                format!("DROP DATABASE IF EXISTS `{db}`"),
                format!(
                    "CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, {columns}, \
                     created_at DATETIME NOT NULL)"
                ),
            ],
            Engine::Postgres => [
                format!("CREATE DATABASE \"{db}\""),
                format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                format!(
                    "CREATE TABLE items (id BIGSERIAL PRIMARY KEY, {columns}, \
                     created_at TIMESTAMP NOT NULL)"
                ),
            ],
        }
    }

    /// A placeholder-free INSERT as the adapter sends it: `?` / `$n` → `:pN`, quoted the engine's way.
    fn q(self, ident: &str) -> String {
        match self {
            Engine::MySql => format!("`{ident}`"),
            Engine::Postgres => format!("\"{ident}\""),
        }
    }

    /// The SQL the adapter sends for `Entity::insert_many` of `rows` rows (`insert` when 1).
    fn insert_sql(self, rows: u64) -> String {
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let n = 3 * r;
                format!("(:p{}, :p{}, :p{})", n + 1, n + 2, n + 3)
            })
            .collect();
        let returning = match self {
            Engine::MySql => String::new(),
            Engine::Postgres => format!(" RETURNING {}", self.q("id")),
        };
        format!(
            "INSERT INTO {} ({}, {}, {}) VALUES {}{returning}",
            self.q("items"),
            self.q("name"),
            self.q("qty"),
            self.q("created_at"),
            tuples.join(", "),
        )
    }

    /// The SQL the adapter sends for `Entity::find_by_id(..).one(..)`.
    fn point_select_sql(self) -> String {
        let col = |c: &str| format!("{}.{}", self.q("items"), self.q(c));
        format!(
            "SELECT {}, {}, {}, {} FROM {} WHERE {} = :p1 LIMIT :p2",
            col("id"),
            col("name"),
            col("qty"),
            col("created_at"),
            self.q("items"),
            col("id"),
        )
    }
}

/// `scheme://user@host:port[/db][?query]` → `scheme://user@host:port/<name>`.
fn with_database(url: &str, name: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    format!("{}/{name}", &base[..authority_end])
}

/// What operation `i` writes or reads: deterministic, so every path sees the same values.
fn row(i: u64) -> (String, i32, NaiveDateTime) {
    let start = NaiveDateTime::parse_from_str("2026-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")
        .expect("a valid timestamp literal");
    (
        format!("bench-{i:06}"),
        (i % 97) as i32,
        start + TimeDelta::seconds(i as i64),
    )
}

fn key(i: u64) -> i64 {
    ((i * 7919) % ROWS + 1) as i64
}

fn param(name: impl Into<String>, value: Field, hint: Option<TypeHint>) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(value)
        .set_type_hint(hint)
        .build()
}

/// Row `i`'s parameters, named from `:p{first}` on, as the adapter encodes them.
fn row_params(i: u64, first: u64) -> [SqlParameter; 3] {
    let (name, qty, at) = row(i);
    [
        param(format!("p{first}"), Field::StringValue(name), None),
        param(
            format!("p{}", first + 1),
            Field::LongValue(qty.into()),
            None,
        ),
        param(
            format!("p{}", first + 2),
            Field::StringValue(at.format("%Y-%m-%d %H:%M:%S").to_string()),
            Some(TypeHint::Timestamp),
        ),
    ]
}

fn active(i: u64) -> item::ActiveModel {
    let (name, qty, at) = row(i);
    item::ActiveModel {
        id: NotSet,
        name: Set(name),
        qty: Set(qty),
        created_at: Set(at),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// Part 1 (a): `INSERT … VALUES (?, ?, ?)` against the canned insert response.
    CannedInsert,
    /// Part 1 (b): the 1,000-row canned SELECT response, decoded.
    CannedSelect,
    /// Part 1 (c): `find_by_id(..).one(..)` against a canned 1-row × 4-column response.
    CannedPointSelect,
    /// Part 2: `find_by_id(..).one(..)` through the emulator.
    PointSelect,
    /// Part 2: `Entity::insert(..).exec(..)` through the emulator.
    Insert,
    /// Part 2: part 1 (b)'s SELECT of 1,000 rows × 3 columns through the emulator.
    Scan,
    /// Part 3: `Entity::insert_many(100 rows).exec(..)` through the emulator.
    InsertMany,
}

impl Workload {
    fn label(self) -> &'static str {
        match self {
            Workload::CannedInsert => "INSERT, 3 parameters",
            Workload::CannedSelect => "SELECT 1,000 rows × 3 columns",
            Workload::CannedPointSelect => "point select by PK, 1 row × 4 columns",
            Workload::PointSelect => "point select by PK",
            Workload::Insert => "insert 1 row",
            Workload::Scan => "SELECT 1,000 rows × 3 columns",
            Workload::InsertMany => "insert 100 rows",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// SeaORM through the adapter.
    Adapter,
    /// SeaORM's `query_all` through the adapter: rows, no model.
    AdapterRows,
    /// The raw SDK sending the adapter's ExecuteStatement request.
    Raw,
    /// The raw SDK, and its records decoded into the model by hand.
    RawDecoded,
    /// The raw SDK, and its records put into SeaORM 1.1's proxy row type (a `BTreeMap<String,
    /// Value>` per row, by name and by position, as the adapter must) without decoding: strings
    /// stay strings, numbers become `BigInt`. The least any proxy-based adapter can spend.
    RawMaps,
    /// The raw SDK: one BatchExecuteStatement of 100 parameter sets.
    RawBatch,
    /// BeginTransaction + that BatchExecuteStatement + CommitTransaction.
    RawBatchInTransaction,
}

impl Path {
    fn label(self, workload: Workload) -> &'static str {
        match (self, workload) {
            (Path::Adapter, Workload::CannedInsert) => {
                "adapter: `Statement::from_sql_and_values` + `execute`"
            }
            (Path::Adapter, Workload::CannedSelect | Workload::Scan) => {
                "adapter: `find_by_statement(..).all()` into a model"
            }
            (Path::Adapter, Workload::CannedPointSelect) => "adapter: `find_by_id(..).one()`",
            (Path::Adapter, Workload::InsertMany) => {
                "adapter: `insert_many(..).exec` = one multi-row INSERT (ExecuteStatement)"
            }
            (Path::Adapter, _) => "adapter",
            (Path::AdapterRows, Workload::CannedPointSelect) => {
                "adapter: `query_one` of the same statement, prebuilt (no model)"
            }
            (Path::AdapterRows, _) => "adapter: `query_all` (rows, no model)",
            (Path::Raw, Workload::InsertMany) => "raw SDK: the same multi-row INSERT",
            (Path::Raw, _) => "raw SDK",
            (Path::RawDecoded, _) => "raw SDK + hand-written decode into the model",
            (Path::RawMaps, _) => {
                "raw SDK + the same `ProxyRow` maps without decoding (the floor of SeaORM's row type)"
            }
            (Path::RawBatch, _) => "raw SDK: one BatchExecuteStatement, 100 parameter sets",
            (Path::RawBatchInTransaction, _) => "raw SDK: Begin + BatchExecuteStatement + Commit",
        }
    }
}

/// The two clients for one endpoint: the adapter's connection and a raw SDK client.
#[derive(Debug, Clone)]
struct Clients {
    db: DatabaseConnection,
    raw: aws_sdk_rdsdata::Client,
    database: String,
    engine: Engine,
}

impl Clients {
    fn new(addr: SocketAddr, database: &str, engine: Engine) -> Result<Self> {
        let shared = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDBENCH",
                        "secret",
                        None,
                        None,
                        "bench",
                    ),
                ),
            )
            .endpoint_url(format!("http://{addr}"))
            .build();
        let api = DataApi::with_sdk_config(
            &shared,
            Config::new(CLUSTER_ARN, SECRET_ARN, database, engine.adapter()),
        );
        // The same SDK settings the adapter uses: no SDK-level retries.
        let sdk = aws_sdk_rdsdata::config::Builder::from(&shared)
            .retry_config(aws_sdk_rdsdata::config::retry::RetryConfig::disabled())
            .build();
        Ok(Self {
            db: api.connection()?,
            raw: aws_sdk_rdsdata::Client::from_conf(sdk),
            database: database.into(),
            engine,
        })
    }

    async fn execute(
        &self,
        sql: &str,
        params: Vec<SqlParameter>,
    ) -> Result<aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput> {
        Ok(self
            .raw
            .execute_statement()
            .resource_arn(CLUSTER_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database)
            .sql(sql)
            .set_parameters(Some(params))
            .include_result_metadata(true)
            .send()
            .await?)
    }

    async fn batch(&self, sets: Vec<Vec<SqlParameter>>, transaction: Option<String>) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} ({}, {}, {}) VALUES (:p1, :p2, :p3)",
            self.engine.q("items"),
            self.engine.q("name"),
            self.engine.q("qty"),
            self.engine.q("created_at"),
        );
        let output = self
            .raw
            .batch_execute_statement()
            .resource_arn(CLUSTER_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database)
            .sql(sql)
            .set_parameter_sets(Some(sets))
            .set_transaction_id(transaction)
            .send()
            .await?;
        ensure!(
            output.update_results().len() == BATCH as usize,
            "batch gave {} update results",
            output.update_results().len()
        );
        Ok(())
    }

    async fn batch_in_transaction(&self, sets: Vec<Vec<SqlParameter>>) -> Result<()> {
        let begun = self
            .raw
            .begin_transaction()
            .resource_arn(CLUSTER_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database)
            .send()
            .await?;
        let id = begun
            .transaction_id()
            .context("no transaction id")?
            .to_owned();
        self.batch(sets, Some(id.clone())).await?;
        self.raw
            .commit_transaction()
            .resource_arn(CLUSTER_ARN)
            .secret_arn(SECRET_ARN)
            .transaction_id(id)
            .send()
            .await?;
        Ok(())
    }

    /// Operation `i` of `workload` on `path`: its inputs are built first, then it is timed.
    async fn op(&self, workload: Workload, path: Path, i: u64) -> Result<Duration> {
        let backend = self.engine.backend();
        match (workload, path) {
            (Workload::CannedInsert, Path::Adapter) => {
                let (name, qty, at) = row(i);
                let sql = match self.engine {
                    Engine::MySql => "INSERT INTO items (name, qty, created_at) VALUES (?, ?, ?)",
                    Engine::Postgres => {
                        "INSERT INTO items (name, qty, created_at) VALUES ($1, $2, $3)"
                    }
                };
                let values: [Value; 3] = [name.into(), qty.into(), at.into()];
                let statement = Statement::from_sql_and_values(backend, sql, values);
                let began = Instant::now();
                let result = self.db.execute(statement).await?;
                let elapsed = began.elapsed();
                ensure!(
                    result.rows_affected() == 1,
                    "inserted {}",
                    result.rows_affected()
                );
                Ok(elapsed)
            }
            (Workload::CannedInsert, Path::Raw) => {
                let params = row_params(i, 1).into();
                let sql = "INSERT INTO items (name, qty, created_at) VALUES (:p1, :p2, :p3)";
                let began = Instant::now();
                let output = self.execute(sql, params).await?;
                let elapsed = began.elapsed();
                ensure!(output.number_of_records_updated() == 1, "inserted none");
                Ok(elapsed)
            }
            (Workload::CannedSelect | Workload::Scan, Path::Adapter) => {
                let statement = Statement::from_string(backend, CANNED_SELECT);
                let began = Instant::now();
                let lines = Line::find_by_statement(statement).all(&self.db).await?;
                let elapsed = began.elapsed();
                ensure!(lines.len() == ROWS as usize, "read {} rows", lines.len());
                Ok(elapsed)
            }
            (Workload::CannedSelect | Workload::Scan, Path::AdapterRows) => {
                let statement = Statement::from_string(backend, CANNED_SELECT);
                let began = Instant::now();
                let rows = self.db.query_all(statement).await?;
                let elapsed = began.elapsed();
                ensure!(rows.len() == ROWS as usize, "read {} rows", rows.len());
                Ok(elapsed)
            }
            (Workload::CannedSelect | Workload::Scan, Path::Raw) => {
                let began = Instant::now();
                let output = self.execute(CANNED_SELECT, Vec::new()).await?;
                let elapsed = began.elapsed();
                ensure!(output.records().len() == ROWS as usize, "read too few rows");
                Ok(elapsed)
            }
            (Workload::CannedSelect | Workload::Scan, Path::RawMaps) => {
                let began = Instant::now();
                let output = self.execute(CANNED_SELECT, Vec::new()).await?;
                let rows = proxy_maps(&output);
                let elapsed = began.elapsed();
                ensure!(rows.len() == ROWS as usize, "read {} rows", rows.len());
                Ok(elapsed)
            }
            (Workload::CannedSelect | Workload::Scan, Path::RawDecoded) => {
                let began = Instant::now();
                let output = self.execute(CANNED_SELECT, Vec::new()).await?;
                let lines = decode_lines(output.records())?;
                let elapsed = began.elapsed();
                ensure!(lines.len() == ROWS as usize, "read {} rows", lines.len());
                Ok(elapsed)
            }
            (Workload::PointSelect | Workload::CannedPointSelect, Path::Adapter) => {
                let key = key(i);
                let began = Instant::now();
                let found = item::Entity::find_by_id(key).one(&self.db).await?;
                let elapsed = began.elapsed();
                // The canned response always holds row 1.
                let expected = if workload == Workload::PointSelect {
                    key
                } else {
                    1
                };
                ensure!(
                    found.is_some_and(|m| m.id == expected),
                    "row {key} not found"
                );
                Ok(elapsed)
            }
            (Workload::PointSelect | Workload::CannedPointSelect, Path::AdapterRows) => {
                // The statement `find_by_id(..).one()` sends, built before the clock starts.
                let statement = item::Entity::find_by_id(key(i)).limit(1).build(backend);
                let began = Instant::now();
                let found = self.db.query_one(statement).await?;
                let elapsed = began.elapsed();
                ensure!(found.is_some(), "row {} not found", key(i));
                Ok(elapsed)
            }
            (Workload::PointSelect | Workload::CannedPointSelect, Path::Raw) => {
                let params = vec![
                    param("p1", Field::LongValue(key(i)), None),
                    param("p2", Field::LongValue(1), None),
                ];
                let sql = self.engine.point_select_sql();
                let began = Instant::now();
                let output = self.execute(&sql, params).await?;
                let elapsed = began.elapsed();
                ensure!(output.records().len() == 1, "row {} not found", key(i));
                Ok(elapsed)
            }
            (Workload::Insert, Path::Adapter) => {
                let model = active(i);
                let began = Instant::now();
                let inserted = item::Entity::insert(model).exec(&self.db).await?;
                let elapsed = began.elapsed();
                ensure!(inserted.last_insert_id > 0, "no id");
                Ok(elapsed)
            }
            (Workload::Insert, Path::Raw) => {
                let params = row_params(i, 1).into();
                let sql = self.engine.insert_sql(1);
                let began = Instant::now();
                let output = self.execute(&sql, params).await?;
                let elapsed = began.elapsed();
                let rows = output.records().len() as i64;
                ensure!(output.number_of_records_updated().max(rows) == 1, "none");
                Ok(elapsed)
            }
            (Workload::InsertMany, Path::Adapter) => {
                let models: Vec<_> = (0..BATCH).map(|r| active(i * BATCH + r)).collect();
                let began = Instant::now();
                item::Entity::insert_many(models).exec(&self.db).await?;
                Ok(began.elapsed())
            }
            (Workload::InsertMany, Path::Raw) => {
                let params = (0..BATCH)
                    .flat_map(|r| row_params(i * BATCH + r, 3 * r + 1))
                    .collect();
                let sql = self.engine.insert_sql(BATCH);
                let began = Instant::now();
                let output = self.execute(&sql, params).await?;
                let elapsed = began.elapsed();
                let rows = output.records().len() as i64;
                ensure!(
                    output.number_of_records_updated().max(rows) == BATCH as i64,
                    "inserted too few"
                );
                Ok(elapsed)
            }
            (Workload::InsertMany, Path::RawBatch | Path::RawBatchInTransaction) => {
                let sets = (0..BATCH)
                    .map(|r| row_params(i * BATCH + r, 1).into())
                    .collect();
                let began = Instant::now();
                if path == Path::RawBatch {
                    self.batch(sets, None).await?;
                } else {
                    self.batch_in_transaction(sets).await?;
                }
                Ok(began.elapsed())
            }
            (workload, path) => bail!("no {path:?} path for {workload:?}"),
        }
    }
}

/// [`Path::RawMaps`]: each record as a `ProxyRow`'s map, keyed by name and by position, with no
/// type decoding.
fn proxy_maps(
    output: &aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput,
) -> Vec<sea_orm::ProxyRow> {
    let mut keys: Vec<(String, usize)> = output
        .column_metadata()
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let name = c.name().unwrap_or_default().to_owned();
            [(format!("\u{0}{i:05}"), i), (name, i)]
        })
        .collect();
    keys.sort();
    output
        .records()
        .iter()
        .map(|record| {
            let map = keys
                .iter()
                .map(|(key, i)| {
                    let value = match &record[*i] {
                        Field::StringValue(s) => Value::String(Some(Box::new(s.clone()))),
                        Field::LongValue(n) => Value::BigInt(Some(*n)),
                        _ => Value::String(None),
                    };
                    (key.clone(), value)
                })
                .collect();
            sea_orm::ProxyRow::new(map)
        })
        .collect()
}

/// What code without the adapter would write to read the canned rows into [`Line`].
fn decode_lines(records: &[Vec<Field>]) -> Result<Vec<Line>> {
    records
        .iter()
        .map(|record| match record.as_slice() {
            [
                Field::StringValue(name),
                Field::LongValue(qty),
                Field::StringValue(at),
            ] => Ok(Line {
                name: name.clone(),
                qty: i32::try_from(*qty)?,
                created_at: NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S%.f")?,
            }),
            other => bail!("unexpected record {other:?}"),
        })
        .collect()
}

/// Per-operation latencies.
#[derive(Debug, Default, Clone)]
struct Samples(Vec<Duration>);

impl Samples {
    fn mean_us(&self) -> f64 {
        self.0.iter().map(Duration::as_secs_f64).sum::<f64>() / self.0.len() as f64 * 1e6
    }

    /// Nearest-rank percentile in microseconds.
    fn percentile_us(&self, p: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = (p * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e6
    }
}

/// `ops` operations of `workload` on each of `paths` after a warm-up, interleaved: operation `i`
/// runs on every path before `i + 1` does, starting with a different path each time.
async fn compare(
    clients: &Clients,
    workload: Workload,
    paths: &[Path],
    ops: u64,
) -> Result<Vec<Samples>> {
    let warm_up = (ops / 10).max(5);
    for &path in paths {
        for i in ops..ops + warm_up {
            clients.op(workload, path, i).await?;
        }
    }
    let mut samples = vec![Samples::default(); paths.len()];
    for i in 0..ops {
        for k in 0..paths.len() {
            // Every path runs the same operations: the same keys read, the same values written.
            let side = (i as usize + k) % paths.len();
            samples[side]
                .0
                .push(clients.op(workload, paths[side], i).await?);
        }
    }
    Ok(samples)
}

type Log = Arc<Mutex<Vec<serde_json::Value>>>;

/// `router` behind a layer that records each request body as JSON.
fn recording(router: Router) -> (Router, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let router = router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let sink = sink.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                sink.lock().expect("not poisoned").push(json);
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
        },
    ));
    (router, log)
}

/// A loopback listener for a server on the server runtime.
fn listener() -> Result<(std::net::TcpListener, SocketAddr)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves `router` on the server runtime until the process ends.
fn serve(servers: &Handle, router: Router) -> Result<SocketAddr> {
    let (listener, addr) = listener()?;
    servers.spawn(async move { axum::serve(TcpListener::from_std(listener)?, router).await });
    Ok(addr)
}

/// Sends operation 0 of `workload` along `Path::Adapter` and `Path::Raw` through `router` behind a
/// recorder, and fails unless both sent the same request body.
async fn same_request(
    servers: &Handle,
    router: Router,
    database: &str,
    engine: Engine,
    workload: Workload,
) -> Result<()> {
    let (router, log) = recording(router);
    let clients = Clients::new(serve(servers, router)?, database, engine)?;
    let mut bodies = Vec::new();
    for path in [Path::Adapter, Path::Raw] {
        clients
            .op(workload, path, 0)
            .await
            .with_context(|| format!("probe {path:?}"))?;
        let mut log = log.lock().expect("not poisoned");
        bodies.push(log.pop().context("no request recorded")?);
        log.clear();
    }
    if bodies[0] != bodies[1] {
        bail!(
            "{engine:?} {workload:?}: the raw request differs from the adapter's\nadapter: {}\nraw:     {}",
            bodies[0],
            bodies[1]
        );
    }
    Ok(())
}

/// A server answering every `POST /Execute` with `body`.
fn canned(body: String) -> Router {
    let body = Bytes::from(body);
    Router::new().route(
        "/Execute",
        post(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    )
}

/// The ExecuteStatement response to the canned INSERT.
fn canned_insert(engine: Engine) -> String {
    let generated = match engine {
        // MySQL reports the AUTO_INCREMENT id; PostgreSQL reports none.
        Engine::MySql => serde_json::json!([{ "longValue": 1001 }]),
        Engine::Postgres => serde_json::json!([]),
    };
    serde_json::json!({ "numberOfRecordsUpdated": 1, "generatedFields": generated }).to_string()
}

/// An ExecuteStatement response with `rows` records of `items`' columns (`id` first when `with_id`)
/// and the full `columnMetadata` (`includeResultMetadata: true`), as Aurora MySQL (Connector/J
/// spellings) or Aurora PostgreSQL (pgJDBC spellings) describes them.
fn canned_rows(engine: Engine, rows: u64, with_id: bool) -> String {
    // (name, typeName, JDBC type, precision, scale, signed, case-sensitive, auto-increment)
    type Column = (&'static str, &'static str, i32, i32, i32, bool, bool, bool);
    let (id, columns): (Column, [Column; 3]) = match engine {
        Engine::MySql => (
            ("id", "BIGINT", -5, 20, 0, true, false, true),
            [
                ("name", "VARCHAR", 12, 64, 0, false, false, false),
                ("qty", "INT", 4, 10, 0, true, false, false),
                ("created_at", "DATETIME", 93, 19, 0, false, false, false),
            ],
        ),
        Engine::Postgres => (
            ("id", "int8", -5, 19, 0, true, false, true),
            [
                ("name", "text", 12, 2_147_483_647, 0, false, true, false),
                ("qty", "int4", 4, 10, 0, true, false, false),
                ("created_at", "timestamp", 93, 29, 6, false, false, false),
            ],
        ),
    };
    let metadata: Vec<_> = with_id
        .then_some(id)
        .iter()
        .chain(&columns)
        .map(
            |&(name, type_name, jdbc, precision, scale, signed, case, auto)| {
                serde_json::json!({
                    "arrayBaseColumnType": 0,
                    "isAutoIncrement": auto,
                    "isCaseSensitive": case,
                    "isCurrency": false,
                    "isSigned": signed,
                    "label": name,
                    "name": name,
                    "nullable": 0,
                    "precision": precision,
                    "scale": scale,
                    "schemaName": "",
                    "tableName": "items",
                    "type": jdbc,
                    "typeName": type_name,
                })
            },
        )
        .collect();
    let records: Vec<_> = (0..rows)
        .map(|i| {
            let (name, qty, at) = row(i);
            let mut record = vec![
                serde_json::json!({ "stringValue": name }),
                serde_json::json!({ "longValue": qty }),
                serde_json::json!({ "stringValue": at.format("%Y-%m-%d %H:%M:%S").to_string() }),
            ];
            if with_id {
                record.insert(0, serde_json::json!({ "longValue": i + 1 }));
            }
            record
        })
        .collect();
    serde_json::json!({
        "columnMetadata": metadata,
        "numberOfRecordsUpdated": 0,
        "records": records,
    })
    .to_string()
}

/// Runs `sql` on a native SeaORM connection to `url`.
async fn admin(url: &str, sql: &str) -> Result<()> {
    let db = sea_orm::Database::connect(url)
        .await
        .with_context(|| format!("connecting to {url} (is the server running?)"))?;
    db.execute_unprepared(sql)
        .await
        .with_context(|| sql.to_owned())?;
    db.close().await.ok();
    Ok(())
}

/// Counts of each workload for the `--ops` scale.
#[derive(Debug, Clone, Copy)]
struct Counts {
    canned_insert: u64,
    canned_select: u64,
    single: u64,
    many: u64,
}

impl Counts {
    fn new(ops: u64) -> Self {
        let at_least = |n: u64| n.max(5);
        Self {
            canned_insert: at_least(ops * 5),
            canned_select: at_least(ops / 4),
            single: at_least(ops),
            many: at_least(ops / 20),
        }
    }
}

/// Tables' rows for one engine.
#[derive(Debug, Default)]
struct Report {
    canned: Vec<String>,
    round_trip: Vec<String>,
    many: Vec<String>,
}

fn us(x: f64) -> String {
    format!("{x:.1}")
}

async fn canned_part(
    servers: &Handle,
    engine: Engine,
    counts: Counts,
    report: &mut Report,
) -> Result<()> {
    let database = "bench";
    for (workload, body, paths, ops) in [
        (
            Workload::CannedInsert,
            canned_insert(engine),
            &[Path::Adapter, Path::Raw][..],
            counts.canned_insert,
        ),
        (
            Workload::CannedSelect,
            canned_rows(engine, ROWS, false),
            &[
                Path::Adapter,
                Path::AdapterRows,
                Path::Raw,
                Path::RawDecoded,
                Path::RawMaps,
            ][..],
            counts.canned_select,
        ),
        (
            Workload::CannedPointSelect,
            canned_rows(engine, 1, true),
            &[Path::Adapter, Path::AdapterRows, Path::Raw][..],
            counts.canned_insert,
        ),
    ] {
        eprintln!("{}: canned {}", engine.label(), workload.label());
        same_request(servers, canned(body.clone()), database, engine, workload).await?;
        let clients = Clients::new(serve(servers, canned(body))?, database, engine)?;
        let samples = compare(&clients, workload, paths, ops).await?;
        let raw = paths
            .iter()
            .position(|p| *p == Path::Raw)
            .map(|at| samples[at].clone())
            .context("no raw path")?;
        for (path, s) in paths.iter().zip(&samples) {
            let delta = if *path == Path::Raw {
                "—".to_owned()
            } else {
                format!(
                    "{:+.1} / {:+.1}",
                    s.mean_us() - raw.mean_us(),
                    s.percentile_us(0.5) - raw.percentile_us(0.5)
                )
            };
            report.canned.push(format!(
                "| {} | {} | {} | {ops} | {} | {} | {} | {delta} |",
                engine.label(),
                workload.label(),
                path.label(workload),
                us(s.mean_us()),
                us(s.percentile_us(0.5)),
                us(s.percentile_us(0.99)),
            ));
        }
    }
    Ok(())
}

async fn emulator_part(
    servers: &Handle,
    engine: Engine,
    database: &str,
    counts: Counts,
    report: &mut Report,
) -> Result<()> {
    let url = with_database(&engine.admin_url(), database);
    let [_, _, table] = engine.ddl(database);
    admin(&url, &table).await?;
    let values: Vec<String> = (0..ROWS)
        .map(|i| {
            let (name, qty, at) = row(i);
            format!("('{name}', {qty}, '{at}')")
        })
        .collect();
    admin(
        &url,
        &format!(
            "INSERT INTO items (name, qty, created_at) VALUES {}",
            values.join(", ")
        ),
    )
    .await?;

    let target = emulator::Target {
        resource_arn: CLUSTER_ARN.into(),
        secret_arn: SECRET_ARN.into(),
        server: emulator::backend::Server::new(&url)?,
    };
    let state = emulator::AppState::new(vec![target], emulator::Limits::default());
    let (listener, addr) = listener()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = state.clone();
    let server = servers.spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        emulator::run(TcpListener::from_std(listener)?, running, shutdown).await
    });
    let clients = Clients::new(addr, database, engine)?;

    let measured = async {
        // The scan runs before the inserts add rows to `items`.
        for workload in [Workload::PointSelect, Workload::Scan, Workload::Insert] {
            eprintln!("{}: emulator {}", engine.label(), workload.label());
            let router = emulator::router(state.clone());
            same_request(servers, router, database, engine, workload).await?;
            let ops = match workload {
                Workload::Scan => counts.canned_select,
                _ => counts.single,
            };
            // The point select also runs SeaORM's statement prebuilt through `query_one`: the
            // adapter's share without SeaORM's query building and model mapping.
            let paths: &[Path] = match workload {
                Workload::PointSelect => &[Path::Adapter, Path::AdapterRows, Path::Raw],
                Workload::Scan => &[Path::Adapter, Path::AdapterRows, Path::RawMaps, Path::Raw],
                _ => &[Path::Adapter, Path::Raw],
            };
            let samples = compare(&clients, workload, paths, ops).await?;
            let r = samples.last().context("no raw samples")?;
            for (path, a) in paths.iter().zip(&samples).filter(|(p, _)| **p != Path::Raw) {
                let (mean, p50) = (
                    a.mean_us() - r.mean_us(),
                    a.percentile_us(0.5) - r.percentile_us(0.5),
                );
                let label = match (path, workload) {
                    (Path::AdapterRows, Workload::PointSelect) => {
                        "point select, prebuilt statement (`query_one`, no model)"
                    }
                    (Path::Adapter, Workload::Scan) => {
                        "SELECT 1,000 rows × 3 columns, `find_by_statement(..).all()` into a model"
                    }
                    (Path::AdapterRows, Workload::Scan) => {
                        "SELECT 1,000 rows × 3 columns, `query_all` (rows, no model)"
                    }
                    (Path::RawMaps, _) => {
                        "SELECT 1,000 rows × 3 columns: raw SDK + `ProxyRow` maps without decoding (floor)"
                    }
                    _ => workload.label(),
                };
                report.round_trip.push(format!(
                    "| {} | {label} | {ops} | {} | {} | {} | {} | {} | {} | {mean:+.1} ({:+.1}%) | {p50:+.1} ({:+.1}%) |",
                    engine.label(),
                    us(a.mean_us()),
                    us(a.percentile_us(0.5)),
                    us(a.percentile_us(0.99)),
                    us(r.mean_us()),
                    us(r.percentile_us(0.5)),
                    us(r.percentile_us(0.99)),
                    100.0 * mean / r.mean_us(),
                    100.0 * p50 / r.percentile_us(0.5),
                ));
            }
        }

        eprintln!("{}: emulator {}", engine.label(), Workload::InsertMany.label());
        same_request(
            servers,
            emulator::router(state.clone()),
            database,
            engine,
            Workload::InsertMany,
        )
        .await?;
        let paths = [
            Path::Adapter,
            Path::Raw,
            Path::RawBatch,
            Path::RawBatchInTransaction,
        ];
        let ops = counts.many;
        let samples = compare(&clients, Workload::InsertMany, &paths, ops).await?;
        let base = samples[0].mean_us();
        for (path, s) in paths.iter().zip(&samples) {
            report.many.push(format!(
                "| {} | {} | {ops} | {:.2} | {:.2} | {:.2} | {:.0} | {:.2}× |",
                engine.label(),
                path.label(Workload::InsertMany),
                s.mean_us() / 1e3,
                s.percentile_us(0.5) / 1e3,
                s.percentile_us(0.99) / 1e3,
                BATCH as f64 / (s.mean_us() / 1e6),
                s.mean_us() / base,
            ));
        }
        anyhow::Ok(())
    }
    .await;
    let _ = stop.send(());
    let _ = server.await;
    measured
}

fn main() -> Result<()> {
    let args = Args::parse();
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-servers")
        .enable_all()
        .build()?;
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = client.block_on(run(args, servers.handle()));
    servers.shutdown_background();
    outcome
}

async fn run(args: Args, servers: &Handle) -> Result<()> {
    let counts = Counts::new(args.ops.unwrap_or(if args.quick { 100 } else { 2000 }));
    let engines: &[Engine] = match args.engine {
        Which::Mysql => &[Engine::MySql],
        Which::Postgres => &[Engine::Postgres],
        Which::Both => &[Engine::MySql, Engine::Postgres],
    };
    let mut report = Report::default();
    for &engine in engines {
        canned_part(servers, engine, counts, &mut report)
            .await
            .with_context(|| format!("canned {engine:?}"))?;
        let database = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let [create, drop, _] = engine.ddl(&database);
        let admin_url = engine.admin_url();
        admin(&admin_url, &create).await?;
        // Dropped whatever happened; the emulator has stopped by then (PostgreSQL forces the drop
        // anyway, in case its pool still holds connections).
        let measured = emulator_part(servers, engine, &database, counts, &mut report).await;
        let dropped = admin(&admin_url, &drop).await;
        measured.with_context(|| format!("benchmarking {engine:?} through the emulator"))?;
        dropped.with_context(|| format!("dropping {database}"))?;
    }

    println!("### Client-side cost against a canned response (µs per operation)\n");
    println!(
        "| engine | workload | path | ops | mean | p50 | p99 | Δ vs raw SDK (mean / p50) |\n\
         |---|---|---|---:|---:|---:|---:|---:|"
    );
    report.canned.iter().for_each(|row| println!("{row}"));
    println!("\n### Round trips through the emulator (µs per operation)\n");
    println!(
        "| engine | workload | ops | adapter mean | adapter p50 | adapter p99 | raw mean | raw p50 \
         | raw p99 | overhead, mean (% of raw) | overhead, p50 (% of raw) |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    report.round_trip.iter().for_each(|row| println!("{row}"));
    println!("\n### 100-row inserts through the emulator (ms per 100 rows)\n");
    println!(
        "| engine | form | ops | mean | p50 | p99 | rows/s | mean vs adapter |\n\
         |---|---|---:|---:|---:|---:|---:|---:|"
    );
    report.many.iter().for_each(|row| println!("{row}"));
    Ok(())
}
