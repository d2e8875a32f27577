//! Transactions: commit, rollback, the closure form, and nested levels (savepoints).

use anyhow::{Context, Result};
use sea_orm::entity::prelude::*;
use sea_orm::{TransactionError, TransactionTrait};
use test_support::Backend;

use super::data::*;
use super::entities::item;
use super::record::{Record, cell};
use super::sides::{Outer, Side};

crate::on_data_api_engines!(transactions_agree, nested_transactions_agree);

async fn transactions_agree(backend: Backend) -> Result<()> {
    differential!(backend, transactions)
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
