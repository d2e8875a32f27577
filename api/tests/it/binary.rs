//! The local branch of `main`: embedded default, listener, configuration errors, shutdown.

use anyhow::{Result, ensure};
use serde_json::{Value, json};

use super::{Running, api_command};

/// Starts the binary on the embedded default in `data_dir` on a free port, waits for `startup_log`
/// and for the listener; returns it and its base URL.
async fn start_local(data_dir: &str, startup_log: &str) -> Result<(Running, String)> {
    let mut api = Running::start(api_command(&[("PORT", "0"), ("USERS_DATA_DIR", data_dir)]))?;
    api.wait_for(startup_log).await?;
    let line = api.wait_for("listening on http://").await?;
    let base = line[line.find("http://").expect("url")..].trim().to_owned();
    Ok((api, base))
}

async fn get_users(client: &reqwest::Client, base: &str) -> Result<Vec<Value>> {
    Ok(client
        .get(format!("{base}/get-users"))
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::test]
async fn serves_the_embedded_default_and_keeps_data_across_restarts() -> Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().join("nested/data");
    let data_dir = data_dir.to_str().expect("utf-8 temp path");
    let client = reqwest::Client::new();

    let mut api = Running::start(api_command(&[("PORT", "0"), ("USERS_DATA_DIR", data_dir)]))?;
    api.wait_for("applied pending migrations at start-up")
        .await?;
    let line = api.wait_for("listening on http://").await?;
    let base = line[line.find("http://").expect("url")..].trim().to_owned();

    let response = client
        .post(format!("{base}/add-user"))
        .json(&json!({"firstName": "Grace", "lastName": "Hopper"}))
        .send()
        .await?;
    ensure!(response.status() == 200, "{}", response.status());
    let user_id = response.json::<Value>().await?["userId"].clone();
    let users = get_users(&client, &base).await?;
    ensure!(users.len() == 2, "{users:?}");
    ensure!(
        std::path::Path::new(data_dir)
            .join("users.sqlite3")
            .is_file()
    );

    // SIGTERM: graceful stop, exit code 0.
    let pid = api.child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()?;
    ensure!(killed.success());
    let (status, output) = api.exit().await?;
    ensure!(status.success(), "{status}: {output}");
    ensure!(output.contains("stopped"), "{output}");

    // A second start finds the database up to date and the user still there.
    let (_api, base) = start_local(data_dir, "embedded database is up to date").await?;
    let users = get_users(&client, &base).await?;
    ensure!(users.iter().any(|u| u["id"] == user_id), "{users:?}");

    // The file is in WAL mode (one fsync per commit instead of several).
    let file = std::path::Path::new(data_dir).join("users.sqlite3");
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", file.display())).await?;
    let mode = sea_orm::ConnectionTrait::query_one(
        &db,
        sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA journal_mode"),
    )
    .await?
    .map(|row| row.try_get_by_index::<String>(0))
    .transpose()?;
    ensure!(mode.as_deref() == Some("wal"), "journal mode {mode:?}");
    Ok(())
}

#[tokio::test]
async fn bad_or_missing_settings_stop_start_up_with_their_name() -> Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_str().expect("utf-8 temp path");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("PORT", "http"), ("USERS_DATA_DIR", data_dir)],
            "PORT must be a number",
        ),
        (
            &[("HOST", "example.com"), ("USERS_DATA_DIR", data_dir)],
            "HOST must be an IP address",
        ),
        (
            &[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")],
            "DATABASE_URL, or CLUSTER_ARN and SECRET_ARN, are required on AWS Lambda",
        ),
        (
            &[
                ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
                ("PORT", "0"),
            ],
            "SECRET_ARN: is required",
        ),
        (
            &[
                ("CLUSTER_ARN", "arn:aws:rds:us-east-1:1:cluster:c"),
                ("SECRET_ARN", "my-secret"),
                ("PORT", "0"),
            ],
            "SECRET_ARN: \"my-secret\" is not an ARN",
        ),
        (
            // Nothing listens on port 9: refused, reported after the connect timeout.
            &[
                ("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none"),
                ("PORT", "0"),
            ],
            "cannot connect to the database",
        ),
        (
            &[("DATABASE_URL", "redis://127.0.0.1"), ("PORT", "0")],
            "cannot connect to the database",
        ),
    ];
    for (vars, expected) in cases {
        let (status, output) = Running::start(api_command(vars))?.exit().await?;
        ensure!(status.code() == Some(1), "{vars:?}: {status}\n{output}");
        ensure!(output.contains(expected), "{vars:?}: {output}");
        ensure!(!output.contains("listening"), "{vars:?}: {output}");
    }
    Ok(())
}
