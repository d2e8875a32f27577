//! The Lambda branch of `main`: the real binary polling a fake Lambda Runtime API on loopback,
//! answering API Gateway REST (v1) proxy events from `tests/fixtures/` through the same router.

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
