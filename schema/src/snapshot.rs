//! What the drift check compares: each table's columns (type, nullability, default), indexes and
//! key constraints, read from the catalogue through any SeaORM connection.
//!
//! Every catalogue value is selected as text, so a native driver and the Data API adapter read the
//! same strings. The migration ledger's own table (`seaql_migrations`) is left out.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use crate::error::{Error, Result, query};
use crate::row::string_opt;

/// Tables left out of every snapshot.
const IGNORED: &[&str] = &["seaql_migrations"];

/// One database's schema, by table name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Columns by name.
    pub columns: BTreeMap<String, Column>,
    /// Indexes by name (primary key included): their definition.
    pub indexes: BTreeMap<String, String>,
    /// Primary, unique and foreign key constraints by name: their definition.
    pub constraints: BTreeMap<String, String>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// The type as the engine spells it (`varchar(255)`, `character varying(255)`).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default expression, if any.
    pub default: Option<String>,
}

const MYSQL_COLUMNS: &str = "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), \
     CAST(c.COLUMN_TYPE AS CHAR), CAST(c.IS_NULLABLE AS CHAR), CAST(c.COLUMN_DEFAULT AS CHAR) \
     FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
     ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
     WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
     ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

const MYSQL_INDEXES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), \
     CAST(NON_UNIQUE AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(INDEX_TYPE AS CHAR) \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const MYSQL_CONSTRAINTS: &str = "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), \
     CAST(tc.CONSTRAINT_TYPE AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
     CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR) \
     FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.TABLE_CONSTRAINTS tc \
     ON tc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND tc.TABLE_NAME = k.TABLE_NAME \
     AND tc.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
     WHERE k.TABLE_SCHEMA = DATABASE() ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const POSTGRES_COLUMNS: &str = "SELECT c.relname::text, a.attname::text, \
     format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END, \
     pg_get_expr(d.adbin, d.adrelid) \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 \
     AND NOT a.attisdropped ORDER BY c.relname, a.attnum";

const POSTGRES_INDEXES: &str = "SELECT tablename::text, indexname::text, indexdef \
     FROM pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname";

const POSTGRES_CONSTRAINTS: &str = "SELECT c.relname::text, k.conname::text, \
     pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND k.contype IN ('p', 'u', 'f') \
     ORDER BY c.relname, k.conname";

/// The rows of `sql`, whose first `width` columns are read as text.
async fn select<C: ConnectionTrait>(
    db: &C,
    (sql, width): (&str, usize),
    what: &str,
) -> Result<Vec<Vec<Option<String>>>> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(backend, sql))
        .await
        .map_err(query(format!("reading {what}")))?;
    rows.iter()
        .map(|row| (0..width).map(|i| string_opt(row, i)).collect())
        .collect::<std::result::Result<_, _>>()
        .map_err(query(format!("decoding {what}")))
}

fn text(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

impl Snapshot {
    /// Reads the schema of the database `db` is connected to (MySQL: `DATABASE()`; PostgreSQL:
    /// `current_schema()`).
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Config`] for SQLite.
    pub async fn read<C: ConnectionTrait>(db: &C) -> Result<Self> {
        let (columns, indexes, constraints) = match db.get_database_backend() {
            DbBackend::MySql => (
                (MYSQL_COLUMNS, 5),
                (MYSQL_INDEXES, 5),
                (MYSQL_CONSTRAINTS, 6),
            ),
            DbBackend::Postgres => (
                (POSTGRES_COLUMNS, 5),
                (POSTGRES_INDEXES, 3),
                (POSTGRES_CONSTRAINTS, 3),
            ),
            DbBackend::Sqlite => {
                return Err(Error::Config(
                    "the drift check covers MySQL and PostgreSQL".into(),
                ));
            }
        };
        let mysql = db.get_database_backend() == DbBackend::MySql;
        let mut snapshot = Snapshot::default();
        for row in select(db, columns, "columns").await? {
            let table = text(&row, 0);
            if IGNORED.contains(&table.as_str()) {
                continue;
            }
            snapshot.tables.entry(table).or_default().columns.insert(
                text(&row, 1),
                Column {
                    data_type: text(&row, 2),
                    nullable: text(&row, 3) == "YES",
                    default: row.get(4).cloned().flatten(),
                },
            );
        }
        for row in select(db, indexes, "indexes").await? {
            let Some(table) = snapshot.tables.get_mut(&text(&row, 0)) else {
                continue;
            };
            let definition = if mysql {
                // One row per indexed column, in order: `UNIQUE BTREE (a, b)`.
                let unique = if text(&row, 2) == "0" { "UNIQUE " } else { "" };
                let kind = text(&row, 4);
                let column = row
                    .get(3)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| "(expression)".into());
                match table.indexes.remove(&text(&row, 1)) {
                    Some(previous) => format!("{}, {column})", previous.trim_end_matches(')')),
                    None => format!("{unique}{kind} ({column})"),
                }
            } else {
                text(&row, 2)
            };
            table.indexes.insert(text(&row, 1), definition);
        }
        for row in select(db, constraints, "constraints").await? {
            let Some(table) = snapshot.tables.get_mut(&text(&row, 0)) else {
                continue;
            };
            let definition = if mysql {
                let column = text(&row, 3);
                let name = text(&row, 1);
                let reference = row
                    .get(4)
                    .cloned()
                    .flatten()
                    .map(|referenced| format!(" REFERENCES {referenced}({})", text(&row, 5)));
                match table.constraints.remove(&name) {
                    Some(previous) => {
                        // A further column of a multi-column key: `KIND (a, b)[ REFERENCES t(x, y)]`.
                        let (head, tail) =
                            previous.split_once(')').unwrap_or((previous.as_str(), ""));
                        let tail = match &reference {
                            Some(_) => {
                                format!("{}, {})", tail.trim_end_matches(')'), text(&row, 5))
                            }
                            None => tail.to_owned(),
                        };
                        format!("{head}, {column}){tail}")
                    }
                    None => format!(
                        "{} ({column}){}",
                        text(&row, 2),
                        reference.unwrap_or_default()
                    ),
                }
            } else {
                text(&row, 2)
            };
            table.constraints.insert(text(&row, 1), definition);
        }
        Ok(snapshot)
    }
}
