//! A fake AWS Lambda Runtime API on loopback, to run the real `api` binary's Lambda path: the
//! function long-polls `next`, gets the one event handed to [`FakeLambda::invoke`], and posts its
//! answer to `response` (or `error`), one invocation at a time, as a Lambda instance is driven.
//!
//! Events are API Gateway REST (v1) proxy events ([`FakeLambda::rest_event`]), the integration the
//! CDK stack deploys; the `api` binary needs `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=true` with them,
//! as deployed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc, oneshot};

/// The function's answer to one invocation.
type Answer = Result<Value, String>;

struct Invocation {
    request_id: String,
    event: String,
    answer: oneshot::Sender<Answer>,
}

struct Shared {
    queue: Mutex<mpsc::Receiver<Invocation>>,
    pending: std::sync::Mutex<HashMap<String, oneshot::Sender<Answer>>>,
}

/// The fake Runtime API (see the module docs).
#[derive(Debug, Clone)]
pub struct FakeLambda {
    /// `HOST:PORT`, the function's `AWS_LAMBDA_RUNTIME_API`.
    pub addr: SocketAddr,
    invocations: mpsc::Sender<Invocation>,
    next_id: Arc<AtomicU64>,
}

impl FakeLambda {
    /// Serves the Runtime API on `127.0.0.1:<ephemeral>` until the process ends.
    ///
    /// # Errors
    /// Binding the listener.
    pub async fn spawn() -> Result<Self> {
        let (invocations, queue) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            pending: std::sync::Mutex::new(HashMap::new()),
        });
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self {
            addr,
            invocations,
            next_id: Arc::new(AtomicU64::new(1)),
        })
    }

    /// The variables a function needs to run against this Runtime API.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", "users-api".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Hands `event` to the function and waits up to `timeout` for its answer: the response it
    /// posted, or the error it reported, as text.
    ///
    /// # Errors
    /// The function reported an error, or did not answer in time.
    pub async fn invoke(&self, event: String, timeout: Duration) -> Result<Value> {
        let request_id = format!("req-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (answer, answered) = oneshot::channel();
        self.invocations
            .send(Invocation {
                request_id,
                event,
                answer,
            })
            .await
            .context("the fake runtime stopped")?;
        match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(error))) => bail!("the function reported an error: {error}"),
            Ok(Err(_)) => bail!("the fake runtime dropped the invocation"),
            Err(_) => bail!("no answer from the function in {timeout:?}"),
        }
    }

    /// An API Gateway REST (v1) proxy event of stage `prod` for `method path`, with a JSON body.
    pub fn rest_event(method: &str, path: &str, body: Option<&Value>) -> String {
        let host = "abcdef1234.execute-api.us-east-1.amazonaws.com";
        let mut headers = json!({"Host": host, "Accept": "*/*"});
        if body.is_some() {
            headers["Content-Type"] = "application/json".into();
        }
        let multi: serde_json::Map<String, Value> = headers
            .as_object()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), json!([v]))).collect())
            .unwrap_or_default();
        json!({
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "pathParameters": null,
            "stageVariables": null,
            "requestContext": {
                "resourceId": "a1b2c3",
                "resourcePath": path,
                "httpMethod": method,
                "path": format!("/prod{path}"),
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": "prod",
                "domainPrefix": "abcdef1234",
                "requestTimeEpoch": 1_795_737_000_000_u64,
                "requestId": "d7bf0bd7-7b61-11e6-9a41-93e8deadbeef",
                "identity": {"sourceIp": "127.0.0.1", "userAgent": "users-load"},
                "domainName": host,
                "apiId": "abcdef1234"
            },
            "body": body.map(Value::to_string),
            "isBase64Encoded": false
        })
        .to_string()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Result<(HeaderMap, String), StatusCode> {
    let invocation = shared.queue.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return Err(StatusCode::GONE);
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + Duration::from_secs(30);
    let value = |v: &str| HeaderValue::from_str(v).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        value(&invocation.request_id)?,
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        value(&deadline.as_millis().to_string())?,
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        value("arn:aws:lambda:us-east-1:123456789012:function:users-api")?,
    );
    shared
        .pending
        .lock()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .insert(invocation.request_id, invocation.answer);
    Ok((headers, invocation.event))
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> StatusCode {
    let waiting = shared.pending.lock().ok().and_then(|mut p| p.remove(id));
    match waiting {
        Some(waiting) => {
            let _ = waiting.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    answer(&shared, &id, Ok(value))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    answer(&shared, &id, Err(body))
}

#[allow(
    clippy::print_stderr,
    reason = "the function failed to start; nothing waits on an invocation"
)]
async fn init_error(body: String) -> StatusCode {
    eprintln!("the function reported an init error: {body}");
    StatusCode::ACCEPTED
}
