//! The SeaORM adapter end to end: SeaORM → `data_api` → `aws-sdk-rdsdata` → emulator → MariaDB /
//! PostgreSQL. Each scenario runs on both Data API engines.

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make the test-local entities' items pub"
)]

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, FromQueryResult, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};
use test_support::{Backend, TestEmulator};

crate::on_data_api_engines!(
    type_matrix_round_trips,
    tuple_selects_keep_column_order,
    insert_find_update_delete_count,
    transactions_commit_and_roll_back,
    nested_transactions_are_savepoints,
    concurrent_transactions_never_share_statements,
    unique_violations_are_classified,
    resuming_cluster_is_retried,
    ambiguous_write_failures_are_not_retried,
    keyset_pages_past_the_response_limit,
    active_enums_round_trip,
    user_columns_named_like_seaorm_probes_decode_by_type,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deferred_violation_fails_the_commit() -> Result<()> {
    let emulator = TestEmulator::spawn(Backend::Postgres).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(
        &db,
        "CREATE TABLE t (n INT, CONSTRAINT one_n UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await?;
    let tx = api.begin().await?;
    exec(tx.connection(), "INSERT INTO t VALUES (1)").await?;
    exec(tx.connection(), "INSERT INTO t VALUES (1)").await?;
    let committed = tx.commit().await;
    ensure!(
        matches!(&committed, Err(data_api::Error::Commit { source, .. }) if source.to_string().contains("23505")),
        "{committed:?}"
    );
    ensure!(count(&db).await? == 0, "a failed commit stored rows");
    Ok(())
}

/// One row of every column type the adapter maps (the crate docs' type table), nullable twins
/// included. MySQL and PostgreSQL differ only where the engines do: unsigned integers (MySQL) and
/// uuid/arrays/timestamptz (PostgreSQL) live in engine-specific columns.
mod matrix {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "matrix")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub b: bool,
        pub i16v: i16,
        pub i32v: i32,
        pub i64v: i64,
        pub f32v: f32,
        pub f64v: f64,
        pub amount: Decimal,
        pub s: String,
        pub bytes: Vec<u8>,
        pub json: Json,
        pub d: NaiveDate,
        pub t: NaiveTime,
        pub dt: NaiveDateTime,
        pub dt_micro: NaiveDateTime,
        pub opt_i32: Option<i32>,
        pub opt_s: Option<String>,
        pub opt_dec: Option<Decimal>,
        pub opt_dt: Option<NaiveDateTime>,
        pub opt_json: Option<Json>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// MySQL-only types (`i8` too: PostgreSQL has no one-byte integer, SeaORM maps it to `int2` = `i16`).
mod mysql_matrix {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "mysql_matrix")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub i8v: i8,
        pub u8v: u8,
        pub u16v: u16,
        pub u32v: u32,
        pub u64v: u64,
        pub ts: DateTime<Utc>,
        pub opt_u64: Option<u64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// PostgreSQL-only types.
mod postgres_matrix {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "postgres_matrix")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub u: Uuid,
        pub tstz: DateTime<FixedOffset>,
        pub ints: Vec<i32>,
        pub texts: Vec<String>,
        pub jb: Json,
        pub opt_u: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<()> {
    db.execute_unprepared(sql)
        .await
        .with_context(|| sql.to_owned())?;
    Ok(())
}

fn sample(id: i32, micro: bool) -> Result<matrix::Model> {
    let dt = NaiveDate::from_ymd_opt(2024, 2, 29)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 58, 125))
        .context("date")?;
    Ok(matrix::Model {
        id,
        b: true,
        i16v: -32768,
        i32v: i32::MIN,
        i64v: i64::MIN + 1,
        f32v: 1.5,
        f64v: -2.25e-10,
        amount: "12345678901234.5678".parse()?,
        s: "ünïcødé 🦀 ' \" \\ :p1 ? $1".into(),
        bytes: vec![0, 1, 2, 255],
        json: serde_json::json!({"a": [1, null, "x"], "b": {"c": true}}),
        d: dt.date(),
        t: NaiveTime::from_hms_milli_opt(1, 2, 3, 456).context("time")?,
        dt,
        dt_micro: if micro {
            dt.date()
                .and_hms_micro_opt(1, 2, 3, 456_789)
                .context("micro")?
        } else {
            dt
        },
        opt_i32: None,
        opt_s: None,
        opt_dec: None,
        opt_dt: None,
        opt_json: None,
    })
}

async fn type_matrix_round_trips(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.data_api().connection()?;
    match backend {
        Backend::MariaDb => {
            exec(&db, "CREATE TABLE matrix (id INT PRIMARY KEY, b BOOL NOT NULL, \
                i16v SMALLINT NOT NULL, i32v INT NOT NULL, i64v BIGINT NOT NULL, f32v FLOAT NOT NULL, \
                f64v DOUBLE NOT NULL, amount DECIMAL(30,4) NOT NULL, s VARCHAR(100) NOT NULL, \
                bytes BLOB NOT NULL, json JSON NOT NULL, d DATE NOT NULL, t TIME(3) NOT NULL, \
                dt DATETIME(3) NOT NULL, dt_micro DATETIME(6) NOT NULL, opt_i32 INT, opt_s TEXT, \
                opt_dec DECIMAL(10,2), opt_dt DATETIME, opt_json JSON) CHARACTER SET utf8mb4").await?;
            exec(&db, "CREATE TABLE mysql_matrix (id INT PRIMARY KEY, i8v TINYINT NOT NULL, u8v TINYINT UNSIGNED NOT NULL, \
                u16v SMALLINT UNSIGNED NOT NULL, u32v INT UNSIGNED NOT NULL, \
                u64v BIGINT UNSIGNED NOT NULL, ts TIMESTAMP(3) NOT NULL, opt_u64 BIGINT UNSIGNED)").await?;
        }
        _ => {
            exec(&db, "CREATE TABLE matrix (id INT PRIMARY KEY, b BOOL NOT NULL, \
                i16v SMALLINT NOT NULL, i32v INT NOT NULL, i64v BIGINT NOT NULL, f32v REAL NOT NULL, \
                f64v DOUBLE PRECISION NOT NULL, amount NUMERIC(30,4) NOT NULL, s VARCHAR(100) NOT NULL, \
                bytes BYTEA NOT NULL, json JSONB NOT NULL, d DATE NOT NULL, t TIME(3) NOT NULL, \
                dt TIMESTAMP(3) NOT NULL, dt_micro TIMESTAMP(6) NOT NULL, opt_i32 INT, opt_s TEXT, \
                opt_dec NUMERIC(10,2), opt_dt TIMESTAMP, opt_json JSONB)").await?;
            exec(
                &db,
                "CREATE TABLE postgres_matrix (id INT PRIMARY KEY, u UUID NOT NULL, \
                tstz TIMESTAMPTZ NOT NULL, ints INT[] NOT NULL, texts TEXT[] NOT NULL, \
                jb JSONB NOT NULL, opt_u UUID)",
            )
            .await?;
        }
    }
    let rows = [sample(1, true)?, sample(2, false)?];
    for row in &rows {
        matrix::Entity::insert(matrix::ActiveModel::from(row.clone()))
            .exec(&db)
            .await?;
    }
    let found = matrix::Entity::find()
        .order_by_asc(matrix::Column::Id)
        .all(&db)
        .await?;
    ensure!(
        found == rows,
        "round trip differs:\n{found:#?}\nvs\n{rows:#?}"
    );
    // Filters with typed parameters reach the right rows (a text-typed timestamp would not compare).
    let by_time = matrix::Entity::find()
        .filter(matrix::Column::DtMicro.eq(rows[0].dt_micro))
        .filter(matrix::Column::Amount.eq(rows[0].amount))
        .filter(matrix::Column::Json.is_not_null())
        .count(&db)
        .await?;
    ensure!(
        by_time == 1,
        "filter by micro timestamp and decimal found {by_time}"
    );

    match backend {
        Backend::MariaDb => {
            let row = mysql_matrix::Model {
                id: 1,
                i8v: -128,
                u8v: 255,
                u16v: 65535,
                u32v: u32::MAX,
                u64v: u64::MAX,
                ts: "2024-03-04T05:06:07.089Z".parse()?,
                opt_u64: None,
            };
            mysql_matrix::Entity::insert(mysql_matrix::ActiveModel::from(row.clone()))
                .exec(&db)
                .await?;
            let found = mysql_matrix::Entity::find_by_id(1).one(&db).await?;
            ensure!(found.as_ref() == Some(&row), "{found:?}");
        }
        _ => {
            let row = postgres_matrix::Model {
                id: 1,
                u: Uuid::new_v4(),
                tstz: "2024-03-04T07:06:07.089+02:00".parse()?,
                ints: vec![1, -2, 3],
                texts: vec!["a,b".into(), "\"q\"".into(), "back\\slash".into()],
                jb: serde_json::json!({"k": "v"}),
                opt_u: None,
            };
            postgres_matrix::Entity::insert(postgres_matrix::ActiveModel::from(row.clone()))
                .exec(&db)
                .await?;
            let found = postgres_matrix::Entity::find()
                .filter(postgres_matrix::Column::U.eq(row.u))
                .one(&db)
                .await?
                .context("by uuid")?;
            // The instant survives; the offset comes back as UTC, as the Data API sends it.
            ensure!(
                found.tstz == row.tstz && found.tstz.offset().local_minus_utc() == 0,
                "{found:?}"
            );
            ensure!(
                (
                    found.ints.clone(),
                    found.texts.clone(),
                    found.jb.clone(),
                    found.opt_u
                ) == (row.ints.clone(), row.texts.clone(), row.jb.clone(), None),
                "{found:?}"
            );
        }
    }
    Ok(())
}

async fn tuple_selects_keep_column_order(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.data_api().connection()?;
    let backend_sql = db.get_database_backend();
    // zeta sorts after alpha: a BTreeMap-ordered row would swap them.
    let row = db
        .query_one(Statement::from_string(
            backend_sql,
            "SELECT 'first' AS zeta, 'second' AS alpha",
        ))
        .await?
        .context("one row")?;
    let pair: (String, String) = row.try_get_many_by_index()?;
    ensure!(pair == ("first".into(), "second".into()), "{pair:?}");
    Ok(())
}

/// The users entity through the adapter: the service's own operations.
async fn insert_find_update_delete_count(backend: Backend) -> Result<()> {
    use entity::users;
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    let ddl = match backend {
        Backend::MariaDb => {
            "CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, firstName VARCHAR(255) NOT NULL, lastName VARCHAR(255) NOT NULL) CHARACTER SET utf8mb4"
        }
        _ => {
            "CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, \"firstName\" VARCHAR(255) NOT NULL, \"lastName\" VARCHAR(255) NOT NULL)"
        }
    };
    exec(&db, ddl).await?;
    for i in 0..5 {
        users::ActiveModel {
            id: Set(format!("id-{i}")),
            first_name: Set(format!("First{i}")),
            last_name: Set("Last".into()),
        }
        .insert(&db)
        .await?;
    }
    let many: Vec<users::ActiveModel> = (5..8)
        .map(|i| users::ActiveModel {
            id: Set(format!("id-{i}")),
            first_name: Set(format!("First{i}")),
            last_name: Set("Many".into()),
        })
        .collect();
    users::Entity::insert_many(many).exec(&db).await?;
    ensure!(users::Entity::find().count(&db).await? == 8, "count");
    let page = users::Entity::find()
        .filter(users::Column::Id.gt("id-2"))
        .order_by_asc(users::Column::Id)
        .limit(2)
        .all(&db)
        .await?;
    ensure!(
        page.iter().map(|u| u.id.as_str()).collect::<Vec<_>>() == ["id-3", "id-4"],
        "{page:?}"
    );
    let mut first: users::ActiveModel = page[0].clone().into();
    first.first_name = Set("Renamed".into());
    let updated = first.update(&db).await?;
    ensure!(updated.first_name == "Renamed", "{updated:?}");
    let deleted = users::Entity::delete_many()
        .filter(users::Column::LastName.eq("Many"))
        .exec(&db)
        .await?;
    ensure!(
        deleted.rows_affected == 3,
        "deleted {}",
        deleted.rows_affected
    );
    let pages = users::Entity::find()
        .order_by_asc(users::Column::Id)
        .paginate(&db, 2);
    ensure!(pages.num_pages().await? == 3, "pages");
    #[derive(Debug, FromQueryResult, PartialEq)]
    struct Named {
        id: String,
    }
    let raw = Named::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        match backend {
            Backend::MariaDb => "SELECT id FROM users WHERE `firstName` = ?",
            _ => "SELECT id FROM users WHERE \"firstName\" = $1",
        },
        ["Renamed".into()],
    ))
    .all(&db)
    .await?;
    ensure!(raw == [Named { id: "id-3".into() }], "{raw:?}");
    Ok(())
}

async fn count(db: &DatabaseConnection) -> Result<i64> {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM t",
        ))
        .await?
        .context("count row")?;
    Ok(row.try_get::<i64>("", "n")?)
}

async fn transactions_commit_and_roll_back(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(&db, "CREATE TABLE t (n INT PRIMARY KEY)").await?;
    let tx = api.begin().await?;
    exec(tx.connection(), "INSERT INTO t VALUES (1)").await?;
    ensure!(count(&db).await? == 0, "uncommitted row visible outside");
    ensure!(
        count(tx.connection()).await? == 1,
        "own row invisible inside"
    );
    tx.commit().await?;
    ensure!(count(&db).await? == 1, "commit lost");

    let tx = api.begin().await?;
    exec(tx.connection(), "INSERT INTO t VALUES (2)").await?;
    tx.rollback().await?;
    ensure!(count(&db).await? == 1, "rollback kept a row");

    // Dropped without commit: rolled back in the background. Counting from outside cannot tell (an
    // open transaction's row is invisible there too), so ask the Data API about its id: once the
    // rollback ran, the id is unknown.
    let tx = api.begin().await?;
    exec(tx.connection(), "INSERT INTO t VALUES (3)").await?;
    let id = tx.id().to_owned();
    drop(tx);
    ensure!(
        transaction_ended(&emulator, &id).await?,
        "the dropped transaction {id} is still open"
    );
    ensure!(count(&db).await? == 1, "dropped transaction kept a row");

    // The closure form: Err rolls back, Ok commits.
    let failed = api
        .transaction(|txn| {
            Box::pin(async move {
                txn.execute_unprepared("INSERT INTO t VALUES (4)").await?;
                Err::<(), _>(DbErr::Custom("changed my mind".into()))
            })
        })
        .await;
    ensure!(failed.is_err(), "closure error lost");
    api.transaction(|txn| {
        Box::pin(async move {
            txn.execute_unprepared("INSERT INTO t VALUES (5)").await?;
            Ok::<_, DbErr>(())
        })
    })
    .await?;
    ensure!(count(&db).await? == 2, "closure transactions");
    Ok(())
}

/// Whether the Data API no longer knows transaction `id` (`TransactionNotFoundException` for a
/// statement in it), waiting up to 5 s for a background rollback. A statement that still runs in it
/// is rolled back at once, so this check ends the transaction either way.
async fn transaction_ended(emulator: &TestEmulator, id: &str) -> Result<bool> {
    let rds = emulator.rds_client();
    let config = emulator.config(data_api::RetryPolicy::default());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let probe = rds
            .execute_statement()
            .resource_arn(&config.resource_arn)
            .secret_arn(&config.secret_arn)
            .database(&config.database)
            .transaction_id(id)
            .sql("SELECT 1")
            .send()
            .await;
        match probe {
            Err(error)
                if error
                    .as_service_error()
                    .and_then(|e| aws_sdk_rdsdata::error::ProvideErrorMetadata::code(e))
                    == Some("TransactionNotFoundException") =>
            {
                return Ok(true);
            }
            Err(error) => anyhow::bail!("probing transaction {id}: {error:?}"),
            Ok(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Ok(_) => {
                rds.rollback_transaction()
                    .resource_arn(&config.resource_arn)
                    .secret_arn(&config.secret_arn)
                    .transaction_id(id)
                    .send()
                    .await?;
                return Ok(false);
            }
        }
    }
}

async fn nested_transactions_are_savepoints(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(&db, "CREATE TABLE t (n INT PRIMARY KEY)").await?;
    let tx = api.begin().await?;
    let conn = tx.connection();
    exec(conn, "INSERT INTO t VALUES (1)").await?;
    let inner = conn.begin().await?;
    inner.execute_unprepared("INSERT INTO t VALUES (2)").await?;
    inner.rollback().await?;
    let inner = conn.begin().await?;
    inner.execute_unprepared("INSERT INTO t VALUES (3)").await?;
    inner.commit().await?;
    {
        let dropped = conn.begin().await?;
        dropped
            .execute_unprepared("INSERT INTO t VALUES (4)")
            .await?;
    }
    tx.commit().await?;
    let rows: Vec<i32> = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT n FROM t ORDER BY n",
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<i32>("", "n"))
        .collect::<Result<_, _>>()?;
    ensure!(rows == [1, 3], "savepoints: {rows:?}");
    Ok(())
}

async fn concurrent_transactions_never_share_statements(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(&db, "CREATE TABLE t (n INT PRIMARY KEY)").await?;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let api = api.clone();
        let db = db.clone();
        tasks.spawn(async move {
            if i % 4 == 3 {
                // Plain statements on the shared connection, interleaved with the transactions.
                db.execute_unprepared(&format!("INSERT INTO t VALUES ({})", 1000 + i))
                    .await?;
                return Ok::<_, anyhow::Error>(());
            }
            let tx = api.begin().await?;
            for k in 0..3 {
                tx.connection()
                    .execute_unprepared(&format!("INSERT INTO t VALUES ({})", i * 10 + k))
                    .await?;
            }
            if i % 2 == 0 {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    let mut rows: Vec<i32> = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT n FROM t ORDER BY n",
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<i32>("", "n"))
        .collect::<Result<_, _>>()?;
    rows.sort_unstable();
    let mut want: Vec<i32> = (0..16)
        .filter(|i| i % 4 != 3 && i % 2 == 0)
        .flat_map(|i| (0..3).map(move |k| i * 10 + k))
        .chain((0..16).filter(|i| i % 4 == 3).map(|i| 1000 + i))
        .collect();
    want.sort_unstable();
    ensure!(rows == want, "rows {rows:?}\nwant {want:?}");
    Ok(())
}

async fn unique_violations_are_classified(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.data_api().connection()?;
    exec(&db, "CREATE TABLE t (n INT PRIMARY KEY)").await?;
    exec(&db, "INSERT INTO t VALUES (1)").await?;
    let error = db
        .execute_unprepared("INSERT INTO t VALUES (1)")
        .await
        .expect_err("duplicate key");
    ensure!(
        matches!(
            data_api::sql_err(&error),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ),
        "{error}"
    );
    let api = data_api::aws_error(&error).context("carries the Data API error")?;
    ensure!(api.code == "DatabaseErrorException", "{api:?}");
    let state = api.sql_state.as_deref();
    ensure!(
        state
            == Some(if backend == Backend::MariaDb {
                "23000"
            } else {
                "23505"
            }),
        "{api:?}"
    );
    Ok(())
}

async fn resuming_cluster_is_retried(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    emulator
        .faults()
        .set_auto_pause(Some(emulator::faults::AutoPause {
            after: std::time::Duration::from_secs(3600),
            resume: std::time::Duration::from_millis(1500),
        }));
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(&db, "CREATE TABLE t (n INT PRIMARY KEY)").await?;
    emulator.faults().pause();
    // The first calls get DatabaseResumingException for 1.5 s; the adapter waits it out.
    exec(&db, "INSERT INTO t VALUES (1)").await?;
    emulator.faults().pause();
    let tx = api.begin().await?;
    exec(tx.connection(), "INSERT INTO t VALUES (2)").await?;
    tx.commit().await?;
    ensure!(count(&db).await? == 2, "writes after resume");
    // The same answer injected on two calls: the write succeeds only by retrying through both (a
    // pause above that never took effect would pass unnoticed; a rule must be served).
    emulator
        .faults()
        .inject(serde_json::from_value(serde_json::json!(
            {"operation": "ExecuteStatement", "error": "DatabaseResumingException", "count": 2}
        ))?)
        .map_err(anyhow::Error::msg)?;
    exec(&db, "INSERT INTO t VALUES (4)").await?;
    ensure!(
        emulator.faults().rules().is_empty(),
        "resuming answers not served: {:?}",
        emulator.faults().rules()
    );
    exec(&db, "DELETE FROM t WHERE n = 4").await?;
    // A budget shorter than the resume gives the error to the caller.
    let impatient = emulator.data_api_with(
        data_api::RetryPolicy::default().with_resume_budget(std::time::Duration::from_millis(200)),
    );
    emulator.faults().pause();
    let error = impatient
        .connection()?
        .execute_unprepared("INSERT INTO t VALUES (3)")
        .await
        .expect_err("budget exhausted");
    ensure!(
        error.to_string().contains("DatabaseResumingException"),
        "{error}"
    );
    emulator.faults().clear();
    ensure!(count(&db).await? == 2, "nothing written while resuming");
    Ok(())
}

async fn ambiguous_write_failures_are_not_retried(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(&db, "CREATE TABLE t (n INT)").await?;
    let rule = |json: serde_json::Value| -> Result<()> {
        emulator
            .faults()
            .inject(serde_json::from_value(json)?)
            .map_err(anyhow::Error::msg)
    };
    // A 500 after the INSERT ran: the SDK alone would retry and insert twice; the adapter reports it.
    rule(
        serde_json::json!({"operation": "ExecuteStatement", "error": "InternalServerErrorException", "when": "after", "count": 1}),
    )?;
    let error = db
        .execute_unprepared("INSERT INTO t VALUES (1)")
        .await
        .expect_err("ambiguous write");
    ensure!(
        error.to_string().contains("InternalServerErrorException"),
        "{error}"
    );
    ensure!(count(&db).await? == 1, "written exactly once");
    // A 500 on a read is retried.
    rule(
        serde_json::json!({"operation": "ExecuteStatement", "error": "InternalServerErrorException", "count": 2}),
    )?;
    ensure!(count(&db).await? == 1, "read retried");
    // Both 500s were served (to that read), so it succeeded by retrying, not by missing the rule.
    ensure!(
        emulator.faults().rules().is_empty(),
        "injected errors not served: {:?}",
        emulator.faults().rules()
    );
    // Throttling is retried even for writes (the request was refused).
    rule(
        serde_json::json!({"operation": "ExecuteStatement", "error": "ThrottlingException", "count": 2}),
    )?;
    exec(&db, "INSERT INTO t VALUES (2)").await?;
    ensure!(count(&db).await? == 2, "throttled write applied once");
    ensure!(
        emulator.faults().rules().is_empty(),
        "throttling not served: {:?}",
        emulator.faults().rules()
    );
    // A commit whose answer is lost is an error, never a success.
    let tx = api.begin().await?;
    exec(tx.connection(), "INSERT INTO t VALUES (3)").await?;
    rule(
        serde_json::json!({"operation": "CommitTransaction", "error": "InternalServerErrorException", "when": "after", "count": 1}),
    )?;
    let committed = tx.commit().await;
    ensure!(
        matches!(committed, Err(data_api::Error::Commit { .. })),
        "{committed:?}"
    );
    Ok(())
}

mod blobs {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "blobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

async fn keyset_pages_past_the_response_limit(backend: Backend) -> Result<()> {
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.data_api().connection()?;
    exec(
        &db,
        "CREATE TABLE blobs (id INT PRIMARY KEY, body TEXT NOT NULL)",
    )
    .await?;
    // 48 rows of 40,000 characters: about 1.9 MB, over the 1 MiB response limit.
    let body = "x".repeat(40_000);
    let rows: Vec<blobs::ActiveModel> = (0..48)
        .map(|id| blobs::ActiveModel {
            id: Set(id),
            body: Set(body.clone()),
        })
        .collect();
    for chunk in rows.chunks(8) {
        blobs::Entity::insert_many(chunk.to_vec()).exec(&db).await?;
    }
    let whole = blobs::Entity::find()
        .all(&db)
        .await
        .expect_err("over 1 MiB");
    ensure!(data_api::is_response_too_large(&whole), "{whole}");
    ensure!(
        whole.to_string().contains("keyset"),
        "the error says how to page: {whole}"
    );
    let all = data_api::keyset::all(
        &db,
        blobs::Entity::find(),
        blobs::Column::Id,
        |b| b.id,
        1000,
    )
    .await?;
    let ids: Vec<i32> = all.iter().map(|b| b.id).collect();
    ensure!(
        ids == (0..48).collect::<Vec<_>>(),
        "gaps or repeats: {ids:?}"
    );
    ensure!(all.iter().all(|b| b.body.len() == 40_000), "bodies");
    let second =
        data_api::keyset::page(&db, blobs::Entity::find(), blobs::Column::Id, Some(9), 5).await?;
    ensure!(
        second.iter().map(|b| b.id).collect::<Vec<_>>() == [10, 11, 12, 13, 14],
        "page"
    );
    // 30 rows after 9 (1.2 MB) in one `page` query is refused; `up_to` splits it.
    let refused =
        data_api::keyset::page(&db, blobs::Entity::find(), blobs::Column::Id, Some(9), 30).await;
    ensure!(
        refused.as_ref().is_err_and(data_api::is_response_too_large),
        "{refused:?}"
    );
    let thirty = data_api::keyset::up_to(
        &db,
        blobs::Entity::find(),
        blobs::Column::Id,
        |b| b.id,
        Some(9),
        30,
    )
    .await?;
    ensure!(
        thirty.iter().map(|b| b.id).collect::<Vec<_>>() == (10..40).collect::<Vec<_>>(),
        "up_to"
    );
    let tail = data_api::keyset::up_to(
        &db,
        blobs::Entity::find(),
        blobs::Column::Id,
        |b| b.id,
        Some(40),
        30,
    )
    .await?;
    ensure!(
        tail.iter().map(|b| b.id).collect::<Vec<_>>() == (41..48).collect::<Vec<_>>(),
        "up_to at the end"
    );
    Ok(())
}

mod moods {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "mood")]
    pub enum Mood {
        #[sea_orm(string_value = "happy")]
        Happy,
        #[sea_orm(string_value = "sad")]
        Sad,
    }

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "moods")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub mood: Mood,
        pub maybe: Option<Mood>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// SeaORM casts enum values to the enum type on PostgreSQL (`CAST(:p AS mood)`) and selects them as
/// text: through the Data API the text parameter meets the cast, and the text comes back.
async fn active_enums_round_trip(backend: Backend) -> Result<()> {
    use moods::{Model, Mood};
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.data_api().connection()?;
    if backend == Backend::Postgres {
        exec(&db, "CREATE TYPE mood AS ENUM ('happy', 'sad')").await?;
        exec(
            &db,
            "CREATE TABLE moods (id INT PRIMARY KEY, mood mood NOT NULL, maybe mood)",
        )
        .await?;
    } else {
        exec(&db, "CREATE TABLE moods (id INT PRIMARY KEY, mood ENUM('happy', 'sad') NOT NULL, maybe ENUM('happy', 'sad'))").await?;
    }
    let rows = [
        Model {
            id: 1,
            mood: Mood::Happy,
            maybe: None,
        },
        Model {
            id: 2,
            mood: Mood::Sad,
            maybe: Some(Mood::Happy),
        },
    ];
    for row in &rows {
        moods::Entity::insert(moods::ActiveModel::from(row.clone()))
            .exec(&db)
            .await?;
    }
    let sad = moods::Entity::find()
        .filter(moods::Column::Mood.eq(Mood::Sad))
        .all(&db)
        .await?;
    ensure!(sad == rows[1..], "{sad:?}");
    let all = moods::Entity::find()
        .order_by_asc(moods::Column::Id)
        .all(&db)
        .await?;
    ensure!(all == rows, "{all:?}");
    Ok(())
}

/// A user's table with columns named like the ones SeaORM's count and schema probes alias.
mod stock {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "stock")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub num_items: i64,
        pub has_table: i32,
        pub has_column: i16,
        pub has_index: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Columns called `num_items` or `has_table` in a user's own table decode by their type (no name
/// heuristic turns them into `i32` or `bool`), and SeaORM's own `count()` and
/// `SchemaManager::has_*` probes, which alias those names, still work.
async fn user_columns_named_like_seaorm_probes_decode_by_type(backend: Backend) -> Result<()> {
    use sea_orm_migration::SchemaManager;

    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = api.connection()?;
    exec(
        &db,
        "CREATE TABLE stock (id INT PRIMARY KEY, num_items BIGINT NOT NULL, \
         has_table INT NOT NULL, has_column SMALLINT NOT NULL, has_index BIGINT NOT NULL)",
    )
    .await?;
    exec(&db, "CREATE INDEX stock_by_items ON stock (num_items)").await?;
    let rows = [
        stock::Model {
            id: 1,
            num_items: 5_000_000_000,
            has_table: 7,
            has_column: -2,
            has_index: 0,
        },
        stock::Model {
            id: 2,
            num_items: 0,
            has_table: 1,
            has_column: 300,
            has_index: 42,
        },
    ];
    for row in &rows {
        stock::ActiveModel::from(row.clone()).insert(&db).await?;
    }
    let read = stock::Entity::find()
        .order_by_asc(stock::Column::Id)
        .all(&db)
        .await
        .context("reading the user's columns")?;
    ensure!(read == rows, "{read:?}");
    let (items, flag): (i64, i32) = stock::Entity::find()
        .select_only()
        .column(stock::Column::NumItems)
        .column(stock::Column::HasTable)
        .filter(stock::Column::Id.eq(1))
        .into_tuple()
        .one(&db)
        .await?
        .context("one tuple")?;
    ensure!((items, flag) == (5_000_000_000, 7), "{items} {flag}");

    // SeaORM's own queries with those aliases.
    ensure!(stock::Entity::find().count(&db).await? == 2, "count()");
    let pages = stock::Entity::find()
        .filter(stock::Column::NumItems.gt(1))
        .paginate(&db, 1)
        .num_items_and_pages()
        .await?;
    ensure!(
        (pages.number_of_items, pages.number_of_pages) == (1, 1),
        "{pages:?}"
    );
    let schema = SchemaManager::new(&db);
    ensure!(schema.has_table("stock").await?, "has_table(stock)");
    ensure!(!schema.has_table("no_such_table").await?, "has_table(none)");
    ensure!(schema.has_column("stock", "has_index").await?, "has_column");
    ensure!(
        !schema.has_column("stock", "nope").await?,
        "has_column(none)"
    );
    ensure!(
        schema.has_index("stock", "stock_by_items").await?,
        "has_index"
    );
    Ok(())
}
