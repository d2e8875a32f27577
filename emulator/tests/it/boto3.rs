//! boto3's `rds-data` client, unmodified, against the emulator (PostgreSQL): statements, a committed
//! and a rolled-back transaction, metadata and typed errors. Needs the venv `scripts/test` creates.

use std::path::Path;

use anyhow::{Context, Result, ensure};

use super::{Emulator, Engine, RESOURCE_ARN, SECRET_ARN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_client_works_unmodified() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    ensure!(
        python.is_file(),
        "{} is missing: run ./scripts/test once (it creates the venv with boto3)",
        python.display()
    );
    let emulator = Emulator::spawn(Engine::Postgres).await?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/boto3_smoke.py");
    let endpoint = format!("http://{}", emulator.addr);
    let database = emulator.database.name.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .env("AWS_ENDPOINT_URL_RDS_DATA", endpoint)
            .env("EMULATOR_RESOURCE_ARN", RESOURCE_ARN)
            .env("EMULATOR_SECRET_ARN", SECRET_ARN)
            .env("EMULATOR_DATABASE", database)
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
    })
    .await?
    .context("running the boto3 script")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success(),
        "boto3 script failed: {stdout}{stderr}"
    );
    ensure!(stdout.contains("boto3 smoke: ok"), "{stdout}{stderr}");
    Ok(())
}
