//! Shared helpers for the workspace integration tests.
//!
//! - [`TestDatabase`]: a fresh database per test on one of the three native backends — a temporary
//!   SQLite file, or a uniquely named database on the local MariaDB or PostgreSQL server, dropped when
//!   the value is dropped (even when the test panics).
//! - [`TestApp`]: the users API served in-process on `127.0.0.1:<ephemeral>`, wired the way `main`
//!   wires it (`api::database::open`, `api::app`, `api::serve`), with typed HTTP helpers — on a
//!   native connection, or in Data API mode through the adapter and a [`TestEmulator`].
//! - [`TestEmulator`]: the Data API emulator in-process in front of a [`TestDatabase`], and a
//!   [`data_api::DataApi`] pointed at it through a real `aws-sdk-rdsdata` client.
//!
//! Server URLs come from `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and
//! `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`). A server that cannot be
//! reached fails the test: nothing is skipped. Set `TEST_LOG=1` to see the service's logs.

#![allow(
    clippy::print_stderr,
    reason = "cleanup failures in Drop can only be reported on stderr"
)]

pub mod moto;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;

use anyhow::{Context, Result};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::Value;
use tokio::sync::oneshot;

/// One of the three native backends the suite runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory (the embedded default's engine).
    Sqlite,
    /// The local MariaDB, standing in for Aurora MySQL.
    MariaDb,
    /// The local PostgreSQL, standing in for Aurora PostgreSQL.
    Postgres,
}

fn mysql_admin_url() -> String {
    std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `scheme://user@host:port/db?query` → `scheme://user@host:port/<name>` (query kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Installs a test-writer subscriber once when `TEST_LOG` is set; silent otherwise.
pub fn init_test_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_test_writer()
                .try_init();
        }
    });
}

/// What serves the API in a test: a native connection, or the Data API adapter through the
/// emulator (MariaDB or PostgreSQL behind it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// `api` on a native SeaORM connection (SQLite: the embedded default).
    Native(Backend),
    /// `api` → `data-api` → emulator → the server.
    DataApi(Backend),
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its backend.
    pub backend: Backend,
    /// A URL `migration::connect` / `DATABASE_URL` accepts.
    pub url: String,
    /// For server backends: the database's unique name and the admin URL that drops it.
    server: Option<(String, String)>,
    /// For SQLite: the directory holding the file (removed on drop).
    dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Creates a fresh, empty database.
    ///
    /// On MariaDB the database's default character set is `latin1`, the way an unconfigured server
    /// may be set up, so tests prove the migrations choose `utf8mb4` themselves.
    pub async fn create(backend: Backend) -> Result<Self> {
        let name = format!("it_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().context("creating a temporary directory")?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("test.sqlite3").display()
                );
                Ok(Self {
                    backend,
                    url,
                    server: None,
                    dir: Some(dir),
                })
            }
            Backend::MariaDb | Backend::Postgres => {
                let (admin, create) = if backend == Backend::MariaDb {
                    let create = format!("CREATE DATABASE `{name}` CHARACTER SET latin1");
                    (mysql_admin_url(), create)
                } else {
                    (postgres_admin_url(), format!("CREATE DATABASE \"{name}\""))
                };
                admin_execute(&admin, &create).await?;
                let url = with_database(&admin, &name);
                Ok(Self {
                    backend,
                    url,
                    server: Some((name, admin)),
                    dir: None,
                })
            }
        }
    }

    /// Connects the way the service and the migration binary do.
    pub async fn connect(&self) -> Result<DatabaseConnection> {
        migration::connect(&self.url, None)
            .await
            .with_context(|| format!("connecting to the {:?} test database", self.backend))
    }

    /// The SQLite file's directory (SQLite only).
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_owned())
    }
}

async fn admin_execute(admin_url: &str, sql: &str) -> Result<()> {
    let db = sea_orm::Database::connect(admin_url)
        .await
        .with_context(|| {
            format!("connecting to {admin_url} (is the server running? scripts/test starts it)")
        })?;
    db.execute_unprepared(sql)
        .await
        .with_context(|| sql.to_owned())?;
    db.close().await.ok();
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((name, admin)) = self.server.take() else {
            return;
        };
        let sql = match self.backend {
            Backend::MariaDb => format!("DROP DATABASE IF EXISTS `{name}`"),
            // FORCE: the service's pool may still hold idle connections.
            _ => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: use a runtime of our own
        // on a separate thread and wait for it, so the database is gone before the test ends.
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(admin_execute(&admin, &sql))
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("warning: dropping test database {name}: {error:#}"),
            Err(_) => eprintln!("warning: dropping test database {name} panicked"),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_or_adds_the_path() {
        for (url, expected) in [
            (
                "mysql://root@127.0.0.1:3306",
                "mysql://root@127.0.0.1:3306/x",
            ),
            (
                "mysql://root@127.0.0.1:3306/",
                "mysql://root@127.0.0.1:3306/x",
            ),
            ("postgres://p@h:5432/test", "postgres://p@h:5432/x"),
            (
                "postgres://p@h/test?sslmode=disable",
                "postgres://p@h/x?sslmode=disable",
            ),
        ] {
            assert_eq!(with_database(url, "x"), expected, "{url}");
        }
    }
}

/// The emulator's cluster ARN in tests.
pub const CLUSTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:tests";
/// The emulator's secret ARN in tests.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tests";

/// The Data API emulator on an ephemeral loopback port, in front of a fresh database.
#[derive(Debug)]
pub struct TestEmulator {
    /// The database behind it (MariaDB or PostgreSQL).
    pub database: TestDatabase,
    /// Its address.
    pub addr: SocketAddr,
    state: emulator::AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestEmulator {
    /// Starts an emulator with AWS's limits in front of a new database on `backend`.
    pub async fn spawn(backend: Backend) -> Result<Self> {
        Self::spawn_with(backend, emulator::Limits::default()).await
    }

    /// As [`TestEmulator::spawn`], with `limits`.
    pub async fn spawn_with(backend: Backend, limits: emulator::Limits) -> Result<Self> {
        Self::spawn_with_secrets(backend, limits, emulator::secrets::Secrets::default()).await
    }

    /// As [`TestEmulator::spawn_with`], also accepting `secrets` (secret ARN → database user), as
    /// the secrets of other database users are accepted on AWS.
    pub async fn spawn_with_secrets(
        backend: Backend,
        limits: emulator::Limits,
        secrets: emulator::secrets::Secrets,
    ) -> Result<Self> {
        anyhow::ensure!(
            backend != Backend::Sqlite,
            "the Data API has no SQLite engine"
        );
        let database = TestDatabase::create(backend).await?;
        let target = emulator::Target {
            resource_arn: CLUSTER_ARN.into(),
            secret_arn: SECRET_ARN.into(),
            server: emulator::backend::Server::new(&database.url)?,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = emulator::AppState::new(vec![target], limits).with_secrets(secrets);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(emulator::run(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Ok(Self {
            database,
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    /// The emulator's fault settings.
    pub fn faults(&self) -> &emulator::faults::Faults {
        self.state.faults()
    }

    /// The adapter's settings for this emulator and database, with `retry`.
    pub fn config(&self, retry: data_api::RetryPolicy) -> data_api::Config {
        self.config_as(SECRET_ARN, retry)
    }

    /// The adapter pointed at this emulator, signing in with `secret_arn` (one of the secrets given to
    /// [`TestEmulator::spawn_with_secrets`]) instead of the master secret.
    pub fn data_api_as(&self, secret_arn: &str) -> data_api::DataApi {
        let retry =
            data_api::RetryPolicy::default().with_base_delay(std::time::Duration::from_millis(10));
        data_api::DataApi::with_sdk_config(&self.sdk_config(), self.config_as(secret_arn, retry))
    }

    fn config_as(&self, secret_arn: &str, retry: data_api::RetryPolicy) -> data_api::Config {
        let name = self
            .database
            .url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let engine = match self.database.backend {
            Backend::Postgres => data_api::Engine::Postgres,
            _ => data_api::Engine::MySql,
        };
        data_api::Config::new(CLUSTER_ARN, secret_arn, name, engine).with_retry(retry)
    }

    /// The adapter pointed at this emulator, as `AWS_ENDPOINT_URL_RDS_DATA` would point it, with
    /// short retry delays.
    pub fn data_api(&self) -> data_api::DataApi {
        self.data_api_with(
            data_api::RetryPolicy::default().with_base_delay(std::time::Duration::from_millis(10)),
        )
    }

    /// As [`TestEmulator::data_api`], with `retry`.
    pub fn data_api_with(&self, retry: data_api::RetryPolicy) -> data_api::DataApi {
        data_api::DataApi::with_sdk_config(&self.sdk_config(), self.config(retry))
    }

    /// A plain `aws-sdk-rdsdata` client of this emulator, to look at the Data API's side of what the
    /// adapter did (a transaction id it should have ended, …).
    pub fn rds_client(&self) -> aws_sdk_rdsdata::Client {
        aws_sdk_rdsdata::Client::new(&self.sdk_config())
    }

    /// The AWS settings a client of this emulator uses: its endpoint, test credentials.
    fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDTEST", "secret", None, None, "tests",
                    ),
                ),
            )
            .endpoint_url(format!("http://{}", self.addr))
            .build()
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
