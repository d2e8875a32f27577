//! Secrets as database users: each secret ARN a client may send names the credentials its statements
//! run with, as a Secrets Manager secret does on AWS. A cluster's own `--secret-arn` keeps the database
//! URL's credentials; the secrets here are accepted by every cluster, and the server's grants decide
//! what their users may do.

use std::collections::HashMap;

use crate::backend::DbUser;

/// Secret ARN → database user.
#[derive(Debug, Clone, Default)]
pub struct Secrets(HashMap<String, DbUser>);

impl Secrets {
    /// A JSON object of secret ARN → `{"username", "password"}` (the shape of an RDS secret's value;
    /// other members are ignored).
    ///
    /// # Errors
    /// The parse error, as text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text)
            .map(Self)
            .map_err(|e| format!("invalid secrets file: {e}"))
    }

    /// Adds or replaces a secret.
    pub fn insert(&mut self, arn: impl Into<String>, user: DbUser) {
        self.0.insert(arn.into(), user);
    }

    /// The user of secret `arn`.
    pub fn get(&self, arn: &str) -> Option<&DbUser> {
        self.0.get(arn)
    }

    /// How many secrets there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `ARN=user:password` (the `--secret` flag): the ARN ends at the first `=`, the user at the next `:`.
///
/// # Errors
/// A description of what is missing.
pub fn parse_flag(text: &str) -> Result<(String, DbUser), String> {
    let (arn, credentials) = text.split_once('=').ok_or("expected ARN=user:password")?;
    let (username, password) = credentials
        .split_once(':')
        .ok_or("expected ARN=user:password")?;
    if arn.is_empty() || username.is_empty() {
        return Err("expected ARN=user:password with a non-empty ARN and user".into());
    }
    Ok((
        arn.to_owned(),
        DbUser {
            username: username.to_owned(),
            password: password.to_owned(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_splits_at_the_first_equals_then_the_first_colon() {
        let (arn, user) =
            parse_flag("arn:aws:secretsmanager:us-east-1:1:secret:app=app_user:p:w=d")
                .expect("parses");
        assert_eq!(arn, "arn:aws:secretsmanager:us-east-1:1:secret:app");
        assert_eq!(user.username, "app_user");
        assert_eq!(user.password, "p:w=d");
        for bad in ["arn", "arn=user", "=user:pw", "arn=:pw"] {
            assert!(parse_flag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_is_arn_to_username_and_password() {
        let secrets = Secrets::from_json(
            r#"{"arn:a": {"username": "u", "password": "p", "engine": "postgres"}}"#,
        )
        .expect("parses");
        assert_eq!(secrets.get("arn:a").map(|u| u.username.as_str()), Some("u"));
        assert!(secrets.get("arn:b").is_none());
        assert!(Secrets::from_json(r#"{"arn:a": {"username": "u"}}"#).is_err());
    }

    #[test]
    fn debug_hides_passwords() {
        let (_, user) = parse_flag("arn=u:hunter2").expect("parses");
        assert!(!format!("{user:?}").contains("hunter2"));
    }
}
