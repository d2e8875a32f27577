//! Constraint violations: unique keys, primary keys, NOT NULL, a missing table, inside and outside transactions.

use anyhow::{Context, Result};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use test_support::Backend;

use super::data::*;
use super::entities::item;
use super::record::Record;
use super::sides::{Outer, Side};

crate::on_data_api_engines!(unique_violations_agree);

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
