//! The API as its own database user, through the emulator's per-secret users: the migrations (as the
//! master user) create the user with `migration::api_user::ensure`; the API then serves every route
//! with it, keyed POSTs included, and the same user is refused DDL, updates, deletes and other tables.

use anyhow::{Context, Result, ensure};
use integration_tests::{Backend, TestEmulator};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

crate::on_data_api_engines!(the_api_user_may_only_read_and_insert_users);

const API_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:users-api";

async fn the_api_user_may_only_read_and_insert_users(backend: Backend) -> Result<()> {
    integration_tests::init_test_logging();
    // Database users are server-wide: a name of this test's own.
    let username = format!("api_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let password = format!("Pw-{}", uuid::Uuid::new_v4().simple());
    let mut secrets = emulator::secrets::Secrets::default();
    secrets.insert(
        API_SECRET_ARN,
        emulator::backend::DbUser {
            username: username.clone(),
            password: password.clone(),
        },
    );
    let emulator =
        TestEmulator::spawn_with_secrets(backend, emulator::Limits::default(), secrets).await?;
    let master = emulator.data_api();
    let master_db = master.connection()?;
    migration::Runner::new::<migration::Migrator>(
        migration::Target::data_api(master)?,
        migration::SqlLedger::new(master_db.clone()),
    )
    .up(None)
    .await
    .context("migrating as the master user")?;
    let database = emulator.config(data_api::RetryPolicy::default()).database;
    let user = migration::api_user::ApiUser {
        username: username.clone(),
        password,
    };
    let outcome = exercise(&emulator, &master_db, &database, &user).await;

    // The user is server-wide: drop it, also when the scenario failed (the database goes with the
    // emulator's TestDatabase).
    let cleanup = if backend == Backend::Postgres {
        vec![
            format!(r#"REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{username}""#),
            format!(r#"REVOKE ALL PRIVILEGES ON SCHEMA public FROM "{username}""#),
            format!(r#"REVOKE ALL PRIVILEGES ON DATABASE "{database}" FROM "{username}""#),
            format!(r#"DROP ROLE IF EXISTS "{username}""#),
        ]
    } else {
        vec![format!("DROP USER IF EXISTS '{username}'@'%'")]
    };
    for sql in cleanup {
        if let Err(error) = master_db.execute_unprepared(&sql).await {
            tracing::warn!(%error, "cleaning up {username}");
        }
    }
    outcome
}

async fn exercise(
    emulator: &TestEmulator,
    master_db: &sea_orm::DatabaseConnection,
    database: &str,
    user: &migration::api_user::ApiUser,
) -> Result<()> {
    let backend = emulator.database.backend;
    migration::api_user::ensure(master_db, database, user).await?;
    // Twice: a redeploy finds the user and leaves it as it was.
    migration::api_user::ensure(master_db, database, user).await?;

    // The API with its own secret.
    let api_db = emulator.data_api_as(API_SECRET_ARN).connection()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(api::serve(
        listener,
        api::app(api::AppState::new(api_db.clone())),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let body = json!({"firstName": "Least", "lastName": "Privilege"});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = client
            .post(format!("{base}/users"))
            .header("Idempotency-Key", "least-privilege")
            .json(&body)
            .send()
            .await?;
        ensure!(
            response.status() == 201,
            "POST /users: {}",
            response.status()
        );
        ids.push(response.json::<Value>().await?["id"].clone());
    }
    ensure!(ids[0] == ids[1], "the repeat finds the first user: {ids:?}");
    let response = client
        .post(format!("{base}/add-user"))
        .json(&body)
        .send()
        .await?;
    ensure!(
        response.status() == 200,
        "POST /add-user: {}",
        response.status()
    );
    for path in ["/get-users", "/users?limit=1", "/users/1", "/health"] {
        let response = client.get(format!("{base}{path}")).send().await?;
        ensure!(
            response.status() == 200,
            "GET {path}: {}",
            response.status()
        );
    }
    server.abort();

    // What the API's user may not do: every statement is refused by the server's grants.
    let postgres = backend == Backend::Postgres;
    for sql in [
        "DROP TABLE users",
        "DELETE FROM users",
        if postgres {
            r#"UPDATE users SET "firstName" = 'x'"#
        } else {
            "UPDATE users SET firstName = 'x'"
        },
        "CREATE TABLE api_was_here (id INT)",
        "ALTER TABLE users ADD COLUMN extra INT",
        "SELECT * FROM seaql_migrations",
        "TRUNCATE TABLE users",
    ] {
        let refused = api_db
            .execute(Statement::from_string(api_db.get_database_backend(), sql))
            .await;
        ensure!(refused.is_err(), "{backend:?}: the API's user ran {sql:?}");
    }
    let count = master_db
        .query_one(Statement::from_string(
            master_db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await?
        .context("a count")?
        .try_get_by_index::<i64>(0)?;
    ensure!(count == 3, "the seed and the two created users: {count}");

    Ok(())
}
