//! The lease fence on a native target: a migration's statements reach the database only while this
//! runner holds the ledger's lock.
//!
//! A [`Fence`] is a SeaORM proxy connection over the one real connection (or over the transaction
//! the runner opened on it). Before forwarding each statement, and each commit of a transaction the
//! migration began itself, it calls the ledger's [`LeaseGuard`]; a lost lease refuses the statement,
//! and from then on every statement is refused. The runner then sees the migration fail, finds the
//! lease gone and stops with [`crate::Error::LeaseLost`] naming the new holder, as on the Data API.
//!
//! Transactions: SeaORM's proxy hooks for `begin`, `commit` and `rollback` cannot return an error,
//! so the runner's own transaction never goes through them. The runner begins the real transaction,
//! hands it over with [`Fence::over_transaction`], checks the fence with [`Fence::check`] and takes
//! the transaction back with [`Fence::into_transaction`] to commit or roll it back itself, so a
//! failed commit is seen. The hooks carry only what a migration begins on its connection: a nested
//! level (a savepoint, SeaORM's native nesting) of the runner's transaction, or on MySQL, where the
//! runner opens none, a transaction on the pool. A failure there (a refused or failed `BEGIN` or
//! `COMMIT`) cannot be reported to the migration, so it poisons the fence: the levels the migration
//! began are rolled back, every later statement fails, and so does [`Fence::check`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, ProxyDatabaseTrait, ProxyExecResult, ProxyRow, RuntimeErr, Statement,
    TransactionTrait,
};

use crate::ledger::LeaseGuard;
use crate::proxy_row::proxy_row;

/// One migration's fenced connection.
pub(super) struct Fence {
    conn: DatabaseConnection,
    forward: Arc<Forward>,
}

impl Fence {
    /// Statements go to `db` (outside any transaction the runner opens: MySQL).
    pub(super) async fn over_connection(
        db: &DatabaseConnection,
        guard: LeaseGuard,
    ) -> Result<Self, DbErr> {
        Self::new(db.clone(), None, guard).await
    }

    /// Statements go to `txn`, the runner's transaction on `db`.
    pub(super) async fn over_transaction(
        db: &DatabaseConnection,
        txn: DatabaseTransaction,
        guard: LeaseGuard,
    ) -> Result<Self, DbErr> {
        Self::new(db.clone(), Some(txn), guard).await
    }

    async fn new(
        base: DatabaseConnection,
        root: Option<DatabaseTransaction>,
        guard: LeaseGuard,
    ) -> Result<Self, DbErr> {
        let backend = base.get_database_backend();
        let owned = usize::from(root.is_some());
        let forward = Arc::new(Forward {
            backend,
            guard,
            base,
            state: tokio::sync::Mutex::new(State {
                levels: root.into_iter().collect(),
                owned,
                poisoned: None,
            }),
            dropped_while_busy: AtomicBool::new(false),
        });
        let proxy: Arc<Box<dyn ProxyDatabaseTrait>> = Arc::new(Box::new(Shared(forward.clone())));
        let conn = Database::connect_proxy(backend, proxy).await?;
        Ok(Self { conn, forward })
    }

    /// The connection the migration runs on.
    pub(super) fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Fails when a statement was refused (the lease was lost) or a transaction the migration
    /// began failed, or is still open: then nothing of the migration may be committed.
    pub(super) async fn check(&self) -> Result<(), DbErr> {
        let mut state = self.forward.state.lock().await;
        self.forward.take_dropped(&mut state);
        if state.levels.len() > state.owned {
            state.poison("a transaction the migration began was still open when it returned");
        }
        match &state.poisoned {
            Some(reason) => Err(DbErr::Exec(RuntimeErr::Internal(reason.clone()))),
            None => Ok(()),
        }
    }

    /// The runner's transaction, back for its commit or rollback (`None` over a connection). Any
    /// level the migration left open is rolled back first.
    pub(super) async fn into_transaction(self) -> Option<DatabaseTransaction> {
        drop(self.conn);
        let mut state = self.forward.state.lock().await;
        let owned = state.owned;
        state.levels.truncate(owned);
        state.owned = 0;
        state.levels.pop()
    }
}

/// The proxy SeaORM holds; the [`Fence`] keeps the same state to check and finish it.
#[derive(Debug)]
struct Shared(Arc<Forward>);

struct Forward {
    backend: DbBackend,
    guard: LeaseGuard,
    /// The real connection.
    base: DatabaseConnection,
    /// Held while a statement runs: statements of one migration are sent one at a time.
    state: tokio::sync::Mutex<State>,
    /// Set when a transaction the migration began was dropped while a statement held `state`, so
    /// its rollback could not be ordered: the fence is poisoned at the next statement.
    dropped_while_busy: AtomicBool,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("backend", &self.backend)
            .field("dropped_while_busy", &self.dropped_while_busy)
            .finish_non_exhaustive()
    }
}

struct State {
    /// Open transactions, outermost first: the runner's (when it owns one), then those the
    /// migration began. Statements go to the innermost, or to the connection when there is none.
    levels: Vec<DatabaseTransaction>,
    /// How many of `levels`, from the outermost, are the runner's (0 or 1).
    owned: usize,
    /// Why every later statement fails.
    poisoned: Option<String>,
}

impl State {
    /// Records the first reason and rolls back the levels the migration began (dropping a SeaORM
    /// transaction queues its rollback before the connection's next statement).
    fn poison(&mut self, reason: impl Into<String>) {
        self.poisoned.get_or_insert_with(|| reason.into());
        while self.levels.len() > self.owned {
            self.levels.pop();
        }
    }
}

impl Forward {
    fn take_dropped(&self, state: &mut State) {
        if self.dropped_while_busy.swap(false, Ordering::SeqCst) {
            state.poison(
                "a transaction the migration began was dropped while a statement ran, so its \
                 rollback could not be ordered",
            );
        }
    }

    /// The state, once nothing forbids sending: not poisoned, and the lease still held.
    async fn ready(&self) -> Result<tokio::sync::MutexGuard<'_, State>, String> {
        let mut state = self.state.lock().await;
        self.take_dropped(&mut state);
        if let Some(reason) = &state.poisoned {
            return Err(reason.clone());
        }
        if let Err(error) = (self.guard)() {
            tracing::warn!(%error, "the migration lease is lost: refusing the migration's next statement");
            state.poison(format!("not sent: {error}"));
            return Err(state.poisoned.clone().unwrap_or_default());
        }
        Ok(state)
    }

    async fn execute(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        let state = self
            .ready()
            .await
            .map_err(|reason| DbErr::Exec(RuntimeErr::Internal(reason)))?;
        match state.levels.last() {
            Some(txn) => send(txn, statement).await,
            None => send(&self.base, statement).await,
        }
    }

    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        let state = self
            .ready()
            .await
            .map_err(|reason| DbErr::Query(RuntimeErr::Internal(reason)))?;
        let rows = match state.levels.last() {
            Some(txn) => txn.query_all(statement.clone()).await?,
            None => self.base.query_all(statement.clone()).await?,
        };
        rows.iter()
            .map(|row| proxy_row(self.backend, &statement.sql, row))
            .collect()
    }

    async fn begin(&self) {
        let Ok(mut state) = self.ready().await else {
            return;
        };
        let begun = match state.levels.last() {
            Some(txn) => txn.begin().await,
            None => self.base.begin().await,
        };
        match begun {
            Ok(txn) => state.levels.push(txn),
            Err(error) => {
                state.poison(format!("a transaction the migration began failed: {error}"))
            }
        }
    }

    /// Commits the innermost level the migration began; never after the lease is lost.
    async fn commit(&self) {
        let Ok(mut state) = self.ready().await else {
            return;
        };
        if state.levels.len() <= state.owned {
            state.poison("a commit without a transaction the migration began");
            return;
        }
        if let Some(txn) = state.levels.pop()
            && let Err(error) = txn.commit().await
        {
            state.poison(format!(
                "the commit of a transaction the migration began failed: {error}"
            ));
        }
    }

    async fn rollback(&self) {
        let mut state = self.state.lock().await;
        if state.poisoned.is_some() || state.levels.len() <= state.owned {
            // Already rolled back by the poisoning.
            return;
        }
        if let Some(txn) = state.levels.pop()
            && let Err(error) = txn.rollback().await
        {
            state.poison(format!(
                "the rollback of a transaction the migration began failed: {error}"
            ));
        }
    }

    /// A level the migration began was dropped without commit or rollback: dropping ours queues
    /// its rollback before the connection's next statement.
    fn start_rollback(&self) {
        match self.state.try_lock() {
            Ok(mut state) => {
                if state.levels.len() > state.owned {
                    state.levels.pop();
                }
            }
            Err(_) => self.dropped_while_busy.store(true, Ordering::SeqCst),
        }
    }
}

/// Sends `statement` as the native connection would: with its values when it has any, otherwise
/// unprepared (what `execute_unprepared` sends; it also carries several statements at once).
async fn send(conn: &impl ConnectionTrait, statement: Statement) -> Result<ExecResult, DbErr> {
    match statement.values {
        Some(_) => conn.execute(statement).await,
        None => conn.execute_unprepared(&statement.sql).await,
    }
}

#[async_trait::async_trait]
impl ProxyDatabaseTrait for Shared {
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        self.0.query(statement).await
    }

    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        self.0.execute(statement).await.map(ProxyExecResult::from)
    }

    async fn begin(&self) {
        self.0.begin().await;
    }

    async fn commit(&self) {
        self.0.commit().await;
    }

    async fn rollback(&self) {
        self.0.rollback().await;
    }

    fn start_rollback(&self) {
        self.0.start_rollback();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use sea_orm_migration::sea_orm::{QueryResult, Value};

    use super::*;

    /// A guard that passes until `lost` is set.
    fn guard(lost: &Arc<AtomicBool>) -> LeaseGuard {
        let lost = lost.clone();
        Arc::new(move || {
            if lost.load(Ordering::SeqCst) {
                Err(crate::Error::LeaseLost {
                    fence: 1,
                    detail: "the lease expired".into(),
                })
            } else {
                Ok(())
            }
        })
    }

    async fn database(dir: &tempfile::TempDir) -> DatabaseConnection {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("fence.db").display()
        );
        let db = Database::connect(url).await.expect("sqlite");
        db.execute_unprepared("CREATE TABLE t (n INTEGER NOT NULL)")
            .await
            .expect("table");
        db
    }

    async fn numbers(db: &DatabaseConnection) -> Vec<i64> {
        db.query_all(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT n FROM t ORDER BY n",
        ))
        .await
        .expect("read")
        .iter()
        .map(|row: &QueryResult| row.try_get::<i64>("", "n").expect("n"))
        .collect()
    }

    fn insert(n: i32) -> Statement {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (n) VALUES (?)",
            [Value::Int(Some(n))],
        )
    }

    #[tokio::test]
    async fn nested_transactions_reach_the_runners_transaction_which_the_runner_commits() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database(&dir).await;
        let lost = Arc::new(AtomicBool::new(false));
        let txn = db.begin().await.expect("begin");
        let fence = Fence::over_transaction(&db, txn, guard(&lost))
            .await
            .expect("fence");
        let conn = fence.connection();
        conn.execute(insert(1)).await.expect("1");
        let kept = conn.begin().await.expect("nested");
        kept.execute(insert(2)).await.expect("2");
        kept.commit().await.expect("release");
        let undone = conn.begin().await.expect("nested");
        undone.execute(insert(3)).await.expect("3");
        undone.rollback().await.expect("rollback to savepoint");
        let dropped = conn.begin().await.expect("nested");
        dropped.execute(insert(4)).await.expect("4");
        drop(dropped);
        let read = conn
            .query_all(Statement::from_string(DbBackend::Sqlite, "SELECT n FROM t"))
            .await
            .expect("read through the fence");
        assert_eq!(read.len(), 2, "the dropped level was rolled back first");
        fence.check().await.expect("intact");
        let txn = fence.into_transaction().await.expect("the runner's");
        txn.commit().await.expect("commit");
        assert_eq!(numbers(&db).await, [1, 2]);
    }

    #[tokio::test]
    async fn a_lost_lease_refuses_every_later_statement_and_fails_the_check() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database(&dir).await;
        let lost = Arc::new(AtomicBool::new(false));
        let txn = db.begin().await.expect("begin");
        let fence = Fence::over_transaction(&db, txn, guard(&lost))
            .await
            .expect("fence");
        fence.connection().execute(insert(1)).await.expect("1");
        lost.store(true, Ordering::SeqCst);
        let refused = fence
            .connection()
            .execute(insert(2))
            .await
            .expect_err("refused");
        assert!(
            refused.to_string().contains("the lease expired"),
            "{refused}"
        );
        // Even once the guard passes again, the fence stays shut.
        lost.store(false, Ordering::SeqCst);
        fence
            .connection()
            .query_all(Statement::from_string(DbBackend::Sqlite, "SELECT n FROM t"))
            .await
            .expect_err("still refused");
        let checked = fence.check().await.expect_err("poisoned");
        assert!(checked.to_string().contains("not sent"), "{checked}");
        fence
            .into_transaction()
            .await
            .expect("the runner's")
            .rollback()
            .await
            .expect("rollback");
        assert_eq!(numbers(&db).await, Vec::<i64>::new());
    }

    #[tokio::test]
    async fn over_a_connection_a_migrations_own_commit_is_fenced() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database(&dir).await;
        let lost = Arc::new(AtomicBool::new(false));
        let fence = Fence::over_connection(&db, guard(&lost))
            .await
            .expect("fence");
        let conn = fence.connection();
        conn.execute(insert(1)).await.expect("1");
        let own = conn.begin().await.expect("begin");
        own.execute(insert(2)).await.expect("2");
        own.commit().await.expect("hook");
        let own = conn.begin().await.expect("begin");
        own.execute(insert(3)).await.expect("3");
        lost.store(true, Ordering::SeqCst);
        // SeaORM's hook cannot fail: the commit is refused and rolled back, and the fence says so.
        own.commit().await.expect("hook");
        assert!(fence.check().await.is_err());
        assert!(fence.into_transaction().await.is_none());
        assert_eq!(numbers(&db).await, [1, 2]);
    }
}
