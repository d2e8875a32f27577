//! What every handler shares.

use sea_orm::DatabaseConnection;

/// Shared state: cheap to clone (the connection is a pool or client handle).
#[derive(Debug, Clone)]
pub struct AppState {
    db: DatabaseConnection,
    get_users_max_bytes: Option<usize>,
}

impl AppState {
    /// State over `db`, with no limit on `GET /get-users` answers.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            get_users_max_bytes: None,
        }
    }

    /// Limits `GET /get-users` answers to `max` bytes as embedded in a Lambda response
    /// ([`Config::get_users_max_bytes`](crate::Config)).
    #[must_use]
    pub fn with_get_users_max_bytes(mut self, max: Option<usize>) -> Self {
        self.get_users_max_bytes = max;
        self
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The `GET /get-users` size limit, if any.
    pub fn get_users_max_bytes(&self) -> Option<usize> {
        self.get_users_max_bytes
    }
}
