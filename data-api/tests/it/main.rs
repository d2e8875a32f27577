//! The adapter end to end: SeaORM → `data_api` → `aws-sdk-rdsdata` → the emulator → MariaDB /
//! PostgreSQL, every scenario on both engines: the type matrix, transactions, concurrency and
//! faults (`adapter`), and SeaORM's native driver against the adapter step by step
//! (`differential`).

mod adapter;
mod differential;
mod examples;

/// Instantiates each `async fn scenario(Backend)` on the Data API's engines, MariaDB and PostgreSQL.
macro_rules! on_data_api_engines {
    ($($scenario:ident),* $(,)?) => {
        mod mariadb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(test_support::Backend::MariaDb).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() -> anyhow::Result<()> {
                super::$scenario(test_support::Backend::Postgres).await
            })*
        }
    };
}
pub(crate) use on_data_api_engines;
