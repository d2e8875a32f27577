//! Shared helpers for the workspace integration tests.
//!
//! - [`TestDatabase`], [`TestEmulator`] (re-exported from `test-support`, which the adapter's own
//!   tests share): a fresh database per test, and the Data API emulator in front of one.
//! - [`TestApp`]: the users API served in-process on `127.0.0.1:<ephemeral>`, wired the way `main`
//!   wires it (`api::database::open`, `api::app`, `api::serve`), with typed HTTP helpers — on a
//!   native connection, or in Data API mode through the adapter and a [`TestEmulator`].
//!
//! - [`fake_lambda`]: a fake Lambda Runtime API, to drive the `api` binary's Lambda path.
//! - [`floor`]: the article's routes served by minimal handlers over a bare HTTP client, the
//!   floor `users-load` measures the API's CPU per request against.
//!
//! Server URLs come from `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and
//! `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`). A server that cannot be
//! reached fails the test: nothing is skipped. Set `TEST_LOG=1` to see the service's logs.

#![allow(
    clippy::print_stderr,
    reason = "cleanup failures in Drop can only be reported on stderr"
)]

pub mod fake_lambda;
pub mod floor;
pub mod moto;

pub use test_support::{
    Backend, CLUSTER_ARN, SECRET_ARN, TestDatabase, TestEmulator, init_test_logging,
};

use std::net::SocketAddr;

use anyhow::{Context, Result};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::Value;
use tokio::sync::oneshot;

/// What serves the API in a test: a native connection, or the Data API adapter through the
/// emulator (MariaDB or PostgreSQL behind it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// `api` on a native SeaORM connection (SQLite: the embedded default).
    Native(Backend),
    /// `api` → `data-api` → emulator → the server.
    DataApi(Backend),
}

/// Settings of [`TestApp::spawn_data_api_with`].
#[derive(Debug, Clone)]
pub struct DataApiOptions {
    /// The emulator's limits (AWS's by default).
    pub limits: emulator::Limits,
    /// The adapter's retries: the API's (a 20 s resume budget) with 10 ms backoff by default.
    pub retry: data_api::RetryPolicy,
    /// `GET /get-users` size limit (none by default).
    pub get_users_max_bytes: Option<usize>,
}

impl Default for DataApiOptions {
    fn default() -> Self {
        Self {
            limits: emulator::Limits::default(),
            retry: data_api::RetryPolicy::default()
                .with_resume_budget(api::config::API_RESUME_BUDGET)
                .with_base_delay(std::time::Duration::from_millis(10)),
            get_users_max_bytes: None,
        }
    }
}

/// The users API served in-process on an ephemeral loopback port.
#[derive(Debug)]
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// A connection of the test's own, for checking what was stored.
    pub db: DatabaseConnection,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), api::Error>>>,
    backend: Backend,
    // Dropped last: the database (and the emulator in front of it) outlive the server.
    emulator: Option<TestEmulator>,
    database: Option<TestDatabase>,
}

impl TestApp {
    /// A fresh database on `backend`, migrated, and the API serving it.
    ///
    /// SQLite goes through the embedded default (`USERS_DATA_DIR` in a temporary directory: created and
    /// migrated at start-up); MariaDB and PostgreSQL through `DATABASE_URL`, migrated first with the
    /// migration runner as an operator would.
    pub async fn spawn(backend: Backend) -> Result<Self> {
        init_test_logging();
        let database = TestDatabase::create(backend).await?;
        let config = match backend {
            Backend::Sqlite => api::config::Database::Embedded {
                data_dir: database.sqlite_dir().context("sqlite dir")?,
            },
            Backend::MariaDb | Backend::Postgres => {
                let db = database.connect().await?;
                migration::Runner::new::<migration::Migrator>(
                    db.clone(),
                    migration::SqlLedger::new(db.clone()),
                )
                .up(None)
                .await
                .context("migrating the test database")?;
                db.close().await.ok();
                api::config::Database::Url(database.url.clone())
            }
        };
        let service_db = api::database::open(&config)
            .await
            .context("opening the database")?;
        let db = match backend {
            Backend::Sqlite => service_db.clone(),
            _ => database.connect().await?,
        };
        let mut app = Self::serve(api::AppState::new(service_db), db, backend).await?;
        app.database = Some(database);
        Ok(app)
    }

    /// The API on `stack`.
    pub async fn start(stack: Stack) -> Result<Self> {
        match stack {
            Stack::Native(backend) => Self::spawn(backend).await,
            Stack::DataApi(backend) => Self::spawn_data_api(backend).await,
        }
    }

    /// The API in Data API mode: `api` → the adapter → a [`TestEmulator`] → a fresh database on
    /// `backend` (MariaDB or PostgreSQL), migrated through the adapter first.
    pub async fn spawn_data_api(backend: Backend) -> Result<Self> {
        Self::spawn_data_api_with(backend, DataApiOptions::default()).await
    }

    /// As [`TestApp::spawn_data_api`], with `options`.
    pub async fn spawn_data_api_with(backend: Backend, options: DataApiOptions) -> Result<Self> {
        init_test_logging();
        let emulator = TestEmulator::spawn_with(backend, options.limits).await?;
        // Migrated through the Data API too, as the run-migrations function does.
        let api = emulator.data_api_with(options.retry);
        let service_db = api.connection()?;
        migration::Runner::new::<migration::Migrator>(
            migration::Target::data_api(api)?,
            migration::SqlLedger::new(service_db.clone()),
        )
        .up(None)
        .await
        .context("migrating through the Data API")?;
        let db = emulator.database.connect().await?;
        let state =
            api::AppState::new(service_db).with_get_users_max_bytes(options.get_users_max_bytes);
        let mut app = Self::serve(state, db, backend).await?;
        app.emulator = Some(emulator);
        Ok(app)
    }

    async fn serve(state: api::AppState, db: DatabaseConnection, backend: Backend) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(api::serve(listener, api::app(state), async {
            let _ = rx.await;
        }));
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            client: reqwest::Client::new(),
            db,
            shutdown: Some(tx),
            server: Some(server),
            backend,
            emulator: None,
            database: None,
        })
    }

    /// The backend under test.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The emulator in front of the database, in Data API mode.
    pub fn emulator(&self) -> Option<&TestEmulator> {
        self.emulator.as_ref()
    }

    /// `GET path` (e.g. `/users?limit=5`): the status, the headers and the JSON body.
    pub async fn get(&self, path: &str) -> Result<(u16, reqwest::header::HeaderMap, Value)> {
        let request = self.client.get(format!("{}{path}", self.base_url));
        Self::json_answer(request, &format!("GET {path}")).await
    }

    /// `POST path` with a JSON body: the status, the headers and the JSON body.
    pub async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<(u16, reqwest::header::HeaderMap, Value)> {
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .json(body);
        Self::json_answer(request, &format!("POST {path}")).await
    }

    async fn json_answer(
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<(u16, reqwest::header::HeaderMap, Value)> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .json()
            .await
            .with_context(|| format!("{what}: body is not JSON"))?;
        Ok((status, headers, body))
    }

    /// `POST /add-user` with a JSON body.
    pub async fn add_user(&self, body: &Value) -> Result<reqwest::Response> {
        Ok(self
            .client
            .post(format!("{}/add-user", self.base_url))
            .json(body)
            .send()
            .await?)
    }

    /// `POST /add-user` with raw bytes and an optional content type.
    pub async fn add_user_raw(
        &self,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<reqwest::Response> {
        self.post_raw("/add-user", content_type, body).await
    }

    /// `POST path` with raw bytes and an optional content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<reqwest::Response> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        Ok(request.send().await?)
    }

    /// `POST /add-user` over a bare TCP connection, for bodies the server refuses before reading them.
    ///
    /// A server that answers 413 closes without reading the rest of the body, so a client still
    /// writing sees a reset and HTTP clients such as reqwest report a send error instead of the
    /// answer. This writes and reads at the same time and keeps whatever arrived before the reset.
    /// Returns the status and the parsed JSON body.
    pub async fn add_user_oversized(&self, body: Vec<u8>) -> Result<(u16, Value)> {
        self.post_oversized("/add-user", body).await
    }

    /// As [`TestApp::add_user_oversized`], to `path`.
    pub async fn post_oversized(&self, path: &str, body: Vec<u8>) -> Result<(u16, Value)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let stream = tokio::net::TcpStream::connect(self.addr).await?;
        let (mut reader, mut writer) = stream.into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        let write = tokio::spawn(async move {
            // Errors are expected once the server has answered and closed.
            let _ = writer.write_all(head.as_bytes()).await;
            let _ = writer.write_all(&body).await;
        });
        let mut response = Vec::new();
        let mut chunk = [0_u8; 8192];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&chunk[..n]),
            }
        }
        write.abort();
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .with_context(|| format!("no HTTP response: {text:?}"))?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("no status in {head:?}"))?;
        anyhow::ensure!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "not JSON: {head}"
        );
        Ok((status, serde_json::from_str(body.trim())?))
    }

    /// `GET /get-users`, checked for 200 and parsed.
    pub async fn get_users(&self) -> Result<Vec<Value>> {
        let response = self
            .client
            .get(format!("{}/get-users", self.base_url))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "GET /get-users: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// Rows in `users`, counted directly in the database.
    pub async fn user_count(&self) -> Result<u64> {
        Ok(entity::prelude::Users::find().count(&self.db).await?)
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await??;
        }
        Ok(())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
