//! `GET /health` and `GET /openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use sea_orm::{ConnectionTrait, Statement};
use serde::Serialize;

use crate::state::AppState;

/// The OpenAPI 3.1 description of every route, served as is.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /health` answer.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `ok` when `SELECT 1` answered, else `unavailable`.
    pub database: &'static str,
}

/// `GET /health` → 200 `{"status": "ok", "database": "ok"}` when the database answers `SELECT 1`,
/// else 503 with `"unavailable"` (the cause is logged). Through the Data API this wakes a paused
/// cluster, waiting up to the adapter's resume budget.
#[tracing::instrument(skip_all)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = state.db();
    let ping = Statement::from_string(db.get_database_backend(), "SELECT 1");
    match db.query_one(ping).await {
        Ok(_) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "ok",
            }),
        ),
        Err(error) => {
            tracing::warn!(error = %error, "health check: the database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database: "unavailable",
                }),
            )
        }
    }
}

/// `GET /openapi.json` → the OpenAPI document.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
