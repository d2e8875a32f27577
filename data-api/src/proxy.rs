//! SeaORM's `ProxyDatabaseTrait` over the Data API: statements in, rows and counts out.
//!
//! Two flavours share the code: the shared proxy (no transaction id; behind [`DataApi::connection`])
//! and a transaction's proxy (its id on every statement; behind [`DataApi::transaction`] and
//! [`DataApi::begin`]). SeaORM's proxy interface carries no session, so the transaction a statement
//! belongs to is decided by *which connection* ran it, never by timing.
//!
//! [`DataApi::connection`]: crate::DataApi::connection
//! [`DataApi::transaction`]: crate::DataApi::transaction
//! [`DataApi::begin`]: crate::DataApi::begin

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use sea_orm::sea_query::Value;
use sea_orm::{DbErr, ProxyDatabaseTrait, ProxyExecResult, ProxyRow, Statement};

use crate::client::{Client, Idempotency, read_only};
use crate::error::Error;
use crate::probe::{self, Probe};
use crate::sql::{name, translate};
use crate::values::{Decoder, parameter};

/// The state of one Data API transaction, shared by its connection and its handle.
#[derive(Debug)]
pub(crate) struct Transaction {
    pub(crate) id: String,
    /// Held while a statement runs: v2 refuses a second concurrent statement in a transaction.
    lock: tokio::sync::Mutex<State>,
    /// Set when a nested transaction was dropped while a statement held `lock`, so its savepoint
    /// rollback could not be queued: the transaction is poisoned at the next statement.
    dropped_while_busy: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// Open SeaORM-level nested transactions (savepoints `sp1` … `spN`).
    depth: usize,
    /// Savepoint rollbacks of nested transactions dropped without commit or rollback, run before
    /// the next statement (SeaORM's `start_rollback` cannot wait).
    pending: Vec<String>,
    /// The first failure SeaORM could not report (a savepoint that failed); every later statement
    /// and the commit fail with it.
    poisoned: Option<String>,
}

impl Transaction {
    pub(crate) fn new(id: String) -> Arc<Self> {
        Arc::new(Self {
            id,
            lock: tokio::sync::Mutex::new(State::default()),
            dropped_while_busy: AtomicBool::new(false),
        })
    }

    /// Runs the queued savepoint rollbacks and reports a poisoned transaction.
    async fn ready(&self, client: &Client, state: &mut State) -> Result<(), Error> {
        if self.dropped_while_busy.swap(false, Ordering::SeqCst) {
            state.poisoned.get_or_insert_with(|| {
                "a nested transaction was dropped while a statement ran, so its rollback could not \
                 be ordered"
                    .to_owned()
            });
        }
        while !state.pending.is_empty() {
            let sql = state.pending.remove(0);
            if let Err(error) = client
                .execute(&sql, Vec::new(), Some(&self.id), Idempotency::Unsafe)
                .await
            {
                state.poisoned.get_or_insert(format!("{sql}: {error}"));
            }
        }
        match &state.poisoned {
            Some(reason) => Err(Error::TransactionPoisoned {
                transaction_id: self.id.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Checks the transaction can commit: queued work done, nothing poisoned, no nested level open.
    pub(crate) async fn finish(&self, client: &Client) -> Result<(), Error> {
        let mut state = self.lock.lock().await;
        self.ready(client, &mut state).await
    }

    async fn savepoint(&self, client: &Client, sql: impl FnOnce(&mut State) -> Option<String>) {
        let mut state = self.lock.lock().await;
        if self.ready(client, &mut state).await.is_err() {
            return;
        }
        let Some(sql) = sql(&mut state) else {
            return;
        };
        if let Err(error) = client
            .execute(&sql, Vec::new(), Some(&self.id), Idempotency::Unsafe)
            .await
        {
            tracing::error!(transaction = %self.id, %error, sql, "savepoint statement failed; the transaction will be rolled back");
            state.poisoned.get_or_insert(format!("{sql}: {error}"));
        }
    }
}

/// The proxy SeaORM calls.
#[derive(Debug, Clone)]
pub(crate) struct Proxy {
    client: Client,
    transaction: Option<Arc<Transaction>>,
    /// Shared proxy only: SeaORM transactions begun on it (which it cannot honour; see `begin`).
    misused: Arc<AtomicUsize>,
}

impl Proxy {
    pub(crate) fn shared(client: Client) -> Self {
        Self {
            client,
            transaction: None,
            misused: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn in_transaction(client: Client, transaction: Arc<Transaction>) -> Self {
        Self {
            client,
            transaction: Some(transaction),
            misused: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Translates, sends and returns the raw output of one statement.
    async fn run(&self, statement: &Statement) -> Result<ExecuteStatementOutput, Error> {
        if self.misused.load(Ordering::SeqCst) > 0 {
            return Err(Error::Config {
                variable: "transaction",
                reason: "a SeaORM transaction was begun on the shared Data API connection, which \
                         cannot carry a transaction id: use DataApi::transaction or DataApi::begin"
                    .into(),
            });
        }
        self.client.check(crate::hook::Outgoing::Statement {
            statement,
            transaction_id: self.transaction.as_ref().map(|t| t.id.as_str()),
        })?;
        let engine = self.client.config.engine;
        let values = statement.values.as_ref().map_or(&[][..], |v| &v.0[..]);
        let outgoing = values
            .iter()
            .enumerate()
            .map(|(i, v)| parameter(&name(i), v, engine))
            .collect::<Result<Vec<_>, _>>()?;
        let cast = |i: usize| outgoing[i].cast.clone();
        let sql = translate(&statement.sql, engine.dialect(), values.len(), &cast)?.sql;
        let parameters = outgoing.into_iter().map(|o| o.parameter).collect();
        match &self.transaction {
            None => {
                let idempotency = if read_only(&sql) {
                    Idempotency::Safe
                } else {
                    Idempotency::Unsafe
                };
                self.client
                    .execute(&sql, parameters, None, idempotency)
                    .await
            }
            Some(transaction) => {
                let mut state = transaction.lock.lock().await;
                transaction.ready(&self.client, &mut state).await?;
                self.client
                    .execute(&sql, parameters, Some(&transaction.id), Idempotency::Unsafe)
                    .await
            }
        }
    }
}

/// The rows of a result, keyed by column name for SeaORM's by-name reads, plus hidden keys that keep
/// the select order for by-index reads (tuples): SeaORM's `ProxyRow` is a `BTreeMap`, whose index
/// order is alphabetical, so column `i` is also stored under `"\u{0}{i:05}"`, which sorts before any
/// column name. (`into_json` on a proxy row therefore shows those keys too.) Where two columns share
/// a name, the later one is read by that name, as with repeated inserts.
///
/// SeaORM 1.1 has no cheaper row type for a proxy, so the cost here is allocation: every key and
/// every value is owned by every row. The keys are put in map order once per result, so each row's
/// map is built in one pass ([`BTreeMap::from_iter`] on sorted input) instead of by searching inserts;
/// each value is moved out of the Data API's record into its last entry (cloned for the other).
///
/// `probe` is the SeaORM query the statement was recognised as ([`crate::probe`]): its one column is
/// decoded as SeaORM reads it; every other result decodes by `typeName` alone.
fn rows(
    output: ExecuteStatementOutput,
    engine: crate::Engine,
    probe: Option<Probe>,
) -> Result<Vec<ProxyRow>, Error> {
    let columns = output.column_metadata.as_deref().unwrap_or_default();
    let decoders: Vec<Decoder<'_>> = match (probe, columns) {
        (Some(probe), [column]) if column.name() == Some(probe.column) => {
            vec![Decoder::with_kind(column, probe.kind)]
        }
        _ => columns.iter().map(|c| Decoder::new(c, engine)).collect(),
    };
    // Every key with its column, in map order; a repeated name kept only for its last column (the
    // sort puts it first among equals, and `dedup` keeps the first).
    let mut keys: Vec<(String, usize)> = columns
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let name = c.name().unwrap_or_default().to_owned();
            [(format!("\u{0}{i:05}"), i), (name, i)]
        })
        .collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    keys.dedup_by(|later, first| later.0 == first.0);
    // The entry that takes each column's value (its last use); the others get clones.
    let mut takes = vec![false; keys.len()];
    let mut seen = vec![false; columns.len()];
    for (k, (_, column)) in keys.iter().enumerate().rev() {
        takes[k] = !std::mem::replace(&mut seen[*column], true);
    }
    let mut values: Vec<Option<Value>> = Vec::with_capacity(columns.len());
    // The records are taken, so text and bytes move into the values instead of being copied.
    output
        .records
        .unwrap_or_default()
        .into_iter()
        .map(|record| {
            values.clear();
            let mut fields = record.into_iter();
            for decoder in &decoders {
                let field = fields.next().ok_or_else(|| decoder.absent())?;
                values.push(Some(decoder.decode_owned(field)?));
            }
            let map: BTreeMap<String, Value> = keys
                .iter()
                .zip(&takes)
                .map(|((key, column), &take)| {
                    let slot = &mut values[*column];
                    let value = if take { slot.take() } else { slot.clone() };
                    // Every column's value is taken once, by its last entry, so it is always there.
                    (key.clone(), value.unwrap_or(Value::Bool(None)))
                })
                .collect();
            Ok(ProxyRow::new(map))
        })
        .collect()
}

fn exec_result(output: &ExecuteStatementOutput) -> ProxyExecResult {
    // `INSERT … RETURNING` reaches `execute` too; the Data API reports 0 updated rows for it.
    let updated = u64::try_from(output.number_of_records_updated()).unwrap_or(0);
    let returned = u64::try_from(output.records().len()).unwrap_or(u64::MAX);
    let last_insert_id = match output.generated_fields().first() {
        Some(aws_sdk_rdsdata::types::Field::LongValue(id)) => u64::try_from(*id).unwrap_or(0),
        _ => 0,
    };
    ProxyExecResult {
        last_insert_id,
        rows_affected: updated.max(returned),
    }
}

#[async_trait::async_trait]
impl ProxyDatabaseTrait for Proxy {
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        let output = self
            .run(&statement)
            .await
            .map_err(|e| e.into_db_err(true))?;
        let engine = self.client.config.engine;
        let probe = probe::recognise(&statement.sql, engine);
        rows(output, engine, probe).map_err(|e| e.into_db_err(true))
    }

    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        let output = self
            .run(&statement)
            .await
            .map_err(|e| e.into_db_err(false))?;
        Ok(exec_result(&output))
    }

    /// On a transaction's connection: a nested transaction, as `SAVEPOINT spN`. On the shared
    /// connection SeaORM's transaction cannot be honoured (its statements would carry no id), and
    /// this method cannot fail: every statement on the shared connection fails until it ends.
    async fn begin(&self) {
        match &self.transaction {
            Some(transaction) => {
                transaction
                    .savepoint(&self.client, |state| {
                        state.depth += 1;
                        Some(format!("SAVEPOINT sp{}", state.depth))
                    })
                    .await;
            }
            None => {
                tracing::error!(
                    "a SeaORM transaction was begun on the shared Data API connection; use \
                     DataApi::transaction or DataApi::begin"
                );
                self.misused.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    async fn commit(&self) {
        self.end_nested("RELEASE SAVEPOINT").await;
    }

    async fn rollback(&self) {
        self.end_nested("ROLLBACK TO SAVEPOINT").await;
    }

    /// A nested transaction dropped without commit or rollback: its savepoint rollback is queued
    /// and runs before the transaction's next statement.
    fn start_rollback(&self) {
        match &self.transaction {
            Some(transaction) => match transaction.lock.try_lock() {
                Ok(mut state) => {
                    if let Some(depth) = state.depth.checked_sub(1) {
                        let sql = format!("ROLLBACK TO SAVEPOINT sp{}", state.depth);
                        state.depth = depth;
                        state.pending.push(sql);
                    }
                }
                Err(_) => {
                    // A statement is running (another task holds the connection): poison instead
                    // of guessing, so the commit fails rather than keeping half a unit of work.
                    tracing::error!(transaction = %transaction.id, "a nested transaction was dropped while a statement ran");
                    transaction.dropped_while_busy.store(true, Ordering::SeqCst);
                }
            },
            None => self.end_misuse(),
        }
    }
}

impl Proxy {
    /// Ends the innermost nested transaction with `verb` (`RELEASE SAVEPOINT` / `ROLLBACK TO
    /// SAVEPOINT`) on a transaction's connection; on the shared one, ends a refused transaction.
    async fn end_nested(&self, verb: &str) {
        match &self.transaction {
            Some(transaction) => {
                transaction
                    .savepoint(&self.client, |state| {
                        let depth = state.depth;
                        state.depth = depth.checked_sub(1)?;
                        Some(format!("{verb} sp{depth}"))
                    })
                    .await;
            }
            None => self.end_misuse(),
        }
    }

    fn end_misuse(&self) {
        let _ = self
            .misused
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

// The rows here carry pgJDBC type names.
#[cfg(all(test, feature = "postgres"))]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
    use aws_sdk_rdsdata::types::{ColumnMetadata, Field};
    use proptest::prelude::*;
    use sea_orm::sea_query::Value;

    use super::rows;
    use crate::Engine;

    fn output(names: &[&str], records: Vec<Vec<Field>>) -> ExecuteStatementOutput {
        let columns = names
            .iter()
            .map(|name| {
                ColumnMetadata::builder()
                    .name(*name)
                    .type_name("int8")
                    .build()
            })
            .collect();
        ExecuteStatementOutput::builder()
            .set_column_metadata(Some(columns))
            .set_records(Some(records))
            .build()
    }

    /// The map one insert at a time, as a reader of SeaORM's `ProxyRow` expects it.
    fn by_inserts(names: &[&str], record: &[i64]) -> BTreeMap<String, Value> {
        let mut map = BTreeMap::new();
        for (i, (name, n)) in names.iter().zip(record).enumerate() {
            map.insert(format!("\u{0}{i:05}"), Value::BigInt(Some(*n)));
            map.insert((*name).to_owned(), Value::BigInt(Some(*n)));
        }
        map
    }

    #[test]
    fn rows_keep_select_order_and_the_last_of_a_repeated_name() {
        let names = ["qty", "name", "qty"];
        let out = output(
            &names,
            vec![vec![
                Field::LongValue(1),
                Field::IsNull(true),
                Field::LongValue(3),
            ]],
        );
        let rows = rows(out, Engine::Postgres, None).unwrap();
        let row = &rows[0];
        let by_index: Vec<_> = (0..3)
            .map(|i| row.values.values().nth(i).cloned())
            .collect();
        assert_eq!(
            by_index,
            [
                Some(Value::BigInt(Some(1))),
                Some(Value::BigInt(None)),
                Some(Value::BigInt(Some(3)))
            ]
        );
        assert_eq!(row.values.get("qty"), Some(&Value::BigInt(Some(3))));
        assert_eq!(row.values.get("name"), Some(&Value::BigInt(None)));
        assert_eq!(row.values.len(), 5);
    }

    #[test]
    fn a_short_record_is_an_error_naming_the_column() {
        let out = output(&["a", "b"], vec![vec![Field::LongValue(1)]]);
        let error = rows(out, Engine::Postgres, None).unwrap_err().to_string();
        assert!(error.contains("column b"), "{error}");
    }

    proptest! {
        #[test]
        fn rows_equal_the_maps_built_by_inserts(
            names in proptest::collection::vec("[ab_]{0,2}", 0..7),
            records in proptest::collection::vec(proptest::collection::vec(any::<i64>(), 7), 0..4),
        ) {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let fields = records
                .iter()
                .map(|r| r[..names.len()].iter().map(|n| Field::LongValue(*n)).collect())
                .collect();
            let rows = rows(output(&names, fields), Engine::Postgres, None).unwrap();
            prop_assert_eq!(rows.len(), records.len());
            for (row, record) in rows.iter().zip(&records) {
                prop_assert_eq!(&row.values, &by_inserts(&names, &record[..names.len()]));
            }
        }
    }
}
