//! `Idempotency-Key` on `POST /add-user` and `POST /users`: a retried request creates no second user.
//!
//! The key is not stored anywhere: the new user's id is derived from it (a UUID v5 of the route and
//! the key), so the row itself records that the key was used, atomically with the write. A request
//! with a key inserts the user under that id; the happy path stays one `INSERT`. When the id already
//! exists, the request is a repeat: the stored user is read back and compared with the body — the
//! same names answer as the first request did, other names are refused (422). A key is therefore
//! remembered as long as the user it created exists, and it costs nothing beyond the row.
//!
//! Keys are scoped to their route: the same key on `POST /add-user` and `POST /users` names two
//! different requests.

use axum::http::{HeaderMap, StatusCode};
use uuid::Uuid;

use crate::error::ApiError;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The header that marks the answer to a repeated request (as the first request's, plus this).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Longest accepted key, in bytes (a UUID takes 36).
pub const MAX_KEY_BYTES: usize = 255;

/// The namespace of derived user ids (a fixed, random UUID of this service).
const NAMESPACE: Uuid = Uuid::from_u128(0x8f3c_52a4_1d6e_4b0f_9a57_c2e1_6b3d_7f90);

/// A validated `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// The key of `headers`, if the request has one.
    ///
    /// The draft standard sends the key as a structured-field string (`"…"`, with `\"` and `\\`
    /// escapes); a bare token is accepted too, as most clients send one. The key is 1 to
    /// [`MAX_KEY_BYTES`] printable ASCII characters.
    ///
    /// # Errors
    /// 400 `invalid_idempotency_key` for an empty, over-long, non-ASCII or repeated header.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(invalid("send one Idempotency-Key header, not several"));
        }
        let text = value
            .to_str()
            .map_err(|_| invalid("the Idempotency-Key must be printable ASCII"))?;
        Self::parse(text).map(Some)
    }

    /// Parses a header value (see [`Key::from_headers`]).
    ///
    /// # Errors
    /// 400 `invalid_idempotency_key`.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let text = text.trim_matches(' ');
        let key = match text.strip_prefix('"') {
            Some(quoted) => unquote(quoted)?,
            None => text.to_owned(),
        };
        if key.is_empty() {
            return Err(invalid("the Idempotency-Key must not be empty"));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(invalid(format!(
                "the Idempotency-Key must be at most {MAX_KEY_BYTES} characters, got {}",
                key.len()
            )));
        }
        if !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(invalid("the Idempotency-Key must be printable ASCII"));
        }
        Ok(Self(key))
    }

    /// The id of the user created on `route` with this key: the same for every repeat.
    pub fn user_id(&self, route: &str) -> Uuid {
        let mut name = Vec::with_capacity(route.len() + 1 + self.0.len());
        name.extend_from_slice(route.as_bytes());
        name.push(b' ');
        name.extend_from_slice(self.0.as_bytes());
        Uuid::new_v5(&NAMESPACE, &name)
    }
}

/// The inside of a structured-field string after its opening quote.
fn unquote(quoted: &str) -> Result<String, ApiError> {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.as_str().is_empty() => return Ok(out),
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\')) => out.push(escaped),
                _ => break,
            },
            '"' => break,
            c => out.push(c),
        }
    }
    Err(invalid(
        "the quoted Idempotency-Key is not a valid structured-field string",
    ))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_idempotency_key", message)
}

/// 422 `idempotency_key_reused`: the key created a user with other names.
pub fn reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was already used with a different body; use a new key for a new user",
    )
}

/// 409 `idempotency_key_in_use`: the key's user is being created by a request that has not finished.
pub fn in_use() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed; try again shortly",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bare_and_quoted_keys_are_the_same_key() {
        let bare = Key::parse("8e03978e-40d5-43e8-bc93-6894a57f9324").expect("bare");
        let quoted = Key::parse("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").expect("quoted");
        assert_eq!(bare, quoted);
        assert_eq!(
            Key::parse(r#""a\"b\\c""#).expect("escapes"),
            Key("a\"b\\c".to_owned())
        );
        assert_eq!(Key::parse("  k ").expect("padded"), Key("k".to_owned()));
    }

    #[test]
    fn bad_keys_are_refused_with_400() {
        for bad in [
            "",
            "  ",
            "\"\"",
            "\"open",
            "\"a\"b\"",
            "\"bad\\escape\"",
            &"k".repeat(MAX_KEY_BYTES + 1),
            "tab\there",
        ] {
            let error = Key::parse(bad).expect_err(bad);
            assert_eq!(
                (error.status(), error.code()),
                (StatusCode::BAD_REQUEST, "invalid_idempotency_key"),
                "{bad:?}"
            );
        }
        assert!(Key::parse(&"k".repeat(MAX_KEY_BYTES)).is_ok());
    }

    #[test]
    fn headers_give_none_one_key_or_an_error() {
        let mut headers = HeaderMap::new();
        assert_eq!(Key::from_headers(&headers).expect("none"), None);
        headers.insert(HEADER, HeaderValue::from_static("abc"));
        assert_eq!(
            Key::from_headers(&headers).expect("one"),
            Some(Key("abc".to_owned()))
        );
        headers.append(HEADER, HeaderValue::from_static("def"));
        assert!(Key::from_headers(&headers).is_err());
        let mut headers = HeaderMap::new();
        headers.insert(
            HEADER,
            HeaderValue::from_bytes("é".as_bytes()).expect("opaque"),
        );
        assert!(Key::from_headers(&headers).is_err());
    }

    #[test]
    fn ids_are_stable_per_route_and_key_and_differ_otherwise() {
        let key = Key::parse("retry-me").expect("key");
        let id = key.user_id("/add-user");
        assert_eq!(id, key.user_id("/add-user"));
        assert_eq!(id.get_version_num(), 5);
        assert_ne!(id, key.user_id("/users"));
        assert_ne!(
            id,
            Key::parse("retry-me2").expect("key").user_id("/add-user")
        );
        // Stable across releases: ids already stored must keep matching their keys.
        // RFC 9562 UUID v5 of "/add-user retry-me" in NAMESPACE, as any implementation computes it.
        assert_eq!(id.to_string(), "307ebb18-cc01-59f3-ad87-a04b01e79c8f");
    }
}
