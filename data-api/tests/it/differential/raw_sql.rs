//! Raw SQL: statements with values, `FromQueryResult` rows, `ExecResult`s.

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde_json::json;
use test_support::Backend;

use super::data::*;
use super::entities::item;
use super::record::{Observed, Record, cell};
use super::sides::Side;

crate::on_data_api_engines!(raw_sql_agrees);

async fn raw_sql_agrees(backend: Backend) -> Result<()> {
    differential!(backend, raw_sql)
}

#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub(super) struct Priced {
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
