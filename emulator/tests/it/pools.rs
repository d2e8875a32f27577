//! Pools: bounded in number (least recently used closed first), none left by a database that does
//! not exist; the binary refuses a non-loopback address without `--allow-remote`.

use anyhow::{Context, Result, ensure};
use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use emulator::backend::Server;

use super::{Database, Emulator, Engine};

async fn id_on(server: &Server, database: &Database) -> Result<u64> {
    let conn = server.acquire(Some(&database.name), None).await?;
    Ok(conn.id())
}

async fn least_recently_used_pool_closes(engine: Engine) -> Result<()> {
    let (a, b, c) = (
        Database::create(engine).await?,
        Database::create(engine).await?,
        Database::create(engine).await?,
    );
    let server = Server::with_pools(&a.url, 4, 2)?;
    let a1 = id_on(&server, &a).await?;
    let b1 = id_on(&server, &b).await?;
    ensure!(
        id_on(&server, &a).await? == a1,
        "a's idle connection is reused"
    );
    // A third database: b's pool is the least recently used, and goes.
    id_on(&server, &c).await?;
    ensure!(server.pool_count().await == 2, "pools are bounded");
    ensure!(id_on(&server, &a).await? == a1, "a's pool was kept");
    ensure!(id_on(&server, &b).await? != b1, "b's pool was closed");
    ensure!(server.pool_count().await == 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_recently_used_pool_closes_on_mysql() -> Result<()> {
    least_recently_used_pool_closes(Engine::MySql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_recently_used_pool_closes_on_postgres() -> Result<()> {
    least_recently_used_pool_closes(Engine::Postgres).await
}

async fn unknown_database_leaves_no_pool(engine: Engine) -> Result<()> {
    let emulator = Emulator::spawn(engine).await?;
    emulator.execute("SELECT 1").send().await?;
    let server = &emulator.admin_state().targets()[0].server;
    let before = server.pool_count().await;
    let missing = format!(
        "emu_missing_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let error = emulator
        .execute("SELECT 1")
        .database(&missing)
        .send()
        .await
        .err()
        .context("a missing database answered")?
        .into_service_error();
    let message = error.message().unwrap_or_default().to_owned();
    ensure!(error.code() == Some("DatabaseErrorException"), "{error:?}");
    let engine_text = match engine {
        Engine::MySql => format!("Unknown database '{missing}'"),
        Engine::Postgres => format!("database \"{missing}\" does not exist"),
    };
    ensure!(message.contains(&engine_text), "{message}");
    ensure!(
        server.pool_count().await == before,
        "a pool was left for {missing}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_database_leaves_no_pool_on_mysql() -> Result<()> {
    unknown_database_leaves_no_pool(Engine::MySql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_database_leaves_no_pool_on_postgres() -> Result<()> {
    unknown_database_leaves_no_pool(Engine::Postgres).await
}

/// Runs the binary until it prints its first stdout line or exits; returns (line, exit status).
fn start(args: &[&str]) -> Result<(String, Option<std::process::ExitStatus>, String)> {
    use std::io::{BufRead, BufReader, Read};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_data-api-emulator"))
        .args(args)
        .args(["--database-url", "postgres://postgres@127.0.0.1:5432/test"])
        .env_remove("DATA_API_EMULATOR_LISTEN")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("starting data-api-emulator")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let status = if line.is_empty() {
        Some(child.wait()?)
    } else {
        child.kill()?;
        child.wait()?;
        None
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .context("stderr")?
        .read_to_string(&mut stderr)?;
    Ok((line, status, stderr))
}

/// The refusal through the binary (the accepted case would bind a non-loopback address, so
/// `main.rs`'s unit test covers it and its start-up line).
#[test]
fn non_loopback_listen_needs_allow_remote() -> Result<()> {
    let (line, status, stderr) = start(&["--listen", "0.0.0.0:0"])?;
    ensure!(line.is_empty(), "it listened: {line}");
    ensure!(status.is_some_and(|s| !s.success()), "{status:?}");
    ensure!(stderr.contains("--allow-remote"), "{stderr}");

    let (line, status, _) = start(&["--listen", "127.0.0.1:0"])?;
    ensure!(status.is_none(), "it exited: {status:?}");
    ensure!(
        line.starts_with("data-api-emulator listening on http://127.0.0.1:")
            && !line.contains("remote"),
        "{line}"
    );
    Ok(())
}
