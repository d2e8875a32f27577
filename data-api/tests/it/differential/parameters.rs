//! Parameters: NULL then a value in the same statement on one connection.

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use serde_json::json;
use test_support::Backend;

use super::data::*;
use super::entities::{event, label};
use super::record::Record;
use super::sides::{Outer, Side};

crate::on_data_api_engines!(null_then_value_parameters_agree);

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
