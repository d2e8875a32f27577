//! The router: routes, body limit, JSON answers for unknown routes and methods.

pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body accepted, in bytes. Two 255-character names need under 2.1 KiB even when
/// every character takes four bytes; 16 KiB leaves room for whitespace and ignored fields.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Builds the router. Does no I/O.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/add-user", post(users::add_user))
        .route("/get-users", get(users::get_users))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}
