//! The load benchmark tool (`users-load`) runs end to end on a small count, so the benchmark in
//! `docs/BENCHMARKS.md` stays reproducible; its floor sends the API's own Data API requests.

use anyhow::{Context, Result, ensure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_load_runs_every_mode_and_checks_the_row_count() -> Result<()> {
    let tool = std::path::Path::new(env!("CARGO_BIN_EXE_users-load"));
    // The api binary of the same build, next to the tool (built by `cargo nextest run --workspace`).
    let api = tool.with_file_name("api");
    ensure!(
        api.is_file(),
        "{} is missing: run the workspace's tests (`cargo nextest run --workspace`)",
        api.display()
    );
    let output = tokio::process::Command::new(tool)
        .args(["--api-bin"])
        .arg(&api)
        .args([
            "--requests",
            "30",
            "--concurrency",
            "1,4",
            "--modes",
            "sqlite,mariadb,data-api,floor",
        ])
        .output()
        .await
        .context("running users-load")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success(),
        "users-load failed:\n{stdout}\n{stderr}"
    );
    let line = |prefix: &str| stdout.lines().find(|l| l.starts_with(prefix));
    // The API: 100 users added before the article's phases, 2 levels × 30 POST /add-user and
    // 2 × 30 POST /users, plus the seed row. The floor serves the article's routes only.
    for (mode, accepted) in [
        ("sqlite", 220),
        ("mariadb", 220),
        ("data-api", 220),
        ("floor", 160),
    ] {
        let summary = line(&format!("| {mode} | ")).unwrap_or_default();
        ensure!(
            summary.ends_with(&format!("| {accepted} | {} |", accepted + 1)),
            "{mode}:\n{stdout}"
        );
    }
    // Rows per operation: one per mode and level, and for the article's routes one per level in
    // the table of the API over the floor.
    for (operation, rows) in [
        ("POST /add-user", 4 * 2 + 2),
        ("GET /get-users", 4 * 2 + 2),
        ("POST /users", 3 * 2),
        ("GET /users/{id}", 3 * 2),
    ] {
        ensure!(
            stdout.matches(&format!("| {operation} | ")).count() == rows,
            "{operation}:\n{stdout}"
        );
    }
    // The API's CPU over the floor's, per article phase.
    ensure!(
        line("| operation | clients | API CPU per request (µs) | floor CPU").is_some(),
        "{stdout}"
    );
    Ok(())
}

/// The `ExecuteStatement` bodies a fake Data API received, in order, and the answers it gives:
/// one `INSERT` updating a row, a `SELECT` of `users` returning two, anything else no rows.
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>);

impl Recorder {
    async fn spawn(&self) -> Result<std::net::SocketAddr> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .route("/Execute", axum::routing::post(Self::execute))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(addr)
    }

    async fn execute(
        axum::extract::State(recorder): axum::extract::State<Self>,
        axum::Json(body): axum::Json<serde_json::Value>,
    ) -> axum::Json<serde_json::Value> {
        let sql = body["sql"].as_str().unwrap_or_default().to_owned();
        recorder.0.lock().expect("lock").push(body);
        let column = |name: &str| {
            serde_json::json!({"name": name, "label": name, "typeName": "VARCHAR", "type": 12,
                "tableName": "users", "nullable": 0, "precision": 255, "scale": 0})
        };
        axum::Json(if sql.starts_with("INSERT") {
            serde_json::json!({"numberOfRecordsUpdated": 1, "generatedFields": []})
        } else if sql.contains("FROM `users`") {
            serde_json::json!({
                "columnMetadata": [column("id"), column("firstName"), column("lastName")],
                "numberOfRecordsUpdated": 0,
                "records": [
                    [{"stringValue": "a"}, {"stringValue": "Ada"}, {"stringValue": "Lovelace"}],
                    [{"stringValue": "b"}, {"stringValue": "Alan \"A\""}, {"stringValue": "Turing"}],
                ],
            })
        } else {
            serde_json::json!({"numberOfRecordsUpdated": 0, "records": [[{"longValue": 1}]]})
        })
    }

    /// The bodies so far, with the new user's id (a fresh UUID on each side) masked, and forgotten.
    fn take(&self) -> Vec<serde_json::Value> {
        let mut bodies = std::mem::take(&mut *self.0.lock().expect("lock"));
        for body in &mut bodies {
            if body["sql"]
                .as_str()
                .is_some_and(|sql| sql.starts_with("INSERT"))
            {
                body["parameters"][0]["value"]["stringValue"] = "<uuid>".into();
            }
        }
        bodies
    }
}

/// The floor sends the API's own `ExecuteStatement` requests (SQL, parameters, flags) and answers
/// with the same bodies, so the two are measured doing the same work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_sends_the_same_data_api_requests_as_the_api() -> Result<()> {
    let recorder = Recorder::default();
    let addr = recorder.spawn().await?;
    let lookup = |name: &str| {
        Some(match name {
            "CLUSTER_ARN" => integration_tests::CLUSTER_ARN.to_owned(),
            "SECRET_ARN" => integration_tests::SECRET_ARN.to_owned(),
            "DATABASE_NAME" => "app".to_owned(),
            "DATABASE_ENGINE" => "mysql".to_owned(),
            "AWS_ENDPOINT_URL_RDS_DATA" => format!("http://{addr}"),
            _ => return None,
        })
    };
    let api::config::Database::DataApi(config) = api::Config::from_lookup(lookup)?.database else {
        anyhow::bail!("not the Data API");
    };
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "tests"),
            ),
        )
        .endpoint_url(format!("http://{addr}"))
        .build();
    let db = data_api::DataApi::with_sdk_config(&sdk, config).connection()?;
    let servers = [
        api::app(api::AppState::new(db)),
        integration_tests::floor::router(integration_tests::floor::Config::from_lookup(lookup)?),
    ];
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    for server in servers {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, server).await });
        let added = client
            .post(format!("{base}/add-user"))
            .json(&serde_json::json!({"firstName": "Grace", "lastName": "Hopper"}))
            .send()
            .await?;
        ensure!(added.status() == 200, "{base}: {}", added.status());
        let added: serde_json::Value = added.json().await?;
        ensure!(
            added["userId"].as_str().is_some_and(|id| id.len() == 36),
            "{added}"
        );
        let users = client.get(format!("{base}/get-users")).send().await?;
        ensure!(users.status() == 200, "{base}: {}", users.status());
        seen.push((recorder.take(), users.text().await?));
    }
    let (api, floor) = (&seen[0], &seen[1]);
    ensure!(api.0.len() == 2, "{:#?}", api.0);
    ensure!(api.0 == floor.0, "API {:#?}\nfloor {:#?}", api.0, floor.0);
    ensure!(api.1 == floor.1, "API {}\nfloor {}", api.1, floor.1);
    Ok(())
}
