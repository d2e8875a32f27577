//! `users-load`: the users service's load benchmark.
//!
//! Starts the real `api` binary (a release build, by default `target/release/api`) in each mode —
//! `sqlite` (the embedded default), `mariadb` (`DATABASE_URL`) and `data-api` (`CLUSTER_ARN`/
//! `SECRET_ARN` through the adapter to the emulator in front of MariaDB) — and drives it over HTTP.
//! Mode `floor` starts this tool itself (`--serve-floor`, [`integration_tests::floor`]) in the API's
//! place: the article's routes served by minimal handlers that send the same Data API requests with
//! a bare HTTP client, the least CPU a request can cost; run with `data-api` it gives the API's
//! ratio to that floor, measured in the same run against the same emulator and MariaDB. Mode
//! `lambda` runs the API's Lambda path as deployed in Data API mode: the binary polls a fake Lambda
//! Runtime API ([`integration_tests::fake_lambda`]) for API Gateway REST events, one at a time (so
//! only at one client).
//!
//! Routes (`--routes`): `article` adds 100 users with `POST /add-user` (so the table holds 101 with
//! the seed row), then for each concurrency level sends a fixed count of `GET /get-users`, each
//! checked to list all 101, then as many `POST /add-user`; `resource` (not in `floor` mode) sends,
//! for each level, `POST /users`, then as many `GET /users/{id}` of the users just created.
//!
//! It measures the cold start (process spawn → first `200` from `/health`), requests/s, p50/p99
//! latency, the server process's CPU time per request (utime + stime from `/proc/<pid>/stat`) and
//! its peak RSS (`VmHWM`), and checks that no request failed and that the table holds exactly the
//! accepted POSTs (counted on a connection of its own).
//!
//! ```text
//! cargo build --release -p api -p integration-tests --bin api --bin users-load
//! target/release/users-load --requests 2000 --concurrency 1,16,64 --modes sqlite,mariadb,data-api
//! target/release/users-load --requests 4000 --concurrency 16 --modes data-api,floor --routes article
//! ```
//!
//! With `--callgrind DIR` the server (API or floor) runs under `valgrind --tool=callgrind`, its
//! counters zeroed before each phase and dumped after it (`callgrind_control`), so each phase's
//! instructions land in a file of their own under `DIR`; the report adds instructions per request,
//! which, unlike CPU time, do not move with the machine's load. Everything runs some 50 times
//! slower under valgrind: use a few hundred requests.
//!
//! Needs the local MariaDB (`TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`). Prints
//! Markdown tables; exits non-zero when any request failed or the count is off.

#![allow(clippy::print_stdout, reason = "a command-line report")]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use integration_tests::fake_lambda::FakeLambda;
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
    /// Modes, comma-separated: sqlite, mariadb, data-api, floor, lambda.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,mariadb,data-api")]
    modes: Vec<String>,
    /// Routes, comma-separated: article (`POST /add-user`, `GET /get-users`), resource (`POST
    /// /users`, `GET /users/{id}`).
    #[arg(long, value_delimiter = ',', default_value = "article,resource")]
    routes: Vec<String>,
    /// `RUST_LOG` of the server (the API's default without one is `info,tower_http=info`).
    #[arg(long, default_value = "warn,api=info")]
    rust_log: String,
    /// Run the server under callgrind, writing one profile per phase into this directory, and
    /// report instructions per request.
    #[arg(long)]
    callgrind: Option<PathBuf>,
    /// Serve the floor (`integration_tests::floor`) instead of measuring: how mode `floor` starts
    /// this tool as its server, configured by the API's variables.
    #[arg(long, hide = true)]
    serve_floor: bool,
}

/// Users added by `POST /add-user` before the `GET /get-users` phases: with the seed row, the
/// table holds 101.
const ARTICLE_USERS: usize = 100;

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
    /// With `--callgrind`: the phase's profile and its instructions per request.
    profile: Option<(PathBuf, f64)>,
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
    if args.serve_floor {
        return serve_floor().await;
    }
    for route in &args.routes {
        ensure!(
            matches!(route.as_str(), "article" | "resource"),
            "unknown route set {route:?} (article, resource)"
        );
    }
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
    report_floor(&runs);
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

/// The floor server: the article's routes on a multi-threaded runtime (as the API's local server),
/// announced with the API's own "listening on" line.
async fn serve_floor() -> Result<()> {
    let config = integration_tests::floor::Config::from_lookup(|name| std::env::var(name).ok())?;
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("floor listening on http://{}", listener.local_addr()?);
    axum::serve(listener, integration_tests::floor::router(config)).await?;
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
    /// The API or the floor in front of the emulator.
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
        ("RUST_LOG".into(), args.rust_log.clone()),
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
        "data-api" | "floor" | "lambda" => {
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
        other => bail!("unknown mode {other:?} (sqlite, mariadb, data-api, floor, lambda)"),
    };
    let lambda = if mode == "lambda" {
        let lambda = FakeLambda::spawn().await?;
        env.extend(lambda.env());
        Some(lambda)
    } else {
        None
    };

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let callgrind = args
        .callgrind
        .as_deref()
        .map(|dir| Callgrind::new(dir, mode));
    let callgrind = callgrind.transpose()?;
    let startup_limit = if callgrind.is_some() {
        Duration::from_secs(300)
    } else {
        Duration::from_secs(30)
    };
    let started = Instant::now();
    let (mut child, target) = match lambda {
        Some(lambda) => (
            spawn(&args.api_bin, &[], &env, false, callgrind.as_ref())
                .await?
                .0,
            Target::Lambda(lambda),
        ),
        None => {
            let bin = if mode == "floor" {
                std::env::current_exe()?
            } else {
                args.api_bin.clone()
            };
            let serve_floor: &[&str] = if mode == "floor" {
                &["--serve-floor"]
            } else {
                &[]
            };
            let (child, base) = spawn(&bin, serve_floor, &env, true, callgrind.as_ref()).await?;
            (child, Target::Http { client, base })
        }
    };
    let pid = child.id().context("api pid")?;
    // Cold start: spawn → the first 200 from /health (which also reaches the database).
    loop {
        if target
            .call("GET", "/health", None)
            .await
            .is_some_and(|(status, _)| status == 200)
        {
            break;
        }
        ensure!(
            started.elapsed() < startup_limit,
            "no 200 from /health in {startup_limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cold_start_ms = started.elapsed().as_secs_f64() * 1000.0;
    let target = Arc::new(target);
    // A Lambda instance takes one request at a time.
    let levels: &[usize] = if mode == "lambda" {
        &[1]
    } else {
        &args.concurrency
    };

    let mut phases = Vec::new();
    let mut accepted_posts = 0;
    let run = |concurrency, requests, op| {
        drive(
            &target,
            pid,
            mode,
            concurrency,
            requests,
            op,
            callgrind.as_ref(),
        )
    };
    if args.routes.iter().any(|r| r == "article") {
        let (_, ids) = run(1, ARTICLE_USERS, Op::AddUser).await?;
        ensure!(
            ids.len() == ARTICLE_USERS,
            "adding the first {ARTICLE_USERS} users failed"
        );
        accepted_posts += ids.len();
        for &concurrency in levels {
            phases.push(
                run(concurrency, args.requests, Op::GetUsers(ARTICLE_USERS + 1))
                    .await?
                    .0,
            );
        }
        for &concurrency in levels {
            let (phase, ids) = run(concurrency, args.requests, Op::AddUser).await?;
            accepted_posts += ids.len();
            phases.push(phase);
        }
    }
    if mode != "floor" && args.routes.iter().any(|r| r == "resource") {
        for &concurrency in levels {
            let (phase, ids) = run(concurrency, args.requests, Op::Post).await?;
            accepted_posts += ids.len();
            phases.push(phase);
            let (phase, _) = run(concurrency, args.requests, Op::Get(ids)).await?;
            phases.push(phase);
        }
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

/// Starts the API (or the floor) with exactly `env` (plus `PATH`), under callgrind when asked, and
/// returns it with, when `listens`, its base URL, read from its "listening on" line.
async fn spawn(
    bin: &std::path::Path,
    args: &[&str],
    env: &[(String, String)],
    listens: bool,
    callgrind: Option<&Callgrind>,
) -> Result<(Child, String)> {
    let mut command = match callgrind {
        Some(callgrind) => callgrind.command(bin),
        None => Command::new(bin),
    };
    let mut child = command
        .args(args)
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
    let base = if !listens {
        String::new()
    } else {
        loop {
            let limit = if callgrind.is_some() { 300 } else { 30 };
            let line = tokio::time::timeout(Duration::from_secs(limit), lines.next_line())
                .await
                .with_context(|| format!("no 'listening on' line in {limit} s"))??
                .context("the api exited before listening")?;
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_owned();
            }
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, base))
}

/// The server under `valgrind --tool=callgrind`: counters zeroed before a phase, dumped after it.
struct Callgrind {
    dir: PathBuf,
    /// The profile's path; dumps are numbered after it (`….1`, `….2`, …).
    out: PathBuf,
    dumps: AtomicUsize,
}

impl Callgrind {
    fn new(dir: &std::path::Path, mode: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        let out = dir.join(format!("callgrind.{mode}.out"));
        // Dumps of an earlier run would be mistaken for this one's.
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with(&format!("callgrind.{mode}.out")) {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Self {
            dir,
            out,
            dumps: AtomicUsize::new(0),
        })
    }

    fn command(&self, bin: &std::path::Path) -> Command {
        let mut command = Command::new("valgrind");
        command
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", self.out.display()))
            .arg(format!(
                "--log-file={}",
                self.dir.join("valgrind.%p.log").display()
            ))
            .arg(bin);
        command
    }

    /// Runs `callgrind_control <option> <pid>`; it returns once the server has obeyed.
    async fn control(&self, pid: u32, option: &str) -> Result<()> {
        let output = Command::new("callgrind_control")
            .arg(option)
            .arg(pid.to_string())
            .output()
            .await
            .context("running callgrind_control")?;
        ensure!(
            output.status.success() && String::from_utf8_lossy(&output.stdout).contains("OK"),
            "callgrind_control {option} {pid}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }

    /// Zeroes the counters: what follows is the phase's alone.
    async fn start(&self, pid: u32) -> Result<()> {
        self.control(pid, "--zero").await
    }

    /// Dumps the counters since [`Callgrind::start`]: the dump's path and its instruction total.
    async fn finish(&self, pid: u32, label: &str) -> Result<(PathBuf, u64)> {
        self.control(pid, &format!("--dump={label}")).await?;
        let dump = self.dumps.fetch_add(1, Ordering::Relaxed) + 1;
        let path = PathBuf::from(format!("{}.{dump}", self.out.display()));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        ensure!(
            text.contains(&format!("Trigger: dump {label}")),
            "{} is not the dump of {label}",
            path.display()
        );
        let totals = text
            .lines()
            .find_map(|line| line.strip_prefix("totals:"))
            .with_context(|| format!("no totals in {}", path.display()))?;
        Ok((path, totals.trim().parse()?))
    }
}

/// What a phase sends.
enum Op {
    /// `POST /add-user`; the new ids are returned.
    AddUser,
    /// `GET /get-users`, whose answer must list this many users.
    GetUsers(usize),
    /// `POST /users`; the new ids are returned.
    Post,
    /// `GET /users/{id}` of these ids, in turn.
    Get(Vec<String>),
}

impl Op {
    fn label(&self) -> &'static str {
        match self {
            Op::AddUser => "POST /add-user",
            Op::GetUsers(_) => "GET /get-users",
            Op::Post => "POST /users",
            Op::Get(_) => "GET /users/{id}",
        }
    }

    /// Sends request `i`: `None` when it failed, else the created user's id, if it made one.
    async fn send(&self, target: &Target, i: usize) -> Option<Option<String>> {
        let created = |body: &[u8], field: &str| {
            let body: Value = serde_json::from_slice(body).ok()?;
            body[field].as_str().map(|id| Some(id.to_owned()))
        };
        match self {
            Op::AddUser | Op::Post => {
                let (path, expected, field) = match self {
                    Op::AddUser => ("/add-user", 200, "userId"),
                    _ => ("/users", 201, "id"),
                };
                let body = json!({"firstName": format!("Load{i}"), "lastName": "Bench"});
                let (status, body) = target.call("POST", path, Some(&body)).await?;
                if status != expected {
                    return None;
                }
                created(&body, field)
            }
            Op::GetUsers(expected) => {
                let (status, body) = target.call("GET", "/get-users", None).await?;
                let users: Vec<serde::de::IgnoredAny> = serde_json::from_slice(&body).ok()?;
                (status == 200 && users.len() == *expected).then_some(None)
            }
            Op::Get(ids) => {
                let path = format!("/users/{}", ids[i % ids.len()]);
                let (status, _) = target.call("GET", &path, None).await?;
                (status == 200).then_some(None)
            }
        }
    }
}

/// Where requests go: the server's HTTP listener, or the fake Lambda Runtime API the function polls.
enum Target {
    Http {
        client: reqwest::Client,
        base: String,
    },
    Lambda(FakeLambda),
}

impl Target {
    /// `method path` with an optional JSON body: the status and body, or `None` on a failure.
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Vec<u8>)> {
        match self {
            Target::Http { client, base } => {
                let url = format!("{base}{path}");
                let request = match body {
                    Some(body) => client.post(url).json(body),
                    None if method == "GET" => client.get(url),
                    None => client.post(url),
                };
                let response = request.send().await.ok()?;
                let status = response.status().as_u16();
                Some((status, response.bytes().await.ok()?.to_vec()))
            }
            Target::Lambda(lambda) => {
                let event = FakeLambda::rest_event(method, path, body);
                let answer = lambda.invoke(event, Duration::from_secs(60)).await.ok()?;
                let status = u16::try_from(answer["statusCode"].as_u64()?).ok()?;
                let body = answer["body"].as_str().unwrap_or_default();
                // JSON answers are sent as text; anything else is not what the service answers.
                (answer["isBase64Encoded"] != true).then(|| (status, body.as_bytes().to_vec()))
            }
        }
    }
}

/// Sends `requests` requests from `concurrency` clients; returns the phase and the created ids.
async fn drive(
    target: &Arc<Target>,
    pid: u32,
    mode: &str,
    concurrency: usize,
    requests: usize,
    op: Op,
    callgrind: Option<&Callgrind>,
) -> Result<(Phase, Vec<String>)> {
    if let Op::Get(ids) = &op {
        ensure!(!ids.is_empty(), "no users to read");
    }
    let operation = op.label();
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    if let Some(callgrind) = callgrind {
        callgrind.start(pid).await?;
    }
    let cpu_before = cpu_ticks(pid)?;
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (target, next, op) = (target.clone(), next.clone(), op.clone());
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
                let outcome = op.send(&target, i).await;
                latencies.push(sent.elapsed());
                match outcome {
                    Some(id) => created.extend(id),
                    None => errors += 1,
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
    let profile = match callgrind {
        Some(callgrind) => {
            let label = format!(
                "{mode}:{}:c{concurrency}:n{requests}",
                operation.replace(' ', "_")
            );
            let (path, instructions) = callgrind.finish(pid, &label).await?;
            Some((path, instructions as f64 / requests as f64))
        }
        None => None,
    };
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
            profile,
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
        "| mode | operation | clients | requests/s | p50 (ms) | p99 (ms) | server CPU per request (µs) | errors |"
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
    if args.callgrind.is_some() {
        println!();
        println!("| mode | operation | clients | instructions per request | profile |");
        println!("|---|---|---|---|---|");
        for phase in runs.iter().flat_map(|r| &r.phases) {
            if let Some((path, instructions)) = &phase.profile {
                println!(
                    "| {} | {} | {} | {instructions:.0} | {} |",
                    phase.mode,
                    phase.operation,
                    phase.concurrency,
                    path.display()
                );
            }
        }
    }
}

/// With both `data-api` and `floor` run: the API's CPU per request over the floor's, per phase.
fn report_floor(runs: &[ModeRun]) {
    let phases = |mode: &'static str| {
        runs.iter()
            .filter(move |r| r.mode == mode)
            .flat_map(|r| &r.phases)
    };
    let pairs: Vec<(&Phase, &Phase)> = phases("data-api")
        .filter_map(|api| {
            phases("floor")
                .find(|f| f.operation == api.operation && f.concurrency == api.concurrency)
                .map(|floor| (api, floor))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    println!();
    println!(
        "| operation | clients | API CPU per request (µs) | floor CPU per request (µs) | API / floor |"
    );
    println!("|---|---|---|---|---|");
    for (api, floor) in &pairs {
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2}× |",
            api.operation,
            api.concurrency,
            api.cpu_us_per_request,
            floor.cpu_us_per_request,
            api.cpu_us_per_request / floor.cpu_us_per_request
        );
    }
    let profiled: Vec<_> = pairs
        .iter()
        .filter_map(|(api, floor)| Some((api, api.profile.as_ref()?.1, floor.profile.as_ref()?.1)))
        .collect();
    if !profiled.is_empty() {
        println!();
        println!(
            "| operation | clients | API instructions per request | floor instructions per request | API / floor |"
        );
        println!("|---|---|---|---|---|");
        for (api, api_ir, floor_ir) in profiled {
            println!(
                "| {} | {} | {api_ir:.0} | {floor_ir:.0} | {:.2}× |",
                api.operation,
                api.concurrency,
                api_ir / floor_ir
            );
        }
    }
}
