//! Queries and mutations on `users`.

use entity::prelude::Users;
use entity::users;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use sea_orm::{
    ActiveValue, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryTrait, SqlErr, Statement,
};
use uuid::Uuid;

use crate::domain::NewUser;

/// What [`create_with_id`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The user was inserted now.
    New(users::Model),
    /// A user with this id and these names already existed: an earlier request made it.
    Existing(users::Model),
    /// A user with this id but other names exists.
    Conflict,
    /// The id is taken but its row cannot be read yet (an uncommitted insert of another request).
    Pending,
}

/// Rows per query when [`for_each_page`] reads the whole table: ~100 KB with short names, and pages the Data
/// API refuses as over 1 MiB (long multi-byte names) are halved until they fit.
pub const LIST_PAGE_ROWS: u64 = 1000;

/// Inserts `user` under a fresh UUID v4 and returns the stored row.
///
/// One `INSERT` statement without `RETURNING`, so it behaves the same on every backend. The adapter
/// never repeats it blindly: a Data API answer that leaves the outcome unknown reaches the caller as
/// an error (503 `outcome_unknown`), so a request writes at most one user.
///
/// # Errors
/// The database error, e.g. when the server is unreachable.
#[tracing::instrument(skip_all)]
pub async fn create(db: &impl ConnectionTrait, user: NewUser) -> Result<users::Model, DbErr> {
    let model = users::Model {
        id: Uuid::new_v4().to_string(),
        first_name: user.first_name.into_inner(),
        last_name: user.last_name.into_inner(),
    };
    insert(db, &model).await?;
    tracing::debug!(user_id = %model.id, "user created");
    Ok(model)
}

/// Inserts `user` under `id`, which the caller derived from an idempotency key: a repeat of the same
/// request finds the row it created instead of writing a second one.
///
/// One `INSERT` when the id is new. When the insert is refused for a duplicate key, the row is read
/// and compared: the same names are [`Created::Existing`], other names [`Created::Conflict`]. An
/// insert whose outcome is unknown is not repeated here (the error reaches the caller as before);
/// the client's retry with the same key finds out.
///
/// # Errors
/// The database error, other than the duplicate key.
#[tracing::instrument(skip_all)]
pub async fn create_with_id(
    db: &impl ConnectionTrait,
    id: Uuid,
    user: NewUser,
) -> Result<Created, DbErr> {
    let model = users::Model {
        id: id.to_string(),
        first_name: user.first_name.into_inner(),
        last_name: user.last_name.into_inner(),
    };
    match insert(db, &model).await {
        Ok(()) => {
            tracing::debug!(user_id = %model.id, "user created under an idempotency key");
            Ok(Created::New(model))
        }
        Err(error)
            if matches!(
                data_api::sql_err(&error),
                Some(SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let existing = find(db, &model.id).await?;
            tracing::debug!(user_id = %model.id, found = existing.is_some(), "idempotency key repeated");
            Ok(match existing {
                Some(row) if row == model => Created::Existing(row),
                Some(_) => Created::Conflict,
                None => Created::Pending,
            })
        }
        Err(error) => Err(error),
    }
}

/// Inserts `model`: the statement `Users::insert(..).exec_without_returning` sends, with its SQL
/// built by SeaORM once per backend ([`insert_statement`]).
async fn insert(db: &impl ConnectionTrait, model: &users::Model) -> Result<(), DbErr> {
    let inserted = db
        .execute(insert_statement(db.get_database_backend(), model))
        .await?
        .rows_affected();
    if inserted != 1 {
        return Err(DbErr::RecordNotInserted);
    }
    Ok(())
}

/// The `INSERT` of `model` on `backend`: SeaORM's `Users::insert` of an active model with every
/// column set. Its SQL depends on the backend only, so it is built once per backend and reused;
/// the values are `model`'s, in the entity's column order, as SeaORM binds them.
fn insert_statement(backend: DbBackend, model: &users::Model) -> Statement {
    static SQL: [OnceLock<String>; 3] = [const { OnceLock::new() }; 3];
    let slot = match backend {
        DbBackend::MySql => 0,
        DbBackend::Postgres => 1,
        DbBackend::Sqlite => 2,
    };
    let sql = SQL[slot].get_or_init(|| {
        let any = String::new();
        Users::insert(users::ActiveModel {
            id: ActiveValue::Set(any.clone()),
            first_name: ActiveValue::Set(any.clone()),
            last_name: ActiveValue::Set(any),
        })
        .build(backend)
        .sql
    });
    Statement::from_sql_and_values(
        backend,
        sql.as_str(),
        [
            model.id.clone().into(),
            model.first_name.clone().into(),
            model.last_name.clone().into(),
        ],
    )
}

/// The user with `id`, if any.
///
/// # Errors
/// The database error.
#[tracing::instrument(skip_all)]
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<users::Model>, DbErr> {
    Users::find_by_id(id.to_owned()).one(db).await
}

/// Up to `limit` users with ids after `after` (from the start when `None`), ordered by id: keyset
/// pagination, stable under concurrent inserts (no gaps, no repeats). A page whose rows exceed the
/// Data API's 1 MiB response limit (1,000 users with long multi-byte names do) is read in smaller
/// queries.
///
/// # Errors
/// The database error.
#[tracing::instrument(skip_all)]
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<String>,
    limit: u64,
) -> Result<Vec<users::Model>, DbErr> {
    data_api::keyset::up_to(
        db,
        Users::find(),
        users::Column::Id,
        |user| user.id.clone(),
        after,
        limit,
    )
    .await
}

/// Reads every user in id order, a keyset page of [`LIST_PAGE_ROWS`] at a time (halved past the
/// Data API's 1 MiB), handing each page to `visit` and dropping it before the next query: memory
/// holds one page, whatever the table's size. Stops early, without another query, when `visit`
/// answers [`ControlFlow::Break`].
///
/// # Errors
/// The database error.
#[tracing::instrument(skip_all)]
pub async fn for_each_page(
    db: &impl ConnectionTrait,
    mut visit: impl FnMut(&[users::Model]) -> ControlFlow<()>,
) -> Result<(), DbErr> {
    let mut after: Option<String> = None;
    loop {
        let page = data_api::keyset::up_to(
            db,
            Users::find(),
            users::Column::Id,
            |user| user.id.clone(),
            after.take(),
            LIST_PAGE_ROWS,
        )
        .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        if visit(&page).is_break() || (page.len() as u64) < LIST_PAGE_ROWS {
            return Ok(());
        }
        after = Some(last.id.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reused statement is the one SeaORM builds for the model, SQL and values, on every
    /// backend, and for more than one model (the SQL is built once, the values each time).
    #[test]
    fn insert_statement_is_what_seaorm_builds() {
        for backend in [DbBackend::MySql, DbBackend::Postgres, DbBackend::Sqlite] {
            for (id, first_name, last_name) in [("1", "Ada", "Lovelace"), ("2", "Alan \"A\"", "")] {
                let model = users::Model {
                    id: id.to_owned(),
                    first_name: first_name.to_owned(),
                    last_name: last_name.to_owned(),
                };
                let expected = Users::insert(users::ActiveModel {
                    id: ActiveValue::Set(model.id.clone()),
                    first_name: ActiveValue::Set(model.first_name.clone()),
                    last_name: ActiveValue::Set(model.last_name.clone()),
                })
                .build(backend);
                assert_eq!(insert_statement(backend, &model), expected, "{backend:?}");
            }
        }
    }
}
