//! The article's defaults for the Data API variables: `DATABASE_NAME` = `my_database` and
//! `DATABASE_ENGINE` = `mysql`. This project's binaries (the users API, the migration CLI and the
//! run-migrations Lambda) keep them; the `data-api` crate itself requires every variable.

/// `DATABASE_NAME` when unset or empty: the article's database.
pub const DATABASE_NAME: &str = "my_database";
/// `DATABASE_ENGINE` when unset or empty: the article's engine.
pub const DATABASE_ENGINE: &str = "mysql";

/// `lookup`, with the article's defaults for `DATABASE_NAME` and `DATABASE_ENGINE`.
pub fn with_defaults(lookup: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |name| {
        lookup(name)
            .filter(|value| !value.trim().is_empty())
            .or_else(|| match name {
                "DATABASE_NAME" => Some(DATABASE_NAME.to_owned()),
                "DATABASE_ENGINE" => Some(DATABASE_ENGINE.to_owned()),
                _ => None,
            })
    }
}
