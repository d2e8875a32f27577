//! The database the tools read: a native URL, or the RDS Data API through the `data-api` adapter
//! (the same choice, from the same variables, as the migration binary).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::error::{Error, Result};

/// Why a SQLite target is refused, before connecting or when a connection turns out to be SQLite.
pub(crate) const SQLITE_NOT_COVERED: &str =
    "SQLite: use sea-orm-cli generate entity (this tool covers MySQL and PostgreSQL)";

/// `sqlite:` URLs, whatever the case of the scheme.
fn is_sqlite(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("sqlite:"))
}

/// Where the schema lives.
#[derive(Debug, Clone)]
pub enum Target {
    /// `mysql://…/db` or `postgres://…/db`.
    Url(String),
    /// The Data API (`CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME`, `DATABASE_ENGINE`), with the AWS
    /// settings of the default chain (region, credentials, `AWS_ENDPOINT_URL_RDS_DATA`).
    DataApi(data_api::Config),
    /// The Data API with AWS settings loaded already (by the run-migrations function, or a test
    /// pointing at the emulator): no second read of the environment.
    DataApiWithSdk {
        /// The adapter's settings.
        config: data_api::Config,
        /// Region, credentials, endpoint (boxed: it is ten times the size of the other variants).
        sdk: Box<aws_config::SdkConfig>,
    },
}

/// An open target.
#[derive(Debug)]
pub struct Connection {
    /// Statements go here.
    pub db: DatabaseConnection,
    /// The adapter, for a Data API target (the migration runner's transactions go through it).
    pub api: Option<data_api::DataApi>,
}

impl Target {
    /// The target given by `url` (`-u`/`DATABASE_URL`) or, without it, the Data API variables in
    /// `lookup`.
    ///
    /// # Errors
    /// [`Error::Config`] when neither or both are given, or a Data API variable is invalid.
    pub fn from_lookup(
        url: Option<String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let url = url.filter(|u| !u.trim().is_empty());
        let data_api = ["CLUSTER_ARN", "SECRET_ARN"]
            .iter()
            .any(|v| lookup(v).is_some_and(|v| !v.trim().is_empty()));
        match (url, data_api) {
            (Some(_), true) => Err(Error::Config(
                "both DATABASE_URL and CLUSTER_ARN/SECRET_ARN are set: unset one".into(),
            )),
            (Some(url), false) => Ok(Target::Url(url)),
            (None, true) => data_api::Config::from_lookup(lookup)
                .map(Target::DataApi)
                .map_err(|e| Error::Config(format!("Data API target: {e}"))),
            (None, false) => Err(Error::Config(
                "no target: set DATABASE_URL (or -u), or CLUSTER_ARN and SECRET_ARN for the Data API"
                    .into(),
            )),
        }
    }

    /// The database name (the URL's path, or `DATABASE_NAME`).
    ///
    /// # Errors
    /// [`Error::Config`] for a URL without one.
    pub fn database(&self) -> Result<String> {
        match self {
            Target::DataApi(config) | Target::DataApiWithSdk { config, .. } => {
                Ok(config.database.clone())
            }
            Target::Url(url) => {
                let path = url
                    .split_once("://")
                    .and_then(|(_, rest)| rest.split_once('/'))
                    .map(|(_, path)| path.split('?').next().unwrap_or_default())
                    .unwrap_or_default();
                if path.is_empty() {
                    Err(Error::Config(format!(
                        "the URL names no database: {}",
                        redact(url)
                    )))
                } else {
                    Ok(path.to_owned())
                }
            }
        }
    }

    /// The same server with another database.
    #[must_use]
    pub fn with_database(&self, name: &str) -> Target {
        match self {
            Target::DataApi(config) => {
                let mut config = config.clone();
                config.database = name.to_owned();
                Target::DataApi(config)
            }
            Target::DataApiWithSdk { config, sdk } => {
                let mut config = config.clone();
                config.database = name.to_owned();
                Target::DataApiWithSdk {
                    config,
                    sdk: sdk.clone(),
                }
            }
            Target::Url(url) => {
                let (base, query) = url
                    .split_once('?')
                    .map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
                let authority_end = base
                    .find("://")
                    .map(|i| i + 3)
                    .and_then(|start| base[start..].find('/').map(|i| start + i))
                    .unwrap_or(base.len());
                let mut out = format!("{}/{name}", &base[..authority_end]);
                if let Some(query) = query {
                    out.push('?');
                    out.push_str(query);
                }
                Target::Url(out)
            }
        }
    }

    /// Opens the target.
    ///
    /// # Errors
    /// [`Error::Connect`].
    pub async fn connect(&self) -> Result<Connection> {
        match self {
            // Refused before connecting: this build links no SQLite driver, and SeaORM's own
            // answer ("no supporting driver") would not say what to use instead.
            Target::Url(url) if is_sqlite(url) => Err(Error::Config(SQLITE_NOT_COVERED.into())),
            Target::Url(url) => Ok(Connection {
                db: migration::connect(url, None)
                    .await
                    .map_err(|e| Error::Config(format!("connecting: {e}")))?,
                api: None,
            }),
            Target::DataApi(config) => Connection::data_api(
                data_api::DataApi::with_default_aws_config(config.clone()).await,
            ),
            Target::DataApiWithSdk { config, sdk } => {
                Connection::data_api(data_api::DataApi::with_sdk_config(sdk, config.clone()))
            }
        }
    }
}

impl Connection {
    fn data_api(api: data_api::DataApi) -> Result<Self> {
        Ok(Connection {
            db: api.connection().map_err(Error::Connect)?,
            api: Some(api),
        })
    }

    /// The engine.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Closes a native pool (a Data API connection holds nothing open).
    pub async fn close(self) {
        if let Err(error) = self.db.close().await {
            tracing::debug!(%error, "closing the connection failed");
        }
    }
}

/// `scheme://user:password@host/…` without the password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sqlite_url_is_refused_with_what_to_use_instead() {
        for url in ["sqlite::memory:", "SQLite://./db.sqlite?mode=rwc"] {
            let error = Target::Url(url.into()).connect().await.unwrap_err();
            assert!(
                matches!(&error, Error::Config(message) if message == SQLITE_NOT_COVERED),
                "{url}: {error:?}"
            );
        }
    }

    #[test]
    fn only_the_sqlite_scheme_is_sqlite() {
        assert!(is_sqlite("sqlite:x.db"));
        assert!(!is_sqlite("mysql://root@127.0.0.1/sqlite"));
        assert!(!is_sqlite("postgres://sqlite:pw@h/db"));
        assert!(!is_sqlite("sql"));
    }
}
