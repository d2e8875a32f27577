//! Queries and mutations on `users`.

use entity::prelude::Users;
use entity::users;
use sea_orm::{ActiveValue, ConnectionTrait, DbErr, EntityTrait, QueryOrder};
use uuid::Uuid;

use crate::domain::NewUser;

/// Inserts `user` under a fresh UUID v4 and returns the id.
///
/// One `INSERT` statement without `RETURNING`, so it behaves the same on every backend.
///
/// # Errors
/// The database error, e.g. when the server is unreachable.
#[tracing::instrument(skip_all)]
pub async fn create(db: &impl ConnectionTrait, user: NewUser) -> Result<String, DbErr> {
    let id = Uuid::new_v4().to_string();
    let row = users::ActiveModel {
        id: ActiveValue::Set(id.clone()),
        first_name: ActiveValue::Set(user.first_name.into_inner()),
        last_name: ActiveValue::Set(user.last_name.into_inner()),
    };
    let inserted = Users::insert(row).exec_without_returning(db).await?;
    if inserted != 1 {
        return Err(DbErr::RecordNotInserted);
    }
    tracing::debug!(user_id = %id, "user created");
    Ok(id)
}

/// Every user, ordered by id.
///
/// # Errors
/// The database error.
#[tracing::instrument(skip_all)]
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<users::Model>, DbErr> {
    Users::find().order_by_asc(users::Column::Id).all(db).await
}
