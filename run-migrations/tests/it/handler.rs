//! One invocation at a time: two at once apply each migration once, a failed migration or a
//! deadline that leaves migrations pending fails the invocation, a CloudFormation `Delete` runs
//! nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use integration_tests::moto::Moto;
use integration_tests::{Backend, TestEmulator};
use migration::{DynamoLedger, Ledger, LockConfig, RunOptions, Target};
use sea_orm::{ConnectionTrait, Statement};

test_support::on_data_api_engines!(
    applies_once_when_invoked_twice_at_once,
    fails_the_invocation_when_a_migration_fails,
    fails_the_invocation_when_the_deadline_leaves_migrations_pending,
);

const CREATE: &str = "m20261126_000001_create_users_table";
const SEED: &str = "m20261126_000002_seed_users";

pub(crate) fn setup(
    emulator: &TestEmulator,
    moto: &Moto,
    table: &str,
) -> Result<run_migrations::Setup> {
    Ok(run_migrations::Setup {
        target: Target::data_api(emulator.data_api())?,
        // A 20 s lease, and a wait long enough for the other invocation to finish.
        ledger: DynamoLedger::new(moto.client(), table).with_lock_config(LockConfig::with_lease(
            Duration::from_secs(20),
            Duration::from_secs(120),
            Duration::ZERO,
        )),
        options: RunOptions::default(),
        drift_check: None,
        api_user: None,
    })
}

pub(crate) fn invocation(id: &str) -> run_migrations::Invocation {
    run_migrations::Invocation {
        request_id: id.into(),
        function_name: "run-migrations".into(),
        deadline: Some(std::time::SystemTime::now() + Duration::from_secs(180)),
    }
}

async fn applies_once_when_invoked_twice_at_once(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("lambda").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let setup = setup(&emulator, moto, &table)?;
    let event = serde_json::json!({"RequestType": "Create"});
    let (first, second) = (invocation("req-a"), invocation("req-b"));
    let (a, b) = tokio::join!(
        run_migrations::handle(&setup, &event, &first),
        run_migrations::handle(&setup, &event, &second),
    );
    let (a, b) = (a?, b?);
    let mut applied = [a.applied.clone(), b.applied.clone()].concat();
    applied.sort();
    ensure!(applied == [CREATE, SEED], "{a:?} {b:?}");
    ensure!(a.status == "ok" && b.status == "ok", "{a:?} {b:?}");
    ensure!(a.runner_id == "lambda:run-migrations:req-a");
    let summary = serde_json::to_value(&a)?;
    ensure!(summary["pending"] == serde_json::json!([]), "{summary}");
    let rows = entries(&setup.ledger).await?;
    let runners: Vec<_> = rows.values().filter_map(|e| e.runner_id.clone()).collect();
    ensure!(
        runners
            .iter()
            .all(|r| r.starts_with("lambda:run-migrations:req-")),
        "{runners:?}"
    );
    let db = emulator.database.connect().await?;
    let users = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM users",
        ))
        .await?;
    ensure!(users.len() == 1);
    let delete = run_migrations::handle(
        &setup,
        &serde_json::json!({"RequestType": "Delete"}),
        &invocation("req-c"),
    )
    .await?;
    ensure!(delete.status == "skipped" && delete.applied.is_empty());
    Ok(())
}

async fn fails_the_invocation_when_the_deadline_leaves_migrations_pending(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("lambda-deadline").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let setup = setup(&emulator, moto, &table)?;
    // 50 s left: no migration fits (10 s estimate + 45 s margin), so nothing starts.
    let short = run_migrations::Invocation {
        deadline: Some(std::time::SystemTime::now() + Duration::from_secs(50)),
        ..invocation("req-short")
    };
    let outcome = run_migrations::handle(&setup, &serde_json::json!({}), &short).await;
    match outcome {
        Err(run_migrations::Error::Incomplete { applied, pending }) => {
            ensure!(
                applied.is_empty() && pending == [CREATE, SEED],
                "{pending:?}"
            );
        }
        other => bail!("pending migrations must fail the invocation: {other:?}"),
    }
    // With the usual 180 s, the next invocation finishes the job.
    let summary =
        run_migrations::handle(&setup, &serde_json::json!({}), &invocation("req-next")).await?;
    ensure!(
        summary.status == "ok" && summary.applied == [CREATE, SEED],
        "{summary:?}"
    );
    Ok(())
}

async fn fails_the_invocation_when_a_migration_fails(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("lambda-fail").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.database.connect().await?;
    db.execute_unprepared("CREATE TABLE users (x INT)").await?;
    let setup = setup(&emulator, moto, &table)?;
    let outcome = run_migrations::handle(&setup, &serde_json::json!({}), &invocation("req")).await;
    match outcome {
        Err(error) => {
            let message = format!("{:#}", anyhow::Error::from(error));
            ensure!(
                message.contains(CREATE) && message.contains("has no column `id`"),
                "{message}"
            );
        }
        Ok(summary) => bail!("a failed migration must fail the invocation: {summary:?}"),
    }
    Ok(())
}

async fn entries(ledger: &DynamoLedger) -> Result<BTreeMap<String, migration::LedgerEntry>> {
    Ok(ledger
        .entries()
        .await?
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect())
}
