//! Writes: inserts (every form SeaORM has), updates and deletes.

use anyhow::{Context, Result};
use chrono::TimeDelta;
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder};
use serde_json::json;
use test_support::Backend;

use super::data::*;
use super::entities::{event, item, label};
use super::record::{Record, cell, column};
use super::sides::Side;

crate::on_data_api_engines!(inserts_agree, updates_agree, deletes_agree);

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
