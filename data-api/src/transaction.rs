//! [`Transaction`]: an open Data API transaction, committed or rolled back explicitly, rolled back
//! in the background when dropped.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::Error;
use crate::client::Client;
use crate::proxy;

/// The first characters of a transaction id, enough to follow it in logs.
pub(crate) fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// An open Data API transaction. [`Transaction::connection`] runs statements in it; commit or roll
/// back explicitly — dropped, it is rolled back in the background.
#[derive(Debug)]
pub struct Transaction {
    pub(crate) client: Client,
    pub(crate) state: Arc<proxy::Transaction>,
    pub(crate) connection: DatabaseConnection,
    pub(crate) done: bool,
}

impl Transaction {
    /// The connection whose statements run in this transaction (and nested `begin()` = savepoints).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    /// The Data API transaction id.
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// Commits. A poisoned transaction (a failed savepoint) is rolled back and reported instead.
    ///
    /// # Errors
    /// [`Error::Commit`] when `CommitTransaction` fails, or its outcome is unknown (no answer); the
    /// poisoning error when the transaction could not be committed whole.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        if let Err(error) = self.client.check(crate::hook::Outgoing::Commit {
            transaction_id: &self.state.id,
        }) {
            let _ = self.client.end(&self.state.id, false).await;
            return Err(error);
        }
        if let Err(error) = self.state.finish(&self.client).await {
            let _ = self.client.end(&self.state.id, false).await;
            return Err(error);
        }
        self.client
            .end(&self.state.id, true)
            .await
            .map_err(|source| Error::Commit {
                transaction_id: self.state.id.clone(),
                source: Box::new(source),
            })
    }

    /// Rolls back.
    ///
    /// # Errors
    /// `RollbackTransaction` failing (the Data API still ends the transaction after 3 idle minutes).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        self.client.end(&self.state.id, false).await
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (client, id) = (self.client.clone(), self.state.id.clone());
        tracing::warn!(transaction = %short(&id), "transaction dropped without commit; rolling back");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = client.end(&id, false).await {
                    tracing::warn!(%error, "background rollback failed; the Data API expires it after 3 idle minutes");
                }
            });
        }
    }
}
