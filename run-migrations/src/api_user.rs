//! The API's own database user, created and granted after migrating (`API_SECRET_ARN`).
//!
//! The deployment gives the API a secret of its own (a user name and a generated password, the
//! shape of the cluster's secret); the API signs its Data API calls with it, so its statements run
//! as that user. The run-migrations function, which holds the master secret, reads the API secret
//! on every invocation (a rotated password takes effect on the next run) and calls
//! [`migration::api_user::ensure`]: the user exists with that password and may only `SELECT` and
//! `INSERT` on `users`. Neither the password nor the secret's value is logged.

use aws_sdk_secretsmanager::Client;
use migration::Target;
use migration::api_user::ApiUser;

use crate::error::{Error, Result};

/// Where the API's user comes from: its secret in Secrets Manager.
#[derive(Debug, Clone)]
pub struct ApiUserSecret {
    client: Client,
    secret_arn: String,
    database: String,
}

/// The members of the secret's JSON this function reads (others, such as `host`, are ignored).
#[derive(serde::Deserialize)]
struct SecretValue {
    username: String,
    password: String,
}

impl ApiUserSecret {
    /// The secret `secret_arn`, read with `client` (its endpoint follows
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER` when built from the default AWS settings), for a user of
    /// `database` (the one the migrations run on).
    pub fn new(client: Client, secret_arn: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            client,
            secret_arn: secret_arn.into(),
            database: database.into(),
        }
    }

    /// The secret's ARN.
    pub fn secret_arn(&self) -> &str {
        &self.secret_arn
    }

    /// Reads the user name and password from the secret.
    ///
    /// # Errors
    /// [`Error::SecretsManager`] when the secret cannot be read; [`Error::Secret`] when its value
    /// is not a JSON object with string `username` and `password`.
    pub async fn read(&self) -> Result<ApiUser> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_arn)
            .send()
            .await
            .map_err(|source| Error::SecretsManager {
                secret_arn: self.secret_arn.clone(),
                source: Box::new(source.into_service_error()),
            })?;
        let text = output.secret_string().ok_or_else(|| Error::Secret {
            secret_arn: self.secret_arn.clone(),
            reason: "it has no SecretString",
        })?;
        // The parse error is left out: serde quotes the input, which holds the password.
        let value: SecretValue = serde_json::from_str(text).map_err(|_| Error::Secret {
            secret_arn: self.secret_arn.clone(),
            reason: "its value is not a JSON object with string `username` and `password`",
        })?;
        Ok(ApiUser {
            username: value.username,
            password: value.password,
        })
    }

    /// Reads the secret and creates or updates its user through `target` (connected as the master
    /// user to the database) with `SELECT` and `INSERT` on `users` only. Returns the user name.
    ///
    /// # Errors
    /// Those of [`ApiUserSecret::read`]; [`Error::ApiUser`] when the statements fail or the name or
    /// password is refused.
    pub async fn ensure(&self, target: &Target) -> Result<String> {
        let user = self.read().await?;
        migration::api_user::ensure(target.db(), &self.database, &user)
            .await
            .map_err(Error::ApiUser)?;
        Ok(user.username)
    }
}
