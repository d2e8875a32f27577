//! Workspace integration tests: every scenario runs on SQLite, MariaDB and PostgreSQL (the Data API
//! adapter's on MariaDB and PostgreSQL, through the emulator).

mod api;
mod data_api;
mod differential;
mod migrations;
mod migrations_dynamo;
mod migrations_entity;

/// Instantiates each `async fn scenario(Backend)` on the Data API's engines, MariaDB and PostgreSQL.
macro_rules! on_data_api_engines {
    ($($scenario:ident),* $(,)?) => {
        mod mariadb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(integration_tests::Backend::MariaDb).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(integration_tests::Backend::Postgres).await
            })*
        }
    };
}
pub(crate) use on_data_api_engines;

/// Instantiates each `async fn scenario(Backend)` once per backend, as `<backend>::<scenario>`:
/// SQLite, then the server engines as [`on_data_api_engines!`] does.
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(integration_tests::Backend::Sqlite).await
            })*
        }
        crate::on_data_api_engines!($($scenario),*);
    };
}
pub(crate) use on_every_backend;
