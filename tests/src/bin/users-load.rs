//! `users-load`: the users service's load benchmark.
//!
//! Starts the real `api` binary (a release build, by default `target/release/api`) in each mode —
//! `sqlite` (the embedded default), `mariadb` (`DATABASE_URL`) and `data-api` (`CLUSTER_ARN`/
//! `SECRET_ARN` through the adapter to the emulator in front of MariaDB) — and drives it over HTTP:
//! for each concurrency level, a fixed count of `POST /users`, then as many `GET /users/{id}` of the
//! users just created. It measures the cold start (process spawn → first `200` from `/health`),
//! requests/s, p50/p99 latency, the API process's CPU time per request (utime + stime from
//! `/proc/<pid>/stat`) and its peak RSS (`VmHWM`), and checks that no request failed and that the
//! table holds exactly the accepted POSTs (counted on a connection of its own).
//!
//! ```text
//! cargo build --release -p api -p integration-tests --bin api --bin users-load
//! target/release/users-load --requests 2000 --concurrency 1,16,64 --modes sqlite,mariadb,data-api
//! ```
//!
//! Needs the local MariaDB (`TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`). Prints a
//! Markdown table; exits non-zero when any request failed or the count is off.

#![allow(clippy::print_stdout, reason = "a command-line report")]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use integration_tests::{Backend, TestDatabase, TestEmulator};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Load benchmark of the users service.
#[derive(Debug, Parser)]
struct Args {
    /// The `api` binary to run.
    #[arg(long, default_value = "target/release/api")]
    api_bin: PathBuf,
    /// Requests per phase (POST, then GET) and concurrency level.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Concurrent clients, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Modes, comma-separated: sqlite, mariadb, data-api.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,mariadb,data-api")]
    modes: Vec<String>,
}

/// One phase's figures.
#[derive(Debug)]
struct Phase {
    mode: String,
    operation: &'static str,
    concurrency: usize,
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_request: f64,
}

/// A mode's whole run.
#[derive(Debug)]
struct ModeRun {
    mode: String,
    cold_start_ms: f64,
    peak_rss_mib: f64,
    phases: Vec<Phase>,
    accepted_posts: usize,
    rows: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(
        args.api_bin.is_file(),
        "{} not found: build it with `cargo build --release -p api`",
        args.api_bin.display()
    );
    let mut runs = Vec::new();
    for mode in &args.modes {
        eprintln_flush(&format!("mode {mode}…"));
        runs.push(
            run_mode(&args, mode)
                .await
                .with_context(|| format!("mode {mode}"))?,
        );
    }
    report(&args, &runs);
    let mut failed = false;
    for run in &runs {
        let errors: usize = run.phases.iter().map(|p| p.errors).sum();
        if errors > 0 || run.rows != run.accepted_posts as u64 + 1 {
            println!(
                "FAILED {}: {errors} errors; {} rows for {} accepted POSTs + 1 seed",
                run.mode, run.rows, run.accepted_posts
            );
            failed = true;
        }
    }
    if failed {
        bail!("the load run had errors");
    }
    Ok(())
}

#[allow(
    clippy::print_stderr,
    reason = "progress on stderr, the report on stdout"
)]
fn eprintln_flush(message: &str) {
    eprintln!("{message}");
}

/// What the API runs on in one mode; dropped after the run (databases removed).
enum Backing {
    Sqlite(TestDatabase),
    Mariadb(TestDatabase),
    DataApi(TestEmulator),
}

impl Backing {
    async fn count(&self) -> Result<u64> {
        let db = match self {
            Backing::Sqlite(database) => {
                let dir = database.sqlite_dir().context("sqlite dir")?;
                migration::connect(
                    &format!("sqlite://{}?mode=ro", dir.join("users.sqlite3").display()),
                    None,
                )
                .await?
            }
            Backing::Mariadb(database) => database.connect().await?,
            Backing::DataApi(emulator) => emulator.database.connect().await?,
        };
        let count = entity::prelude::Users::find().count(&db).await?;
        db.close().await?;
        Ok(count)
    }
}

async fn migrate(database: &TestDatabase) -> Result<()> {
    let db = database.connect().await?;
    migration::Runner::new::<migration::Migrator>(
        db.clone(),
        migration::SqlLedger::new(db.clone()),
    )
    .up(None)
    .await?;
    db.close().await?;
    Ok(())
}

async fn run_mode(args: &Args, mode: &str) -> Result<ModeRun> {
    let mut env: Vec<(String, String)> = vec![
        ("PORT".into(), "0".into()),
        ("RUST_LOG".into(), "warn,api=info".into()),
    ];
    let backing = match mode {
        "sqlite" => {
            let database = TestDatabase::create(Backend::Sqlite).await?;
            let dir = database.sqlite_dir().context("sqlite dir")?;
            env.push(("USERS_DATA_DIR".into(), dir.display().to_string()));
            Backing::Sqlite(database)
        }
        "mariadb" => {
            let database = TestDatabase::create(Backend::MariaDb).await?;
            migrate(&database).await?;
            env.push(("DATABASE_URL".into(), database.url.clone()));
            Backing::Mariadb(database)
        }
        "data-api" => {
            let emulator = TestEmulator::spawn(Backend::MariaDb).await?;
            migrate(&emulator.database).await?;
            let config = emulator.config(data_api::RetryPolicy::default());
            env.extend([
                ("CLUSTER_ARN".into(), config.resource_arn),
                ("SECRET_ARN".into(), config.secret_arn),
                ("DATABASE_NAME".into(), config.database),
                ("DATABASE_ENGINE".into(), "mysql".into()),
                (
                    "AWS_ENDPOINT_URL_RDS_DATA".into(),
                    format!("http://{}", emulator.addr),
                ),
                ("AWS_REGION".into(), "us-east-1".into()),
                ("AWS_ACCESS_KEY_ID".into(), "AKIDLOAD".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), "not-a-secret".into()),
                ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ]);
            Backing::DataApi(emulator)
        }
        other => bail!("unknown mode {other:?} (sqlite, mariadb, data-api)"),
    };

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let started = Instant::now();
    let (mut child, base) = spawn_api(&args.api_bin, &env).await?;
    let pid = child.id().context("api pid")?;
    // Cold start: spawn → the first 200 from /health (which also reaches the database).
    loop {
        if let Ok(response) = client.get(format!("{base}/health")).send().await
            && response.status() == 200
        {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(30),
            "no 200 from /health in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cold_start_ms = started.elapsed().as_secs_f64() * 1000.0;

    let mut phases = Vec::new();
    let mut accepted_posts = 0;
    for &concurrency in &args.concurrency {
        let (phase, ids) = drive(
            &client,
            &base,
            pid,
            mode,
            concurrency,
            args.requests,
            Op::Post(Vec::new()),
        )
        .await?;
        accepted_posts += ids.len();
        phases.push(phase);
        let (phase, _) = drive(
            &client,
            &base,
            pid,
            mode,
            concurrency,
            args.requests,
            Op::Get(ids),
        )
        .await?;
        phases.push(phase);
    }
    let peak_rss_mib = peak_rss_kib(pid)? as f64 / 1024.0;
    child.kill().await.ok();
    let rows = backing.count().await?;
    Ok(ModeRun {
        mode: mode.to_owned(),
        cold_start_ms,
        peak_rss_mib,
        phases,
        accepted_posts,
        rows,
    })
}

/// Starts the API with exactly `env` (plus `PATH`) and returns it with its base URL, read from its
/// "listening on" line.
async fn spawn_api(bin: &std::path::Path, env: &[(String, String)]) -> Result<(Child, String)> {
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let base = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("no 'listening on' line in 30 s")??
            .context("the api exited before listening")?;
        if let Some(at) = line.find("http://") {
            break line[at..].trim().to_owned();
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, base))
}

enum Op {
    Post(Vec<String>),
    Get(Vec<String>),
}

/// Sends `requests` requests from `concurrency` clients; returns the phase and the created ids.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    pid: u32,
    mode: &str,
    concurrency: usize,
    requests: usize,
    op: Op,
) -> Result<(Phase, Vec<String>)> {
    let (operation, ids) = match op {
        Op::Post(ids) => ("POST /users", Arc::new(ids)),
        Op::Get(ids) => {
            ensure!(!ids.is_empty(), "no users to read");
            ("GET /users/{id}", Arc::new(ids))
        }
    };
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_ticks(pid)?;
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, base, next, ids) =
            (client.clone(), base.to_owned(), next.clone(), ids.clone());
        let post = operation.starts_with("POST");
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut created = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let sent = Instant::now();
                let response = if post {
                    client
                        .post(format!("{base}/users"))
                        .json(&json!({"firstName": format!("Load{i}"), "lastName": "Bench"}))
                        .send()
                        .await
                } else {
                    client
                        .get(format!("{base}/users/{}", ids[i % ids.len()]))
                        .send()
                        .await
                };
                let ok = match response {
                    Ok(response) if post && response.status() == 201 => {
                        match response.json::<Value>().await {
                            Ok(body) => {
                                created.push(body["id"].as_str().unwrap_or_default().to_owned());
                                true
                            }
                            Err(_) => false,
                        }
                    }
                    Ok(response) if !post && response.status() == 200 => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                };
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, created, errors)
        });
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut created = Vec::new();
    let mut errors = 0;
    while let Some(joined) = workers.join_next().await {
        let (l, c, e) = joined?;
        latencies.extend(l);
        created.extend(c);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = cpu_ticks(pid)?;
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    // USER_HZ is 100 on Linux: one tick is 10 ms.
    let cpu_us = (cpu_after - cpu_before) as f64 * 10_000.0;
    Ok((
        Phase {
            mode: mode.to_owned(),
            operation,
            concurrency,
            requests,
            errors,
            seconds,
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            cpu_us_per_request: cpu_us / requests as f64,
        },
        created,
    ))
}

/// utime + stime of `pid` (all its threads), in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').context("stat format")? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

/// `VmHWM` of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

fn report(args: &Args, runs: &[ModeRun]) {
    println!(
        "{} requests per phase; concurrency {:?}\n",
        args.requests, args.concurrency
    );
    println!("| mode | cold start (ms) | peak RSS (MiB) | accepted POSTs | rows (incl. seed) |");
    println!("|---|---|---|---|---|");
    for run in runs {
        println!(
            "| {} | {:.0} | {:.1} | {} | {} |",
            run.mode, run.cold_start_ms, run.peak_rss_mib, run.accepted_posts, run.rows
        );
    }
    println!();
    println!(
        "| mode | operation | clients | requests/s | p50 (ms) | p99 (ms) | API CPU per request (µs) | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for phase in runs.iter().flat_map(|r| &r.phases) {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
            phase.mode,
            phase.operation,
            phase.concurrency,
            phase.requests as f64 / phase.seconds,
            phase.p50_ms,
            phase.p99_ms,
            phase.cpu_us_per_request,
            phase.errors
        );
    }
}
