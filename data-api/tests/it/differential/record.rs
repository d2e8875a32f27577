//! Observations: each step's result as a value ([`Observed`]), a pass's record of them, and the
//! comparison of the native record with the adapter's.

use anyhow::{Result, ensure};
use sea_orm::SqlErr;
use sea_orm::entity::prelude::*;

use super::entities::{event, item, label};
use super::raw_sql::Priced;
use super::sides::Side;

/// The constraint class and `DbErr` variant of an error (messages differ by design).
#[derive(Debug, PartialEq)]
pub(super) struct ErrorClass {
    variant: &'static str,
    sql_err: Option<&'static str>,
}

/// One step's result, as a value.
#[derive(Debug, PartialEq)]
pub(super) enum Observed {
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

pub(super) trait Observe {
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
pub(super) fn cell(value: impl Into<Value>) -> Observed {
    Observed::Rows(vec![vec![value.into()]])
}

/// A column of values as one-cell rows.
pub(super) fn column<T: Into<Value>>(values: Vec<T>) -> Observed {
    Observed::Rows(values.into_iter().map(|v| vec![v.into()]).collect())
}

/// What a pass saw, step by step.
#[derive(Debug, Default)]
pub(super) struct Record(Vec<(&'static str, Observed)>);

impl Record {
    pub(super) fn push(&mut self, step: &'static str, value: impl Observe) {
        self.0.push((step, value.observe()));
    }

    /// Records a result that may be an error, classified by `side`.
    pub(super) fn outcome<S: Side, T: Observe>(
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

pub(super) fn classify<S: Side>(side: &S, err: &DbErr) -> ErrorClass {
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

/// Compares the native record with the adapter's and lists every difference.
pub(super) fn compare(native: &Record, adapter: &Record, outcome: Result<()>) -> Result<()> {
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
    if adapter.0.len() > native.0.len() && differences.is_empty() {
        let extra: Vec<&str> = adapter.0[native.0.len()..]
            .iter()
            .map(|(s, _)| *s)
            .collect();
        differences.push(format!(
            "the adapter pass ran steps the native one did not: {extra:?}"
        ));
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
