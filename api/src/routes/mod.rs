//! The router: routes, body limit, JSON answers for unknown routes and methods.

pub mod meta;
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
        .route("/users", post(users::create_user).get(users::list_users))
        .route("/users/{id}", get(users::get_user))
        .route("/health", get(meta::health))
        .route("/openapi.json", get(meta::openapi))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    /// Each method of each path the OpenAPI document lists reaches a handler, and every other
    /// method of those paths gets 405: the document and the router cannot drift apart.
    #[tokio::test]
    async fn openapi_document_and_router_agree() {
        let spec: serde_json::Value = serde_json::from_str(meta::OPENAPI).expect("valid JSON");
        let paths = spec["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), 6, "{:?}", paths.keys());
        // An empty database: handlers run and fail on the missing table, never with a routing error.
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let app = router(AppState::new(db));
        for (path, operations) in paths {
            let uri = path.replace("{id}", "some-id");
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let listed = operations.get(method.to_lowercase()).is_some();
                let request = Request::builder()
                    .method(method)
                    .uri(&uri)
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"firstName":"a","lastName":"b"}"#))
                    .expect("request");
                let response = app.clone().oneshot(request).await.expect("infallible");
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body");
                let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
                let code = body["error"]["code"].as_str().unwrap_or("");
                if listed {
                    assert!(
                        status != StatusCode::METHOD_NOT_ALLOWED
                            && !(status == StatusCode::NOT_FOUND
                                && body["error"]["message"]
                                    .as_str()
                                    .is_some_and(|m| m.starts_with("no route"))),
                        "{method} {path}: {status} {body}"
                    );
                } else {
                    assert_eq!(
                        (status, code),
                        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
                        "{method} {path}: {body}"
                    );
                }
            }
        }
    }
}
