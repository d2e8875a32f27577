//! The users routes: the article's `POST /add-user` and `GET /get-users`, and the resource API
//! `POST /users`, `GET /users?limit=&cursor=`, `GET /users/{id}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ops::ControlFlow;

use crate::domain::{MAX_NAME_CHARS, NewUser};
use crate::error::ApiError;
use crate::idempotency::{self, Key};
use crate::service;
use crate::service::users::Created;
use crate::state::AppState;

/// `limit` of `GET /users` when none is given.
pub const DEFAULT_PAGE_LIMIT: u64 = 100;
/// Largest `limit` of `GET /users`.
pub const MAX_PAGE_LIMIT: u64 = 1000;

/// `POST /add-user` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddUserResponse {
    /// The new user's id: a UUID v4, or v5 derived from the `Idempotency-Key`.
    pub user_id: String,
}

/// `POST /add-user` with `{"firstName", "lastName"}` → 200 `{"userId"}`.
///
/// Every rejection happens before the database is touched. With an `Idempotency-Key`, a repeat
/// answers as the first request did ([`crate::idempotency`]).
#[tracing::instrument(skip_all)]
pub async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let key = Key::from_headers(&headers)?;
    let user = new_user(body)?;
    let (user, replayed) = create(&state, key, "/add-user", user).await?;
    Ok(replay_header(
        replayed,
        Json(AddUserResponse { user_id: user.id }).into_response(),
    ))
}

/// Creates `user`, under the id derived from `key` when there is one. Returns the user and whether
/// an earlier request with the same key had created it.
async fn create(
    state: &AppState,
    key: Option<Key>,
    route: &str,
    user: NewUser,
) -> Result<(entity::users::Model, bool), ApiError> {
    let Some(key) = key else {
        return Ok((service::users::create(state.db(), user).await?, false));
    };
    match service::users::create_with_id(state.db(), key.user_id(route), user).await? {
        Created::New(user) => Ok((user, false)),
        Created::Existing(user) => Ok((user, true)),
        Created::Conflict => Err(idempotency::reused()),
        Created::Pending => Err(idempotency::in_use()),
    }
}

/// Marks the answer to a repeated request with `Idempotent-Replayed: true`.
fn replay_header(replayed: bool, mut response: Response) -> Response {
    if replayed {
        response.headers_mut().insert(
            idempotency::REPLAYED_HEADER,
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}

/// `GET /get-users` → 200 `[{"id", "firstName", "lastName"}]`, every user, ordered by id.
///
/// Read in keyset pages, so the Data API's 1 MiB response limit never applies to the whole table.
/// Each page is written into the answer and dropped before the next is read, so memory holds the
/// answer and one page. An answer larger than the configured limit (on Lambda, what fits in its
/// 6 MB response) is refused with 500 `response_too_large`, pointing at `GET /users`, as soon as the
/// rows read pass the limit: the rest of the table is not read.
#[tracing::instrument(skip_all)]
pub async fn get_users(State(state): State<AppState>) -> Result<Response, ApiError> {
    let max = state.get_users_max_bytes();
    let mut body = ListBody::new(max);
    let mut failure = None;
    service::users::for_each_page(state.db(), |page| {
        for user in page {
            match body.push(user) {
                Ok(true) => {}
                Ok(false) => return ControlFlow::Break(()),
                Err(error) => {
                    failure = Some(error);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    })
    .await?;
    if let Some(error) = failure {
        return Err(ApiError::internal(&error));
    }
    if let (Some(max), true) = (max, body.over) {
        tracing::warn!(
            users = body.users,
            max,
            "GET /get-users answer over the response limit"
        );
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "response_too_large",
            format!(
                "the list of users passes this deployment's {max}-byte response limit after \
                 {} users; read it page by page with GET /users?limit=&cursor=",
                body.users
            ),
        ));
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], body.finish()).into_response())
}

/// The JSON array of `GET /get-users`, written user by user into one buffer, with its size as
/// embedded in a Lambda response kept up to date when there is a limit to check it against.
struct ListBody {
    bytes: Vec<u8>,
    embedded: usize,
    max: Option<usize>,
    users: usize,
    over: bool,
}

impl ListBody {
    fn new(max: Option<usize>) -> Self {
        let mut bytes = Vec::with_capacity(64 * 1024);
        bytes.push(b'[');
        Self {
            bytes,
            // `[` and the closing `]`.
            embedded: 2,
            max,
            users: 0,
            over: false,
        }
    }

    /// Appends `user`; `false` once the answer is over the limit (then nothing more is wanted).
    ///
    /// The object is what `serde_json` makes of [`entity::users::Model`] (field names and order
    /// as its `Serialize` gives them), written directly: the field names are constants and a name
    /// with nothing to escape is copied as it is.
    fn push(&mut self, user: &entity::users::Model) -> Result<bool, serde_json::Error> {
        let start = self.bytes.len();
        if self.users > 0 {
            self.bytes.push(b',');
        }
        self.bytes.extend_from_slice(br#"{"id":"#);
        write_json_string(&mut self.bytes, &user.id)?;
        self.bytes.extend_from_slice(br#","firstName":"#);
        write_json_string(&mut self.bytes, &user.first_name)?;
        self.bytes.extend_from_slice(br#","lastName":"#);
        write_json_string(&mut self.bytes, &user.last_name)?;
        self.bytes.push(b'}');
        self.users += 1;
        if let Some(max) = self.max {
            self.embedded += lambda_embedded_size(&self.bytes[start..]);
            self.over = self.embedded > max;
        }
        Ok(!self.over)
    }

    fn finish(mut self) -> Vec<u8> {
        self.bytes.push(b']');
        self.bytes
    }
}

/// Appends `text` as a JSON string. Text with no `"`, `\` or control character is copied between
/// quotes; anything else is escaped by `serde_json`.
fn write_json_string(out: &mut Vec<u8>, text: &str) -> Result<(), serde_json::Error> {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        return serde_json::to_writer(out, text);
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Ok(())
}

/// The size of `body` once embedded as a JSON string in a Lambda proxy response: every `"` and
/// `\` gains a backslash (the body is JSON, so it holds no raw control characters).
fn lambda_embedded_size(body: &[u8]) -> usize {
    body.len() + body.iter().filter(|b| matches!(b, b'"' | b'\\')).count()
}

/// `POST /users` with `{"firstName", "lastName"}` → 201 with `Location: /users/{id}` and the user;
/// with an `Idempotency-Key`, a repeat answers as the first request did.
#[tracing::instrument(skip_all)]
pub async fn create_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let key = Key::from_headers(&headers)?;
    let user = new_user(body)?;
    let (user, replayed) = create(&state, key, "/users", user).await?;
    let location = format!("/users/{}", path_segment(&user.id));
    Ok(replay_header(
        replayed,
        (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(user),
        )
            .into_response(),
    ))
}

/// Query of `GET /users`; both optional. Kept as text so errors can name the parameter.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Page size, 1 to [`MAX_PAGE_LIMIT`] (default [`DEFAULT_PAGE_LIMIT`]).
    pub limit: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of `GET /users`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersPage {
    /// Users in id order.
    pub users: Vec<entity::users::Model>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /users?limit=&cursor=` → 200 `{"users", "nextCursor"}`: keyset pagination by id, with no
/// gaps or repeats while users are added.
#[tracing::instrument(skip_all)]
pub async fn list_users(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<UsersPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            rejection.body_text(),
        )
    })?;
    let limit = match query.limit.as_deref() {
        None => DEFAULT_PAGE_LIMIT,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!(
                        "limit must be a whole number from 1 to {MAX_PAGE_LIMIT}, got {text:?}"
                    ),
                )
            })?,
    };
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    // One row more than asked tells whether another page exists.
    let mut users = service::users::page(state.db(), after, limit + 1).await?;
    let more = users.len() as u64 > limit;
    users.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| users.last().map(|user| URL_SAFE_NO_PAD.encode(&user.id)))
        .flatten();
    Ok(Json(UsersPage { users, next_cursor }))
}

/// `GET /users/{id}` → 200 the user, or 404.
#[tracing::instrument(skip_all)]
pub async fn get_user(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<entity::users::Model>, ApiError> {
    let Path(id) = id.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            rejection.body_text(),
        )
    })?;
    // Longer ids cannot be stored: no query needed.
    if id.is_empty() || id.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::not_found("no user has this id"));
    }
    service::users::find(state.db(), &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no user has this id"))
}

/// Percent-encodes an id for a path segment (UUIDs pass through unchanged).
fn path_segment(id: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "cursor must be the nextCursor of a previous page",
            )
        })
}

/// The body of `POST /add-user` and `POST /users`, validated.
fn new_user(body: Result<Json<Value>, JsonRejection>) -> Result<NewUser, ApiError> {
    let Json(body) = body.map_err(rejection)?;
    NewUser::parse(&body).map_err(ApiError::validation)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_size_counts_the_escapes_a_lambda_envelope_adds() {
        let body = br#"[{"id":"a\"b"}]"#;
        let embedded =
            serde_json::to_string(std::str::from_utf8(body).expect("utf8")).expect("json");
        // The envelope's string without its own two quotes.
        assert_eq!(lambda_embedded_size(body), embedded.len() - 2);
    }

    #[test]
    fn list_body_is_the_json_array_and_tracks_the_embedded_size() {
        let users: Vec<entity::users::Model> = (0..3)
            .map(|i| entity::users::Model {
                id: format!("id{i}"),
                first_name: "Quote\"d".to_owned(),
                last_name: "Back\\slash".to_owned(),
            })
            .collect();
        let expected = serde_json::to_vec(&users).expect("json");
        let mut body = ListBody::new(Some(usize::MAX));
        for user in &users {
            assert!(body.push(user).expect("json"));
        }
        assert_eq!(body.embedded, lambda_embedded_size(&expected));
        assert_eq!(body.finish(), expected);
        assert_eq!(ListBody::new(None).finish(), b"[]");

        // Over the limit with the second user: push says stop.
        let one = lambda_embedded_size(&serde_json::to_vec(&users[..1]).expect("json"));
        let mut body = ListBody::new(Some(one));
        assert!(body.push(&users[0]).expect("json"));
        assert!(!body.push(&users[1]).expect("json"));
        assert!(body.over);
    }

    /// Whatever the names hold, the answer is byte for byte what `serde_json` writes for the
    /// models: plain text, every character `serde_json` escapes, multi-byte text.
    #[test]
    fn list_body_writes_what_serde_json_writes() {
        let mut names: Vec<String> = (0u8..0x20).map(|b| format!("c{}", char::from(b))).collect();
        names.extend(
            [
                "John",
                "",
                "a\"b",
                "a\\b",
                "\u{7f}del",
                "é…日本",
                "😀 ok",
                "</script>",
                "'",
            ]
            .map(str::to_owned),
        );
        let users: Vec<entity::users::Model> = names
            .iter()
            .enumerate()
            .map(|(i, name)| entity::users::Model {
                id: format!("{i}-{name}"),
                first_name: name.clone(),
                last_name: format!("{name}{name}"),
            })
            .collect();
        for max in [None, Some(usize::MAX)] {
            let mut body = ListBody::new(max);
            for user in &users {
                assert!(body.push(user).expect("json"));
            }
            assert_eq!(
                String::from_utf8(body.finish()).expect("utf8"),
                serde_json::to_string(&users).expect("json")
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for id in ["1", "2f1c…é", "a/b?c", ""] {
            let cursor = URL_SAFE_NO_PAD.encode(id);
            assert_eq!(decode_cursor(&cursor).expect("valid"), id);
        }
        for bad in ["!!", "a", "_w"] {
            assert_eq!(
                decode_cursor(bad).expect_err(bad).code(),
                "invalid_cursor",
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_are_percent_encoded_in_locations() {
        assert_eq!(
            path_segment("6f1c2a1e-0b7d-4c1e-9f1a-1b2c3d4e5f60"),
            "6f1c2a1e-0b7d-4c1e-9f1a-1b2c3d4e5f60"
        );
        assert_eq!(path_segment("a b/é"), "a%20b%2F%C3%A9");
    }
}
