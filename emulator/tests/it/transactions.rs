//! Transactions through the SDK: commit, rollback, isolation from other calls, expiry, v2's
//! one-statement-at-a-time rule, unknown ids.

use anyhow::{Result, ensure};
use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use aws_sdk_rdsdata::types::Field;

use super::{Emulator, Engine, RESOURCE_ARN, SECRET_ARN, quick_expiry};

async fn count(emulator: &Emulator) -> Result<i64> {
    let output = emulator
        .execute("SELECT COUNT(*) AS n FROM t")
        .send()
        .await?;
    match output.records().first().and_then(|r| r.first()) {
        Some(Field::LongValue(n)) => Ok(*n),
        other => anyhow::bail!("count returned {other:?}"),
    }
}

async fn begin(emulator: &Emulator) -> Result<String> {
    let output = emulator
        .client
        .begin_transaction()
        .resource_arn(RESOURCE_ARN)
        .secret_arn(SECRET_ARN)
        .database(&emulator.database.name)
        .send()
        .await?;
    Ok(output.transaction_id().unwrap_or_default().to_owned())
}

async fn commit_and_rollback(engine: Engine) -> Result<()> {
    let emulator = Emulator::spawn(engine).await?;
    emulator
        .database
        .execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await?;

    let tx = begin(&emulator).await?;
    ensure!(!tx.is_empty() && tx.len() <= 192, "{tx}");
    emulator
        .execute("INSERT INTO t VALUES (1)")
        .transaction_id(&tx)
        .send()
        .await?;
    ensure!(
        count(&emulator).await? == 0,
        "uncommitted row visible outside the transaction"
    );
    let done = emulator
        .client
        .commit_transaction()
        .resource_arn(RESOURCE_ARN)
        .secret_arn(SECRET_ARN)
        .transaction_id(&tx)
        .send()
        .await?;
    ensure!(done.transaction_status() == Some("Transaction Committed"));
    ensure!(count(&emulator).await? == 1);

    let tx = begin(&emulator).await?;
    emulator
        .execute("INSERT INTO t VALUES (2)")
        .transaction_id(&tx)
        .send()
        .await?;
    let done = emulator
        .client
        .rollback_transaction()
        .resource_arn(RESOURCE_ARN)
        .secret_arn(SECRET_ARN)
        .transaction_id(&tx)
        .send()
        .await?;
    ensure!(done.transaction_status() == Some("Rollback Complete"));
    ensure!(count(&emulator).await? == 1, "rolled-back row stored");

    // The id is gone once ended.
    let error = emulator
        .execute("SELECT 1")
        .transaction_id(&tx)
        .send()
        .await
        .expect_err("ended");
    ensure!(
        error.code() == Some("TransactionNotFoundException"),
        "{error:?}"
    );
    let error = emulator
        .client
        .commit_transaction()
        .resource_arn(RESOURCE_ARN)
        .secret_arn(SECRET_ARN)
        .transaction_id(&tx)
        .send()
        .await
        .expect_err("ended");
    ensure!(
        error.code() == Some("TransactionNotFoundException"),
        "{error:?}"
    );
    Ok(())
}

async fn idle_transactions_expire_and_roll_back(engine: Engine) -> Result<()> {
    let emulator = Emulator::spawn_with(engine, quick_expiry()).await?;
    emulator
        .database
        .execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await?;
    let tx = begin(&emulator).await?;
    emulator
        .execute("INSERT INTO t VALUES (1)")
        .transaction_id(&tx)
        .send()
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    let error = emulator
        .execute("SELECT 1")
        .transaction_id(&tx)
        .send()
        .await
        .expect_err("expired");
    ensure!(
        error.code() == Some("TransactionNotFoundException"),
        "{error:?}"
    );
    ensure!(
        error.message() == Some("Transaction may be expired"),
        "{error:?}"
    );
    ensure!(
        count(&emulator).await? == 0,
        "expired transaction's row was kept"
    );
    Ok(())
}

async fn a_second_statement_in_a_busy_transaction_is_refused(engine: Engine) -> Result<()> {
    let emulator = Emulator::spawn(engine).await?;
    let tx = begin(&emulator).await?;
    let sleep = match engine {
        Engine::MySql => "SELECT SLEEP(1)",
        Engine::Postgres => "SELECT pg_sleep(1)",
    };
    let slow = emulator.execute(sleep).transaction_id(&tx).send();
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        emulator
            .execute("SELECT 1")
            .transaction_id(&tx)
            .send()
            .await
    };
    let (slow, second) = tokio::join!(slow, second);
    slow?;
    let error = second.expect_err("concurrent statement refused");
    ensure!(error.code() == Some("DatabaseErrorException"), "{error:?}");
    ensure!(
        error.message() == Some("Transaction is still running a query"),
        "{error:?}"
    );
    // The transaction itself is still usable.
    emulator
        .execute("SELECT 1")
        .transaction_id(&tx)
        .send()
        .await?;
    Ok(())
}

async fn unknown_transaction_ids_are_not_found(engine: Engine) -> Result<()> {
    let emulator = Emulator::spawn(engine).await?;
    let error = emulator
        .execute("SELECT 1")
        .transaction_id("nope")
        .send()
        .await
        .expect_err("unknown");
    ensure!(
        error.code() == Some("TransactionNotFoundException"),
        "{error:?}"
    );
    let error = emulator
        .client
        .rollback_transaction()
        .resource_arn(RESOURCE_ARN)
        .secret_arn(SECRET_ARN)
        .transaction_id("nope")
        .send()
        .await
        .expect_err("unknown");
    ensure!(
        error.code() == Some("TransactionNotFoundException"),
        "{error:?}"
    );
    Ok(())
}

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod mysql { $(#[tokio::test] async fn $name() -> anyhow::Result<()> { super::$name(super::Engine::MySql).await })* }
        mod postgres { $(#[tokio::test] async fn $name() -> anyhow::Result<()> { super::$name(super::Engine::Postgres).await })* }
    };
}

on_both_engines!(
    commit_and_rollback,
    idle_transactions_expire_and_roll_back,
    a_second_statement_in_a_busy_transaction_is_refused,
    unknown_transaction_ids_are_not_found,
);
