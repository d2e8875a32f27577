//! MySQL / MariaDB: binding, decoding by column type, error text.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::error::BoxDynError;
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{MySqlArguments, MySqlColumn, MySqlRow, MySqlTypeInfo};
use sqlx::{Arguments, Column as _, Either, Executor, MySqlConnection, Row, Statement, TypeInfo};

use super::catalog::mysql_precision;
use super::{
    BindValue, Budget, Column, Engine, Error, Nullability, Result, StatementOutput, Value,
    format_timestamp, unsupported,
};
use crate::params::Rewritten;

fn bind(values: Vec<BindValue>) -> Result<MySqlArguments> {
    let mut args = MySqlArguments::default();
    for value in values {
        let added: Result<(), BoxDynError> = match value {
            BindValue::Null => args.add(Option::<String>::None),
            BindValue::Bool(v) => args.add(v),
            BindValue::Long(v) => args.add(v),
            BindValue::Double(v) => args.add(v),
            BindValue::Text(v) | BindValue::Decimal(v) | BindValue::Json(v) => args.add(v),
            BindValue::Bytes(v) => args.add(v),
            BindValue::Date(v) => args.add(v),
            BindValue::Time(v) => args.add(v),
            BindValue::Timestamp(v) => args.add(v),
            BindValue::Uuid(v) => args.add(v.hyphenated().to_string()),
        };
        added.map_err(Error::Bind)?;
    }
    Ok(args)
}

pub(super) async fn execute(
    conn: &mut MySqlConnection,
    statement: &Rewritten,
    values: Vec<BindValue>,
    metadata_wanted: bool,
    mut budget: Budget,
) -> Result<StatementOutput> {
    let args = bind(values)?;
    let err = |e| Error::statement(Engine::MySql, e);
    let prepared = conn.prepare(&statement.sql).await.map_err(err)?;
    let columns: Vec<MySqlColumn> = prepared.columns().to_vec();
    let mut stream = (&mut *conn).fetch_many(prepared.query_with(args));
    let mut rows = Vec::new();
    let mut rows_affected = 0;
    let mut last_insert_id = 0;
    while let Some(item) = stream.try_next().await.map_err(err)? {
        match item {
            Either::Left(done) => {
                rows_affected += done.rows_affected();
                last_insert_id = done.last_insert_id();
            }
            Either::Right(row) => {
                budget.row((0..row.len()).map(|i| raw_len(&row, i)))?;
                rows.push(row);
            }
        }
    }
    drop(stream);
    // Decided once per statement, and only when there is a row to decode (an empty result of an
    // unsupported type is not an error). From the result's own column definitions: the prepared
    // statement's can differ (`SELECT ? + ?` is DOUBLE when prepared, BIGINT once bound).
    let kinds = match rows.first() {
        Some(row) => kinds(conn, &statement.sql, row.columns()).await?,
        None => Vec::new(),
    };
    // The result's own column definitions describe it best; the prepared ones when there is no row.
    let columns = rows.first().map_or(columns, |row| row.columns().to_vec());
    let mut output = super::output(
        &columns,
        &rows,
        rows_affected,
        last_insert_id,
        metadata,
        |row, i| value(row, i, kinds[i]),
    )?;
    if metadata_wanted && !output.columns.is_empty() {
        fill_tables(conn, &statement.sql, &mut output.columns).await?;
    }
    for ((meta, kind), column) in output.columns.iter_mut().zip(&kinds).zip(&columns) {
        if *kind == Kind::Json {
            meta.type_name = "JSON".to_owned();
            meta.type_code = jdbc_type("JSON");
        } else if *kind == Kind::Text
            && matches!(
                meta.type_name.as_str(),
                "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB"
            )
        {
            let max_size = Definition::of(column.type_info()).max_size;
            meta.type_name = text_type_name(&meta.type_name, max_size);
            meta.type_code = jdbc_type(&meta.type_name);
        }
    }
    Ok(output)
}

/// The length of column `i`'s raw value (0 for NULL).
fn raw_len(row: &MySqlRow, i: usize) -> usize {
    row.try_get_unchecked::<Option<&[u8]>, _>(i)
        .ok()
        .flatten()
        .map_or(0, <[u8]>::len)
}

/// The character type of a binary-collation column that sqlx named after a binary type (see
/// [`character_columns`]), sized by its length in bytes: MariaDB's JSON (LONGTEXT COLLATE
/// utf8mb4_bin) reads as LONGTEXT.
fn text_type_name(binary: &str, max_size: Option<u32>) -> String {
    match (binary, max_size) {
        ("BINARY", _) => "CHAR",
        ("VARBINARY", _) => "VARCHAR",
        (_, Some(size)) if size > 16_777_215 => "LONGTEXT",
        (_, Some(size)) if size > 65_535 => "MEDIUMTEXT",
        (_, Some(size)) if size > 255 => "TEXT",
        (_, Some(_)) => "TINYTEXT",
        ("TINYBLOB", None) => "TINYTEXT",
        ("MEDIUMBLOB", None) => "MEDIUMTEXT",
        ("LONGBLOB", None) => "LONGTEXT",
        _ => "TEXT",
    }
    .to_owned()
}

/// Connector/J's `java.sql.Types` code for a type name as sqlx spells it.
fn jdbc_type(name: &str) -> i32 {
    let base = name.trim_end_matches(" UNSIGNED");
    match base {
        "BOOLEAN" | "BIT" => -7,
        "TINYINT" => -6,
        "SMALLINT" => 5,
        "MEDIUMINT" | "INT" => 4,
        "BIGINT" => -5,
        "FLOAT" => 7,
        "DOUBLE" => 8,
        "DECIMAL" => 3,
        "CHAR" | "ENUM" | "SET" => 1,
        "VARCHAR" => 12,
        "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "JSON" => -1,
        "BINARY" => -2,
        "VARBINARY" => -3,
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => -4,
        "DATE" => 91,
        "TIME" => 92,
        "DATETIME" | "TIMESTAMP" => 93,
        "YEAR" => 91,
        _ => 1111,
    }
}

/// Connector/J's view of a column. Nullability and auto-increment come from the column definition's
/// flags; `precision` is the display size of fixed-size types, or a string's length
/// ([`length_precision`]); `tableName` is filled by [`fill_tables`] when metadata is asked for.
fn metadata(column: &MySqlColumn) -> Column {
    let name = column.type_info().name();
    let definition = Definition::of(column.type_info());
    // Connector/J reports TINYINT(1) as BIT.
    let type_name = if name == "BOOLEAN" {
        "BIT".to_owned()
    } else {
        name.to_owned()
    };
    Column {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        type_code: jdbc_type(name),
        is_signed: !name.ends_with("UNSIGNED")
            && matches!(
                name,
                "TINYINT"
                    | "SMALLINT"
                    | "MEDIUMINT"
                    | "INT"
                    | "BIGINT"
                    | "FLOAT"
                    | "DOUBLE"
                    | "DECIMAL"
            ),
        nullable: if definition.flags.is_empty() && definition.max_size.is_none() {
            Nullability::Unknown
        } else if definition.has_flag("NOT_NULL") {
            Nullability::NoNulls
        } else {
            Nullability::Nullable
        },
        is_auto_increment: definition.has_flag("AUTO_INCREMENT"),
        precision: match mysql_precision(&type_name) {
            0 => length_precision(name, &definition),
            fixed => fixed,
        },
        type_name,
        ..Column::default()
    }
}

/// Connector/J's precision of a string column: its length in characters (the server sends it in bytes
/// of the result character set, utf8mb4 on every emulator session: four a character), or in bytes for
/// the binary types (sqlx names a `_bin`-collated character column binary too: its length is then
/// four times the characters, as Connector/J would still report it in bytes of a binary column).
fn length_precision(name: &str, definition: &Definition) -> i32 {
    let Some(bytes) = definition.max_size else {
        return 0;
    };
    let length = match name {
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "JSON" => {
            bytes / 4
        }
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => bytes,
        _ => return 0,
    };
    i32::try_from(length).unwrap_or(i32::MAX)
}

/// Fills `tableName` of result columns, as Connector/J's `getTableName` (the original table): sqlx
/// keeps the column definition's table private, so each column is looked up by its name (or the
/// column it aliases) among the columns of the tables the statement names after `FROM`/`JOIN` in the
/// current database; a name found in exactly one of them gives that table. Limit: an expression
/// aliased to a column name of one of those tables (`COUNT(*) AS id`) is reported with that table.
async fn fill_tables(conn: &mut MySqlConnection, sql: &str, metadata: &mut [Column]) -> Result<()> {
    let tables = from_tables(sql);
    if tables.is_empty() {
        return Ok(());
    }
    let placeholders = vec!["?"; tables.len()].join(", ");
    let query = format!(
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({placeholders})"
    );
    let mut query = sqlx::query(&query);
    for table in &tables {
        query = query.bind(table);
    }
    let rows = query
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    let found = rows
        .iter()
        .map(|row| {
            let table: String = row.try_get_unchecked(0)?;
            let column: String = row.try_get_unchecked(1)?;
            Ok((table, column))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    let aliases = alias_sources(sql);
    for meta in metadata {
        let source = aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(&meta.name))
            .map_or(meta.name.as_str(), |(_, source)| source.as_str());
        let mut owners = found
            .iter()
            .filter(|(_, column)| column.eq_ignore_ascii_case(source));
        if let (Some((table, _)), None) = (owners.next(), owners.next()) {
            meta.table_name.clone_from(table);
        }
    }
    Ok(())
}

/// A word of SQL code for [`from_tables`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    /// A name or keyword (backquotes removed), qualifiers kept (`db.t`).
    Name(String),
    /// `,`.
    Comma,
    /// `.` between quoted names (`` `db`.`t` ``).
    Dot,
    /// Any other code byte.
    Other,
}

fn sql_words(sql: &str) -> Vec<Word> {
    use sql_lexer::{Dialect, Kind as Token, Lexer};
    let bytes = sql.as_bytes();
    let mut words = Vec::new();
    let mut lexer = Lexer::new(sql, Dialect::MySql);
    while let Some(token) = lexer.next() {
        match token.kind {
            Token::Code if sql_lexer::is_ident(bytes[token.start]) => {
                let end = token.start
                    + bytes[token.start..]
                        .iter()
                        .take_while(|b| sql_lexer::is_ident(**b) || **b == b'.')
                        .count();
                words.push(Word::Name(sql[token.start..end].to_owned()));
                lexer.skip_to(end);
            }
            Token::Quoted if bytes[token.start] == b'`' => {
                let inner = &sql[token.start + 1..token.end.saturating_sub(1).max(token.start + 1)];
                words.push(Word::Name(inner.replace("``", "`")));
            }
            Token::Code if bytes[token.start] == b',' => words.push(Word::Comma),
            Token::Code if bytes[token.start] == b'.' => words.push(Word::Dot),
            Token::Space | Token::Comment => {}
            _ => words.push(Word::Other),
        }
    }
    words
}

/// The table names after `FROM` and `JOIN` (and after commas in a `FROM` list), unquoted, without a
/// database qualifier, found with [`sql_lexer`] so literals and comments are skipped.
fn from_tables(sql: &str) -> Vec<String> {
    let words = sql_words(sql);
    let name_at = |i: usize| match words.get(i) {
        Some(Word::Name(name)) => Some(name.as_str()),
        _ => None,
    };
    let mut tables: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let keyword = name_at(i)
            .is_some_and(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("JOIN"));
        i += 1;
        if !keyword {
            continue;
        }
        // table [[AS] alias] [, table [[AS] alias]]…
        while let Some(mut name) = name_at(i) {
            // `db`.`t`: the table is the last part.
            while words.get(i + 1) == Some(&Word::Dot)
                && let Some(next) = name_at(i + 2)
            {
                name = next;
                i += 2;
            }
            let name = name.rsplit('.').next().unwrap_or(name).to_owned();
            if !tables.contains(&name) {
                tables.push(name);
            }
            i += 1;
            if name_at(i).is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
                i += 1;
            }
            if name_at(i).is_some_and(|w| !is_clause_word(w)) {
                i += 1;
            }
            if words.get(i) == Some(&Word::Comma) {
                i += 1;
                continue;
            }
            break;
        }
    }
    tables
}

fn is_clause_word(word: &str) -> bool {
    [
        "WHERE",
        "JOIN",
        "INNER",
        "LEFT",
        "RIGHT",
        "CROSS",
        "NATURAL",
        "ON",
        "USING",
        "GROUP",
        "ORDER",
        "LIMIT",
        "HAVING",
        "UNION",
        "FOR",
        "LOCK",
        "WINDOW",
        "STRAIGHT_JOIN",
        "OFFSET",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(word))
}

/// How a result column is decoded: the MySQL table of data-api-facts §6, decided once per statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// TINYINT(1) and BOOL (sqlx's `BOOLEAN`) → `booleanValue`.
    Boolean,
    /// BIT(1) → `booleanValue`.
    Bit1,
    /// TINYINT … BIGINT → `longValue`.
    Signed,
    /// The UNSIGNED integers → `longValue`; a BIGINT UNSIGNED above `i64::MAX` goes out as its exact
    /// digits in a `stringValue` (unverified on AWS, data-api-facts §19).
    Unsigned,
    /// FLOAT → `doubleValue`.
    Float,
    /// DOUBLE → `doubleValue`.
    Double,
    /// DECIMAL(p,s) → `stringValue`, padded to the scale (`decimalReturnType` may change it).
    Decimal,
    /// CHAR, VARCHAR, TEXT, ENUM, JSON, and character columns in a `_bin` collation → `stringValue`.
    Text,
    /// MariaDB's JSON (a LONGTEXT in a binary collation with a `json_valid` check) → `stringValue`,
    /// reported as Aurora MySQL 8's `JSON` type.
    Json,
    /// BINARY, VARBINARY, BLOBs → `blobValue`.
    Blob,
    /// DATE → `YYYY-MM-DD`.
    Date,
    /// TIME → `[-]HH:MM:SS[.f]`.
    Time,
    /// DATETIME → `YYYY-MM-DD HH:MM:SS[.f]`.
    DateTime,
    /// TIMESTAMP → as DATETIME, in UTC (the session time zone).
    Timestamp,
    /// The type of a bare `NULL` (`SELECT NULL`).
    Null,
}

/// The kind of each result column. A type the Data API does not return is refused with
/// `UnsupportedResultException` naming it.
async fn kinds(
    conn: &mut MySqlConnection,
    sql: &str,
    columns: &[MySqlColumn],
) -> Result<Vec<Kind>> {
    let mut kinds = columns.iter().map(kind).collect::<Result<Vec<_>, _>>()?;
    let binary: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == Kind::Blob)
        .collect();
    if !binary.is_empty() {
        for (i, json) in character_columns(conn, sql, columns, &binary).await? {
            kinds[i] = if json { Kind::Json } else { Kind::Text };
        }
    }
    Ok(kinds)
}

fn kind(column: &MySqlColumn) -> Result<Kind> {
    let info = column.type_info();
    let definition = Definition::of(info);
    Ok(match info.name() {
        "BOOLEAN" => Kind::Boolean,
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => Kind::Signed,
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" => Kind::Unsigned,
        "FLOAT" => Kind::Float,
        "DOUBLE" => Kind::Double,
        "DECIMAL" => Kind::Decimal,
        // BIT(M>1), YEAR, GEOMETRY and SET are unverified on AWS (data-api-facts §6, §19; SET is
        // not among the documented string types), so they are refused like any type the Data API
        // does not return. MySQL and MariaDB send a SET column as a string with the SET flag, which
        // sqlx names CHAR.
        "CHAR" if definition.has_flag("SET") => {
            return Err(unsupported(column.name(), "SET"));
        }
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "JSON" => {
            Kind::Text
        }
        // sqlx names a character column in a `_bin` collation as binary too; `kinds` sorts them out.
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => Kind::Blob,
        // BIT(1) is a boolean; for BIT(M>1) the JDBC BIT → booleanValue rule would lose bits.
        "BIT" if definition.max_size == Some(1) => Kind::Bit1,
        "BIT" => {
            let name = definition
                .max_size
                .map_or_else(|| "BIT".to_owned(), |m| format!("BIT({m})"));
            return Err(unsupported(column.name(), &name));
        }
        "DATE" => Kind::Date,
        "TIME" => Kind::Time,
        "DATETIME" => Kind::DateTime,
        "TIMESTAMP" => Kind::Timestamp,
        "NULL" => Kind::Null,
        // YEAR, GEOMETRY, SET (the SET wire type), and anything newer.
        other => return Err(unsupported(column.name(), other)),
    })
}

/// What sqlx-mysql 0.8.6 reads from a column definition but does not expose: the flags (SET) and the
/// length (the M of BIT(M)). `MySqlTypeInfo` has no accessors for them, so they are read from its
/// derived `Debug` (`MySqlTypeInfo { type: Bit, flags: ColumnFlags(UNSIGNED), max_size: Some(8) }`).
/// A test pins that format, so an sqlx upgrade that changes it fails there; an unreadable definition
/// has no flags and no length, which refuses every BIT (never a wrong boolean).
#[derive(Debug, Default, PartialEq, Eq)]
struct Definition {
    flags: Vec<String>,
    max_size: Option<u32>,
}

impl Definition {
    fn of(info: &MySqlTypeInfo) -> Self {
        Self::parse(&format!("{info:?}"))
    }

    fn parse(debug: &str) -> Self {
        let inside = |prefix: &str| {
            debug
                .split_once(prefix)
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(inner, _)| inner.to_owned())
        };
        Self {
            flags: inside("flags: ColumnFlags(")
                .map(|flags| flags.split(" | ").map(str::to_owned).collect())
                .unwrap_or_default(),
            max_size: inside("max_size: Some(").and_then(|size| size.parse().ok()),
        }
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// `(alias, column)` for each `column AS alias` in `sql` (names unquoted; a qualified `t.col` gives
/// `col`), found with [`sql_lexer`] so literals and comments are skipped. SeaORM aliases every column
/// of a related find (`events.payload AS A_payload`).
fn alias_sources(sql: &str) -> Vec<(String, String)> {
    use sql_lexer::{Dialect, Kind as Token, Lexer};
    let bytes = sql.as_bytes();
    let mut words: Vec<Option<String>> = Vec::new();
    let mut lexer = Lexer::new(sql, Dialect::MySql);
    while let Some(token) = lexer.next() {
        match token.kind {
            Token::Code if sql_lexer::is_ident(bytes[token.start]) => {
                let end = token.start
                    + bytes[token.start..]
                        .iter()
                        .take_while(|b| sql_lexer::is_ident(**b))
                        .count();
                words.push(Some(sql[token.start..end].to_owned()));
                lexer.skip_to(end);
            }
            Token::Quoted if bytes[token.start] == b'`' => {
                let inner = &sql[token.start + 1..token.end.saturating_sub(1).max(token.start + 1)];
                words.push(Some(inner.replace("``", "`")));
            }
            Token::Space | Token::Comment => {}
            _ => words.push(None),
        }
    }
    words
        .windows(3)
        .filter_map(|w| match w {
            [Some(column), Some(as_), Some(alias)] if as_.eq_ignore_ascii_case("AS") => {
                Some((alias.clone(), column.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Which of the `binary` columns (sqlx named them BINARY, VARBINARY or …BLOB) hold characters.
///
/// The server sets the BINARY flag for a binary string *and* for a character column in a `_bin`
/// collation (MariaDB's JSON is LONGTEXT COLLATE utf8mb4_bin, so `SELECT j` looks like a LONGBLOB).
/// Only the column's character set tells them apart (63 is `binary`), and sqlx-mysql 0.8.6 reads it
/// from the column definition and drops it: type, flags and length are all it keeps, and they are
/// identical for LONGTEXT COLLATE utf8mb4_bin and LONGBLOB, or VARCHAR(10) COLLATE utf8mb4_bin and
/// VARBINARY(40). So the character set is looked up in `information_schema.COLUMNS` of the current
/// database, by column name and type family: a column is text when every column of that name and
/// family there has a character set.
///
/// An aliased column (`t.col AS x`) is looked up by the column it aliases. Limit: an expression, a
/// table in another database, or a name whose columns disagree keeps `blobValue`.
async fn character_columns(
    conn: &mut MySqlConnection,
    sql: &str,
    columns: &[MySqlColumn],
    binary: &[usize],
) -> Result<Vec<(usize, bool)>> {
    let aliases = alias_sources(sql);
    // The name to look up: the column's, or the one it aliases (`t.payload AS A_payload`).
    let source = |i: usize| -> String {
        let name = columns[i].name();
        aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map_or_else(|| name.to_owned(), |(_, source)| source.clone())
    };
    let placeholders = vec!["?"; binary.len()].join(", ");
    let sql = format!(
        "SELECT c.COLUMN_NAME, c.DATA_TYPE, c.CHARACTER_SET_NAME, EXISTS(SELECT 1 FROM \
         information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA \
         AND k.TABLE_NAME = c.TABLE_NAME AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)')) \
         FROM information_schema.COLUMNS c \
         WHERE c.TABLE_SCHEMA = DATABASE() AND c.COLUMN_NAME IN ({placeholders})"
    );
    let mut query = sqlx::query(&sql);
    for &i in binary {
        query = query.bind(source(i));
    }
    let found = query
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    // Unchecked: information_schema's own columns may be in a `_bin` collation (MySQL 8).
    let found = found
        .iter()
        .map(|row| {
            let name: String = row.try_get_unchecked(0)?;
            let data_type: String = row.try_get_unchecked(1)?;
            let charset: Option<String> = row.try_get_unchecked(2)?;
            let json: i64 = row.try_get_unchecked(3)?;
            Ok((name, data_type.to_ascii_lowercase(), charset, json != 0))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    Ok(binary
        .iter()
        .copied()
        .filter_map(|i| {
            let column = &columns[i];
            let family: &[&str] = match column.type_info().name() {
                "BINARY" => &["char", "binary"],
                "VARBINARY" => &["varchar", "varbinary"],
                _ => &[
                    "tinytext",
                    "text",
                    "mediumtext",
                    "longtext",
                    "tinyblob",
                    "blob",
                    "mediumblob",
                    "longblob",
                ],
            };
            let same: Vec<_> = found
                .iter()
                .filter(|(name, data_type, _, _)| {
                    name.eq_ignore_ascii_case(&source(i)) && family.contains(&data_type.as_str())
                })
                .collect();
            let text = !same.is_empty()
                && same
                    .iter()
                    .all(|(_, _, charset, _)| charset.as_deref().is_some_and(|c| c != "binary"));
            text.then(|| (i, same.iter().all(|(_, _, _, json)| *json)))
        })
        .collect())
}

/// A decoding failure, naming the column and its type.
fn decode_error(row: &MySqlRow, i: usize, error: impl Into<BoxDynError>) -> Error {
    let column = &row.columns()[i];
    Error::Decode {
        column: column.name().to_owned(),
        type_name: column.type_info().name().to_owned(),
        source: error.into(),
    }
}

macro_rules! get {
    ($row:expr, $i:expr, $t:ty) => {
        $row.try_get::<Option<$t>, _>($i)
            .map_err(|e| decode_error($row, $i, e))?
    };
}

/// Column `i` as the text the server sent, `None` for NULL. Unchecked, because sqlx's `String`
/// refuses a JSON column (MySQL 8) and a character column in a `_bin` collation; MySQL sends
/// DECIMAL as text too, so its digits and scale pass through unparsed (no 28-digit limit).
fn text(row: &MySqlRow, i: usize) -> Result<Option<&str>> {
    row.try_get_unchecked::<Option<&str>, _>(i)
        .map_err(|e| decode_error(row, i, e))
}

/// TIME as `HH:MM:SS[.f]` (trailing fractional zeros trimmed), with a sign and more than 24 hours
/// where MySQL's range (-838:59:59 to 838:59:59) goes beyond a time of day; chrono's `NaiveTime`
/// would lose the sign.
fn time_text(time: &MySqlTime) -> String {
    let sign = if time.sign().is_negative() { "-" } else { "" };
    let mut text = format!(
        "{sign}{:02}:{:02}:{:02}",
        time.hours(),
        time.minutes(),
        time.seconds()
    );
    if time.microseconds() > 0 {
        let fraction = format!("{:06}", time.microseconds());
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

fn value(row: &MySqlRow, i: usize, kind: Kind) -> Result<Value> {
    let value = match kind {
        Kind::Boolean => get!(row, i, bool).map(Value::Bool),
        Kind::Bit1 => get!(row, i, u64).map(|v| Value::Bool(v != 0)),
        Kind::Signed => get!(row, i, i64).map(Value::Int),
        Kind::Unsigned => get!(row, i, u64).map(Value::UInt),
        Kind::Float => get!(row, i, f32).map(|v| Value::Double(v.into())),
        Kind::Double => get!(row, i, f64).map(Value::Double),
        Kind::Decimal => text(row, i)?.map(|v| Value::Decimal(v.to_owned())),
        Kind::Text | Kind::Json => text(row, i)?.map(|v| Value::Text(v.to_owned())),
        Kind::Blob => get!(row, i, Vec<u8>).map(Value::Bytes),
        // %F is YYYY-MM-DD.
        Kind::Date => get!(row, i, NaiveDate).map(|v| Value::Text(v.format("%F").to_string())),
        Kind::Time => get!(row, i, MySqlTime).map(|v| Value::Text(time_text(&v))),
        Kind::DateTime => get!(row, i, NaiveDateTime).map(|v| Value::Text(format_timestamp(v))),
        Kind::Timestamp => {
            get!(row, i, DateTime<Utc>).map(|v| Value::Text(format_timestamp(v.naive_utc())))
        }
        Kind::Null => None,
    };
    Ok(value.unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use sqlx::mysql::MySqlTypeInfo;
    use sqlx::mysql::types::{MySqlTime, MySqlTimeSign};
    use sqlx::{MySql, Type};

    use super::{Definition, alias_sources, from_tables, time_text};

    #[test]
    fn from_tables_finds_tables_after_from_join_and_commas() {
        let cases: &[(&str, &[&str])] = &[
            ("SELECT id FROM t", &["t"]),
            (
                "SELECT a.id FROM `db`.`users` AS a JOIN orders o ON o.u = a.id WHERE 1",
                &["users", "orders"],
            ),
            (
                "SELECT * FROM a, b AS x, c WHERE a.id = 1",
                &["a", "b", "c"],
            ),
            ("SELECT 'FROM fake' FROM real_t -- JOIN nope", &["real_t"]),
            ("SELECT 1 + 1", &[]),
            (
                "SELECT id FROM t LEFT JOIN u USING (id) ORDER BY id",
                &["t", "u"],
            ),
        ];
        for (sql, tables) in cases {
            assert_eq!(from_tables(sql), *tables, "{sql}");
        }
    }

    #[test]
    fn aliases_resolve_to_the_column_they_name() {
        let sql = "SELECT `events`.`payload` AS `A_payload`, e.kind AS k, 'x AS y' AS lit, \
                   /* a AS b */ n FROM events AS e";
        assert_eq!(
            alias_sources(sql),
            [
                ("A_payload".to_owned(), "payload".to_owned()),
                ("k".to_owned(), "kind".to_owned()),
                ("e".to_owned(), "events".to_owned()),
            ]
        );
    }

    #[test]
    fn time_keeps_the_sign_and_hours_beyond_a_day() {
        let cases = [
            (MySqlTimeSign::Positive, 10, 0, 0, 0, "10:00:00"),
            (MySqlTimeSign::Positive, 10, 0, 0, 500_000, "10:00:00.5"),
            (MySqlTimeSign::Positive, 838, 59, 59, 0, "838:59:59"),
            (MySqlTimeSign::Negative, 1, 2, 3, 0, "-01:02:03"),
            (MySqlTimeSign::Negative, 0, 0, 0, 68_123, "-00:00:00.068123"),
        ];
        for (sign, hours, minutes, seconds, micros, expected) in cases {
            let time = MySqlTime::new(sign, hours, minutes, seconds, micros).expect(expected);
            assert_eq!(time_text(&time), expected);
        }
    }

    #[test]
    fn definition_reads_flags_and_length_from_sqlx_debug_output() {
        let cases = [
            (
                <bool as Type<MySql>>::type_info(),
                &["UNSIGNED", "BINARY"][..],
                Some(1),
            ),
            (MySqlTypeInfo::__enum(), &["ENUM"][..], None),
            (<str as Type<MySql>>::type_info(), &["0x0"][..], None),
        ];
        for (info, flags, max_size) in cases {
            let definition = Definition::of(&info);
            assert_eq!(definition.flags, flags, "{info:?}");
            assert_eq!(definition.max_size, max_size, "{info:?}");
        }
    }

    #[test]
    fn definition_of_unreadable_text_is_empty() {
        assert_eq!(Definition::parse("Opaque"), Definition::default());
        assert_eq!(
            Definition::parse("X { flags: ColumnFlags(SET | BINARY), max_size: Some(x) }"),
            Definition {
                flags: vec!["SET".into(), "BINARY".into()],
                max_size: None
            }
        );
    }
}
