//! One kind of `ExecuteStatement` call, repeated: the harness for counting the instructions a call
//! costs (`valgrind --tool=callgrind`), where wall-clock times on a shared machine are too noisy.
//!
//! ```sh
//! cargo bench -p data-api --bench calls -- --workload insert|select --path adapter|raw \
//!     [--engine mysql|postgres] [--ops N] [--rows R]
//! ```
//!
//! A canned server (axum, in-process, on a runtime of its own in another thread) answers every
//! `POST /Execute` with one fixed response, as `adapter.rs` part 1 does; the client runs on the main
//! thread's current-thread runtime. The workloads are the users service's two routes:
//! - `insert`: `users::Entity::insert(..).exec_without_returning` of one user (three strings), as
//!   `POST /add-user` sends it; the answer is one updated row.
//! - `select`: `users::Entity::find()` ordered by id, limited to `--rows` (default 101), `.all()`
//!   into models, as `GET /get-users` reads a page; the answer is `--rows` users.
//!
//! `--path raw` sends the same kind of request through a bare `aws-sdk-rdsdata` client built the
//! same way (no SeaORM, no adapter), so adapter − raw is the adapter's share and raw is the SDK's.
//!
//! Tracing is on as in the api (a `fmt` subscriber, filter `info`, `--log` to change it), so the
//! spans a call opens cost what they cost there.
//!
//! The measured calls run inside [`measured`] (never inlined), after `--warmup` calls that open the
//! connection and fill caches: `callgrind --toggle-collect='*calls::measured*'` counts exactly
//! them, on the client thread. Instructions per call: run with two `--ops` counts and divide the
//! difference by the difference of the counts. `docs/BENCHMARKS.md` ("SeaORM adapter") records runs.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a measuring tool: its summary goes to stdout"
)]

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{Result, ensure};
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use clap::{Parser, ValueEnum};
use data_api::{Config, DataApi};
use entity::users;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect};

const CLUSTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:bench";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench";
const DATABASE: &str = "users";

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum)]
    workload: Workload,
    #[arg(long, value_enum)]
    path: Path,
    #[arg(long, value_enum, default_value = "mysql")]
    engine: Engine,
    /// Measured calls.
    #[arg(long, default_value_t = 1000)]
    ops: u64,
    /// Calls before the measured ones.
    #[arg(long, default_value_t = 20)]
    warmup: u64,
    /// Users in the `select` answer.
    #[arg(long, default_value_t = 101)]
    rows: u64,
    /// The tracing filter of a `fmt` subscriber writing nowhere, as the api installs one (its
    /// default is `info`); `off` for none.
    #[arg(long, default_value = "info")]
    log: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    Insert,
    Select,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Path {
    Adapter,
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    Mysql,
    Postgres,
}

impl Engine {
    fn adapter(self) -> data_api::Engine {
        match self {
            Self::Mysql => data_api::Engine::MySql,
            Self::Postgres => data_api::Engine::Postgres,
        }
    }

    /// The users table's column type name as the Data API reports it (Connector/J or pgJDBC).
    fn varchar(self) -> &'static str {
        match self {
            Self::Mysql => "VARCHAR",
            Self::Postgres => "varchar",
        }
    }

    fn quote(self, ident: &str) -> String {
        match self {
            Self::Mysql => format!("`{ident}`"),
            Self::Postgres => format!("\"{ident}\""),
        }
    }
}

/// The canned answer for `workload`.
fn answer(workload: Workload, engine: Engine, rows: u64) -> String {
    match workload {
        Workload::Insert => {
            serde_json::json!({ "numberOfRecordsUpdated": 1, "generatedFields": [] }).to_string()
        }
        Workload::Select => {
            let metadata: Vec<_> = ["id", "firstName", "lastName"]
                .iter()
                .map(|name| {
                    serde_json::json!({
                        "arrayBaseColumnType": 0, "isAutoIncrement": false,
                        "isCaseSensitive": false, "isCurrency": false, "isSigned": false,
                        "label": name, "name": name, "nullable": 0, "precision": 255, "scale": 0,
                        "schemaName": "", "tableName": "users", "type": 12,
                        "typeName": engine.varchar(),
                    })
                })
                .collect();
            let records: Vec<_> = (0..rows)
                .map(|i| {
                    serde_json::json!([
                        { "stringValue": format!("00000000-0000-4000-8000-{i:012}") },
                        { "stringValue": format!("First{i}") },
                        { "stringValue": format!("Last{i}") },
                    ])
                })
                .collect();
            serde_json::json!({
                "columnMetadata": metadata,
                "numberOfRecordsUpdated": 0,
                "records": records,
            })
            .to_string()
        }
    }
}

/// Serves `body` to every `POST /Execute` on a one-worker runtime in its own thread.
fn serve(body: String) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let body = Bytes::from(body);
    let router = Router::new().route(
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
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, router).await
        })
    });
    Ok(addr)
}

/// The two clients, built alike: the adapter's connection and a bare SDK client.
struct Clients {
    db: DatabaseConnection,
    raw: aws_sdk_rdsdata::Client,
    engine: Engine,
    rows: u64,
}

impl Clients {
    fn new(addr: SocketAddr, engine: Engine, rows: u64) -> Result<Self> {
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
            Config::new(CLUSTER_ARN, SECRET_ARN, DATABASE, engine.adapter()),
        );
        let sdk = aws_sdk_rdsdata::config::Builder::from(&shared)
            .retry_config(aws_sdk_rdsdata::config::retry::RetryConfig::disabled())
            .build();
        Ok(Self {
            db: api.connection()?,
            raw: aws_sdk_rdsdata::Client::from_conf(sdk),
            engine,
            rows,
        })
    }

    /// Call `i` of `workload` along `path`.
    async fn call(&self, workload: Workload, path: Path, i: u64) -> Result<()> {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        let (first, last) = (format!("First{i}"), format!("Last{i}"));
        match (workload, path) {
            (Workload::Insert, Path::Adapter) => {
                let row = users::ActiveModel {
                    id: Set(id),
                    first_name: Set(first),
                    last_name: Set(last),
                };
                let inserted = users::Entity::insert(row)
                    .exec_without_returning(&self.db)
                    .await?;
                ensure!(inserted == 1, "inserted {inserted}");
            }
            (Workload::Insert, Path::Raw) => {
                let q = |ident| self.engine.quote(ident);
                let sql = format!(
                    "INSERT INTO {} ({}, {}, {}) VALUES (:p1, :p2, :p3)",
                    q("users"),
                    q("id"),
                    q("firstName"),
                    q("lastName")
                );
                let parameters = [id, first, last]
                    .into_iter()
                    .enumerate()
                    .map(|(n, value)| {
                        SqlParameter::builder()
                            .name(format!("p{}", n + 1))
                            .value(Field::StringValue(value))
                            .build()
                    })
                    .collect();
                let output = self.execute(sql, parameters).await?;
                ensure!(output.number_of_records_updated() == 1, "inserted none");
            }
            (Workload::Select, Path::Adapter) => {
                let users = users::Entity::find()
                    .order_by_asc(users::Column::Id)
                    .limit(self.rows)
                    .all(&self.db)
                    .await?;
                ensure!(users.len() as u64 == self.rows, "read {}", users.len());
            }
            (Workload::Select, Path::Raw) => {
                let q = |ident| self.engine.quote(ident);
                let sql = format!(
                    "SELECT {u}.{}, {u}.{}, {u}.{} FROM {u} ORDER BY {u}.{} ASC LIMIT {}",
                    q("id"),
                    q("firstName"),
                    q("lastName"),
                    q("id"),
                    self.rows,
                    u = q("users"),
                );
                let output = self.execute(sql, Vec::new()).await?;
                ensure!(output.records().len() as u64 == self.rows, "read too few");
            }
        }
        Ok(())
    }

    async fn execute(
        &self,
        sql: String,
        parameters: Vec<SqlParameter>,
    ) -> Result<aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput> {
        Ok(self
            .raw
            .execute_statement()
            .resource_arn(CLUSTER_ARN)
            .secret_arn(SECRET_ARN)
            .database(DATABASE)
            .sql(sql)
            .set_parameters(Some(parameters))
            .include_result_metadata(true)
            .send()
            .await?)
    }
}

/// The measured calls: the function callgrind's `--toggle-collect` names.
#[inline(never)]
fn measured(
    runtime: &tokio::runtime::Runtime,
    clients: &Clients,
    args: &Args,
    first: u64,
) -> Result<()> {
    runtime.block_on(async {
        for i in first..first + args.ops {
            clients.call(args.workload, args.path, i).await?;
        }
        Ok(())
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.log != "off" {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
            .with_writer(std::io::sink)
            .init();
    }
    let addr = serve(answer(args.workload, args.engine, args.rows))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let clients = Clients::new(addr, args.engine, args.rows)?;
    runtime.block_on(async {
        for i in 0..args.warmup {
            clients.call(args.workload, args.path, i).await?;
        }
        anyhow::Ok(())
    })?;
    let started = Instant::now();
    measured(&runtime, &clients, &args, args.warmup)?;
    let elapsed = started.elapsed();
    println!(
        "{:?} {:?} {:?}: {} calls, {:.1} µs per call",
        args.workload,
        args.path,
        args.engine,
        args.ops,
        elapsed.as_secs_f64() * 1e6 / args.ops as f64
    );
    Ok(())
}
