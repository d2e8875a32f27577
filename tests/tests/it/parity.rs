//! `scripts/parity --smoke`: the local production-parity stack (moto, emulator, run-migrations with
//! the DynamoDB ledger through the Data API, the API in Data API mode as its own database user from
//! its own secret) starts and serves, on both engines, and the API's user is refused `DROP TABLE`.

use anyhow::{Context, Result, ensure};
use integration_tests::{Backend, TestDatabase};
use sea_orm::ConnectionTrait;

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn parity_smoke(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let name = database.url.rsplit('/').next().context("name")?.to_owned();
    // Database users are server-wide: a name of this test's own, dropped afterwards.
    let api_user = format!("api_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let outcome = run(backend, &name, &api_user).await;
    let db = database.connect().await?;
    let cleanup = if backend == Backend::Postgres {
        vec![
            format!(r#"REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{api_user}""#),
            format!(r#"REVOKE ALL PRIVILEGES ON SCHEMA public FROM "{api_user}""#),
            format!(r#"REVOKE ALL PRIVILEGES ON DATABASE "{name}" FROM "{api_user}""#),
            format!(r#"DROP ROLE IF EXISTS "{api_user}""#),
        ]
    } else {
        vec![format!("DROP USER IF EXISTS '{api_user}'@'%'")]
    };
    for sql in cleanup {
        if let Err(error) = db.execute_unprepared(&sql).await {
            tracing::warn!(%error, "cleaning up {api_user}");
        }
    }
    outcome
}

async fn run(backend: Backend, name: &str, api_user: &str) -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    // The binaries of this build, next to the test tools (built by `cargo nextest run --workspace`).
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_users-load"))
        .parent()
        .context("bin dir")?;
    let output = tokio::process::Command::new("bash")
        .arg(root.join("scripts/parity"))
        .arg(if backend == Backend::Postgres {
            "postgres"
        } else {
            "mysql"
        })
        .arg("--smoke")
        .env("BIN_DIR", bin_dir)
        .env("DATABASE_NAME", name)
        .env("API_DB_USER", api_user)
        .env("DYNAMODB_TABLE_NAME", format!("ledger-{name}"))
        .env("API_PORT", free_port()?.to_string())
        .env("EMULATOR_PORT", free_port()?.to_string())
        .env("MOTO_PORT", free_port()?.to_string())
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .kill_on_drop(true)
        .output()
        .await
        .context("running scripts/parity")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success() && stderr.contains("parity stack OK"),
        "scripts/parity failed:\n{stdout}\n{stderr}"
    );
    ensure!(stdout.contains(r#""firstName":"Parity""#), "{stdout}");
    ensure!(
        stdout.contains(&format!(r#""api_user":"{api_user}""#)),
        "run-migrations must create the API's user:\n{stdout}"
    );
    ensure!(
        stdout.contains("DROP TABLE users as the API's user: refused"),
        "{stdout}"
    );
    let listed = stdout
        .lines()
        .find(|line| line.starts_with("GET /get-users:"))
        .context("no GET /get-users line")?;
    ensure!(
        listed.matches(r#""lastName":"Retry""#).count() == 1,
        "the POST sent twice with one Idempotency-Key must create one user:\n{listed}"
    );
    ensure!(
        stdout.contains(r#""id":"1""#),
        "the seed is missing:\n{stdout}"
    );
    for migration in [
        "m20261126_000001_create_users_table",
        "m20261126_000002_seed_users",
    ] {
        ensure!(
            stdout
                .lines()
                .any(|l| l.contains(migration) && l.contains("applied")),
            "{migration} not applied:\n{stdout}"
        );
    }
    Ok(())
}

crate::on_data_api_engines!(parity_smoke);
