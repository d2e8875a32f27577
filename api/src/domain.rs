//! Validated input: what a user may send before anything reaches the database.
//!
//! Rules for `firstName` and `lastName` (documented in the README):
//! - a JSON string (not null, number, array or object);
//! - 1 to 255 characters (Unicode scalar values, as `VARCHAR(255)` counts them on MySQL and
//!   PostgreSQL);
//! - not only whitespace;
//! - no control characters (Unicode category Cc: NUL, tab, newline, DEL, C1 controls…);
//! - otherwise stored exactly as sent: no trimming, no normalisation. Unicode and SQL-looking text are
//!   data, bound as parameters.
//!
//! Other fields of the body are ignored.

use serde_json::Value;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// A name that passed the rules above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Validates `value` as the field `field`; the error message names the field and the rule.
    ///
    /// # Errors
    /// A message such as `"firstName must be a string, got a number"`.
    pub fn parse(field: &str, value: Option<&Value>) -> Result<Self, String> {
        let text = match value {
            None => return Err(format!("{field} is required")),
            Some(Value::String(text)) => text,
            Some(other) => {
                return Err(format!("{field} must be a string, got {}", kind(other)));
            }
        };
        let chars = text.chars().count();
        if chars == 0 {
            return Err(format!("{field} must not be empty"));
        }
        if chars > MAX_NAME_CHARS {
            return Err(format!(
                "{field} must be at most {MAX_NAME_CHARS} characters, got {chars}"
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(format!(
                "{field} must not contain control characters (NUL, tab, newline and the like)"
            ));
        }
        if text.chars().all(char::is_whitespace) {
            return Err(format!("{field} must not be only whitespace"));
        }
        Ok(Self(text.clone()))
    }

    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as sent, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body of `POST /add-user`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// `firstName`.
    pub first_name: Name,
    /// `lastName`.
    pub last_name: Name,
}

impl NewUser {
    /// Validates a parsed JSON body. Every problem is reported, in field order, joined by `"; "`.
    ///
    /// # Errors
    /// A message naming each offending field, or the body's shape when it is not an object.
    pub fn parse(body: &Value) -> Result<Self, String> {
        let Value::Object(fields) = body else {
            return Err(format!(
                "request body must be a JSON object with firstName and lastName, got {}",
                kind(body)
            ));
        };
        let first = Name::parse("firstName", fields.get("firstName"));
        let last = Name::parse("lastName", fields.get("lastName"));
        match (first, last) {
            (Ok(first_name), Ok(last_name)) => Ok(Self {
                first_name,
                last_name,
            }),
            (first, last) => Err([first.err(), last.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn accepts_and_keeps_names_verbatim() {
        for name in [
            "John",
            " padded ",
            "Zoë",
            "李",
            "🦀🚀",
            "Robert'); DROP TABLE users;--",
            "O'Brien",
            "a\u{200b}b",
            &"x".repeat(255),
            &"é".repeat(255),
        ] {
            let parsed = Name::parse("firstName", Some(&json!(name)))
                .unwrap_or_else(|e| panic!("{name:?} refused: {e}"));
            assert_eq!(parsed.as_str(), name);
        }
    }

    #[test]
    fn refuses_bad_names_naming_the_field_and_rule() {
        let cases: &[(Option<Value>, &str)] = &[
            (None, "lastName is required"),
            (Some(Value::Null), "lastName must be a string, got null"),
            (Some(json!(42)), "got a number"),
            (Some(json!(true)), "got a boolean"),
            (Some(json!(["a"])), "got an array"),
            (Some(json!({"a": 1})), "got an object"),
            (Some(json!("")), "must not be empty"),
            (Some(json!("   ")), "only whitespace"),
            (Some(json!("\u{3000}")), "only whitespace"),
            (Some(json!("a\u{0}b")), "control characters"),
            (Some(json!("a\nb")), "control characters"),
            (Some(json!("\t")), "control characters"),
            (Some(json!("a\u{7f}")), "control characters"),
            (
                Some(json!("x".repeat(256))),
                "at most 255 characters, got 256",
            ),
        ];
        for (value, expected) in cases {
            let error = Name::parse("lastName", value.as_ref()).expect_err("must be refused");
            assert!(error.contains(expected), "{value:?}: {error}");
            assert!(error.contains("lastName"), "{value:?}: {error}");
        }
    }

    #[test]
    fn body_errors_list_every_field_in_order() {
        let error = NewUser::parse(&json!({"firstName": 1})).expect_err("invalid");
        assert_eq!(
            error,
            "firstName must be a string, got a number; lastName is required"
        );
        let error = NewUser::parse(&json!(["John", "Doe"])).expect_err("invalid");
        assert!(error.contains("JSON object"), "{error}");
        let ok = NewUser::parse(&json!({"firstName": "A", "lastName": "B", "extra": 1}))
            .expect("extra fields are ignored");
        assert_eq!(ok.first_name.as_str(), "A");
    }

    proptest! {
        #[test]
        fn any_printable_name_within_limits_is_kept_exactly(
            name in "[^\\p{Cc}]{1,255}".prop_filter("not only whitespace", |s| !s.chars().all(char::is_whitespace))
        ) {
            let parsed = Name::parse("firstName", Some(&Value::String(name.clone())));
            prop_assert_eq!(parsed.map(Name::into_inner), Ok(name));
        }

        #[test]
        fn no_accepted_name_has_a_control_character_or_exceeds_the_limit(name in ".{0,300}") {
            if let Ok(parsed) = Name::parse("firstName", Some(&Value::String(name))) {
                let text = parsed.as_str();
                prop_assert!(!text.chars().any(char::is_control));
                prop_assert!((1..=MAX_NAME_CHARS).contains(&text.chars().count()));
                prop_assert!(!text.trim().is_empty());
            }
        }
    }
}
