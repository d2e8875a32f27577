//! The article's routes: `POST /add-user` and `GET /get-users`.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::domain::NewUser;
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;

/// `POST /add-user` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddUserResponse {
    /// The new user's id, a UUID v4.
    pub user_id: String,
}

/// `POST /add-user` with `{"firstName", "lastName"}` → 200 `{"userId"}`.
///
/// Every rejection happens before the database is touched.
#[tracing::instrument(skip_all)]
pub async fn add_user(
    State(state): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<AddUserResponse>, ApiError> {
    let Json(body) = body.map_err(rejection)?;
    let user = NewUser::parse(&body).map_err(ApiError::validation)?;
    let user_id = service::users::create(state.db(), user).await?;
    Ok(Json(AddUserResponse { user_id }))
}

/// `GET /get-users` → 200 `[{"id", "firstName", "lastName"}]`, ordered by id.
#[tracing::instrument(skip_all)]
pub async fn get_users(
    State(state): State<AppState>,
) -> Result<Json<Vec<entity::users::Model>>, ApiError> {
    Ok(Json(service::users::list(state.db()).await?))
}

/// Maps axum's JSON extractor failures to our error body, keeping their status:
/// 415 without `Content-Type: application/json`, 413 past the body limit, 400 for malformed JSON.
fn rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON, sent with Content-Type: application/json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body must be at most {} bytes",
                crate::routes::MAX_BODY_BYTES
            ),
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            rejection.body_text(),
        ),
    }
}
