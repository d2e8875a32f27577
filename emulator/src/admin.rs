//! The emulator's own HTTP paths, beside the Data API's, for tests that drive faults from outside
//! the process (curl, another language's test suite):
//!
//! | Method and path | Body | Effect |
//! |---|---|---|
//! | `POST /_emulator/faults` | a [`Rule`] | adds an injected error |
//! | `GET /_emulator/faults` | — | the rules in force, as a JSON array |
//! | `DELETE /_emulator/faults` | — | removes every rule, ends any pause |
//! | `POST /_emulator/pause` | — | pauses the cluster now (next calls: `DatabaseResumingException`) |
//!
//! AWS has no such paths, so no Data API client can reach them by accident.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::AppState;
use crate::faults::Rule;
use crate::protocol::error::ApiError;

/// The routes, to nest under `/_emulator`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/faults", get(list).post(inject).delete(clear))
        .route("/pause", post(pause))
}

async fn list(State(state): State<AppState>) -> Json<Vec<Rule>> {
    Json(state.faults().rules())
}

async fn inject(
    State(state): State<AppState>,
    rule: Result<Json<Rule>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(rule) = rule.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    state.faults().inject(rule).map_err(ApiError::bad_request)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn clear(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    StatusCode::NO_CONTENT
}

async fn pause(State(state): State<AppState>) -> StatusCode {
    state.faults().pause();
    StatusCode::NO_CONTENT
}
