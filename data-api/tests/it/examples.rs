//! The crate's `examples/` run against the emulator on both engines: each example's `run` is what
//! its `main` calls with a `DataApi` from the environment.

#![allow(
    dead_code,
    reason = "each example's main is compiled but not called here"
)]

#[path = "../../examples/auto_paused.rs"]
mod auto_paused;
#[path = "../../examples/crud.rs"]
mod crud;
#[path = "../../examples/keyset.rs"]
mod keyset;
#[path = "../../examples/lambda_handler.rs"]
mod lambda_handler;
#[path = "../../examples/transaction.rs"]
mod transaction;

use anyhow::{Result, ensure};
use test_support::{Backend, TestEmulator};

crate::on_data_api_engines!(
    crud_example_runs,
    transaction_example_keeps_what_the_savepoint_did_not_roll_back,
    keyset_example_reads_past_the_response_limit,
    auto_paused_example_tells_retry_later,
    lambda_handler_example_answers_and_says_503_while_paused,
);

async fn crud_example_runs(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let left = crud::run(&emulator.data_api()).await?;
    ensure!(left.is_empty(), "{left:?}");
    Ok(())
}

async fn transaction_example_keeps_what_the_savepoint_did_not_roll_back(
    backend: Backend,
) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let stored = transaction::run(&emulator.data_api())
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    ensure!(stored == [1, 3], "{stored:?}");
    Ok(())
}

async fn keyset_example_reads_past_the_response_limit(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    // 500 rows of 4 KiB: about 2 MiB, over the 1 MiB limit for one query.
    let items = keyset::run(&emulator.data_api(), 500, 4096).await?;
    ensure!(items.len() == 500, "{}", items.len());
    ensure!(
        items.iter().map(|i| i.id).eq(1..=500),
        "keys out of order or missing"
    );
    Ok(())
}

async fn auto_paused_example_tells_retry_later(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api_with(
        auto_paused::impatient().with_resume_budget(std::time::Duration::from_millis(200)),
    );
    ensure!(auto_paused::run(&api).await? == auto_paused::Outcome::Done);
    emulator.faults().pause();
    let outcome = auto_paused::run(&api).await?;
    ensure!(outcome == auto_paused::Outcome::RetryLater, "{outcome:?}");
    Ok(())
}

async fn lambda_handler_example_answers_and_says_503_while_paused(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api_with(
        data_api::RetryPolicy::default().with_resume_budget(std::time::Duration::from_millis(200)),
    );
    let db = api.connection()?;
    let request = || lambda_http::Request::new(lambda_http::Body::Empty);
    let ok = lambda_handler::handler(&db, request())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(ok.status() == 200, "{ok:?}");
    emulator.faults().pause();
    let paused = lambda_handler::handler(&db, request())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(
        paused.status() == 503 && paused.headers().contains_key("retry-after"),
        "{paused:?}"
    );
    Ok(())
}
