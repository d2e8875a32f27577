//! The two sides: SeaORM's native driver ([`Native`]) and the adapter ([`Adapter`]).

use anyhow::{Context, Result};
use sea_orm::entity::prelude::*;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, SqlErr, TransactionError,
    TransactionTrait,
};
use test_support::{Backend, TestDatabase, TestEmulator};

use super::data::new_item;
use super::entities::create_tables;

/// An open outer transaction of either side.
pub(super) trait Outer {
    /// What runs statements in it (and nests with `begin()`).
    type Conn: ConnectionTrait + TransactionTrait;
    fn conn(&self) -> &Self::Conn;
    async fn commit(self) -> Result<()>;
    async fn rollback(self) -> Result<()>;
}

impl Outer for DatabaseTransaction {
    type Conn = Self;

    fn conn(&self) -> &Self {
        self
    }

    async fn commit(self) -> Result<()> {
        Ok(DatabaseTransaction::commit(self).await?)
    }

    async fn rollback(self) -> Result<()> {
        Ok(DatabaseTransaction::rollback(self).await?)
    }
}

impl Outer for data_api::Transaction {
    type Conn = DatabaseConnection;

    fn conn(&self) -> &DatabaseConnection {
        self.connection()
    }

    async fn commit(self) -> Result<()> {
        Ok(data_api::Transaction::commit(self).await?)
    }

    async fn rollback(self) -> Result<()> {
        Ok(data_api::Transaction::rollback(self).await?)
    }
}

/// One way of running SeaORM: the native driver or the adapter.
pub(super) trait Side {
    type Tx: Outer;
    /// The connection for statements outside transactions.
    fn db(&self) -> &DatabaseConnection;
    fn backend(&self) -> Backend;
    /// Begins an outer transaction.
    async fn begin(&self) -> Result<Self::Tx>;
    /// The closure form of a transaction around [`closure_body`].
    async fn transaction(&self, fail: bool) -> Result<(), TransactionError<DbErr>>;
    /// The constraint class of an error, the way this side's callers find it.
    fn sql_err(&self, err: &DbErr) -> Option<SqlErr>;
}

/// SeaORM's own sqlx driver on a fresh database.
#[derive(Debug)]
pub(super) struct Native {
    db: DatabaseConnection,
    database: TestDatabase,
}

impl Native {
    pub(super) async fn open(backend: Backend) -> Result<Self> {
        let database = TestDatabase::create(backend).await?;
        let db = sea_orm::Database::connect(&database.url)
            .await
            .context("native connection")?;
        create_tables(&db, backend).await?;
        Ok(Self { db, database })
    }
}

impl Side for Native {
    type Tx = DatabaseTransaction;

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn backend(&self) -> Backend {
        self.database.backend
    }

    async fn begin(&self) -> Result<DatabaseTransaction> {
        Ok(TransactionTrait::begin(&self.db).await?)
    }

    async fn transaction(&self, fail: bool) -> Result<(), TransactionError<DbErr>> {
        self.db
            .transaction(|txn| Box::pin(closure_body(txn, fail)))
            .await
    }

    fn sql_err(&self, err: &DbErr) -> Option<SqlErr> {
        err.sql_err()
    }
}

/// The adapter, through the emulator, on a fresh database of the same server.
#[derive(Debug)]
pub(super) struct Adapter {
    api: data_api::DataApi,
    db: DatabaseConnection,
    emulator: TestEmulator,
}

impl Adapter {
    pub(super) async fn open(backend: Backend) -> Result<Self> {
        let emulator = TestEmulator::spawn(backend).await?;
        let api = emulator.data_api();
        let db = api.connection()?;
        create_tables(&db, backend).await?;
        Ok(Self { api, db, emulator })
    }
}

impl Side for Adapter {
    type Tx = data_api::Transaction;

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn backend(&self) -> Backend {
        self.emulator.database.backend
    }

    async fn begin(&self) -> Result<data_api::Transaction> {
        Ok(self.api.begin().await?)
    }

    async fn transaction(&self, fail: bool) -> Result<(), TransactionError<DbErr>> {
        self.api
            .transaction(|txn| Box::pin(closure_body(txn, fail)))
            .await
    }

    fn sql_err(&self, err: &DbErr) -> Option<SqlErr> {
        data_api::sql_err(err)
    }
}

/// The body of the closure-form transaction, shared by both sides.
pub(super) async fn closure_body<C: ConnectionTrait>(txn: &C, fail: bool) -> Result<(), DbErr> {
    new_item(if fail { 40 } else { 41 }).insert(txn).await?;
    if fail {
        return Err(DbErr::Custom("the closure failed".into()));
    }
    Ok(())
}
