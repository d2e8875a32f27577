//! What every handler shares.

use sea_orm::DatabaseConnection;

/// Shared state: cheap to clone (the connection is a pool handle).
#[derive(Debug, Clone)]
pub struct AppState {
    db: DatabaseConnection,
}

impl AppState {
    /// State over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}
