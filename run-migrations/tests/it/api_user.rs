//! The API's own database user, from its secret in Secrets Manager (moto): created and granted
//! after migrating, and then, through the emulator's per-secret users, allowed to read and insert
//! users and refused DDL.

use anyhow::{Context, Result, bail, ensure};
use integration_tests::moto::Moto;
use integration_tests::{Backend, TestEmulator};
use run_migrations::ApiUserSecret;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::handler::{invocation, setup};

test_support::on_data_api_engines!(
    creates_the_api_user_from_its_secret_with_select_and_insert_only
);

fn secrets_client(moto: &Moto) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&moto.sdk_config())
}

/// A secret in moto holding `value`; its ARN.
async fn secret(moto: &Moto, value: &str) -> Result<String> {
    let created = secrets_client(moto)
        .create_secret()
        .name(format!("users-api-{}", uuid::Uuid::new_v4().simple()))
        .secret_string(value)
        .send()
        .await?;
    Ok(created.arn().context("moto returned no ARN")?.to_owned())
}

async fn creates_the_api_user_from_its_secret_with_select_and_insert_only(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("api-user").await?;
    // Database users are server-wide: a name of this test's own.
    let username = format!("api_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let password = format!("Pw-{}", uuid::Uuid::new_v4().simple());
    let arn = secret(
        moto,
        &serde_json::json!({"username": username, "password": password, "engine": "mysql"})
            .to_string(),
    )
    .await?;
    let mut secrets = emulator::secrets::Secrets::default();
    secrets.insert(
        arn.clone(),
        emulator::backend::DbUser {
            username: username.clone(),
            password,
        },
    );
    let emulator =
        TestEmulator::spawn_with_secrets(backend, emulator::Limits::default(), secrets).await?;
    let database = emulator.config(data_api::RetryPolicy::default()).database;
    let mut setup = setup(&emulator, moto, &table)?;
    setup.api_user = Some(ApiUserSecret::new(secrets_client(moto), &arn, &database));
    let master = emulator.database.connect().await?;

    let outcome = async {
        let summary =
            run_migrations::handle(&setup, &serde_json::json!({}), &invocation("a")).await?;
        ensure!(
            summary.api_user.as_deref() == Some(username.as_str()),
            "{summary:?}"
        );
        ensure!(serde_json::to_value(&summary)?["api_user"] == username.as_str());

        let api = emulator.data_api_as(&arn).connection()?;
        let insert = match backend {
            Backend::Postgres => {
                r#"INSERT INTO users (id, "firstName", "lastName") VALUES ('2', 'Ada', 'Lovelace')"#
            }
            _ => "INSERT INTO users (id, firstName, lastName) VALUES ('2', 'Ada', 'Lovelace')",
        };
        api.execute_unprepared(insert)
            .await
            .context("the API's user inserts")?;
        ensure!(count(&api).await? == 2, "the seed user and Ada");
        for refused in [
            "DROP TABLE users",
            "DELETE FROM users",
            "CREATE TABLE other (x INT)",
        ] {
            if api.execute_unprepared(refused).await.is_ok() {
                bail!("the API's user ran {refused:?}");
            }
        }
        ensure!(count(&master).await? == 2, "nothing was deleted or dropped");

        // A second deploy finds the user and sets it up again.
        let again =
            run_migrations::handle(&setup, &serde_json::json!({}), &invocation("b")).await?;
        ensure!(
            again.applied.is_empty() && again.api_user.as_deref() == Some(username.as_str()),
            "{again:?}"
        );
        Ok(())
    }
    .await;

    let cleanup = match backend {
        Backend::Postgres => vec![
            format!(r#"REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{username}""#),
            format!(r#"REVOKE ALL PRIVILEGES ON SCHEMA public FROM "{username}""#),
            format!(r#"REVOKE ALL PRIVILEGES ON DATABASE "{database}" FROM "{username}""#),
            format!(r#"DROP ROLE IF EXISTS "{username}""#),
        ],
        _ => vec![format!("DROP USER IF EXISTS '{username}'@'%'")],
    };
    for sql in cleanup {
        if let Err(error) = master.execute_unprepared(&sql).await {
            tracing::warn!(%error, "cleaning up {username}");
        }
    }
    outcome
}

async fn count(db: &DatabaseConnection) -> Result<i64> {
    let backend: DbBackend = db.get_database_backend();
    let row = db
        .query_one(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await?
        .context("a count")?;
    Ok(row.try_get("", "n")?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_secret_is_refused_without_showing_its_value() -> Result<()> {
    let moto = Moto::shared().await?;
    let arn = secret(
        moto,
        r#"{"username": "users_api", "pass": "Sup3r-secret-value"}"#,
    )
    .await?;
    let error = ApiUserSecret::new(secrets_client(moto), &arn, "my_database")
        .read()
        .await
        .expect_err("no password member");
    let message = format!("{:#}", anyhow::Error::from(error));
    ensure!(
        message.contains(&arn) && message.contains("`password`"),
        "{message}"
    );
    ensure!(!message.contains("Sup3r-secret-value"), "{message}");

    let missing = format!("{arn}-missing");
    match ApiUserSecret::new(secrets_client(moto), &missing, "my_database")
        .read()
        .await
    {
        Err(run_migrations::Error::SecretsManager { secret_arn, .. }) => {
            ensure!(secret_arn == missing);
        }
        other => bail!("a missing secret is a Secrets Manager error: {other:?}"),
    }
    Ok(())
}
