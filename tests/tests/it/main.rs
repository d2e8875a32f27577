//! Workspace integration tests: every scenario runs on SQLite, MariaDB and PostgreSQL (the Data API
//! adapter's on MariaDB and PostgreSQL, through the emulator); the API's also through the adapter.

mod api;
mod api_idempotency;
mod api_least_privilege;
mod api_resources;
mod load_tool;
mod migrations;
mod migrations_dry_run;
mod migrations_dynamo;
mod migrations_entity;
mod migrations_faults;
mod parity;
mod sea_orm_cli;

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

/// Instantiates each `async fn scenario(Stack)` on every stack the API runs on, as
/// `<stack>::<scenario>`: natively on `sqlite`, `mariadb` and `postgres`, and through the Data API
/// adapter and the emulator on `data_api_mariadb` and `data_api_postgres`.
macro_rules! on_every_stack {
    ($($scenario:ident),* $(,)?) => {
        crate::on_every_stack!(@mod sqlite, Native, Sqlite, $($scenario),*);
        crate::on_every_stack!(@mod mariadb, Native, MariaDb, $($scenario),*);
        crate::on_every_stack!(@mod postgres, Native, Postgres, $($scenario),*);
        crate::on_every_stack!(@mod data_api_mariadb, DataApi, MariaDb, $($scenario),*);
        crate::on_every_stack!(@mod data_api_postgres, DataApi, Postgres, $($scenario),*);
    };
    (@mod $name:ident, $stack:ident, $backend:ident, $($scenario:ident),*) => {
        mod $name {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(integration_tests::Stack::$stack(
                    integration_tests::Backend::$backend,
                ))
                .await
            })*
        }
    };
}
pub(crate) use on_every_stack;
