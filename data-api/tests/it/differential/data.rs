//! The data both sides write and the helpers that read it back.

use anyhow::{Context, Result};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, QueryOrder, Statement};
use serde_json::json;
use test_support::Backend;

use super::entities::{event, item, label};
use super::record::Observed;
use super::sides::Side;

pub(super) fn at(i: i32) -> NaiveDateTime {
    let base = NaiveDate::from_ymd_opt(2024, 2, 29)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a valid date");
    // Even rows on whole milliseconds, odd rows with microseconds (the adapter casts those).
    let micros = if i % 2 == 0 { 1000 } else { 1001 };
    base + TimeDelta::minutes(i64::from(i) * 37) + TimeDelta::microseconds(i64::from(i) * micros)
}

pub(super) fn new_item(i: i32) -> item::ActiveModel {
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

pub(super) fn new_event(item_id: i32, kind: &str, i: i32) -> event::ActiveModel {
    event::ActiveModel {
        id: NotSet,
        item_id: Set(item_id),
        kind: Set(kind.into()),
        // Microseconds into a DATETIME(3)/TIMESTAMP(3) column: the server rounds on both sides.
        happened_at: Set((i % 2 == 0).then(|| at(i) + TimeDelta::microseconds(1499))),
        payload: Set((i % 3 != 0).then(|| json!({"kind": kind, "n": [i, null]}))),
    }
}

pub(super) fn new_label(code: &str, weight: Option<i32>) -> label::ActiveModel {
    label::ActiveModel {
        code: Set(code.into()),
        title: Set(format!("Label {code} — ünï")),
        weight: Set(weight),
    }
}

pub(super) async fn seed<C: ConnectionTrait>(db: &C, n: i32) -> Result<()> {
    item::Entity::insert_many((1..=n).map(new_item))
        .exec(db)
        .await
        .context("seeding items")?;
    Ok(())
}

pub(super) async fn all_items<C: ConnectionTrait>(db: &C) -> Result<Vec<item::Model>, DbErr> {
    item::Entity::find()
        .order_by_asc(item::Column::Id)
        .all(db)
        .await
}

pub(super) async fn count_items<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    item::Entity::find().count(db).await
}

pub(super) fn prices(items: &[item::Model]) -> Observed {
    Observed::Texts(items.iter().map(|i| i.price.to_string()).collect())
}

/// `?` placeholders as the backend writes them (`$1`, `$2`, … on PostgreSQL).
pub(super) fn placeholders(backend: Backend, sql: &str) -> String {
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

pub(super) fn statement<S: Side>(side: &S, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(
        side.db().get_database_backend(),
        placeholders(side.backend(), sql),
        values,
    )
}
