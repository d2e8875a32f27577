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

/// Commits (`true`) or rolls back `tx`; returns the `transactionStatus` or the error's code and message.
async fn end(emulator: &Emulator, tx: &str, commit: bool) -> Result<String, Failure> {
    if commit {
        emulator
            .client
            .commit_transaction()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .transaction_id(tx)
            .send()
            .await
            .map(|o| o.transaction_status().unwrap_or_default().to_owned())
            .map_err(Failure::from)
    } else {
        emulator
            .client
            .rollback_transaction()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .transaction_id(tx)
            .send()
            .await
            .map(|o| o.transaction_status().unwrap_or_default().to_owned())
            .map_err(Failure::from)
    }
}

/// `SELECT 1` inside `tx`.
async fn select_in(emulator: &Emulator, tx: &str) -> Result<(), Failure> {
    emulator
        .execute("SELECT 1")
        .transaction_id(tx)
        .send()
        .await
        .map(drop)
        .map_err(Failure::from)
}

/// An AWS error reduced to what the tests compare.
#[derive(Debug)]
struct Failure {
    code: String,
    message: String,
}

impl<E: ProvideErrorMetadata> From<E> for Failure {
    fn from(error: E) -> Self {
        Self {
            code: error.code().unwrap_or_default().to_owned(),
            message: error.message().unwrap_or_default().to_owned(),
        }
    }
}

/// The call failed with `code` (and `message`, when given).
fn expect_failure<T: std::fmt::Debug>(
    outcome: Result<T, Failure>,
    code: &str,
    message: Option<&str>,
) -> Result<()> {
    match outcome {
        Ok(value) => anyhow::bail!("expected {code}, got success {value:?}"),
        Err(failure) => {
            ensure!(failure.code == code, "expected {code}: {failure:?}");
            if let Some(message) = message {
                ensure!(
                    failure.message == message,
                    "expected {message:?}: {failure:?}"
                );
            }
            Ok(())
        }
    }
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
    let status = end(&emulator, &tx, true).await;
    ensure!(
        matches!(&status, Ok(s) if s == "Transaction Committed"),
        "{status:?}"
    );
    ensure!(count(&emulator).await? == 1);

    let tx = begin(&emulator).await?;
    emulator
        .execute("INSERT INTO t VALUES (2)")
        .transaction_id(&tx)
        .send()
        .await?;
    let status = end(&emulator, &tx, false).await;
    ensure!(
        matches!(&status, Ok(s) if s == "Rollback Complete"),
        "{status:?}"
    );
    ensure!(count(&emulator).await? == 1, "rolled-back row stored");

    // The id is gone once ended.
    expect_failure(
        select_in(&emulator, &tx).await,
        "TransactionNotFoundException",
        None,
    )?;
    expect_failure(
        end(&emulator, &tx, true).await,
        "TransactionNotFoundException",
        None,
    )?;
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
    expect_failure(
        select_in(&emulator, &tx).await,
        "TransactionNotFoundException",
        Some("Transaction may be expired"),
    )?;
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
        select_in(&emulator, &tx).await
    };
    let (slow, second) = tokio::join!(slow, second);
    slow?;
    expect_failure(
        second,
        "DatabaseErrorException",
        Some("Transaction is still running a query"),
    )?;
    // The transaction itself is still usable.
    select_in(&emulator, &tx)
        .await
        .map_err(|f| anyhow::anyhow!("{f:?}"))?;
    Ok(())
}

async fn unknown_transaction_ids_are_not_found(engine: Engine) -> Result<()> {
    let emulator = Emulator::spawn(engine).await?;
    expect_failure(
        select_in(&emulator, "nope").await,
        "TransactionNotFoundException",
        None,
    )?;
    expect_failure(
        end(&emulator, "nope", false).await,
        "TransactionNotFoundException",
        None,
    )?;
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
