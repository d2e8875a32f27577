//! The floor of the users service's CPU per request: the article's routes (`POST /add-user`,
//! `GET /get-users`, and `GET /health`) served by minimal handlers that send the same
//! `ExecuteStatement` requests as the API in Data API mode, with a bare HTTP client — no AWS SDK, no
//! SeaORM, no validation beyond the body's shape, no tracing.
//!
//! What it leaves out is what the API's process spends on top of the unavoidable: an HTTP server,
//! one HTTP/1.1 exchange with the Data API per statement on kept-alive connections (through
//! `hyper_util`'s pooled client, the same one `aws-sdk-rdsdata`'s default HTTPS client drives), and
//! JSON both ways. Requests are not signed (the emulator does not check SigV4; the real Data API
//! would refuse them), so SigV4 is part of what the API spends above this floor.
//!
//! `users-load --modes data-api,floor` runs the API and this floor side by side against the same
//! emulator and MariaDB; `users-load --serve-floor` is how it starts this server as a child process,
//! configured by the API's own variables (`CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME`,
//! `AWS_ENDPOINT_URL_RDS_DATA`, `HOST`/`PORT`). MySQL's SQL only, as SeaORM writes it for `users`.

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

/// The statement of `POST /add-user`, as SeaORM's `insert(..).exec_without_returning` gives it to
/// the adapter on MySQL (placeholders already named).
pub const INSERT_SQL: &str =
    "INSERT INTO `users` (`id`, `firstName`, `lastName`) VALUES (:p1, :p2, :p3)";
/// The first page of `GET /get-users` (`LIMIT :p1`).
pub const FIRST_PAGE_SQL: &str = "SELECT `users`.`id`, `users`.`firstName`, `users`.`lastName` FROM `users` ORDER BY `users`.`id` ASC LIMIT :p1";
/// A later page (`id > :p1`, `LIMIT :p2`).
pub const NEXT_PAGE_SQL: &str = "SELECT `users`.`id`, `users`.`firstName`, `users`.`lastName` FROM `users` WHERE `users`.`id` > :p1 ORDER BY `users`.`id` ASC LIMIT :p2";
/// Rows per page, as the API reads them.
pub const PAGE_ROWS: i64 = 1000;

/// Where the floor sends its statements.
#[derive(Debug, Clone)]
pub struct Config {
    /// `http://HOST:PORT/Execute` of the Data API (the emulator).
    pub execute_uri: axum::http::Uri,
    /// `resourceArn`.
    pub resource_arn: String,
    /// `secretArn`.
    pub secret_arn: String,
    /// `database`.
    pub database: String,
}

impl Config {
    /// Reads the API's variables through `lookup`.
    ///
    /// # Errors
    /// A missing variable, or an endpoint that is not an `http://` URL.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).with_context(|| format!("{name} is not set"));
        let endpoint = get("AWS_ENDPOINT_URL_RDS_DATA")?;
        ensure!(
            endpoint.starts_with("http://"),
            "the floor speaks plain HTTP only, got {endpoint:?}"
        );
        Ok(Self {
            execute_uri: format!("{}/Execute", endpoint.trim_end_matches('/'))
                .parse()
                .context("AWS_ENDPOINT_URL_RDS_DATA")?,
            resource_arn: get("CLUSTER_ARN")?,
            secret_arn: get("SECRET_ARN")?,
            database: get("DATABASE_NAME")?,
        })
    }
}

struct Floor {
    config: Config,
    http: Client<HttpConnector, Full<Bytes>>,
}

/// The floor's router. Does no I/O.
pub fn router(config: Config) -> Router {
    let http = Client::builder(TokioExecutor::new()).build_http();
    Router::new()
        .route("/health", get(health))
        .route("/add-user", post(add_user))
        .route("/get-users", get(get_users))
        .with_state(Arc::new(Floor { config, http }))
}

/// An `ExecuteStatement` request body, members as AWS names them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecuteStatementRequest<'a> {
    resource_arn: &'a str,
    secret_arn: &'a str,
    database: &'a str,
    sql: &'a str,
    parameters: &'a [SqlParameter<'a>],
    continue_after_timeout: bool,
    include_result_metadata: bool,
}

#[derive(Serialize)]
struct SqlParameter<'a> {
    name: &'static str,
    value: FieldValue<'a>,
}

#[derive(Serialize)]
enum FieldValue<'a> {
    #[serde(rename = "stringValue")]
    String(&'a str),
    #[serde(rename = "longValue")]
    Long(i64),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecuteStatementResponse<'a> {
    #[serde(default, borrow)]
    records: Vec<Vec<Field<'a>>>,
    #[serde(default)]
    number_of_records_updated: i64,
}

/// A record's field; only `stringValue` is read (every `users` column is text).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Field<'a> {
    #[serde(default, borrow)]
    string_value: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser<'a> {
    #[serde(borrow)]
    first_name: Cow<'a, str>,
    #[serde(borrow)]
    last_name: Cow<'a, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct User<'a> {
    id: &'a str,
    first_name: &'a str,
    last_name: &'a str,
}

/// A failure, answered as 500 with its text (the floor has no error vocabulary).
struct Failure(String);

impl IntoResponse for Failure {
    #[allow(
        clippy::print_stderr,
        reason = "the floor has no logger; users-load shows its stderr"
    )]
    fn into_response(self) -> Response {
        eprintln!("floor: {}", self.0);
        (StatusCode::INTERNAL_SERVER_ERROR, self.0).into_response()
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

impl Floor {
    /// Sends one `ExecuteStatement`; the answer's body, or the Data API's error as a failure.
    async fn execute(&self, sql: &str, parameters: &[SqlParameter<'_>]) -> Result<Bytes, Failure> {
        let body = serde_json::to_vec(&ExecuteStatementRequest {
            resource_arn: &self.config.resource_arn,
            secret_arn: &self.config.secret_arn,
            database: &self.config.database,
            sql,
            parameters,
            continue_after_timeout: false,
            include_result_metadata: true,
        })?;
        let request = axum::http::Request::post(self.config.execute_uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let response = self.http.request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(Failure(format!(
                "ExecuteStatement answered {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(body)
    }
}

async fn health(State(floor): State<Arc<Floor>>) -> Result<&'static str, Failure> {
    floor.execute("SELECT 1", &[]).await?;
    Ok("ok")
}

async fn add_user(State(floor): State<Arc<Floor>>, body: Bytes) -> Result<Response, Failure> {
    let user: NewUser<'_> =
        serde_json::from_slice(&body).map_err(|error| Failure(format!("invalid body: {error}")))?;
    let id = uuid::Uuid::new_v4();
    let mut id_text = uuid::Uuid::encode_buffer();
    let id = id.hyphenated().encode_lower(&mut id_text);
    let answer = floor
        .execute(
            INSERT_SQL,
            &[
                SqlParameter {
                    name: "p1",
                    value: FieldValue::String(id),
                },
                SqlParameter {
                    name: "p2",
                    value: FieldValue::String(&user.first_name),
                },
                SqlParameter {
                    name: "p3",
                    value: FieldValue::String(&user.last_name),
                },
            ],
        )
        .await?;
    let answer: ExecuteStatementResponse<'_> = serde_json::from_slice(&answer)?;
    if answer.number_of_records_updated != 1 {
        return Err(Failure(format!(
            "{} rows inserted",
            answer.number_of_records_updated
        )));
    }
    let mut out = Vec::with_capacity(50);
    out.extend_from_slice(br#"{"userId":""#);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(br#""}"#);
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

async fn get_users(State(floor): State<Arc<Floor>>) -> Result<Response, Failure> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.push(b'[');
    let mut after: Option<String> = None;
    let mut first = true;
    loop {
        let answer = match &after {
            None => {
                floor
                    .execute(
                        FIRST_PAGE_SQL,
                        &[SqlParameter {
                            name: "p1",
                            value: FieldValue::Long(PAGE_ROWS),
                        }],
                    )
                    .await?
            }
            Some(after) => {
                floor
                    .execute(
                        NEXT_PAGE_SQL,
                        &[
                            SqlParameter {
                                name: "p1",
                                value: FieldValue::String(after),
                            },
                            SqlParameter {
                                name: "p2",
                                value: FieldValue::Long(PAGE_ROWS),
                            },
                        ],
                    )
                    .await?
            }
        };
        let page: ExecuteStatementResponse<'_> = serde_json::from_slice(&answer)?;
        for record in &page.records {
            let text = |i: usize| {
                record
                    .get(i)
                    .and_then(|field| field.string_value.as_deref())
                    .ok_or_else(|| Failure(format!("column {i} is not a string")))
            };
            if !first {
                out.push(b',');
            }
            first = false;
            serde_json::to_writer(
                &mut out,
                &User {
                    id: text(0)?,
                    first_name: text(1)?,
                    last_name: text(2)?,
                },
            )?;
        }
        let full = page.records.len() as i64 == PAGE_ROWS;
        match page
            .records
            .last()
            .and_then(|r| r.first()?.string_value.as_deref())
        {
            Some(last) if full => after = Some(last.to_owned()),
            _ => break,
        }
    }
    out.push(b']');
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}
