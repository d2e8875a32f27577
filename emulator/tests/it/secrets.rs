//! A secret is a database user: statements sent with it run as that user, so the server's grants
//! apply and a refused statement gets the engine's permission error as `DatabaseErrorException`.

use anyhow::{Context, Result, ensure};
use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use aws_sdk_rdsdata::types::Field;
use emulator::Limits;
use emulator::backend::DbUser;
use emulator::secrets::Secrets;

use super::{Database, Emulator, Engine, RESOURCE_ARN, SECRET_ARN, admin_execute};

const APP_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:it-app";
const BAD_PASSWORD_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:it-bad";

/// A login role on the server, dropped (after anything declared later) on drop.
struct Role {
    engine: Engine,
    name: String,
}

impl Role {
    async fn create(engine: Engine) -> Result<Self> {
        let name = format!("emu_u{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let sql = match engine {
            Engine::MySql => format!("CREATE USER '{name}'@'%' IDENTIFIED BY 'app-pw'"),
            Engine::Postgres => format!("CREATE ROLE \"{name}\" LOGIN PASSWORD 'app-pw'"),
        };
        admin_execute(engine, &engine.admin_url(), &sql).await?;
        Ok(Self { engine, name })
    }

    fn user(&self, password: &str) -> DbUser {
        DbUser {
            username: self.name.clone(),
            password: password.into(),
        }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let (engine, name) = (self.engine, self.name.clone());
        let sql = match engine {
            Engine::MySql => format!("DROP USER IF EXISTS '{name}'@'%'"),
            Engine::Postgres => format!("DROP ROLE IF EXISTS \"{name}\""),
        };
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(admin_execute(engine, &engine.admin_url(), &sql))
        })
        .join();
    }
}

async fn grants_apply(engine: Engine) -> Result<()> {
    let role = Role::create(engine).await?;
    let database = Database::create(engine).await?;
    database
        .execute(
            "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100));
             CREATE TABLE audit (id INT PRIMARY KEY)",
        )
        .await?;
    let grant = match engine {
        Engine::MySql => format!(
            "GRANT SELECT, INSERT ON `{}`.users TO '{}'@'%'",
            database.name, role.name
        ),
        Engine::Postgres => format!("GRANT SELECT, INSERT ON users TO \"{}\"", role.name),
    };
    database.execute(&grant).await?;
    let mut secrets = Secrets::default();
    secrets.insert(APP_SECRET, role.user("app-pw"));
    secrets.insert(BAD_PASSWORD_SECRET, role.user("wrong"));
    let emulator = Emulator::spawn_on(database, Limits::default(), secrets).await?;
    let as_app = |sql: &str| emulator.execute(sql).secret_arn(APP_SECRET);

    // Allowed by the grant.
    let inserted = as_app("INSERT INTO users (id, email) VALUES (1, 'a@example.com')")
        .send()
        .await
        .context("INSERT as the app user")?;
    ensure!(inserted.number_of_records_updated == 1);
    let who = as_app(match engine {
        Engine::MySql => "SELECT CURRENT_USER(), COUNT(*) FROM users",
        Engine::Postgres => "SELECT current_user::text, COUNT(*) FROM users",
    })
    .send()
    .await
    .context("SELECT as the app user")?;
    let row = &who.records()[0];
    let Field::StringValue(current) = &row[0] else {
        anyhow::bail!("current user: {row:?}");
    };
    ensure!(current.starts_with(&role.name), "ran as {current}");
    ensure!(row[1] == Field::LongValue(1), "{row:?}");

    // Refused by the server, in AWS's shape, with the engine's message.
    let refusals = [
        (
            "DELETE FROM users",
            match engine {
                Engine::MySql => "DELETE command denied to user",
                Engine::Postgres => "permission denied for table users",
            },
        ),
        (
            "SELECT id FROM audit",
            match engine {
                Engine::MySql => "SELECT command denied to user",
                Engine::Postgres => "permission denied for table audit",
            },
        ),
    ];
    for (sql, message) in refusals {
        let error = as_app(sql)
            .send()
            .await
            .err()
            .with_context(|| format!("{sql} succeeded as the app user"))?
            .into_service_error();
        ensure!(
            error.code() == Some("DatabaseErrorException"),
            "{sql}: {error:?}"
        );
        let text = error.message().unwrap_or_default();
        ensure!(text.contains(message), "{sql}: {text}");
    }

    // The cluster's own secret is still the URL's user, who may.
    emulator
        .execute("DELETE FROM users")
        .send()
        .await
        .context("DELETE with the cluster's secret")?;

    // A transaction begun with the secret runs as its user too.
    let begun = emulator
        .client
        .begin_transaction()
        .resource_arn(RESOURCE_ARN)
        .secret_arn(APP_SECRET)
        .database(&emulator.database.name)
        .send()
        .await?;
    let in_tx = as_app("DELETE FROM audit")
        .transaction_id(begun.transaction_id().unwrap_or_default())
        .send()
        .await;
    ensure!(in_tx.is_err(), "DELETE inside the app's transaction ran");

    // A secret whose password the server refuses (the test PostgreSQL trusts loopback logins, so only
    // MariaDB checks passwords here), and a secret nobody configured.
    if engine == Engine::MySql {
        let error = emulator
            .execute("SELECT 1")
            .secret_arn(BAD_PASSWORD_SECRET)
            .send()
            .await
            .err()
            .context("a wrong password logged in")?
            .into_service_error();
        ensure!(
            error.code() == Some("DatabaseErrorException")
                && error
                    .message()
                    .unwrap_or_default()
                    .contains("Access denied"),
            "wrong password: {error:?}"
        );
    }
    let error = emulator
        .execute("SELECT 1")
        .secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:unknown")
        .send()
        .await
        .err()
        .context("an unknown secret was accepted")?
        .into_service_error();
    ensure!(
        error.code() == Some("SecretsErrorException"),
        "unknown secret: {error:?}"
    );
    ensure!(SECRET_ARN != APP_SECRET);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_user_grants_apply_on_mysql() -> Result<()> {
    grants_apply(Engine::MySql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_user_grants_apply_on_postgres() -> Result<()> {
    grants_apply(Engine::Postgres).await
}
