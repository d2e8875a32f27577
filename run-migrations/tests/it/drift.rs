//! The drift check after migrating: clean after the migrations, a column added by hand reported
//! (or failing the invocation when told to), and no check at all without the setting.

use anyhow::{Result, bail, ensure};
use integration_tests::moto::Moto;
use integration_tests::{Backend, TestEmulator};
use run_migrations::{DriftCheck, OnDrift, Setup};
use schema::{Change, Object};
use sea_orm::ConnectionTrait;

use crate::handler::{invocation, setup};

test_support::on_data_api_engines!(
    reports_no_drift_after_migrating_then_a_column_added_by_hand,
    fails_the_invocation_on_drift_only_when_told_to,
);

/// `setup` with the drift check on, through the same emulator.
fn checking(emulator: &TestEmulator, mut setup: Setup, on_drift: OnDrift) -> Setup {
    setup.drift_check = Some(DriftCheck {
        target: schema::Target::DataApiWithSdk {
            config: emulator.config(data_api::RetryPolicy::default()),
            sdk: Box::new(emulator.sdk_config()),
        },
        on_drift,
    });
    setup
}

async fn add_column_by_hand(emulator: &TestEmulator) -> Result<()> {
    let db = emulator.database.connect().await?;
    db.execute_unprepared("ALTER TABLE users ADD COLUMN nickname VARCHAR(40)")
        .await?;
    Ok(())
}

fn is_the_added_column(difference: &schema::Difference) -> bool {
    difference.table == "users"
        && difference.object == Object::Column
        && difference.name.as_deref() == Some("nickname")
        && difference.change == Change::Unexpected
}

async fn reports_no_drift_after_migrating_then_a_column_added_by_hand(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("drift-report").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let setup = checking(&emulator, setup(&emulator, moto, &table)?, OnDrift::Report);

    let first = run_migrations::handle(&setup, &serde_json::json!({}), &invocation("a")).await?;
    let Some(report) = &first.schema_check else {
        bail!("the check was asked for: {first:?}");
    };
    ensure!(
        first.applied.len() == 2 && report.clean && report.differences.is_empty(),
        "{first:?}"
    );

    add_column_by_hand(&emulator).await?;
    let second = run_migrations::handle(&setup, &serde_json::json!({}), &invocation("b")).await?;
    ensure!(
        second.status == "ok" && second.applied.is_empty(),
        "{second:?}"
    );
    let summary = serde_json::to_value(&second)?;
    let differences = &summary["schema_check"]["differences"];
    ensure!(
        summary["schema_check"]["clean"] == false
            && differences.as_array().is_some_and(|d| d.len() == 1),
        "{summary}"
    );
    let report = second.schema_check.expect("checked");
    ensure!(is_the_added_column(&report.differences[0]), "{report:?}");
    Ok(())
}

async fn fails_the_invocation_on_drift_only_when_told_to(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("drift-fail").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let off = setup(&emulator, moto, &table)?;
    run_migrations::handle(&off, &serde_json::json!({}), &invocation("a")).await?;
    add_column_by_hand(&emulator).await?;

    // Without the setting, drift goes unnoticed: no check runs.
    let unchecked = run_migrations::handle(&off, &serde_json::json!({}), &invocation("b")).await?;
    ensure!(
        unchecked.status == "ok" && unchecked.schema_check.is_none(),
        "{unchecked:?}"
    );
    ensure!(serde_json::to_value(&unchecked)?["schema_check"].is_null());

    let failing = checking(&emulator, setup(&emulator, moto, &table)?, OnDrift::Fail);
    match run_migrations::handle(&failing, &serde_json::json!({}), &invocation("c")).await {
        Err(run_migrations::Error::Drift { differences }) => {
            ensure!(
                differences.len() == 1 && is_the_added_column(&differences[0]),
                "{differences:?}"
            );
            let message = run_migrations::Error::Drift { differences }.to_string();
            ensure!(message.contains("nickname"), "{message}");
        }
        other => bail!("drift must fail the invocation with `fail`: {other:?}"),
    }
    Ok(())
}
