//! The database a run targets, and the transactions the runner opens and commits on it.

use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    TransactionTrait,
};

use super::fence::Fence;
use crate::error::{Error, Result};
use crate::ledger::{LeaseGuard, TxMode};

/// The database migrations run against.
#[derive(Debug, Clone)]
pub enum Target {
    /// A native SeaORM connection (SQLite, MySQL, PostgreSQL URL).
    Native(DatabaseConnection),
    /// The RDS Data API through the `data-api` adapter; transactions go through the adapter so
    /// commits are checked.
    DataApi {
        /// The adapter.
        api: data_api::DataApi,
        /// Its shared connection (statements outside transactions).
        db: DatabaseConnection,
    },
}

impl From<DatabaseConnection> for Target {
    fn from(db: DatabaseConnection) -> Self {
        Target::Native(db)
    }
}

impl Target {
    /// The Data API adapter as a target.
    ///
    /// # Errors
    /// SeaORM refusing the adapter's connection.
    pub fn data_api(api: data_api::DataApi) -> Result<Self> {
        let db = api.connection().map_err(Error::Connect)?;
        Ok(Target::DataApi { api, db })
    }

    /// The connection for statements outside a transaction.
    pub fn db(&self) -> &DatabaseConnection {
        match self {
            Target::Native(db) | Target::DataApi { db, .. } => db,
        }
    }

    /// The SQL dialect.
    pub fn backend(&self) -> DbBackend {
        self.db().get_database_backend()
    }

    /// How migrations run here: in a transaction unless DDL commits implicitly (MySQL).
    pub fn tx_mode(&self) -> TxMode {
        match self.backend() {
            DbBackend::MySql => TxMode::None,
            _ => TxMode::Transactional,
        }
    }

    /// Begins a migration's transaction. On a native target with `fence`, its statements pass
    /// the lease fence (a Data API target is fenced by its client's hook instead).
    pub(super) async fn begin(&self, fence: Option<&LeaseGuard>) -> Result<Txn, DbErr> {
        match self {
            Target::Native(db) => {
                let txn = db.begin().await?;
                match fence {
                    Some(guard) => Ok(Txn::Fenced(
                        Fence::over_transaction(db, txn, guard.clone()).await?,
                    )),
                    None => Ok(Txn::Native(txn)),
                }
            }
            Target::DataApi { api, .. } => api
                .begin()
                .await
                .map(Txn::DataApi)
                .map_err(|e| e.into_db_err(false)),
        }
    }
}

pub(super) enum Txn {
    Native(DatabaseTransaction),
    /// A native transaction whose statements pass the lease fence; the runner commits it.
    Fenced(Fence),
    DataApi(data_api::Transaction),
}

impl Txn {
    pub(super) fn manager(&self) -> SchemaManager<'_> {
        match self {
            Txn::Native(txn) => SchemaManager::new(txn),
            Txn::Fenced(fence) => SchemaManager::new(fence.connection()),
            Txn::DataApi(txn) => SchemaManager::new(txn.connection()),
        }
    }

    pub(super) async fn commit(self) -> std::result::Result<(), CommitFailure> {
        match self {
            // A native commit that fails may have lost its answer: unknown.
            Txn::Native(txn) => txn.commit().await.map_err(CommitFailure::Unknown),
            Txn::Fenced(fence) => {
                // A refused statement or a failed nested transaction: never commit the rest.
                let checked = fence.check().await;
                let Some(txn) = fence.into_transaction().await else {
                    return Err(CommitFailure::NotCommitted(DbErr::Custom(
                        "the fenced connection holds no transaction".into(),
                    )));
                };
                match checked {
                    Ok(()) => txn.commit().await.map_err(CommitFailure::Unknown),
                    Err(error) => {
                        Txn::Native(txn).rollback().await;
                        Err(CommitFailure::NotCommitted(error))
                    }
                }
            }
            Txn::DataApi(txn) => txn.commit().await.map_err(|error| match error {
                data_api::Error::Commit { source, .. } => {
                    let error = source.into_db_err(false);
                    if is_unknown_outcome(&error) {
                        CommitFailure::Unknown(error)
                    } else {
                        CommitFailure::NotCommitted(error)
                    }
                }
                // Refused before sending, or poisoned: the adapter rolled it back.
                other => CommitFailure::NotCommitted(other.into_db_err(false)),
            }),
        }
    }

    pub(super) async fn rollback(self) {
        let result = match self {
            Txn::Native(txn) => txn.rollback().await.map_err(|e| e.to_string()),
            Txn::Fenced(fence) => match fence.into_transaction().await {
                Some(txn) => txn.rollback().await.map_err(|e| e.to_string()),
                None => Ok(()),
            },
            Txn::DataApi(txn) => txn.rollback().await.map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            // Nothing was committed (no commit was sent); the server ends the transaction itself.
            tracing::warn!(%error, "rollback failed");
        }
    }
}

/// Why a commit failed.
pub(super) enum CommitFailure {
    /// Answered with an error: nothing was committed.
    NotCommitted(DbErr),
    /// No answer, or a server error: it may have committed.
    Unknown(DbErr),
}

/// Whether a failed call may have run: the Data API's classification (a 5xx, no answer, a statement
/// timeout), or a native connection that broke while the statement was on the wire.
pub(super) fn is_unknown_outcome(error: &DbErr) -> bool {
    use sea_orm_migration::sea_orm::sqlx;
    if data_api::unavailable(error) == Some(data_api::Unavailable::OutcomeUnknown) {
        return true;
    }
    matches!(
        error,
        DbErr::Exec(RuntimeErr::SqlxError(
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
        )) | DbErr::Query(RuntimeErr::SqlxError(
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
        ))
    )
}
