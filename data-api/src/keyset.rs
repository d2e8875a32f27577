//! Keyset pagination: pages ordered by a unique key, each starting after the last key of the one
//! before — stable under concurrent inserts (no gaps, no repeats, unlike `OFFSET`), and the way to
//! read more than the Data API's 1 MiB response limit allows in one call.
//!
//! ```no_run
//! # mod users {
//! #     use sea_orm::entity::prelude::*;
//! #     #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model { #[sea_orm(primary_key, auto_increment = false)] pub id: String }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! # async fn demo(db: &sea_orm::DatabaseConnection) -> Result<(), sea_orm::DbErr> {
//! use sea_orm::EntityTrait;
//! let first = data_api::keyset::page(db, users::Entity::find(), users::Column::Id, None::<String>, 100).await?;
//! let next = data_api::keyset::page(db, users::Entity::find(), users::Column::Id, first.last().map(|u| u.id.clone()), 100).await?;
//! let everyone = data_api::keyset::all(db, users::Entity::find(), users::Column::Id, |u| u.id.clone(), 500).await?;
//! let at_most_1000 = data_api::keyset::up_to(db, users::Entity::find(), users::Column::Id, |u| u.id.clone(), None::<String>, 1000).await?;
//! # Ok(()) }
//! ```

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Value,
};

use crate::error::is_response_too_large;

/// Up to `limit` rows of `select` with `key` greater than `after` (all when `None`), ascending by
/// `key`, which must be unique (a primary key).
///
/// # Errors
/// The query's.
pub async fn page<E, C, K>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    after: Option<K>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Into<Value>,
{
    let select = match after {
        Some(after) => select.filter(key.gt(after)),
        None => select,
    };
    select.order_by_asc(key).limit(limit).all(db).await
}

/// Every row of `select`, read page by page in `key` order (`key_of` gives a row's key). A page the
/// Data API refuses as over 1 MiB is retried at half the size, down to one row.
///
/// # Errors
/// The query's; the response-limit error when a single row is over 1 MiB.
pub async fn all<E, C, K, F>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    key_of: F,
    page_size: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Into<Value> + Clone,
    F: Fn(&E::Model) -> K,
{
    collect(db, select, key, key_of, None, u64::MAX, page_size).await
}

/// Up to `limit` rows of `select` with `key` greater than `after`, ascending by `key`, as [`page`]
/// gives them — but in as many queries as the Data API's 1 MiB response limit needs: a query it
/// refuses as too large is retried at half the size, and the rows are gathered until `limit` or the
/// end. Use it for a client-chosen page size over rows whose size is not bounded well below 1 MiB
/// per `limit` rows.
///
/// # Errors
/// The query's; the response-limit error when a single row is over 1 MiB.
pub async fn up_to<E, C, K, F>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    key_of: F,
    after: Option<K>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Into<Value> + Clone,
    F: Fn(&E::Model) -> K,
{
    collect(db, select, key, key_of, after, limit, limit).await
}

async fn collect<E, C, K, F>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    key_of: F,
    mut after: Option<K>,
    limit: u64,
    page_size: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    K: Into<Value> + Clone,
    F: Fn(&E::Model) -> K,
{
    let mut rows = Vec::new();
    let mut remaining = limit;
    let mut size = page_size.max(1);
    while remaining > 0 {
        let ask = size.min(remaining);
        match page(db, select.clone(), key, after.clone(), ask).await {
            Ok(batch) => {
                let got = u64::try_from(batch.len()).unwrap_or(u64::MAX);
                if let Some(last) = batch.last() {
                    after = Some(key_of(last));
                }
                rows.extend(batch);
                if got < ask {
                    break;
                }
                remaining -= got;
            }
            Err(error) if is_response_too_large(&error) && size > 1 => {
                size = ask.div_ceil(2);
                tracing::debug!(size, "page over the Data API response limit; halving it");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(rows)
}
