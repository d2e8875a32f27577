//! Differential tests: the same SeaORM operations through SeaORM's native sqlx driver and through the
//! Data API adapter must give the same results.
//!
//! Each scenario is one generic function, run twice on the same server: on a [`Native`] side (a fresh
//! database, `sea_orm::Database::connect`, `db.begin()`) and on an [`Adapter`] side (a fresh database
//! behind a `TestEmulator`, `DataApi::connection()`, `DataApi::begin()`). Both sides create their
//! tables with the same DDL, so auto-increment counters start alike. Every step's result is recorded
//! as a value ([`Observed`]) and the two records are compared step by step; a failure lists every
//! differing step with both results.
//!
//! What is compared, and why:
//! - models, `Vec<Model>`, tuples, raw `FromQueryResult` rows: by value (`PartialEq`). DECIMALs are
//!   also compared as text, because `Decimal`'s `PartialEq` ignores the scale (`1.50 == 1.5`) but
//!   serialising it does not.
//! - counts, `rows_affected`, pages: as numbers (MySQL's affected rows are the *matched* rows on both
//!   sides: sqlx sets `CLIENT_FOUND_ROWS`, as Connector/J behind the real Data API does by default).
//! - `InsertResult::last_insert_id` (`Entity::insert(..).exec`): on both engines. On PostgreSQL
//!   SeaORM reads it from `INSERT … RETURNING`, on MySQL from the statement's result, so it is a
//!   value both sides must agree on.
//! - `ExecResult::last_insert_id()` of raw SQL: MariaDB only. On PostgreSQL it is not comparable:
//!   SeaORM's native driver panics ("Should not retrieve last_insert_id this way"), so there is no
//!   native value.
//! - errors: the `DbErr` variant (`Exec`, `Query`, `RecordNotUpdated`, …) and the constraint class
//!   (native `DbErr::sql_err`, adapter `data_api::sql_err`), not the message text, which the Data API
//!   rewrites (`…; Error code: 1062; SQLState: 23000`).
//!
//! The native side connects to a `TestDatabase` of its own rather than to a second emulator's
//! database: the emulator would sit unused in front of it.
//!
//! Differences found when this suite was written, and what became of them:
//! - `null_then_value_parameters_agree` (PostgreSQL): the emulator reused a statement prepared with an
//!   untyped NULL for an `int8` value (SQLState 22P03); it now re-prepares (emulator case
//!   `parameters/null_then_value_same_sql.json`).
//! - `related_finds_agree` (MariaDB): the emulator sent an aliased MariaDB JSON column (`A_payload`) as
//!   a blob; it now resolves `col AS alias` before looking the column up.
//! - `into_json` is not compared: SeaORM's proxy converts rows to JSON itself (DECIMAL as a number,
//!   date-times quoted, booleans as `true`), and the adapter's positional keys (`\u{0}NNNNN`, which
//!   keep tuple order) appear in it. README, "SeaORM over the Data API", lists this.

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make the test-local entities' items pub"
)]

use anyhow::{Context, Result, ensure};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, FromQueryResult, QueryOrder, QuerySelect, SqlErr, Statement,
    TransactionError, TransactionTrait,
};
use serde_json::json;
use test_support::{Backend, TestDatabase, TestEmulator};

crate::on_data_api_engines!(
    inserts_agree,
    finds_agree,
    updates_agree,
    deletes_agree,
    pagination_agrees,
    related_finds_agree,
    tuple_selects_agree,
    raw_sql_agrees,
    transactions_agree,
    nested_transactions_agree,
    unique_violations_agree,
    null_then_value_parameters_agree,
);

/// Items: an auto-increment `i32` key and one column of each everyday type.
mod item {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(unique)]
        pub name: String,
        pub note: Option<String>,
        pub qty: i32,
        pub active: bool,
        pub price: Decimal,
        pub created_at: NaiveDateTime,
        pub meta: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::event::Entity")]
        Events,
    }

    impl Related<super::event::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Events.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Events: an auto-increment `i64` key, nullable timestamp and JSON.
mod event {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub item_id: i32,
        pub kind: String,
        pub happened_at: Option<NaiveDateTime>,
        pub payload: Option<Json>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::item::Entity",
            from = "Column::ItemId",
            to = "super::item::Column::Id"
        )]
        Item,
    }

    impl Related<super::item::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Item.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Labels: a string key the caller chooses (no auto-increment).
mod label {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "labels")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub title: String,
        pub weight: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const MARIADB_DDL: [&str; 3] = [
    "CREATE TABLE items (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
     name VARCHAR(100) NOT NULL UNIQUE, note TEXT NULL, qty INT NOT NULL, active BOOL NOT NULL, \
     price DECIMAL(12,2) NOT NULL, created_at DATETIME(6) NOT NULL, meta JSON NOT NULL) \
     CHARACTER SET utf8mb4",
    "CREATE TABLE events (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, item_id INT NOT NULL, \
     kind VARCHAR(50) NOT NULL, happened_at DATETIME(3) NULL, payload JSON NULL) \
     CHARACTER SET utf8mb4",
    "CREATE TABLE labels (code VARCHAR(20) NOT NULL PRIMARY KEY, title VARCHAR(100) NOT NULL, \
     weight INT NULL) CHARACTER SET utf8mb4",
];

const POSTGRES_DDL: [&str; 3] = [
    "CREATE TABLE items (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, note TEXT, \
     qty INT NOT NULL, active BOOLEAN NOT NULL, price NUMERIC(12,2) NOT NULL, \
     created_at TIMESTAMP(6) NOT NULL, meta JSONB NOT NULL)",
    "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, item_id INT NOT NULL, kind VARCHAR(50) NOT NULL, \
     happened_at TIMESTAMP(3), payload JSON)",
    "CREATE TABLE labels (code VARCHAR(20) PRIMARY KEY, title VARCHAR(100) NOT NULL, weight INT)",
];

// ---------------------------------------------------------------------------------------------
// The two sides.

/// An open outer transaction of either side.
trait Outer {
    /// What runs statements in it (and nests with `begin()`).
    type Conn: ConnectionTrait + TransactionTrait;
    fn conn(&self) -> &Self::Conn;
    async fn commit(self) -> Result<()>;
    async fn rollback(self) -> Result<()>;
}

impl Outer for DatabaseTransaction {
    type Conn = Self;

    fn conn(&self) -> &Self {
        self
    }

    async fn commit(self) -> Result<()> {
        Ok(DatabaseTransaction::commit(self).await?)
    }

    async fn rollback(self) -> Result<()> {
        Ok(DatabaseTransaction::rollback(self).await?)
    }
}

impl Outer for data_api::Transaction {
    type Conn = DatabaseConnection;

    fn conn(&self) -> &DatabaseConnection {
        self.connection()
    }

    async fn commit(self) -> Result<()> {
        Ok(data_api::Transaction::commit(self).await?)
    }

    async fn rollback(self) -> Result<()> {
        Ok(data_api::Transaction::rollback(self).await?)
    }
}

/// One way of running SeaORM: the native driver or the adapter.
trait Side {
    type Tx: Outer;
    /// The connection for statements outside transactions.
    fn db(&self) -> &DatabaseConnection;
    fn backend(&self) -> Backend;
    /// Begins an outer transaction.
    async fn begin(&self) -> Result<Self::Tx>;
    /// The closure form of a transaction around [`closure_body`].
    async fn transaction(&self, fail: bool) -> Result<(), TransactionError<DbErr>>;
    /// The constraint class of an error, the way this side's callers find it.
    fn sql_err(&self, err: &DbErr) -> Option<SqlErr>;
}

/// SeaORM's own sqlx driver on a fresh database.
#[derive(Debug)]
struct Native {
    db: DatabaseConnection,
    database: TestDatabase,
}

impl Native {
    async fn open(backend: Backend) -> Result<Self> {
        let database = TestDatabase::create(backend).await?;
        let db = sea_orm::Database::connect(&database.url)
            .await
            .context("native connection")?;
        create_tables(&db, backend).await?;
        Ok(Self { db, database })
    }
}

impl Side for Native {
    type Tx = DatabaseTransaction;

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn backend(&self) -> Backend {
        self.database.backend
    }

    async fn begin(&self) -> Result<DatabaseTransaction> {
        Ok(TransactionTrait::begin(&self.db).await?)
    }

    async fn transaction(&self, fail: bool) -> Result<(), TransactionError<DbErr>> {
        self.db
            .transaction(|txn| Box::pin(closure_body(txn, fail)))
            .await
    }

    fn sql_err(&self, err: &DbErr) -> Option<SqlErr> {
        err.sql_err()
    }
}

/// The adapter, through the emulator, on a fresh database of the same server.
#[derive(Debug)]
struct Adapter {
    api: data_api::DataApi,
    db: DatabaseConnection,
    emulator: TestEmulator,
}

impl Adapter {
    async fn open(backend: Backend) -> Result<Self> {
        let emulator = TestEmulator::spawn(backend).await?;
        let api = emulator.data_api();
        let db = api.connection()?;
        create_tables(&db, backend).await?;
        Ok(Self { api, db, emulator })
    }
}

impl Side for Adapter {
    type Tx = data_api::Transaction;

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn backend(&self) -> Backend {
        self.emulator.database.backend
    }

    async fn begin(&self) -> Result<data_api::Transaction> {
        Ok(self.api.begin().await?)
    }

    async fn transaction(&self, fail: bool) -> Result<(), TransactionError<DbErr>> {
        self.api
            .transaction(|txn| Box::pin(closure_body(txn, fail)))
            .await
    }

    fn sql_err(&self, err: &DbErr) -> Option<SqlErr> {
        data_api::sql_err(err)
    }
}

async fn create_tables(db: &DatabaseConnection, backend: Backend) -> Result<()> {
    let ddl = match backend {
        Backend::MariaDb => MARIADB_DDL,
        _ => POSTGRES_DDL,
    };
    for sql in ddl {
        db.execute_unprepared(sql)
            .await
            .with_context(|| sql.to_owned())?;
    }
    Ok(())
}

/// Runs `scenario` on both sides and compares what they observed.
macro_rules! differential {
    ($backend:expr, $scenario:ident) => {{
        let backend = $backend;
        let native = Native::open(backend).await?;
        let adapter = Adapter::open(backend).await?;
        let mut expected = Record::default();
        $scenario(&native, &mut expected)
            .await
            .context("native pass")?;
        let mut actual = Record::default();
        let outcome = $scenario(&adapter, &mut actual).await;
        compare(&expected, &actual, outcome)
    }};
}

// ---------------------------------------------------------------------------------------------
// Observations.

/// The constraint class and `DbErr` variant of an error (messages differ by design).
#[derive(Debug, PartialEq)]
struct ErrorClass {
    variant: &'static str,
    sql_err: Option<&'static str>,
}

/// One step's result, as a value.
#[derive(Debug, PartialEq)]
enum Observed {
    Items(Vec<item::Model>),
    Item(Option<item::Model>),
    Events(Vec<event::Model>),
    Labels(Vec<label::Model>),
    Number(u64),
    Rows(Vec<Vec<Value>>),
    Texts(Vec<String>),
    Priced(Vec<Priced>),
    AlsoRelated(Vec<(event::Model, Option<item::Model>)>),
    WithRelated(Vec<(item::Model, Vec<event::Model>)>),
    Error(ErrorClass),
}

trait Observe {
    fn observe(self) -> Observed;
}

impl Observe for Observed {
    fn observe(self) -> Observed {
        self
    }
}

impl Observe for Vec<item::Model> {
    fn observe(self) -> Observed {
        Observed::Items(self)
    }
}

impl Observe for Option<item::Model> {
    fn observe(self) -> Observed {
        Observed::Item(self)
    }
}

impl Observe for item::Model {
    fn observe(self) -> Observed {
        Observed::Item(Some(self))
    }
}

impl Observe for Vec<event::Model> {
    fn observe(self) -> Observed {
        Observed::Events(self)
    }
}

impl Observe for event::Model {
    fn observe(self) -> Observed {
        Observed::Events(vec![self])
    }
}

impl Observe for Vec<label::Model> {
    fn observe(self) -> Observed {
        Observed::Labels(self)
    }
}

impl Observe for label::Model {
    fn observe(self) -> Observed {
        Observed::Labels(vec![self])
    }
}

impl Observe for u64 {
    fn observe(self) -> Observed {
        Observed::Number(self)
    }
}

impl Observe for Vec<Priced> {
    fn observe(self) -> Observed {
        Observed::Priced(self)
    }
}

impl Observe for Option<Priced> {
    fn observe(self) -> Observed {
        Observed::Priced(self.into_iter().collect())
    }
}

impl Observe for Vec<(event::Model, Option<item::Model>)> {
    fn observe(self) -> Observed {
        Observed::AlsoRelated(self)
    }
}

impl Observe for Vec<(item::Model, Vec<event::Model>)> {
    fn observe(self) -> Observed {
        Observed::WithRelated(self)
    }
}

/// A single value (an id, a scalar) as a one-cell row.
fn cell(value: impl Into<Value>) -> Observed {
    Observed::Rows(vec![vec![value.into()]])
}

/// A column of values as one-cell rows.
fn column<T: Into<Value>>(values: Vec<T>) -> Observed {
    Observed::Rows(values.into_iter().map(|v| vec![v.into()]).collect())
}

/// What a pass saw, step by step.
#[derive(Debug, Default)]
struct Record(Vec<(&'static str, Observed)>);

impl Record {
    fn push(&mut self, step: &'static str, value: impl Observe) {
        self.0.push((step, value.observe()));
    }

    /// Records a result that may be an error, classified by `side`.
    fn outcome<S: Side, T: Observe>(
        &mut self,
        side: &S,
        step: &'static str,
        result: Result<T, DbErr>,
    ) {
        let observed = match result {
            Ok(value) => value.observe(),
            Err(err) => Observed::Error(classify(side, &err)),
        };
        self.0.push((step, observed));
    }
}

fn classify<S: Side>(side: &S, err: &DbErr) -> ErrorClass {
    let variant = match err {
        DbErr::Exec(_) => "Exec",
        DbErr::Query(_) => "Query",
        DbErr::Conn(_) => "Conn",
        DbErr::RecordNotInserted => "RecordNotInserted",
        DbErr::RecordNotUpdated => "RecordNotUpdated",
        DbErr::RecordNotFound(_) => "RecordNotFound",
        DbErr::Custom(_) => "Custom",
        DbErr::Type(_) => "Type",
        _ => "other",
    };
    let sql_err = side.sql_err(err).map(|e| match e {
        SqlErr::UniqueConstraintViolation(_) => "unique violation",
        SqlErr::ForeignKeyConstraintViolation(_) => "foreign key violation",
        _ => "other",
    });
    ErrorClass { variant, sql_err }
}

/// Awaits `$future`, records its value as step `$step` and gives it back.
macro_rules! see {
    ($record:ident, $step:literal, $future:expr) => {{
        let value = $future.await.context($step)?;
        $record.push($step, value.clone());
        value
    }};
}

/// Compares the native record with the adapter's and lists every difference.
fn compare(native: &Record, adapter: &Record, outcome: Result<()>) -> Result<()> {
    let mut differences = Vec::new();
    for (i, (step, expected)) in native.0.iter().enumerate() {
        match adapter.0.get(i) {
            Some((other, actual)) if other == step => {
                if actual != expected {
                    differences.push(format!(
                        "step `{step}`:\n  native:  {expected:?}\n  adapter: {actual:?}"
                    ));
                }
            }
            Some((other, _)) => {
                differences.push(format!("step {i}: native ran `{step}`, adapter `{other}`"));
                break;
            }
            None => {
                differences.push(format!(
                    "step `{step}`: the adapter pass never got there (native: {expected:?})"
                ));
                break;
            }
        }
    }
    if let Err(error) = outcome {
        differences.push(format!(
            "the adapter pass failed where the native one succeeded: {error:#}"
        ));
    }
    ensure!(
        differences.is_empty(),
        "the adapter differs from SeaORM's native driver in {} place(s):\n{}",
        differences.len(),
        differences.join("\n")
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Data.

fn at(i: i32) -> NaiveDateTime {
    let base = NaiveDate::from_ymd_opt(2024, 2, 29)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a valid date");
    // Even rows on whole milliseconds, odd rows with microseconds (the adapter casts those).
    let micros = if i % 2 == 0 { 1000 } else { 1001 };
    base + TimeDelta::minutes(i64::from(i) * 37) + TimeDelta::microseconds(i64::from(i) * micros)
}

fn new_item(i: i32) -> item::ActiveModel {
    item::ActiveModel {
        id: NotSet,
        name: Set(format!(
            "item-{i:02}{}",
            if i % 4 == 1 { " ✓ 🦀" } else { "" }
        )),
        note: Set((i % 3 != 0).then(|| format!("note {i}: it's \"quoted\" \\ ünï ?"))),
        qty: Set(i * 7 % 10),
        active: Set(i % 2 == 0),
        price: Set(Decimal::new(i64::from(i) * 125 + 99, 2)),
        created_at: Set(at(i)),
        meta: Set(json!({"i": i, "tags": ["x", i], "nested": {"even": i % 2 == 0, "f": 1.5}})),
    }
}

fn new_event(item_id: i32, kind: &str, i: i32) -> event::ActiveModel {
    event::ActiveModel {
        id: NotSet,
        item_id: Set(item_id),
        kind: Set(kind.into()),
        // Microseconds into a DATETIME(3)/TIMESTAMP(3) column: the server rounds on both sides.
        happened_at: Set((i % 2 == 0).then(|| at(i) + TimeDelta::microseconds(1499))),
        payload: Set((i % 3 != 0).then(|| json!({"kind": kind, "n": [i, null]}))),
    }
}

fn new_label(code: &str, weight: Option<i32>) -> label::ActiveModel {
    label::ActiveModel {
        code: Set(code.into()),
        title: Set(format!("Label {code} — ünï")),
        weight: Set(weight),
    }
}

async fn seed<C: ConnectionTrait>(db: &C, n: i32) -> Result<()> {
    item::Entity::insert_many((1..=n).map(new_item))
        .exec(db)
        .await
        .context("seeding items")?;
    Ok(())
}

async fn all_items<C: ConnectionTrait>(db: &C) -> Result<Vec<item::Model>, DbErr> {
    item::Entity::find()
        .order_by_asc(item::Column::Id)
        .all(db)
        .await
}

async fn count_items<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    item::Entity::find().count(db).await
}

fn prices(items: &[item::Model]) -> Observed {
    Observed::Texts(items.iter().map(|i| i.price.to_string()).collect())
}

/// `?` placeholders as the backend writes them (`$1`, `$2`, … on PostgreSQL).
fn placeholders(backend: Backend, sql: &str) -> String {
    if backend != Backend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::new();
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

fn statement<S: Side>(side: &S, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(
        side.db().get_database_backend(),
        placeholders(side.backend(), sql),
        values,
    )
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

async fn inserts_agree(backend: Backend) -> Result<()> {
    differential!(backend, inserts)
}

async fn inserts<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    // ActiveModel::insert: the stored row comes back (RETURNING or insert + find).
    see!(rec, "ActiveModel::insert #1", new_item(1).insert(db));
    see!(rec, "ActiveModel::insert #2", new_item(2).insert(db));
    // Entity::insert with the key generated.
    let generated = item::Entity::insert(new_item(3))
        .exec(db)
        .await
        .context("Entity::insert")?;
    rec.push(
        "Entity::insert last_insert_id",
        cell(generated.last_insert_id),
    );
    // With the key chosen on an auto-increment table, then generated again after it.
    let chosen = item::Entity::insert(item::ActiveModel {
        id: Set(100),
        ..new_item(4)
    })
    .exec(db)
    .await
    .context("Entity::insert with an explicit id")?;
    rec.push(
        "Entity::insert explicit id last_insert_id",
        cell(chosen.last_insert_id),
    );
    let after = item::Entity::insert(new_item(5))
        .exec(db)
        .await
        .context("Entity::insert after an explicit id")?;
    rec.push(
        "Entity::insert after explicit id last_insert_id",
        cell(after.last_insert_id),
    );
    see!(
        rec,
        "Entity::insert exec_with_returning",
        item::Entity::insert(new_item(6)).exec_with_returning(db)
    );
    // insert_many: the last id on PostgreSQL (RETURNING), the first on MySQL (LAST_INSERT_ID()).
    let many = item::Entity::insert_many((7..=9).map(new_item))
        .exec(db)
        .await
        .context("insert_many")?;
    rec.push("insert_many last_insert_id", cell(many.last_insert_id));
    see!(
        rec,
        "insert_many exec_without_returning",
        item::Entity::insert_many((10..=12).map(new_item)).exec_without_returning(db)
    );
    if side.backend() == Backend::Postgres {
        see!(
            rec,
            "insert_many exec_with_returning_many",
            item::Entity::insert_many((13..=14).map(new_item)).exec_with_returning_many(db)
        );
        let keys = item::Entity::insert_many((15..=16).map(new_item))
            .exec_with_returning_keys(db)
            .await
            .context("exec_with_returning_keys")?;
        rec.push("insert_many exec_with_returning_keys", column(keys));
    }
    see!(rec, "items after inserts", all_items(db));

    // An i64 auto-increment key.
    see!(
        rec,
        "i64 ActiveModel::insert",
        new_event(1, "created", 1).insert(db)
    );
    let event = event::Entity::insert(new_event(1, "updated ✓", 2))
        .exec(db)
        .await
        .context("i64 Entity::insert")?;
    rec.push(
        "i64 Entity::insert last_insert_id",
        cell(event.last_insert_id),
    );
    let events = event::Entity::insert_many((3..=6).map(|i| new_event(2, "bulk", i)))
        .exec(db)
        .await
        .context("i64 insert_many")?;
    rec.push(
        "i64 insert_many last_insert_id",
        cell(events.last_insert_id),
    );
    see!(
        rec,
        "events after inserts",
        event::Entity::find()
            .order_by_asc(event::Column::Id)
            .all(db)
    );

    // A key the caller chooses (no auto-increment).
    see!(
        rec,
        "string key ActiveModel::insert",
        new_label("a", Some(1)).insert(db)
    );
    let label = label::Entity::insert(new_label("b", None))
        .exec(db)
        .await
        .context("string key Entity::insert")?;
    rec.push(
        "string key Entity::insert last_insert_id",
        cell(label.last_insert_id),
    );
    let labels = label::Entity::insert_many([new_label("c", Some(3)), new_label("d", None)])
        .exec(db)
        .await
        .context("string key insert_many")?;
    rec.push(
        "string key insert_many last_insert_id",
        cell(labels.last_insert_id),
    );
    see!(
        rec,
        "labels after inserts",
        label::Entity::find()
            .order_by_asc(label::Column::Code)
            .all(db)
    );

    // Raw INSERT: rows affected; the generated id only where SeaORM can give it (MySQL).
    let raw = db
        .execute(statement(
            side,
            "INSERT INTO items (name, note, qty, active, price, created_at, meta) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                "raw ✓".into(),
                Option::<String>::None.into(),
                42.into(),
                true.into(),
                Decimal::new(-1050, 2).into(),
                at(99).into(),
                json!({"raw": true}).into(),
            ],
        ))
        .await
        .context("raw insert")?;
    rec.push("raw insert rows_affected", raw.rows_affected());
    if side.backend() == Backend::MariaDb {
        rec.push("raw insert last_insert_id", raw.last_insert_id());
    }
    let items = see!(rec, "items at the end", all_items(db));
    rec.push("prices as text", prices(&items));
    Ok(())
}

async fn finds_agree(backend: Backend) -> Result<()> {
    differential!(backend, finds)
}

async fn finds<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 12).await?;
    let all = see!(rec, "find all by id", all_items(db));
    rec.push("prices as text", prices(&all));
    see!(
        rec,
        "active by price desc",
        item::Entity::find()
            .filter(item::Column::Active.eq(true))
            .order_by_desc(item::Column::Price)
            .all(db)
    );
    see!(
        rec,
        "note is null",
        item::Entity::find()
            .filter(item::Column::Note.is_null())
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(
        rec,
        "name like",
        item::Entity::find()
            .filter(item::Column::Name.like("item-1%"))
            .order_by_asc(item::Column::Name)
            .all(db)
    );
    see!(
        rec,
        "qty in, ordered by two columns",
        item::Entity::find()
            .filter(item::Column::Qty.is_in([1, 3, 5, 7]))
            .order_by_desc(item::Column::Active)
            .order_by_asc(item::Column::Name)
            .all(db)
    );
    see!(
        rec,
        "price between decimals",
        item::Entity::find()
            .filter(item::Column::Price.between(Decimal::new(349, 2), Decimal::new(1099, 2)))
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(
        rec,
        "created_at after, limit and offset",
        item::Entity::find()
            .filter(item::Column::CreatedAt.gt(at(2)))
            .order_by_desc(item::Column::CreatedAt)
            .limit(3)
            .offset(2)
            .all(db)
    );
    see!(
        rec,
        "created_at equals a microsecond value",
        item::Entity::find()
            .filter(item::Column::CreatedAt.eq(at(5)))
            .all(db)
    );
    see!(
        rec,
        "name equals unicode text",
        item::Entity::find()
            .filter(item::Column::Name.eq("item-05 ✓ 🦀"))
            .all(db)
    );
    see!(
        rec,
        "any of two conditions",
        item::Entity::find()
            .filter(
                Condition::any().add(item::Column::Id.lte(2)).add(
                    Condition::all()
                        .add(item::Column::Active.eq(false))
                        .add(item::Column::Note.is_not_null())
                        .add(item::Column::Price.gte(Decimal::new(10, 0))),
                ),
            )
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(
        rec,
        "note contains a quote and a question mark",
        item::Entity::find()
            .filter(item::Column::Note.contains("it's \"quoted\" \\ ünï ?"))
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(rec, "find_by_id hit", item::Entity::find_by_id(5).one(db));
    see!(
        rec,
        "find_by_id miss",
        item::Entity::find_by_id(999).one(db)
    );
    see!(
        rec,
        "one() of an ordered filter",
        item::Entity::find()
            .filter(item::Column::Qty.gt(4))
            .order_by_desc(item::Column::Id)
            .one(db)
    );
    see!(rec, "count all", count_items(db));
    see!(
        rec,
        "count filtered",
        item::Entity::find()
            .filter(item::Column::Active.eq(false))
            .count(db)
    );
    see!(
        rec,
        "count empty",
        item::Entity::find()
            .filter(item::Column::Qty.gt(1000))
            .count(db)
    );
    Ok(())
}

async fn updates_agree(backend: Backend) -> Result<()> {
    differential!(backend, updates)
}

async fn updates<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 8).await?;
    let first = item::Entity::find_by_id(1)
        .one(db)
        .await?
        .context("item 1")?;
    let mut changed: item::ActiveModel = first.into();
    changed.note = Set(None);
    changed.qty = Set(-5);
    changed.price = Set(Decimal::new(123_456_789, 2));
    changed.created_at = Set(at(1) + TimeDelta::microseconds(7));
    changed.meta = Set(json!([1, "two", {"three": null}]));
    changed.name = Set("renamed ✓ 'quoted'".into());
    see!(rec, "ActiveModel::update", changed.update(db));
    // Only the fields that are set are written.
    see!(
        rec,
        "ActiveModel::update of one field",
        item::ActiveModel {
            id: Set(2),
            active: Set(true),
            ..Default::default()
        }
        .update(db)
    );
    let missing = item::ActiveModel {
        id: Set(999),
        qty: Set(1),
        ..Default::default()
    }
    .update(db)
    .await;
    rec.outcome(side, "ActiveModel::update of a missing row", missing);
    let filtered = item::Entity::update(item::ActiveModel {
        id: Set(3),
        qty: Set(33),
        ..Default::default()
    })
    .filter(item::Column::Active.eq(false))
    .exec(db)
    .await;
    rec.outcome(side, "Entity::update with a matching filter", filtered);
    let unmatched = item::Entity::update(item::ActiveModel {
        id: Set(4),
        qty: Set(44),
        ..Default::default()
    })
    .filter(item::Column::Active.eq(false))
    .exec(db)
    .await;
    rec.outcome(side, "Entity::update with a filter that misses", unmatched);
    let expr = item::Entity::update_many()
        .col_expr(item::Column::Qty, Expr::col(item::Column::Qty).add(100))
        .filter(item::Column::Active.eq(true))
        .exec(db)
        .await
        .context("update_many col_expr")?;
    rec.push("update_many col_expr rows_affected", expr.rows_affected);
    // Half the rows already hold the value: MySQL counts matched rows on both sides.
    let set = item::Entity::update_many()
        .set(item::ActiveModel {
            active: Set(true),
            ..Default::default()
        })
        .exec(db)
        .await
        .context("update_many set")?;
    rec.push("update_many set rows_affected", set.rows_affected);
    let none = item::Entity::update_many()
        .col_expr(item::Column::Note, Expr::value(Option::<String>::None))
        .filter(item::Column::Id.gt(1000))
        .exec(db)
        .await
        .context("update_many no rows")?;
    rec.push("update_many of no rows rows_affected", none.rows_affected);
    let unchanged = db
        .execute_unprepared("UPDATE items SET qty = qty WHERE id <= 3")
        .await
        .context("unchanged update")?;
    rec.push(
        "raw update to the same values rows_affected",
        unchanged.rows_affected(),
    );
    let items = see!(rec, "items after updates", all_items(db));
    rec.push("prices as text", prices(&items));
    Ok(())
}

async fn deletes_agree(backend: Backend) -> Result<()> {
    differential!(backend, deletes)
}

async fn deletes<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 12).await?;
    let by_id = item::Entity::delete_by_id(3)
        .exec(db)
        .await
        .context("delete_by_id")?;
    rec.push("delete_by_id rows_affected", by_id.rows_affected);
    let again = item::Entity::delete_by_id(3)
        .exec(db)
        .await
        .context("delete_by_id again")?;
    rec.push(
        "delete_by_id of a deleted row rows_affected",
        again.rows_affected,
    );
    let many = item::Entity::delete_many()
        .filter(item::Column::Qty.lt(4))
        .exec(db)
        .await
        .context("delete_many")?;
    rec.push("delete_many filtered rows_affected", many.rows_affected);
    see!(rec, "count after delete_many", count_items(db));
    let model = item::Entity::find_by_id(5)
        .one(db)
        .await?
        .context("item 5")?;
    let deleted = model.delete(db).await.context("Model::delete")?;
    rec.push("Model::delete rows_affected", deleted.rows_affected);
    let active = item::ActiveModel {
        id: Set(6),
        ..Default::default()
    }
    .delete(db)
    .await
    .context("ActiveModel::delete")?;
    rec.push("ActiveModel::delete rows_affected", active.rows_affected);
    if side.backend() == Backend::Postgres {
        see!(
            rec,
            "delete_many exec_with_returning",
            item::Entity::delete_many()
                .filter(item::Column::Active.eq(false))
                .exec_with_returning(db)
        );
    }
    see!(rec, "items after deletes", all_items(db));
    let rest = item::Entity::delete_many()
        .exec(db)
        .await
        .context("delete_many all")?;
    rec.push(
        "delete_many of everything rows_affected",
        rest.rows_affected,
    );
    see!(rec, "count at the end", count_items(db));
    Ok(())
}

async fn pagination_agrees(backend: Backend) -> Result<()> {
    differential!(backend, pagination)
}

async fn pagination<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 12).await?;
    let pages = item::Entity::find()
        .order_by_asc(item::Column::Id)
        .paginate(db, 5);
    see!(rec, "num_items", pages.num_items());
    see!(rec, "num_pages", pages.num_pages());
    let both = pages
        .num_items_and_pages()
        .await
        .context("num_items_and_pages")?;
    rec.push("num_items_and_pages items", both.number_of_items);
    rec.push("num_items_and_pages pages", both.number_of_pages);
    see!(rec, "fetch_page(0)", pages.fetch_page(0));
    see!(rec, "fetch_page(2)", pages.fetch_page(2));
    see!(rec, "fetch_page(9)", pages.fetch_page(9));
    let mut walk = item::Entity::find()
        .filter(item::Column::Active.eq(true))
        .order_by_desc(item::Column::Price)
        .paginate(db, 4);
    let mut walked = Vec::new();
    while let Some(page) = walk.fetch_and_next().await.context("fetch_and_next")? {
        walked.push(u64::try_from(page.len())?);
        if walked.len() > 10 {
            break;
        }
    }
    rec.push("page sizes of a filtered walk", column(walked));
    let names = item::Entity::find()
        .select_only()
        .column(item::Column::Name)
        .order_by_asc(item::Column::Id)
        .into_tuple::<String>()
        .paginate(db, 5);
    let page = names.fetch_page(1).await.context("tuple page")?;
    rec.push("tuple paginate fetch_page(1)", column(page));
    see!(rec, "tuple paginate num_pages", names.num_pages());
    let mut cursor = item::Entity::find().cursor_by(item::Column::Id);
    cursor.after(3).before(11).first(4);
    see!(rec, "cursor after/before/first", cursor.all(db));
    let mut cursor = item::Entity::find().cursor_by(item::Column::Id);
    cursor.after(3).last(2);
    see!(rec, "cursor after/last", cursor.all(db));
    Ok(())
}

async fn related_finds_agree(backend: Backend) -> Result<()> {
    differential!(backend, related_finds)
}

/// Joins: two entities' columns in one row, told apart by SeaORM's `A_`/`B_` aliases.
async fn related_finds<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 6).await?;
    event::Entity::insert_many([
        new_event(2, "a", 1),
        new_event(2, "b", 2),
        new_event(5, "c", 3),
        new_event(999, "orphan", 4),
    ])
    .exec(db)
    .await
    .context("seeding events")?;
    let also = event::Entity::find()
        .find_also_related(item::Entity)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await;
    rec.outcome(side, "find_also_related", also);
    let with = item::Entity::find()
        .find_with_related(event::Entity)
        .filter(item::Column::Id.lte(5))
        .order_by_asc(item::Column::Id)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await;
    rec.outcome(side, "find_with_related", with);
    let related = item::Entity::find_by_id(2)
        .one(db)
        .await?
        .context("item 2")?
        .find_related(event::Entity)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await;
    rec.outcome(side, "Model::find_related", related);
    Ok(())
}

async fn tuple_selects_agree(backend: Backend) -> Result<()> {
    differential!(backend, tuple_selects)
}

#[derive(Clone, Debug, PartialEq, FromQueryResult)]
struct Partial {
    id: i32,
    note: Option<String>,
    created_at: NaiveDateTime,
}

async fn tuple_selects<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 10).await?;
    let triples = item::Entity::find()
        .select_only()
        .columns([item::Column::Id, item::Column::Name, item::Column::Note])
        .order_by_asc(item::Column::Id)
        .into_tuple::<(i32, String, Option<String>)>()
        .all(db)
        .await
        .context("(id, name, note)")?;
    rec.push(
        "into_tuple (i32, String, Option<String>)",
        Observed::Rows(
            triples
                .into_iter()
                .map(|(a, b, c)| vec![a.into(), b.into(), c.into()])
                .collect(),
        ),
    );
    // Columns selected in an order that is not alphabetical: a tuple is read by position.
    let typed = item::Entity::find()
        .select_only()
        .columns([
            item::Column::Price,
            item::Column::Meta,
            item::Column::CreatedAt,
            item::Column::Active,
            item::Column::Qty,
        ])
        .order_by_desc(item::Column::Id)
        .limit(4)
        .into_tuple::<(Decimal, Json, NaiveDateTime, bool, i32)>()
        .all(db)
        .await
        .context("typed tuple")?;
    rec.push(
        "into_tuple (Decimal, Json, NaiveDateTime, bool, i32)",
        Observed::Rows(
            typed
                .iter()
                .map(|(p, m, c, a, q)| {
                    vec![
                        (*p).into(),
                        m.clone().into(),
                        (*c).into(),
                        (*a).into(),
                        (*q).into(),
                    ]
                })
                .collect(),
        ),
    );
    rec.push(
        "tuple decimals as text",
        Observed::Texts(typed.iter().map(|t| t.0.to_string()).collect()),
    );
    let grouped = item::Entity::find()
        .select_only()
        .column(item::Column::Active)
        .column_as(Expr::col(item::Column::Id).count(), "n")
        .column_as(Expr::col(item::Column::Price).max(), "top")
        .column_as(Expr::col(item::Column::CreatedAt).min(), "first")
        .group_by(item::Column::Active)
        .order_by_asc(item::Column::Active)
        .into_tuple::<(bool, i64, Option<Decimal>, Option<NaiveDateTime>)>()
        .all(db)
        .await
        .context("grouped aggregates")?;
    rec.push(
        "group by with COUNT, MAX, MIN",
        Observed::Rows(
            grouped
                .iter()
                .map(|(a, n, t, f)| vec![(*a).into(), (*n).into(), (*t).into(), (*f).into()])
                .collect(),
        ),
    );
    rec.push(
        "MAX(price) as text",
        Observed::Texts(
            grouped
                .iter()
                .map(|g| format!("{:?}", g.2.map(|d| d.to_string())))
                .collect(),
        ),
    );
    // SUM's type is the engine's: DECIMAL on MySQL, bigint on PostgreSQL.
    let sum = item::Entity::find()
        .select_only()
        .column_as(Expr::col(item::Column::Qty).sum(), "total");
    let sum = if side.backend() == Backend::MariaDb {
        cell(
            sum.into_tuple::<Option<Decimal>>()
                .one(db)
                .await
                .context("SUM")?
                .flatten(),
        )
    } else {
        cell(
            sum.into_tuple::<Option<i64>>()
                .one(db)
                .await
                .context("SUM")?
                .flatten(),
        )
    };
    rec.push("SUM(qty)", sum);
    let distinct = item::Entity::find()
        .select_only()
        .column(item::Column::Qty)
        .distinct()
        .order_by_asc(item::Column::Qty)
        .into_tuple::<i32>()
        .all(db)
        .await
        .context("distinct")?;
    rec.push("distinct qty", column(distinct));
    let partial = item::Entity::find()
        .select_only()
        .columns([
            item::Column::CreatedAt,
            item::Column::Note,
            item::Column::Id,
        ])
        .filter(item::Column::Id.lte(4))
        .order_by_asc(item::Column::Id)
        .into_model::<Partial>()
        .all(db)
        .await
        .context("into_model")?;
    rec.push(
        "into_model (partial struct)",
        Observed::Rows(
            partial
                .into_iter()
                .map(|p| vec![p.id.into(), p.note.into(), p.created_at.into()])
                .collect(),
        ),
    );
    Ok(())
}

async fn raw_sql_agrees(backend: Backend) -> Result<()> {
    differential!(backend, raw_sql)
}

#[derive(Clone, Debug, PartialEq, FromQueryResult)]
struct Priced {
    id: i32,
    name: String,
    price: Decimal,
    note: Option<String>,
}

async fn raw_sql<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 10).await?;
    see!(
        rec,
        "find_by_statement with int, decimal and text parameters",
        Priced::find_by_statement(statement(
            side,
            "SELECT id, name, price, note FROM items \
             WHERE qty >= ? AND price < ? AND name <> ? ORDER BY id",
            vec![3.into(), Decimal::new(1050, 2).into(), "item-04".into()],
        ))
        .all(db)
    );
    see!(
        rec,
        "find_by_statement one() with a NULL parameter",
        Priced::find_by_statement(statement(
            side,
            "SELECT id, name, price, note FROM items \
             WHERE (note IS NULL OR note = ?) AND id > ? ORDER BY id DESC",
            vec![Option::<String>::None.into(), 4.into()],
        ))
        .one(db)
    );
    let row = db
        .query_one(statement(
            side,
            "SELECT COUNT(*) AS n, MAX(created_at) AS latest FROM items \
             WHERE active = ? AND created_at >= ?",
            vec![true.into(), at(3).into()],
        ))
        .await?
        .context("count row")?;
    rec.push(
        "query_one COUNT(*) and MAX(datetime) with bool and datetime parameters",
        Observed::Rows(vec![vec![
            row.try_get::<i64>("", "n")?.into(),
            row.try_get::<Option<NaiveDateTime>>("", "latest")?.into(),
        ]]),
    );
    let rows = db
        .query_all(statement(
            side,
            "SELECT id, meta, created_at FROM items WHERE id IN (?, ?, ?) ORDER BY id",
            vec![1.into(), 2.into(), 7.into()],
        ))
        .await
        .context("query_all")?;
    rec.push(
        "query_all try_get by name",
        Observed::Rows(
            rows.iter()
                .map(|r| {
                    Ok(vec![
                        r.try_get::<i32>("", "id")?.into(),
                        r.try_get::<Json>("", "meta")?.into(),
                        r.try_get::<NaiveDateTime>("", "created_at")?.into(),
                    ])
                })
                .collect::<Result<_, DbErr>>()?,
        ),
    );
    let echo = db
        .query_one(statement(
            side,
            "SELECT name, ? AS echoed FROM items WHERE id = ?",
            vec!["it's ✓ \"q\" :p1 $1".into(), 1.into()],
        ))
        .await?
        .context("echo row")?;
    rec.push(
        "a text parameter selected back",
        cell(echo.try_get::<String>("", "echoed")?),
    );
    see!(
        rec,
        "Entity::find().from_raw_sql",
        item::Entity::find()
            .from_raw_sql(statement(
                side,
                "SELECT * FROM items WHERE qty < ? ORDER BY id",
                vec![5.into()],
            ))
            .all(db)
    );
    let updated = db
        .execute(statement(
            side,
            "UPDATE items SET note = ?, meta = ?, price = ? WHERE id = ? OR id = ?",
            vec![
                Some(String::from("raw ✓")).into(),
                json!({"raw": [1, 2]}).into(),
                Decimal::new(5, 1).into(),
                2.into(),
                3.into(),
            ],
        ))
        .await
        .context("raw update")?;
    rec.push("execute UPDATE rows_affected", updated.rows_affected());
    let deleted = db
        .execute_unprepared("DELETE FROM items WHERE qty = 0")
        .await
        .context("raw delete")?;
    rec.push(
        "execute_unprepared DELETE rows_affected",
        deleted.rows_affected(),
    );
    let items = see!(rec, "items after raw statements", all_items(db));
    rec.push("prices as text", prices(&items));
    Ok(())
}

async fn transactions_agree(backend: Backend) -> Result<()> {
    differential!(backend, transactions)
}

/// The body of the closure-form transaction, shared by both sides.
async fn closure_body<C: ConnectionTrait>(txn: &C, fail: bool) -> Result<(), DbErr> {
    new_item(if fail { 40 } else { 41 }).insert(txn).await?;
    if fail {
        return Err(DbErr::Custom("the closure failed".into()));
    }
    Ok(())
}

async fn transactions<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 3).await?;

    // Commit: invisible outside until committed.
    let tx = side.begin().await?;
    see!(
        rec,
        "insert in a transaction",
        new_item(10).insert(tx.conn())
    );
    let updated = item::Entity::update_many()
        .col_expr(item::Column::Qty, Expr::value(77))
        .filter(item::Column::Id.eq(1))
        .exec(tx.conn())
        .await
        .context("update in a transaction")?;
    rec.push(
        "update in a transaction rows_affected",
        updated.rows_affected,
    );
    see!(rec, "count inside", count_items(tx.conn()));
    see!(rec, "count outside before commit", count_items(db));
    see!(rec, "rows inside before commit", all_items(tx.conn()));
    see!(rec, "rows outside before commit", all_items(db));
    tx.commit().await.context("commit")?;
    see!(rec, "rows after commit", all_items(db));

    // Rollback of the outer transaction.
    let tx = side.begin().await?;
    new_item(11)
        .insert(tx.conn())
        .await
        .context("insert to roll back")?;
    let deleted = item::Entity::delete_by_id(2)
        .exec(tx.conn())
        .await
        .context("delete to roll back")?;
    rec.push(
        "delete in a transaction rows_affected",
        deleted.rows_affected,
    );
    see!(rec, "rows inside before rollback", all_items(tx.conn()));
    tx.rollback().await.context("rollback")?;
    see!(rec, "rows after rollback", all_items(db));

    // The closure form: Ok commits, Err rolls back.
    let ok = side.transaction(false).await;
    rec.push("closure Ok", cell(ok.is_ok()));
    let failed = side.transaction(true).await;
    rec.push(
        "closure Err is a Transaction error",
        cell(matches!(failed, Err(TransactionError::Transaction(_)))),
    );
    see!(rec, "rows after the closures", all_items(db));
    Ok(())
}

async fn nested_transactions_agree(backend: Backend) -> Result<()> {
    differential!(backend, nested_transactions)
}

async fn nested_transactions<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();

    // Inner rolled back, inner committed, inner dropped: the outer commit keeps 1 and 3.
    let tx = side.begin().await?;
    let conn = tx.conn();
    new_item(1).insert(conn).await.context("outer insert")?;
    let inner = conn.begin().await.context("inner begin")?;
    new_item(2).insert(&inner).await.context("inner insert")?;
    see!(rec, "inner sees outer and own rows", all_items(&inner));
    inner.rollback().await.context("inner rollback")?;
    see!(rec, "outer after inner rollback", all_items(conn));
    let inner = conn.begin().await.context("second inner begin")?;
    new_item(3)
        .insert(&inner)
        .await
        .context("second inner insert")?;
    inner.commit().await.context("inner commit")?;
    {
        let dropped = conn.begin().await.context("third inner begin")?;
        new_item(4)
            .insert(&dropped)
            .await
            .context("dropped inner insert")?;
    }
    see!(rec, "outer after a dropped inner", all_items(conn));
    tx.commit().await.context("outer commit")?;
    see!(rec, "rows after the outer commit", all_items(db));

    // Two levels deep: the innermost rolled back, the middle committed.
    let tx = side.begin().await?;
    let conn = tx.conn();
    let middle = conn.begin().await.context("middle begin")?;
    new_item(5).insert(&middle).await.context("middle insert")?;
    let innermost = middle.begin().await.context("innermost begin")?;
    new_item(6)
        .insert(&innermost)
        .await
        .context("innermost insert")?;
    innermost.rollback().await.context("innermost rollback")?;
    new_item(7)
        .insert(&middle)
        .await
        .context("middle insert after")?;
    middle.commit().await.context("middle commit")?;
    tx.commit().await.context("outer commit")?;
    see!(rec, "rows after two levels", all_items(db));

    // A failed statement inside a savepoint: rolling back to it lets the outer one go on (on
    // PostgreSQL the error aborts everything up to the savepoint).
    let tx = side.begin().await?;
    let conn = tx.conn();
    new_item(8).insert(conn).await.context("insert before")?;
    let inner = conn.begin().await.context("inner begin")?;
    let duplicate = new_item(1).insert(&inner).await;
    rec.outcome(side, "duplicate inside a savepoint", duplicate);
    inner.rollback().await.context("inner rollback")?;
    new_item(9).insert(conn).await.context("insert after")?;
    tx.commit().await.context("outer commit")?;
    see!(rec, "rows after recovering from an error", all_items(db));

    // The outer rolled back after an inner commit: nothing stays.
    let tx = side.begin().await?;
    let conn = tx.conn();
    new_item(10).insert(conn).await.context("outer insert")?;
    let inner = conn.begin().await.context("inner begin")?;
    new_item(11).insert(&inner).await.context("inner insert")?;
    item::Entity::delete_by_id(1)
        .exec(&inner)
        .await
        .context("inner delete")?;
    inner.commit().await.context("inner commit")?;
    see!(rec, "outer before its rollback", all_items(conn));
    tx.rollback().await.context("outer rollback")?;
    see!(rec, "rows after the outer rollback", all_items(db));
    Ok(())
}

async fn unique_violations_agree(backend: Backend) -> Result<()> {
    differential!(backend, unique_violations)
}

async fn unique_violations<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 3).await?;
    new_label("a", Some(5))
        .insert(db)
        .await
        .context("label a")?;
    let duplicate = new_item(2).insert(db).await;
    rec.outcome(side, "ActiveModel::insert of a duplicate name", duplicate);
    let duplicate = item::Entity::insert(new_item(3)).exec(db).await;
    rec.outcome(
        side,
        "Entity::insert of a duplicate name",
        duplicate.map(|r| u64::try_from(r.last_insert_id).unwrap_or(u64::MAX)),
    );
    let duplicate = item::Entity::insert_many([new_item(4), new_item(1), new_item(5)])
        .exec(db)
        .await;
    rec.outcome(
        side,
        "insert_many with one duplicate",
        duplicate.map(|r| u64::try_from(r.last_insert_id).unwrap_or(u64::MAX)),
    );
    see!(rec, "rows after the failed inserts", all_items(db));
    let duplicate = new_label("a", Some(1)).insert(db).await;
    rec.outcome(side, "duplicate primary key", duplicate);
    let duplicate = item::ActiveModel {
        id: Set(1),
        name: Set("item-02".into()),
        ..Default::default()
    }
    .update(db)
    .await;
    rec.outcome(side, "update to a duplicate name", duplicate);
    let not_null = db
        .execute_unprepared("INSERT INTO labels (code, title) VALUES ('n', NULL)")
        .await
        .map(|r| r.rows_affected());
    rec.outcome(side, "NOT NULL violation (not a unique one)", not_null);
    let syntax = db
        .execute_unprepared("INSERT INTO no_such_table VALUES (1)")
        .await
        .map(|r| r.rows_affected());
    rec.outcome(side, "missing table", syntax);
    // Inside a transaction too.
    let tx = side.begin().await?;
    let duplicate = new_item(1).insert(tx.conn()).await;
    rec.outcome(side, "duplicate in a transaction", duplicate);
    tx.rollback().await.context("rollback")?;
    see!(rec, "rows at the end", all_items(db));
    Ok(())
}

async fn null_then_value_parameters_agree(backend: Backend) -> Result<()> {
    differential!(backend, null_then_value_parameters)
}

/// The same INSERT twice on one connection (a transaction pins it; the SQL is used nowhere else, so
/// the connection has not prepared it before): first with NULL in a nullable column, then with a
/// value there. Each case in a transaction of its own, rolled back.
async fn null_then_value_parameters<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let tx = side.begin().await?;
    let null = label::Entity::insert(new_label("n1", None))
        .exec_without_returning(tx.conn())
        .await;
    rec.outcome(side, "INT column: NULL", null);
    let value = label::Entity::insert(new_label("n2", Some(7)))
        .exec_without_returning(tx.conn())
        .await;
    rec.outcome(side, "INT column: then a number", value);
    tx.rollback().await.context("rollback")?;

    let event = |payload: Option<Json>, happened_at: Option<NaiveDateTime>| event::ActiveModel {
        payload: Set(payload),
        happened_at: Set(happened_at),
        ..new_event(1, "n", 1)
    };
    let tx = side.begin().await?;
    let null = event::Entity::insert(event(None, Some(at(1))))
        .exec_without_returning(tx.conn())
        .await;
    rec.outcome(side, "JSON column: NULL", null);
    let value = event::Entity::insert(event(Some(json!({"k": 1})), Some(at(2))))
        .exec_without_returning(tx.conn())
        .await;
    rec.outcome(side, "JSON column: then a document", value);
    tx.rollback().await.context("rollback")?;

    let tx = side.begin().await?;
    let null = event::Entity::insert(event(Some(json!(1)), None))
        .exec_without_returning(tx.conn())
        .await;
    rec.outcome(side, "TIMESTAMP column: NULL", null);
    let value = event::Entity::insert(event(Some(json!(2)), Some(at(3))))
        .exec_without_returning(tx.conn())
        .await;
    rec.outcome(side, "TIMESTAMP column: then a date-time", value);
    tx.rollback().await.context("rollback")?;
    Ok(())
}
