//! The Lambda branch of `main`: the real binary polling a fake Lambda Runtime API on loopback,
//! answering API Gateway REST (v1) proxy events from `tests/fixtures/` through the same router — on
//! a SQLite `DATABASE_URL`, and as deployed: `CLUSTER_ARN`/`SECRET_ARN` through the Data API (the
//! emulator in front of MariaDB, reached with `AWS_ENDPOINT_URL_RDS_DATA`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{Running, api_command};

/// What the fake runtime received from the function.
#[derive(Debug)]
enum Reply {
    Response { request_id: String, body: Value },
    Error { path: String, body: String },
}

#[derive(Clone)]
struct RuntimeState {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    replies: mpsc::UnboundedSender<Reply>,
}

/// Serves the Runtime API endpoints `lambda_runtime` calls: `next`, `response`, `error`.
async fn fake_runtime(
    events: Vec<(&str, String)>,
) -> Result<(String, mpsc::UnboundedReceiver<Reply>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = RuntimeState {
        events: Arc::new(Mutex::new(
            events
                .into_iter()
                .map(|(id, body)| (id.to_owned(), body))
                .collect(),
        )),
        replies: tx,
    };
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(runtime_error),
        )
        .route("/2018-06-01/runtime/init/error", post(runtime_error))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr.to_string(), rx))
}

async fn next_invocation(State(state): State<RuntimeState>) -> (HeaderMap, String) {
    let next = state.events.lock().expect("events lock").pop_front();
    let Some((request_id, event)) = next else {
        // No more events: hold the poll open, as Lambda does between invocations.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let deadline =
        SystemTime::now().duration_since(UNIX_EPOCH).expect("clock") + Duration::from_secs(30);
    let mut headers = HeaderMap::new();
    let header = |v: &str| HeaderValue::from_str(v).expect("header value");
    headers.insert("lambda-runtime-aws-request-id", header(&request_id));
    headers.insert(
        "lambda-runtime-deadline-ms",
        header(&deadline.as_millis().to_string()),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header("arn:aws:lambda:eu-west-1:123456789012:function:users-api"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
    );
    (headers, event)
}

async fn invocation_response(
    State(state): State<RuntimeState>,
    Path(request_id): Path<String>,
    body: String,
) -> StatusCode {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = state.replies.send(Reply::Response { request_id, body });
    StatusCode::ACCEPTED
}

async fn runtime_error(
    State(state): State<RuntimeState>,
    uri: axum::http::Uri,
    body: String,
) -> StatusCode {
    let _ = state.replies.send(Reply::Error {
        path: uri.path().to_owned(),
        body,
    });
    StatusCode::ACCEPTED
}

fn fixture(name: &str) -> Result<String> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).with_context(|| path)
}

async fn next_reply(
    replies: &mut mpsc::UnboundedReceiver<Reply>,
    api: &mut Running,
) -> Result<(String, Value)> {
    let reply = tokio::time::timeout(Duration::from_secs(60), replies.recv()).await;
    match reply {
        Ok(Some(Reply::Response { request_id, body })) => Ok((request_id, body)),
        Ok(Some(Reply::Error { path, body })) => {
            anyhow::bail!("function reported an error to {path}: {body}")
        }
        Ok(None) | Err(_) => {
            anyhow::bail!(
                "no reply from the function; its output:\n{}",
                api.output_so_far()
            )
        }
    }
}

/// A migrated SQLite database for the function, as the migration step would leave it.
async fn migrated_sqlite(dir: &std::path::Path) -> Result<String> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("lambda.sqlite3").display());
    let db = migration::connect(&url, None).await?;
    migration::Runner::new::<migration::Migrator>(
        db.clone(),
        migration::SqlLedger::new(db.clone()),
    )
    .up(None)
    .await?;
    db.close().await?;
    Ok(url)
}

fn lambda_env<'a>(runtime_api: &'a str, database_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", "users-api"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("DATABASE_URL", database_url),
    ]
}

#[tokio::test]
async fn answers_api_gateway_rest_events_through_the_same_router() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = migrated_sqlite(dir.path()).await?;
    let (runtime_api, mut replies) = fake_runtime(vec![
        ("req-1", fixture("apigw_rest_add_user.json")?),
        ("req-2", fixture("apigw_rest_get_users.json")?),
        (
            "req-3",
            fixture("apigw_rest_add_user_missing_last_name.json")?,
        ),
    ])
    .await?;
    let mut env = lambda_env(&runtime_api, &database_url);
    // REST APIs put the stage in the path; the deployed function sets this (see README).
    env.push(("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true"));
    let mut api = Running::start(api_command(&env))?;

    let (id, added) = next_reply(&mut replies, &mut api).await?;
    ensure!(id == "req-1" && added["statusCode"] == 200, "{added}");
    let body: Value = serde_json::from_str(added["body"].as_str().unwrap_or_default())?;
    let user_id = body["userId"].as_str().unwrap_or_default().to_owned();
    ensure!(uuid::Uuid::parse_str(&user_id).is_ok(), "{body}");

    let (id, listed) = next_reply(&mut replies, &mut api).await?;
    ensure!(id == "req-2" && listed["statusCode"] == 200, "{listed}");
    let users: Vec<Value> = serde_json::from_str(listed["body"].as_str().unwrap_or_default())?;
    ensure!(
        users.contains(
            &serde_json::json!({"id": user_id, "firstName": "Grace", "lastName": "Hopper"})
        ),
        "{users:?}"
    );
    ensure!(users.iter().any(|u| u["id"] == "1"), "{users:?}");

    let (id, refused) = next_reply(&mut replies, &mut api).await?;
    ensure!(id == "req-3" && refused["statusCode"] == 400, "{refused}");
    let body: Value = serde_json::from_str(refused["body"].as_str().unwrap_or_default())?;
    ensure!(body["error"]["code"] == "validation_failed", "{body}");
    ensure!(body["error"]["message"] == "lastName is required", "{body}");
    let content_type = refused["headers"]["content-type"]
        .as_str()
        .or_else(|| refused["multiValueHeaders"]["content-type"][0].as_str());
    ensure!(content_type == Some("application/json"), "{refused}");
    Ok(())
}

#[tokio::test]
async fn without_ignore_stage_setting_rest_paths_carry_the_stage_and_miss() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = migrated_sqlite(dir.path()).await?;
    let (runtime_api, mut replies) =
        fake_runtime(vec![("req-1", fixture("apigw_rest_add_user.json")?)]).await?;
    let mut api = Running::start(api_command(&lambda_env(&runtime_api, &database_url)))?;
    let (_, reply) = next_reply(&mut replies, &mut api).await?;
    ensure!(reply["statusCode"] == 404, "{reply}");
    let body: Value = serde_json::from_str(reply["body"].as_str().unwrap_or_default())?;
    ensure!(
        body["error"]["message"] == "no route for POST /prod/add-user",
        "{body}"
    );
    Ok(())
}

/// A header of a Lambda proxy response, from `headers` or `multiValueHeaders`.
fn header<'a>(reply: &'a Value, name: &str) -> Option<&'a str> {
    reply["headers"][name]
        .as_str()
        .or_else(|| reply["multiValueHeaders"][name][0].as_str())
}

/// Expectation on one reply: its status and a check of its parsed body and the reply.
type Check = fn(&Value, &Value) -> Result<()>;

/// Every fixture, in order, with what its reply must be.
fn fixture_table() -> Vec<(&'static str, u16, Check)> {
    vec![
        ("apigw_rest_add_user.json", 200, |body, _| {
            ensure!(
                body["userId"]
                    .as_str()
                    .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
                "{body}"
            );
            Ok(())
        }),
        ("apigw_rest_create_user.json", 201, |body, reply| {
            let id = body["id"].as_str().unwrap_or_default();
            ensure!(
                body["firstName"] == "Katherine" && body["lastName"] == "Johnson",
                "{body}"
            );
            ensure!(
                header(reply, "location") == Some(&format!("/users/{id}")),
                "{reply}"
            );
            Ok(())
        }),
        ("apigw_rest_create_user_base64.json", 201, |body, _| {
            ensure!(
                body["firstName"] == "Zoë 🦀" && body["lastName"] == "Ångström",
                "{body}"
            );
            Ok(())
        }),
        ("apigw_rest_get_users.json", 200, |body, _| {
            let users = body.as_array().context("array")?;
            ensure!(users.len() == 4, "{body}");
            ensure!(users.iter().any(|u| u["firstName"] == "Zoë 🦀"), "{body}");
            Ok(())
        }),
        ("apigw_rest_list_users_page.json", 200, |body, _| {
            ensure!(body["users"].as_array().map(Vec::len) == Some(1), "{body}");
            // Four users, so one page of one has a cursor to the next; which user comes first
            // depends on the random UUIDs ("1" sorts after "0…").
            ensure!(body["nextCursor"].is_string(), "{body}");
            Ok(())
        }),
        ("apigw_rest_list_users_bad_limit.json", 400, |body, _| {
            ensure!(body["error"]["code"] == "invalid_query", "{body}");
            Ok(())
        }),
        ("apigw_rest_get_user.json", 200, |body, _| {
            ensure!(
                *body == serde_json::json!({"id": "1", "firstName": "John", "lastName": "Doe"}),
                "{body}"
            );
            Ok(())
        }),
        ("apigw_rest_get_user_missing.json", 404, |body, _| {
            ensure!(body["error"]["code"] == "not_found", "{body}");
            Ok(())
        }),
        ("apigw_rest_health.json", 200, |body, _| {
            ensure!(body["status"] == "ok" && body["database"] == "ok", "{body}");
            Ok(())
        }),
        ("apigw_rest_openapi.json", 200, |body, _| {
            ensure!(
                body["openapi"] == "3.1.0" && body["paths"]["/users/{id}"].is_object(),
                "{body}"
            );
            Ok(())
        }),
        ("apigw_rest_wrong_method.json", 405, |body, _| {
            ensure!(body["error"]["code"] == "method_not_allowed", "{body}");
            Ok(())
        }),
        ("apigw_rest_unknown_route.json", 404, |body, _| {
            ensure!(body["error"]["code"] == "not_found", "{body}");
            Ok(())
        }),
        ("apigw_rest_create_user_text_plain.json", 415, |body, _| {
            ensure!(body["error"]["code"] == "unsupported_media_type", "{body}");
            Ok(())
        }),
        (
            "apigw_rest_add_user_missing_last_name.json",
            400,
            |body, _| {
                ensure!(body["error"]["message"] == "lastName is required", "{body}");
                Ok(())
            },
        ),
    ]
}

/// Feeds every fixture to the binary started with `env` and checks each reply.
async fn answers_every_fixture(mut env: Vec<(&str, &str)>) -> Result<()> {
    let table = fixture_table();
    let events = table
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| Ok((format!("req-{i}"), fixture(name)?)))
        .collect::<Result<Vec<_>>>()?;
    let (runtime_api, mut replies) = fake_runtime(
        events
            .iter()
            .map(|(id, e)| (id.as_str(), e.clone()))
            .collect(),
    )
    .await?;
    env.push(("AWS_LAMBDA_RUNTIME_API", &runtime_api));
    env.push(("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true"));
    let mut api = Running::start(api_command(&env))?;
    for (i, (name, status, check)) in table.iter().enumerate() {
        let (id, reply) = next_reply(&mut replies, &mut api).await?;
        ensure!(id == format!("req-{i}"), "{name}: reply to {id}");
        ensure!(reply["statusCode"] == *status, "{name}: {reply}");
        ensure!(
            header(&reply, "content-type") == Some("application/json"),
            "{name}: {reply}"
        );
        let body: Value = serde_json::from_str(reply["body"].as_str().unwrap_or_default())
            .with_context(|| format!("{name}: body of {reply}"))?;
        check(&body, &reply).with_context(|| name.to_string())?;
    }
    Ok(())
}

#[tokio::test]
async fn every_route_answers_its_fixture_on_sqlite() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = migrated_sqlite(dir.path()).await?;
    answers_every_fixture(vec![
        ("AWS_LAMBDA_FUNCTION_NAME", "users-api"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("DATABASE_URL", &database_url),
    ])
    .await
}

/// A uniquely named MariaDB database, migrated, dropped on drop.
struct MariaDb {
    name: String,
    admin: String,
}

impl MariaDb {
    async fn create() -> Result<Self> {
        let admin = std::env::var("TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let name = format!("api_lambda_{}", uuid::Uuid::new_v4().simple());
        let conn = sea_orm::Database::connect(&admin).await?;
        sea_orm::ConnectionTrait::execute_unprepared(&conn, &format!("CREATE DATABASE `{name}`"))
            .await?;
        conn.close().await?;
        let db = Self { name, admin };
        let conn = migration::connect(&db.url(), None).await?;
        migration::Runner::new::<migration::Migrator>(
            conn.clone(),
            migration::SqlLedger::new(conn.clone()),
        )
        .up(None)
        .await?;
        conn.close().await?;
        Ok(db)
    }

    fn url(&self) -> String {
        format!("{}/{}", self.admin.trim_end_matches('/'), self.name)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime: clean up on a thread with its own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().map(|rt| {
                rt.block_on(async {
                    if let Ok(conn) = sea_orm::Database::connect(&admin).await {
                        let _ = sea_orm::ConnectionTrait::execute_unprepared(
                            &conn,
                            &format!("DROP DATABASE IF EXISTS `{name}`"),
                        )
                        .await;
                    }
                });
            })
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_its_fixture_through_the_data_api() -> Result<()> {
    const CLUSTER: &str = "arn:aws:rds:eu-west-1:123456789012:cluster:users";
    const SECRET: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:users";
    let database = MariaDb::create().await?;
    let target = emulator::Target {
        resource_arn: CLUSTER.into(),
        secret_arn: SECRET.into(),
        server: emulator::backend::Server::new(&database.url())?,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let state = emulator::AppState::new(vec![target], emulator::Limits::default());
    tokio::spawn(emulator::run(listener, state, std::future::pending()));
    // The function's environment as the CDK stack sets it, plus the emulator's endpoint and fake
    // credentials where Lambda would put the role's.
    answers_every_fixture(vec![
        ("AWS_LAMBDA_FUNCTION_NAME", "users-api"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDLAMBDATEST"),
        ("AWS_SECRET_ACCESS_KEY", "not-a-secret"),
        ("AWS_SESSION_TOKEN", "session"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL_RDS_DATA", &endpoint),
        ("CLUSTER_ARN", CLUSTER),
        ("SECRET_ARN", SECRET),
        ("DATABASE_NAME", &database.name),
        ("DATABASE_ENGINE", "mysql"),
    ])
    .await
}
