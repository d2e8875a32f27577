//! What went wrong on the database side, in the backend's own terms.
//!
//! The backend knows nothing of the Data API's exceptions: `protocol::error` turns an [`Error`] into
//! the AWS error (exception name, status, message) in one `From` impl. An unknown database, a grant
//! the user lacks or a refused login are the engine's own errors ([`DatabaseError`], with its error
//! number and SQLSTATE), because that is how the Data API reports them: the engine's message as a
//! `DatabaseErrorException`.

use sqlx::error::BoxDynError;

use super::Engine;

/// A backend result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong running a call on the database server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server's URL is not one the emulator can connect to.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, without credentials.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The engine refused the statement, the login or the database (SQL errors, unknown database,
    /// permission denied): its own message, error number and SQLSTATE.
    #[error(transparent)]
    Database(Box<DatabaseError>),
    /// The server could not be reached when opening a connection.
    #[error("cannot reach the database server: {0}")]
    Connect(#[source] sqlx::Error),
    /// Opening a connection took longer than the acquire timeout.
    #[error("cannot reach the database server within {seconds} s")]
    ConnectTimeout {
        /// The timeout.
        seconds: u64,
    },
    /// Every connection of the pool stayed busy for the acquire timeout.
    #[error("timed out waiting for a free database connection")]
    PoolTimeout,
    /// The pool was closed while a call waited for it.
    #[error("the connection pool is closed")]
    PoolClosed,
    /// The connection broke while a statement ran (its outcome is unknown).
    #[error("lost the database connection: {0}")]
    ConnectionLost(#[source] sqlx::Error),
    /// The rows read so far cannot fit a response of `limit` bytes; reading stopped there.
    #[error("Database returned more than the allowed response size limit (over {limit} bytes)")]
    TooLarge {
        /// The response size limit.
        limit: usize,
    },
    /// A result column has a type the Data API does not return.
    #[error("The result contains the unsupported data type {type_name} (column {column}).")]
    UnsupportedType {
        /// The column's name.
        column: String,
        /// The type, as the engine names it.
        type_name: String,
    },
    /// A value could not be bound as a parameter.
    #[error("cannot bind parameter: {0}")]
    Bind(#[source] BoxDynError),
    /// A `DECIMAL`-hinted value that PostgreSQL's numeric cannot hold.
    #[error("DECIMAL value {text:?} cannot be bound as PostgreSQL numeric: {reason}")]
    Numeric {
        /// The value.
        text: String,
        /// Why (too many digits, not decimal text).
        reason: String,
    },
    /// A `JSON`-hinted value that is not JSON.
    #[error("invalid JSON parameter: {0}")]
    Json(#[source] serde_json::Error),
    /// A value the server sent that the emulator could not read (a bug in the emulator or a type
    /// it mistook).
    #[error("cannot decode column {column} ({type_name}): {source}")]
    Decode {
        /// The column's name.
        column: String,
        /// The column's type.
        type_name: String,
        /// What failed.
        #[source]
        source: BoxDynError,
    },
    /// Anything else sqlx reports while running a statement.
    #[error("emulator failed to run the statement: {0}")]
    Internal(#[source] sqlx::Error),
}

impl Error {
    /// Maps a sqlx error from opening a connection.
    pub(super) fn connect(engine: Engine, error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Database(source) => DatabaseError::error(engine, source),
            other => Error::Connect(other),
        }
    }

    /// Maps a sqlx error from running a statement.
    pub(super) fn statement(engine: Engine, error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Database(source) => DatabaseError::error(engine, source),
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                Error::ConnectionLost(error)
            }
            other => Error::Internal(other),
        }
    }

    /// Whether the connection the error came from is in no state to be reused: the transport
    /// failed mid-statement, or a result was left unread.
    pub fn leaves_connection_unusable(&self) -> bool {
        matches!(self, Error::ConnectionLost(_) | Error::TooLarge { .. })
    }
}

/// An error the engine reported, with what the Data API's message is made of.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DatabaseError {
    engine: Engine,
    message: String,
    number: Option<u16>,
    sqlstate: Option<String>,
    detail: Option<String>,
    hint: Option<String>,
    position: Option<usize>,
    #[source]
    source: Box<dyn sqlx::error::DatabaseError>,
}

impl DatabaseError {
    /// [`Error::Database`] (boxed: the engine's fields make it the largest variant by far).
    fn error(engine: Engine, source: Box<dyn sqlx::error::DatabaseError>) -> Error {
        let mysql = source.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>();
        let postgres = source.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
        Error::Database(Box::new(Self {
            engine,
            message: source.message().to_owned(),
            number: mysql.map(sqlx::mysql::MySqlDatabaseError::number),
            sqlstate: source.code().map(|code| code.into_owned()),
            detail: postgres.and_then(|pg| pg.detail()).map(str::to_owned),
            hint: postgres.and_then(|pg| pg.hint()).map(str::to_owned),
            position: postgres.and_then(|pg| match pg.position() {
                Some(sqlx::postgres::PgErrorPosition::Original(position)) => Some(position),
                _ => None,
            }),
            source,
        }))
    }

    /// The engine that reported it.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The engine's message, without decoration.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// MySQL's error number (1049: unknown database; 1142: command denied).
    pub fn number(&self) -> Option<u16> {
        self.number
    }

    /// The SQLSTATE (PostgreSQL's 3D000: unknown database; 42501: insufficient privilege).
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }

    /// PostgreSQL's `DETAIL`.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// PostgreSQL's `HINT`.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// PostgreSQL's error position in the statement (1-based characters).
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}
