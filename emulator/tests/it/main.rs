//! The emulator through the real `aws-sdk-rdsdata` client, on MariaDB and PostgreSQL.

mod boto3;
mod cases;
mod layering;
mod pools;
mod secrets;
mod transactions;

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_rdsdata::config::{BehaviorVersion, Credentials, Region};
use emulator::backend::Server;
use emulator::secrets::Secrets;
use emulator::transactions::Expiry;
use emulator::{AppState, Limits, Target};

pub(crate) const RESOURCE_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:it";
pub(crate) const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:it";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    MySql,
    Postgres,
}

impl Engine {
    pub(crate) fn admin_url(self) -> String {
        match self {
            Engine::MySql => std::env::var("TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into()),
            Engine::Postgres => std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        }
    }
}

/// A fresh database on `engine`, dropped on drop.
pub(crate) struct Database {
    pub(crate) engine: Engine,
    pub(crate) name: String,
    pub(crate) url: String,
    admin: String,
}

fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    format!("{}/{name}", &url[..path_start])
}

impl Database {
    pub(crate) async fn create(engine: Engine) -> Result<Self> {
        let name = format!("emu_{}", uuid::Uuid::new_v4().simple());
        let admin = engine.admin_url();
        let sql = match engine {
            Engine::MySql => format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
            Engine::Postgres => format!("CREATE DATABASE \"{name}\""),
        };
        admin_execute(engine, &admin, &sql).await?;
        let url = with_database(&admin, &name);
        Ok(Self {
            engine,
            name,
            url,
            admin,
        })
    }

    /// Runs setup SQL directly (not through the emulator).
    pub(crate) async fn execute(&self, sql: &str) -> Result<()> {
        admin_execute(self.engine, &self.url, sql).await
    }
}

pub(crate) async fn admin_execute(engine: Engine, url: &str, sql: &str) -> Result<()> {
    // A one-connection pool rather than a bare connection: `&Pool` avoids sqlx's higher-ranked
    // `Executor` bound, which makes futures holding `&mut Connection` non-`Send` for `spawn`.
    match engine {
        Engine::MySql => {
            let pool = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            sqlx::raw_sql(sql)
                .execute(&pool)
                .await
                .with_context(|| sql.to_owned())?;
            pool.close().await;
        }
        Engine::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            sqlx::raw_sql(sql)
                .execute(&pool)
                .await
                .with_context(|| sql.to_owned())?;
            pool.close().await;
        }
    }
    Ok(())
}

impl Drop for Database {
    fn drop(&mut self) {
        let (engine, admin, name) = (self.engine, self.admin.clone(), self.name.clone());
        let sql = match engine {
            Engine::MySql => format!("DROP DATABASE IF EXISTS `{name}`"),
            Engine::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        };
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(admin_execute(engine, &admin, &sql))
        })
        .join();
    }
}

/// The emulator on an ephemeral port in front of `database`, and an SDK client pointed at it.
pub(crate) struct Emulator {
    pub(crate) client: aws_sdk_rdsdata::Client,
    pub(crate) database: Database,
    pub(crate) addr: std::net::SocketAddr,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Emulator {
    pub(crate) async fn spawn(engine: Engine) -> Result<Self> {
        Self::spawn_with(engine, Limits::default()).await
    }

    pub(crate) async fn spawn_with(engine: Engine, limits: Limits) -> Result<Self> {
        Self::spawn_on(Database::create(engine).await?, limits, Secrets::default()).await
    }

    /// The emulator in front of an existing `database`, accepting `secrets` too.
    pub(crate) async fn spawn_on(
        database: Database,
        limits: Limits,
        secrets: Secrets,
    ) -> Result<Self> {
        let target = Target {
            resource_arn: RESOURCE_ARN.into(),
            secret_arn: SECRET_ARN.into(),
            server: Server::new(&database.url)?,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(vec![target], limits).with_secrets(secrets);
        tokio::spawn(emulator::run(listener, state.clone(), async {
            let _ = rx.await;
        }));
        let config = aws_sdk_rdsdata::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(format!("http://{addr}"))
            .build();
        Ok(Self {
            client: aws_sdk_rdsdata::Client::from_conf(config),
            database,
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    /// The running emulator's state (fault settings).
    pub(crate) fn admin_state(&self) -> &AppState {
        &self.state
    }

    /// An ExecuteStatement builder with the ARNs and database filled in.
    pub(crate) fn execute(
        &self,
        sql: &str,
    ) -> aws_sdk_rdsdata::operation::execute_statement::builders::ExecuteStatementFluentBuilder
    {
        self.client
            .execute_statement()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database.name)
            .sql(sql)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Short expiry for transaction tests.
pub(crate) fn quick_expiry() -> Limits {
    Limits {
        expiry: Expiry {
            idle: Duration::from_secs(1),
            max_lifetime: Duration::from_secs(60),
        },
        ..Limits::default()
    }
}
