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

/// Runs `scenario` on both sides and compares what they observed.
macro_rules! differential {
    ($backend:expr, $scenario:ident) => {{
        let backend = $backend;
        let native = super::sides::Native::open(backend).await?;
        let adapter = super::sides::Adapter::open(backend).await?;
        let mut expected = super::record::Record::default();
        $scenario(&native, &mut expected)
            .await
            .context("native pass")?;
        let mut actual = super::record::Record::default();
        let outcome = $scenario(&adapter, &mut actual).await;
        super::record::compare(&expected, &actual, outcome)
    }};
}

/// Awaits `$future`, records its value as step `$step` and gives it back.
macro_rules! see {
    ($record:ident, $step:literal, $future:expr) => {{
        let value = $future.await.context($step)?;
        $record.push($step, value.clone());
        value
    }};
}

// What both sides run on.
mod data;
mod entities;
mod record;
mod sides;

// The scenarios, by group.
mod constraints;
mod parameters;
mod raw_sql;
mod reads;
mod transactions;
mod writes;
