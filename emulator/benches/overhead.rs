//! The emulator's overhead: the same statements through the real `data-api-emulator` binary (with the
//! real `aws-sdk-rdsdata` client) and straight through a sqlx pool, on the same MariaDB / PostgreSQL
//! server. Prints markdown tables; `docs/BENCHMARKS.md` records a run.
//!
//! ```sh
//! cargo bench -p emulator --bench overhead -- [--engine mysql|postgres|both] [--ops N] [--quick]
//! ```
//!
//! Servers: `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Each run creates a `bench_<uuid>` database and drops it.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a reporting tool: the tables are its output, progress goes to stderr"
)]

use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_rdsdata::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use chrono::{NaiveDateTime, TimeDelta};
use clap::{Parser, ValueEnum};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{MySqlPool, PgPool};

const RESOURCE_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:bench";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench";
/// Rows in `items`, and so in each result of the 1,000-row select.
const ROWS: u64 = 1000;
const CLIENTS: [usize; 2] = [1, 16];
/// Each measurement is split into this many rounds, rotating which of the three paths goes first
/// (each path is first, second and third twice).
const ROUNDS: u64 = 6;

#[derive(Debug, Parser)]
struct Args {
    /// Which servers to measure.
    #[arg(long, value_enum, default_value = "both")]
    engine: Which,
    /// Operations per single-row measurement; the 1,000-row select runs a tenth as many
    /// [default: 2000, or 100 with --quick].
    #[arg(long, value_parser = clap::value_parser!(u64).range(40..))]
    ops: Option<u64>,
    /// A short smoke run.
    #[arg(long)]
    quick: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Internal: run as the echo process of the loopback floor measurement, on this port.
    #[arg(long, hide = true)]
    echo_server: Option<u16>,
    /// Internal: run as the client of the loopback floor measurement against this port.
    #[arg(long, hide = true)]
    echo_client: Option<u16>,
    /// Internal: round trips for `--echo-client`.
    #[arg(long, hide = true, default_value = "20000")]
    rounds: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Mysql,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy)]
enum Engine {
    MySql,
    Postgres,
}

impl Engine {
    fn url(self) -> String {
        let (var, default) = match self {
            Engine::MySql => ("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
            Engine::Postgres => (
                "TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
        };
        std::env::var(var).unwrap_or_else(|_| default.into())
    }

    /// `CREATE DATABASE`, `DROP DATABASE`, and the two tables.
    fn ddl(self, db: &str) -> [String; 4] {
        let (create, drop, serial, timestamp) = match self {
            Engine::MySql => (
                format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"),
                format!("DROP DATABASE IF EXISTS `{db}`"),
                "BIGINT AUTO_INCREMENT",
                "DATETIME",
            ),
            Engine::Postgres => (
                format!("CREATE DATABASE \"{db}\""),
                format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                "BIGSERIAL",
                "TIMESTAMP",
            ),
        };
        let columns =
            format!("name VARCHAR(64) NOT NULL, qty INT NOT NULL, created_at {timestamp}");
        let items = format!("CREATE TABLE items (id BIGINT PRIMARY KEY, {columns} NOT NULL)");
        let inserted = format!(
            "CREATE TABLE inserted (id {serial} PRIMARY KEY, {columns} DEFAULT CURRENT_TIMESTAMP)"
        );
        [create, drop, items, inserted]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    PointSelect,
    Insert,
    Scan,
}

const WORKLOADS: [Workload; 3] = [Workload::PointSelect, Workload::Insert, Workload::Scan];
const LABELS: [&str; 3] = ["point select", "insert 1 row", "select 1,000 rows"];

/// Per workload: the statement with named (emulator), `?` (MySQL) and `$n` (PostgreSQL) placeholders.
const SQL: [[&str; 3]; 3] = [
    [
        "SELECT id, name, qty, created_at FROM items WHERE id = :key",
        "SELECT id, name, qty, created_at FROM items WHERE id = ?",
        "SELECT id, name, qty, created_at FROM items WHERE id = $1",
    ],
    [
        "INSERT INTO inserted (name, qty) VALUES (:name, :qty)",
        "INSERT INTO inserted (name, qty) VALUES (?, ?)",
        "INSERT INTO inserted (name, qty) VALUES ($1, $2)",
    ],
    [
        "SELECT id, name, qty, created_at FROM items WHERE id > :key ORDER BY id",
        "SELECT id, name, qty, created_at FROM items WHERE id > ? ORDER BY id",
        "SELECT id, name, qty, created_at FROM items WHERE id > $1 ORDER BY id",
    ],
];

/// A row of `items`, decoded on the direct path as the emulator decodes it into fields.
type Item = (i64, String, i32, NaiveDateTime);

/// One way to the database: through the emulator (with the AWS SDK, or with a bare HTTP client),
/// or straight through a sqlx pool.
#[derive(Debug, Clone)]
enum Path {
    Emulator(aws_sdk_rdsdata::Client, Arc<str>),
    Http(RawHttp, Arc<str>),
    MySql(MySqlPool),
    Postgres(PgPool),
}

/// A statement on a sqlx pool; evaluates to the rows it returned or inserted.
macro_rules! direct {
    ($pool:expr, $workload:expr, $key:expr, $name:expr, $qty:expr, $sql:expr) => {
        if $workload == Workload::Insert {
            let query = sqlx::query($sql).bind($name).bind($qty);
            query.execute($pool).await?.rows_affected() as usize
        } else {
            let rows: Vec<Item> = sqlx::query_as($sql).bind($key).fetch_all($pool).await?;
            rows.len()
        }
    };
}

impl Path {
    /// Runs operation `i` of `workload`; fails unless it returned (or inserted) the expected rows.
    async fn run(&self, workload: Workload, i: u64) -> Result<()> {
        // The point select walks the whole table in the same order on both paths; the scan reads all.
        let scan = workload == Workload::Scan;
        let key = if scan {
            0
        } else {
            ((i * 7919) % ROWS + 1) as i64
        };
        let (name, qty, sql) = (format!("row-{i}"), (i % 97) as i32, SQL[workload as usize]);
        let rows = match self {
            Path::Emulator(client, database) => {
                let param = |name: &str, value| SqlParameter::builder().name(name).value(value);
                let params = match workload {
                    Workload::Insert => vec![
                        param("name", Field::StringValue(name)).build(),
                        param("qty", Field::LongValue(qty.into())).build(),
                    ],
                    _ => vec![param("key", Field::LongValue(key)).build()],
                };
                let output = client
                    .execute_statement()
                    .resource_arn(RESOURCE_ARN)
                    .secret_arn(SECRET_ARN)
                    .database(&**database)
                    .sql(sql[0])
                    .set_parameters(Some(params))
                    .send()
                    .await?;
                match workload {
                    Workload::Insert => output.number_of_records_updated() as usize,
                    _ => output.records().len(),
                }
            }
            Path::Http(http, database) => {
                let parameters = match workload {
                    Workload::Insert => serde_json::json!([
                        {"name": "name", "value": {"stringValue": name}},
                        {"name": "qty", "value": {"longValue": qty}},
                    ]),
                    _ => serde_json::json!([{"name": "key", "value": {"longValue": key}}]),
                };
                let body = serde_json::json!({
                    "resourceArn": RESOURCE_ARN,
                    "secretArn": SECRET_ARN,
                    "database": &**database,
                    "sql": sql[0],
                    "parameters": parameters,
                });
                let output = http.post("/Execute", &serde_json::to_vec(&body)?).await?;
                let output: serde_json::Value = serde_json::from_slice(&output)?;
                match workload {
                    Workload::Insert => {
                        output["numberOfRecordsUpdated"].as_u64().unwrap_or(0) as usize
                    }
                    _ => output["records"].as_array().map_or(0, Vec::len),
                }
            }
            Path::MySql(pool) => direct!(pool, workload, key, name, qty, sql[1]),
            Path::Postgres(pool) => direct!(pool, workload, key, name, qty, sql[2]),
        };
        let expected = if scan { ROWS as usize } else { 1 };
        if rows != expected {
            bail!("{} gave {rows} rows", LABELS[workload as usize]);
        }
        Ok(())
    }
}

/// The leanest client the emulator can have: HTTP/1.1 over kept-alive loopback connections (one per
/// task in flight), no signing, the body written as one buffer and the answer read by
/// `Content-Length`. What it costs beyond the direct path is the emulator's own overhead, without the
/// SDK's (signing, request building, response parsing into types).
#[derive(Debug, Clone)]
struct RawHttp {
    addr: Arc<str>,
    idle: Arc<std::sync::Mutex<Vec<tokio::io::BufStream<tokio::net::TcpStream>>>>,
}

impl RawHttp {
    fn new(addr: &str) -> Self {
        Self {
            addr: addr.into(),
            idle: Arc::default(),
        }
    }

    /// POSTs `body` to `path`; the answer's body, or an error for any status but 200.
    async fn post(&self, path: &str, body: &[u8]) -> Result<Vec<u8>> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        let idle = self.idle.lock().expect("not poisoned").pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => {
                let stream = tokio::net::TcpStream::connect(&*self.addr).await?;
                stream.set_nodelay(true)?;
                tokio::io::BufStream::new(stream)
            }
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        conn.write_all(head.as_bytes()).await?;
        conn.write_all(body).await?;
        conn.flush().await?;
        let mut line = String::new();
        conn.read_line(&mut line).await?;
        let status = line.split(' ').nth(1).unwrap_or_default().to_owned();
        let mut length = None;
        loop {
            line.clear();
            conn.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = Some(value.trim().parse::<usize>()?);
            }
        }
        let mut answer = vec![0; length.context("no Content-Length in the answer")?];
        conn.read_exact(&mut answer).await?;
        if status != "200" {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(&answer));
        }
        self.idle.lock().expect("not poisoned").push(conn);
        Ok(answer)
    }
}

/// Per-operation latencies and the wall time they took, summed over rounds.
#[derive(Debug, Default)]
struct Samples {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Samples {
    fn ops_per_sec(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile in milliseconds.
    fn percentile_ms(&mut self, p: f64) -> f64 {
        self.latencies.sort_unstable();
        let rank = (p * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.max(1) - 1].as_secs_f64() * 1e3
    }

    /// Runs operations `ops` of `workload` on `path`, shared by `clients` concurrent tasks.
    async fn measure(
        &mut self,
        path: &Path,
        workload: Workload,
        clients: usize,
        ops: Range<u64>,
    ) -> Result<()> {
        let next = Arc::new(AtomicU64::new(ops.start));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let (path, next, end) = (path.clone(), next.clone(), ops.end);
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return anyhow::Ok(latencies);
                    }
                    let began = Instant::now();
                    path.run(workload, i).await?;
                    latencies.push(began.elapsed());
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            self.latencies.extend(done??);
        }
        self.elapsed += start.elapsed();
        Ok(())
    }
}

/// `ops` operations on each path after a warm-up, in rounds that rotate which path goes first, so
/// drift on the shared machine hits all alike.
async fn compare<const N: usize>(
    paths: [&Path; N],
    workload: Workload,
    clients: usize,
    ops: u64,
) -> Result<[Samples; N]> {
    let per_round = ops / ROUNDS;
    let warm_up = 0..(per_round / 2).max(clients as u64);
    for path in paths {
        Samples::default()
            .measure(path, workload, clients, warm_up.clone())
            .await?;
    }
    let mut samples = std::array::from_fn(|_| Samples::default());
    for round in 0..ROUNDS {
        for turn in 0..N {
            let side = (round as usize + turn) % N;
            let ops = round * per_round..(round + 1) * per_round;
            samples[side]
                .measure(paths[side], workload, clients, ops)
                .await?;
        }
    }
    Ok(samples)
}

/// The emulator binary as a child process, killed on drop.
#[derive(Debug)]
struct Emulator(Child);

impl Emulator {
    /// Starts the emulator in front of `server_url`; returns it with the address it listens on.
    async fn spawn(server_url: &str) -> Result<(Self, String)> {
        let mut emulator = Self(
            Command::new(env!("CARGO_BIN_EXE_data-api-emulator"))
                .args(["--listen", "127.0.0.1:0", "--database-url", server_url])
                .args(["--resource-arn", RESOURCE_ARN, "--secret-arn", SECRET_ARN])
                .stdout(Stdio::piped())
                .spawn()
                .context("starting data-api-emulator")?,
        );
        // The emulator prints nothing more on stdout, so the pipe can close after this line.
        let stdout = emulator.0.stdout.take().context("no emulator stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await??;
        let addr = line
            .trim()
            .strip_prefix("data-api-emulator listening on http://");
        let addr = addr
            .with_context(|| format!("emulator printed {line:?}"))?
            .to_owned();
        Ok((emulator, addr))
    }

    /// A `VmRSS` / `VmHWM` value of `/proc/<pid>/status`, in MiB.
    fn memory(&self, field: &str) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))?;
        let kib: Option<f64> = status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok());
        Ok(kib.with_context(|| format!("no {field} in /proc/<pid>/status"))? / 1024.0)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A sqlx pool of `size` connections to `database` (the URL's own when `None`).
async fn pool(engine: Engine, database: Option<&str>, size: u32) -> Result<Path> {
    let url = engine.url();
    Ok(match engine {
        Engine::MySql => {
            let options: MySqlConnectOptions = url.parse()?;
            let options = database.into_iter().fold(options, |o, db| o.database(db));
            let pool = MySqlPoolOptions::new().max_connections(size);
            Path::MySql(pool.connect_with(options).await?)
        }
        Engine::Postgres => {
            let options: PgConnectOptions = url.parse()?;
            let options = database.into_iter().fold(options, |o, db| o.database(db));
            let pool = PgPoolOptions::new().max_connections(size);
            Path::Postgres(pool.connect_with(options).await?)
        }
    })
}

/// Runs setup SQL on a direct pool.
async fn execute(path: &Path, sql: &str) -> Result<()> {
    match path {
        Path::MySql(pool) => _ = sqlx::raw_sql(sql).execute(pool).await?,
        Path::Postgres(pool) => _ = sqlx::raw_sql(sql).execute(pool).await?,
        Path::Emulator(..) | Path::Http(..) => bail!("setup SQL runs directly"),
    }
    Ok(())
}

/// Fills `database`, then compares the paths on every workload at each client count. Returns the
/// rows of the latency table and of the memory table.
async fn bench(engine: Engine, database: &str, ops: u64) -> Result<(Vec<String>, String)> {
    let direct = pool(engine, Some(database), CLIENTS[1] as u32).await?;
    let [_, _, items, inserted] = engine.ddl(database);
    execute(&direct, &items).await?;
    execute(&direct, &inserted).await?;
    let start = NaiveDateTime::parse_from_str("2026-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")?;
    let values: Vec<String> = (1..=ROWS)
        .map(|id| (id, start + TimeDelta::minutes(id as i64)))
        .map(|(id, at)| format!("({id}, 'item-{id:04}', {}, '{at}')", id % 97))
        .collect();
    execute(
        &direct,
        &format!("INSERT INTO items VALUES {}", values.join(", ")),
    )
    .await?;

    let (emulator, addr) = Emulator::spawn(&engine.url()).await?;
    let config = aws_sdk_rdsdata::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "bench",
        ))
        .endpoint_url(format!("http://{addr}"))
        .build();
    let through = Path::Emulator(aws_sdk_rdsdata::Client::from_conf(config), database.into());
    let bare = Path::Http(RawHttp::new(&addr), database.into());
    for path in [&through, &bare] {
        path.run(Workload::PointSelect, 0)
            .await
            .context("first call through the emulator")?;
    }
    let idle_rss = emulator.memory("VmRSS")?;

    let mut rows = Vec::new();
    for (workload, label) in WORKLOADS.into_iter().zip(LABELS) {
        let ops = if workload == Workload::Scan {
            ops / 10
        } else {
            ops
        };
        for clients in CLIENTS {
            eprintln!("{engine:?}: {label}, {clients} client(s)");
            let [mut dir, mut sdk, mut http] =
                compare([&direct, &through, &bare], workload, clients, ops).await?;
            let p50 = [&mut dir, &mut sdk, &mut http].map(|s| s.percentile_ms(0.5));
            let p99 = [&mut dir, &mut sdk, &mut http].map(|s| s.percentile_ms(0.99));
            let rates = [&dir, &sdk, &http].map(|s| s.ops_per_sec());
            rows.push(format!(
                "| {engine:?} | {label} | {clients} | {:.3} / {:.3} | {:.3} / {:.3} | {:.3} / {:.3} \
                 | {:.2}× | {:.2}× | {:.0} | {:.0} | {:.0} | {:.2}× | {:.2}× |",
                p50[0], p99[0], p50[1], p99[1], p50[2], p99[2],
                p50[1] / p50[0],
                p50[2] / p50[0],
                rates[0], rates[1], rates[2],
                rates[1] / rates[0],
                rates[2] / rates[0],
            ));
        }
    }
    let peak_rss = emulator.memory("VmHWM")?;
    Ok((
        rows,
        format!("| {engine:?} | {idle_rss:.1} | {peak_rss:.1} |"),
    ))
}

/// Messages the loopback floor bounces: about the size of a point select's request.
const FLOOR_MESSAGE: usize = 300;

/// The echo half of [`loopback_floor`]: accepts one connection and sends every byte back.
fn echo_server(port: u16) -> Result<()> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    println!("ready");
    let (mut stream, _) = listener.accept()?;
    stream.set_nodelay(true)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n])?;
    }
}

/// The client half of [`loopback_floor`]: `rounds` blocking round trips of [`FLOOR_MESSAGE`] bytes
/// (after a tenth as many to warm up); prints p10, p50 and p90 in milliseconds.
fn echo_client(port: u16, rounds: usize) -> Result<()> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let (message, mut buf) = ([b'x'; FLOOR_MESSAGE], [0u8; FLOOR_MESSAGE]);
    let mut latencies = Vec::with_capacity(rounds);
    for round in 0..rounds + rounds / 10 {
        let began = Instant::now();
        stream.write_all(&message)?;
        stream.read_exact(&mut buf)?;
        if round >= rounds / 10 {
            latencies.push(began.elapsed());
        }
    }
    latencies.sort_unstable();
    let at = |p: f64| latencies[(p * latencies.len() as f64) as usize].as_secs_f64() * 1e3;
    println!("{} {} {}", at(0.1), at(0.5), at(0.9));
    Ok(())
}

/// Where the two processes of [`loopback_floor`] run.
#[derive(Debug, Clone, Copy)]
enum Placement {
    /// Wherever the scheduler puts them.
    Free,
    /// Both on vCPU 0 (`taskset`).
    SameCpu,
    /// Echo on vCPU 0, client on vCPU 1.
    OtherCpu,
}

/// The cheapest request/response one extra process can add: blocking TCP round trips of
/// [`FLOOR_MESSAGE`] bytes between two child processes (this binary, `--echo-server` and
/// `--echo-client`) on loopback, no HTTP, no parsing. Any server between the client and the
/// database adds at least this to every call. On a VM the figure depends on placement: waking a
/// process on another vCPU costs far more than on the same one, so it is taken three ways.
/// Returns p10, p50 and p90 in milliseconds.
fn loopback_floor(rounds: usize, placement: Placement) -> Result<[f64; 3]> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    let child = |cpu: Option<&str>, args: &[String]| {
        let mut command = match cpu {
            Some(cpu) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", cpu]).arg(&exe);
                taskset
            }
            None => Command::new(&exe),
        };
        command.args(args).stdout(Stdio::piped()).spawn()
    };
    let (server_cpu, client_cpu) = match placement {
        Placement::Free => (None, None),
        Placement::SameCpu => (Some("0"), Some("0")),
        Placement::OtherCpu => (Some("0"), Some("1")),
    };
    let mut server = child(server_cpu, &["--echo-server".into(), port.to_string()])
        .context("starting the echo process (is `taskset` installed?)")?;
    let mut ready = String::new();
    BufReader::new(server.stdout.take().context("no echo stdout")?).read_line(&mut ready)?;
    let client = child(
        client_cpu,
        &[
            "--echo-client".into(),
            port.to_string(),
            "--rounds".into(),
            rounds.to_string(),
        ],
    );
    let output = client.and_then(std::process::Child::wait_with_output);
    let _ = server.kill();
    let _ = server.wait();
    let output = output?;
    let text = String::from_utf8_lossy(&output.stdout);
    let figures: Vec<f64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match figures[..] {
        [p10, p50, p90] => Ok([p10, p50, p90]),
        _ => bail!("the echo client printed {text:?}"),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(port) = args.echo_server {
        return echo_server(port);
    }
    if let Some(port) = args.echo_client {
        return echo_client(port, args.rounds);
    }
    let ops = args.ops.unwrap_or(if args.quick { 100 } else { 2000 });
    let engines: &[Engine] = match args.engine {
        Which::Mysql => &[Engine::MySql],
        Which::Postgres => &[Engine::Postgres],
        Which::Both => &[Engine::MySql, Engine::Postgres],
    };
    let (mut rows, mut memory) = (Vec::new(), Vec::new());
    for &engine in engines {
        let database = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let [create, drop, ..] = engine.ddl(&database);
        let admin = pool(engine, None, 1)
            .await
            .with_context(|| format!("connecting to {engine:?}"))?;
        execute(&admin, &create).await?;
        // Dropped whatever happened; `bench` has already killed the emulator and its connections.
        let report = bench(engine, &database, ops).await;
        let dropped = execute(&admin, &drop).await;
        let (engine_rows, engine_memory) =
            report.with_context(|| format!("benchmarking {engine:?}"))?;
        dropped.with_context(|| format!("dropping {database}"))?;
        rows.extend(engine_rows);
        memory.push(engine_memory);
    }
    println!(
        "| engine | workload | clients | direct p50 / p99 ms | emulator + SDK p50 / p99 ms \
         | emulator + bare HTTP p50 / p99 ms | p50 SDK/direct | p50 bare/direct | direct ops/s \
         | SDK ops/s | bare ops/s | ops/s SDK/direct | ops/s bare/direct |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    rows.iter().for_each(|row| println!("{row}"));
    println!("\n| engine | emulator idle RSS MiB | emulator peak RSS MiB |\n|---|---:|---:|");
    memory.iter().for_each(|row| println!("{row}"));
    let rounds = if args.quick { 1_000 } else { 20_000 };
    println!(
        "\nLoopback floor ({rounds} blocking TCP round trips of {FLOOR_MESSAGE} bytes between two \
         processes), p10 / p50 / p90 ms:"
    );
    for (placement, label) in [
        (Placement::Free, "placed by the scheduler"),
        (Placement::SameCpu, "both on vCPU 0"),
        (Placement::OtherCpu, "on vCPUs 0 and 1"),
    ] {
        let [p10, p50, p90] =
            tokio::task::spawn_blocking(move || loopback_floor(rounds, placement)).await??;
        println!("- {label}: {p10:.3} / {p50:.3} / {p90:.3}");
    }
    Ok(())
}
