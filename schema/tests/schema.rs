//! The `schema` binary against real servers: `generate entity` byte-identical to
//! `sea-orm-cli generate entity` on MariaDB and PostgreSQL, natively and through the Data API
//! emulator; `check` finds no drift after the migrations and names each kind of drift, both
//! engines, through the emulator.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};
use integration_tests::{Backend, TestDatabase, TestEmulator};
use migration::{Migrator, Runner, SqlLedger};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

/// The options README "Entities from the migrated schema" gives.
const ENTITY_OPTIONS: &[&str] = &[
    "--with-serde",
    "both",
    "--model-extra-attributes",
    r#"serde(rename_all = "camelCase")"#,
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// `schema <args>` with exactly the target variables in `env`.
fn schema(args: &[&str], env: &[(&str, String)]) -> Result<Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schema"));
    for variable in [
        "DATABASE_URL",
        "DATABASE_SCHEMA",
        "CLUSTER_ARN",
        "SECRET_ARN",
        "DATABASE_NAME",
        "DATABASE_ENGINE",
        "AWS_ENDPOINT_URL_RDS_DATA",
    ] {
        command.env_remove(variable);
    }
    command.env("RUST_LOG", "warn");
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    Ok(command.args(args).output()?)
}

fn native(database: &TestDatabase) -> Vec<(&'static str, String)> {
    vec![("DATABASE_URL", database.url.clone())]
}

/// The Data API through `emulator`, as a deployed tool is configured.
fn through_data_api(emulator: &TestEmulator) -> Vec<(&'static str, String)> {
    let config = emulator.config(data_api::RetryPolicy::default());
    vec![
        ("CLUSTER_ARN", config.resource_arn),
        ("SECRET_ARN", config.secret_arn),
        ("DATABASE_NAME", config.database),
        (
            "DATABASE_ENGINE",
            match config.engine {
                data_api::Engine::Postgres => "postgres".to_owned(),
                _ => "mysql".to_owned(),
            },
        ),
        (
            "AWS_ENDPOINT_URL_RDS_DATA",
            format!("http://{}", emulator.addr),
        ),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Runner::new::<Migrator>(db.clone(), SqlLedger::new(db.clone()))
        .up(None)
        .await?;
    Ok(())
}

/// Tables beyond `users`, so generation meets keys, indexes, a foreign key and more types.
fn extra_tables(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Postgres => &[
            "CREATE TYPE mood AS ENUM ('happy', 'sad')",
            "CREATE TABLE label (id SERIAL PRIMARY KEY, user_id VARCHAR(255) NOT NULL \
             REFERENCES users (id) ON DELETE CASCADE, name VARCHAR(50) NOT NULL UNIQUE, \
             score NUMERIC(10, 2), seen_at TIMESTAMPTZ, flag BOOLEAN NOT NULL DEFAULT false, \
             mood mood, tags TEXT[], uid UUID, body JSONB, big BIGINT, small SMALLINT, \
             day DATE, note TEXT)",
            "CREATE INDEX label_user ON label (user_id)",
        ],
        _ => &[
            "CREATE TABLE label (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
             user_id VARCHAR(255) NOT NULL, name VARCHAR(50) NOT NULL, score DECIMAL(10, 2), \
             seen_at DATETIME, stamp TIMESTAMP NULL, flag BOOL NOT NULL DEFAULT 0, \
             mood ENUM('happy', 'sad'), body JSON, big BIGINT UNSIGNED, small SMALLINT, \
             day DATE, note TEXT, raw BLOB, UNIQUE KEY label_name (name), KEY label_user (user_id), \
             CONSTRAINT label_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE) \
             CHARACTER SET utf8mb4",
        ],
    }
}

/// Every file in `dir`, by name, with its bytes.
fn files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read(entry.path())?,
        ));
    }
    out.sort();
    Ok(out)
}

async fn generate_entity_is_byte_identical_to_sea_orm_cli(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.database.connect().await?;
    migrate(&db).await?;
    for sql in extra_tables(backend) {
        db.execute_unprepared(sql).await.context(*sql)?;
    }
    db.close().await?;

    let reference = tempfile::tempdir()?;
    let cli = Command::new("sea-orm-cli")
        .args(["generate", "entity", "-u", &emulator.database.url, "-o"])
        .arg(reference.path())
        .args(ENTITY_OPTIONS)
        .output()
        .context("sea-orm-cli (scripts/test installs it)")?;
    ensure!(cli.status.success(), "sea-orm-cli: {}", describe(&cli));
    let expected = files(reference.path())?;
    ensure!(
        expected.iter().map(|f| f.0.as_str()).collect::<Vec<_>>()
            == [
                "label.rs",
                "mod.rs",
                "prelude.rs",
                "sea_orm_active_enums.rs",
                "users.rs"
            ],
        "{:?}",
        expected.iter().map(|f| &f.0).collect::<Vec<_>>()
    );

    for (how, env) in [
        ("native", native(&emulator.database)),
        ("Data API", through_data_api(&emulator)),
    ] {
        let out = tempfile::tempdir()?;
        let dir = out.path().to_str().context("utf-8 temp path")?;
        let mut args = vec!["generate", "entity", "-o", dir];
        args.extend_from_slice(ENTITY_OPTIONS);
        let output = schema(&args, &env)?;
        ensure!(
            output.status.success(),
            "{backend:?} {how}: {}",
            describe(&output)
        );
        let generated = files(out.path())?;
        for ((name, want), (got_name, got)) in expected.iter().zip(&generated) {
            ensure!(
                name == got_name && want == got,
                "{backend:?} {how}: {got_name} differs from sea-orm-cli's {name}:\n\
                 --- sea-orm-cli ---\n{}\n--- schema ---\n{}",
                text(want),
                text(got)
            );
        }
        ensure!(
            generated.len() == expected.len(),
            "{backend:?} {how}: {:?}",
            generated.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// `schema check --json` through the Data API: its exit code and differences as
/// `(object, table, name, change)`.
/// A difference as `(object, table, name, change)`.
type Found = (String, String, String, String);

fn check(emulator: &TestEmulator) -> Result<(Option<i32>, Vec<Found>)> {
    let output = schema(&["check", "--json"], &through_data_api(emulator))?;
    let report: Value =
        serde_json::from_slice(&output.stdout).with_context(|| describe(&output))?;
    let differences = report["differences"]
        .as_array()
        .context("differences")?
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (s("object"), s("table"), s("name"), s("change"))
        })
        .collect();
    ensure!(
        report["clean"] == json!(output.status.code() == Some(0)),
        "{}",
        describe(&output)
    );
    Ok((output.status.code(), differences))
}

fn difference(
    object: &str,
    table: &str,
    name: &str,
    change: &str,
) -> (String, String, String, String) {
    (object.into(), table.into(), name.into(), change.into())
}

async fn check_reports_each_kind_of_drift(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.database.connect().await?;
    migrate(&db).await?;
    let pg = backend == Backend::Postgres;

    // No drift after `up` (the ledger's own table is not part of the schema).
    ensure!(check(&emulator)? == (Some(0), Vec::new()));
    let plain = schema(&["check"], &through_data_api(&emulator))?;
    ensure!(
        plain.status.code() == Some(0) && text(&plain.stdout).starts_with("No drift"),
        "{}",
        describe(&plain)
    );

    // A column added by hand.
    db.execute_unprepared("ALTER TABLE users ADD COLUMN age INT")
        .await?;
    ensure!(
        check(&emulator)?
            == (
                Some(3),
                vec![difference("column", "users", "age", "unexpected")]
            )
    );
    let plain = schema(&["check"], &through_data_api(&emulator))?;
    ensure!(
        plain.status.code() == Some(3) && text(&plain.stdout).contains("users.age: column"),
        "{}",
        describe(&plain)
    );
    db.execute_unprepared("ALTER TABLE users DROP COLUMN age")
        .await?;

    // A changed type.
    db.execute_unprepared(if pg {
        r#"ALTER TABLE users ALTER COLUMN "lastName" TYPE VARCHAR(100)"#
    } else {
        "ALTER TABLE users MODIFY lastName VARCHAR(100) NOT NULL"
    })
    .await?;
    ensure!(
        check(&emulator)?
            == (
                Some(3),
                vec![difference("column", "users", "lastName", "type")]
            )
    );
    db.execute_unprepared(if pg {
        r#"ALTER TABLE users ALTER COLUMN "lastName" TYPE VARCHAR(255)"#
    } else {
        "ALTER TABLE users MODIFY lastName VARCHAR(255) NOT NULL"
    })
    .await?;
    ensure!(check(&emulator)?.0 == Some(0), "restored");

    // A dropped index: the migrations' one index is the primary key's.
    db.execute_unprepared(if pg {
        "ALTER TABLE users DROP CONSTRAINT users_pkey"
    } else {
        "ALTER TABLE users DROP PRIMARY KEY"
    })
    .await?;
    let mut expected = if pg {
        vec![
            difference("index", "users", "users_pkey", "missing"),
            difference("constraint", "users", "users_pkey", "missing"),
        ]
    } else {
        vec![
            difference("index", "users", "PRIMARY", "missing"),
            difference("constraint", "users", "PRIMARY", "missing"),
        ]
    };
    let (code, mut found) = check(&emulator)?;
    found.sort();
    expected.sort();
    ensure!(code == Some(3) && found == expected, "{found:?}");
    db.execute_unprepared("ALTER TABLE users ADD PRIMARY KEY (id)")
        .await?;
    ensure!(check(&emulator)?.0 == Some(0), "restored");

    // An extra table.
    db.execute_unprepared("CREATE TABLE made_by_hand (n INT)")
        .await?;
    ensure!(
        check(&emulator)?
            == (
                Some(3),
                vec![difference("table", "made_by_hand", "", "unexpected")]
            )
    );
    db.close().await?;
    Ok(())
}

macro_rules! on_both_engines {
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

on_both_engines!(
    generate_entity_is_byte_identical_to_sea_orm_cli,
    check_reports_each_kind_of_drift
);
