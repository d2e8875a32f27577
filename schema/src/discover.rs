//! Schema discovery through a SeaORM connection, as `sea-orm-cli generate entity` does it.
//!
//! sea-schema's discovery runs its catalogue queries on a sqlx pool. Here the same queries
//! ([`sea_schema::mysql::query::SchemaQueryBuilder`], [`sea_schema::postgres::query::SchemaQueryBuilder`])
//! run on any [`ConnectionTrait`] — a native connection or the Data API adapter — and their rows are
//! handed to sea-schema's own parsers, so the tables come out as sea-schema's would, in its order.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use sea_schema::mysql::query as my;
use sea_schema::postgres::query as pg;
use sea_schema::sea_query::{Alias, IntoIden, SeaRc, SelectStatement, TableCreateStatement};

use crate::error::{Error, Result, query};
use crate::row::{i32_opt, int_opt, string, string_opt};

/// Which tables to keep, as sea-orm-cli's `--tables`, `--ignore-tables` and
/// `--include-hidden-tables` choose them.
#[derive(Debug, Clone)]
pub struct TableFilter {
    /// Only these (all when empty).
    pub tables: Vec<String>,
    /// Never these (sea-orm-cli's default: `seaql_migrations`).
    pub ignore_tables: Vec<String>,
    /// Keep tables whose name starts with `_`.
    pub include_hidden_tables: bool,
}

impl Default for TableFilter {
    fn default() -> Self {
        Self {
            tables: Vec::new(),
            ignore_tables: vec!["seaql_migrations".to_owned()],
            include_hidden_tables: false,
        }
    }
}

impl TableFilter {
    fn keeps(&self, name: &str) -> bool {
        (self.tables.is_empty() || self.tables.iter().any(|t| t == name))
            && (self.include_hidden_tables || !name.starts_with('_'))
            && !self.ignore_tables.iter().any(|t| t == name)
    }
}

async fn fetch<C: ConnectionTrait>(
    db: &C,
    select: &SelectStatement,
    what: &str,
) -> Result<Vec<QueryResult>> {
    let statement = db.get_database_backend().build(select);
    db.query_all(statement)
        .await
        .map_err(query(format!("reading {what}")))
}

fn rows<T>(
    rows: &[QueryResult],
    what: &str,
    read: impl Fn(&QueryResult) -> std::result::Result<T, sea_orm::DbErr>,
) -> Result<Vec<T>> {
    rows.iter()
        .map(read)
        .collect::<std::result::Result<_, _>>()
        .map_err(query(format!("decoding {what}")))
}

/// The tables of `schema` (MySQL: the database name; PostgreSQL: the schema, e.g. `public`) that
/// `filter` keeps, as the `CREATE TABLE` statements sea-orm-codegen takes.
///
/// # Errors
/// [`Error::Query`] when a catalogue query fails or returns an unreadable row; [`Error::Config`]
/// for SQLite (not a Data API engine).
pub async fn tables<C: ConnectionTrait>(
    db: &C,
    schema: &str,
    filter: &TableFilter,
) -> Result<Vec<TableCreateStatement>> {
    match db.get_database_backend() {
        DbBackend::MySql => mysql(db, schema, filter).await,
        DbBackend::Postgres => postgres(db, schema, filter).await,
        DbBackend::Sqlite => Err(Error::Config(crate::target::SQLITE_NOT_COVERED.into())),
    }
}

async fn mysql<C: ConnectionTrait>(
    db: &C,
    schema: &str,
    filter: &TableFilter,
) -> Result<Vec<TableCreateStatement>> {
    use sea_schema::mysql::def::TableDef;
    use sea_schema::mysql::parser::{parse_foreign_key_query_results, parse_index_query_results};

    let builder = my::SchemaQueryBuilder::default();
    let version = fetch(db, &builder.query_version(), "the server version").await?;
    let version = rows(&version, "the server version", |r| {
        Ok(my::VersionQueryResult {
            version: string(r, 0)?,
        })
    })?
    .into_iter()
    .next()
    .ok_or_else(|| Error::Config("SELECT VERSION() returned no row".into()))?;
    let system = version.parse();
    let builder = my::SchemaQueryBuilder::new(system.clone());
    let schema_iden = Alias::new(schema).into_iden();

    let table_rows = fetch(db, &builder.query_tables(schema_iden.clone()), "tables").await?;
    let infos = rows(&table_rows, "tables", |r| {
        Ok(my::TableQueryResult {
            table_name: string(r, 0)?,
            engine: string(r, 1)?,
            auto_increment: int_opt(r, 2)?.and_then(|v| u64::try_from(v).ok()),
            table_collation: string(r, 3)?,
            table_comment: string(r, 4)?,
            create_options: string(r, 5)?,
            table_char_set: string(r, 6)?,
        })
    })?;

    let mut statements = Vec::new();
    for info in infos.into_iter().map(my::TableQueryResult::parse) {
        if !filter.keeps(&info.name) {
            continue;
        }
        let table = SeaRc::new(Alias::new(info.name.as_str()));
        let what = format!("the columns of {}", info.name);
        let found = fetch(
            db,
            &builder.query_columns(schema_iden.clone(), table.clone()),
            &what,
        )
        .await?;
        let columns = rows(&found, &what, |r| {
            Ok(my::ColumnQueryResult {
                column_name: string(r, 0)?,
                column_type: string(r, 1)?,
                is_nullable: string(r, 2)?,
                column_key: string(r, 3)?,
                column_default: string_opt(r, 4)?,
                extra: string(r, 5)?,
                generation_expression: string_opt(r, 6)?,
                column_comment: string(r, 7)?,
            })
        })?
        .into_iter()
        .map(|c| c.parse(&system))
        .collect();

        let what = format!("the indexes of {}", info.name);
        let found = fetch(
            db,
            &builder.query_indexes(schema_iden.clone(), table.clone()),
            &what,
        )
        .await?;
        let results = rows(&found, &what, |r| {
            Ok(my::IndexQueryResult {
                non_unique: i32_opt(r, 0)?.unwrap_or_default(),
                index_name: string(r, 1)?,
                column_name: string_opt(r, 2)?,
                collation: string_opt(r, 3)?,
                sub_part: i32_opt(r, 4)?,
                nullable: string(r, 5)?,
                index_type: string(r, 6)?,
                index_comment: string(r, 7)?,
                expression: string_opt(r, 8)?,
            })
        })?;
        let indexes = parse_index_query_results(Box::new(results.into_iter())).collect();

        let what = format!("the foreign keys of {}", info.name);
        let found = fetch(
            db,
            &builder.query_foreign_key(schema_iden.clone(), table.clone()),
            &what,
        )
        .await?;
        let results = rows(&found, &what, |r| {
            Ok(my::ForeignKeyQueryResult {
                constraint_name: string(r, 0)?,
                column_name: string(r, 1)?,
                referenced_table_name: string(r, 2)?,
                referenced_column_name: string(r, 3)?,
                update_rule: string(r, 4)?,
                delete_rule: string(r, 5)?,
            })
        })?;
        let foreign_keys = parse_foreign_key_query_results(Box::new(results.into_iter())).collect();

        statements.push(
            TableDef {
                info,
                columns,
                indexes,
                foreign_keys,
            }
            .write(),
        );
    }
    Ok(statements)
}

async fn postgres<C: ConnectionTrait>(
    db: &C,
    schema: &str,
    filter: &TableFilter,
) -> Result<Vec<TableCreateStatement>> {
    use sea_schema::postgres::def::{Constraint, TableDef};
    use sea_schema::postgres::parser::{
        parse_table_constraint_query_results, parse_unique_index_query_results,
    };

    let builder = pg::SchemaQueryBuilder::default();
    let schema_iden = Alias::new(schema).into_iden();

    let found = fetch(db, &builder.query_enums(), "enum types").await?;
    let mut enums: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows(&found, "enum types", |r| Ok((string(r, 0)?, string(r, 1)?)))? {
        enums.entry(r.0).or_default().push(r.1);
    }

    let found = fetch(db, &builder.query_tables(schema_iden.clone()), "tables").await?;
    let infos = rows(&found, "tables", |r| {
        Ok(pg::TableQueryResult {
            table_name: string(r, 0)?,
            user_defined_type_schema: string_opt(r, 1)?,
            user_defined_type_name: string_opt(r, 2)?,
        })
    })?;

    let mut statements = Vec::new();
    for info in infos.into_iter().map(pg::TableQueryResult::parse) {
        if !filter.keeps(&info.name) {
            continue;
        }
        let table = SeaRc::new(Alias::new(info.name.as_str()));
        let what = format!("the columns of {}", info.name);
        let found = fetch(
            db,
            &builder.query_columns(schema_iden.clone(), table.clone()),
            &what,
        )
        .await?;
        let columns = rows(&found, &what, |r| {
            Ok(pg::ColumnQueryResult {
                column_name: string(r, 0)?,
                column_type: string(r, 1)?,
                column_default: string_opt(r, 2)?,
                column_generated: string_opt(r, 3)?,
                is_nullable: string(r, 4)?,
                is_identity: string(r, 5)?,
                numeric_precision: i32_opt(r, 6)?,
                numeric_precision_radix: i32_opt(r, 7)?,
                numeric_scale: i32_opt(r, 8)?,
                character_maximum_length: i32_opt(r, 9)?,
                character_octet_length: i32_opt(r, 10)?,
                datetime_precision: i32_opt(r, 11)?,
                interval_type: string_opt(r, 12)?,
                interval_precision: i32_opt(r, 13)?,
                udt_name: string_opt(r, 14)?,
                udt_name_regtype: string_opt(r, 15)?,
            })
        })?
        .into_iter()
        .map(|c| c.parse(&enums))
        .collect();

        let what = format!("the constraints of {}", info.name);
        let found = fetch(
            db,
            &builder.query_table_constraints(schema_iden.clone(), table.clone()),
            &what,
        )
        .await?;
        let results = rows(&found, &what, |r| {
            Ok(pg::TableConstraintsQueryResult {
                constraint_schema: string(r, 0)?,
                constraint_name: string(r, 1)?,
                table_schema: string(r, 2)?,
                table_name: string(r, 3)?,
                constraint_type: string(r, 4)?,
                is_deferrable: string(r, 5)?,
                initially_deferred: string(r, 6)?,
                check_clause: string_opt(r, 7)?,
                column_name: string_opt(r, 8)?,
                ordinal_position: i32_opt(r, 9)?,
                position_in_unique_constraint: i32_opt(r, 10)?,
                unique_constraint_schema: string_opt(r, 11)?,
                unique_constraint_name: string_opt(r, 12)?,
                match_option: string_opt(r, 13)?,
                update_rule: string_opt(r, 14)?,
                delete_rule: string_opt(r, 15)?,
                referential_key_table_name: string_opt(r, 16)?,
                referential_key_column_name: string_opt(r, 17)?,
            })
        })?;
        let mut table_def = TableDef {
            info,
            columns,
            check_constraints: Vec::new(),
            not_null_constraints: Vec::new(),
            unique_constraints: Vec::new(),
            primary_key_constraints: Vec::new(),
            reference_constraints: Vec::new(),
            exclusion_constraints: Vec::new(),
        };
        for constraint in parse_table_constraint_query_results(Box::new(results.into_iter())) {
            match constraint {
                Constraint::Check(c) => table_def.check_constraints.push(c),
                Constraint::NotNull(c) => table_def.not_null_constraints.push(c),
                Constraint::Unique(_) => {}
                Constraint::PrimaryKey(c) => table_def.primary_key_constraints.push(c),
                Constraint::References(c) => table_def.reference_constraints.push(c),
                Constraint::Exclusion(c) => table_def.exclusion_constraints.push(c),
            }
        }

        let what = format!("the unique indexes of {}", table_def.info.name);
        let found = fetch(
            db,
            &builder.query_table_unique_indexes(schema_iden.clone(), table.clone()),
            &what,
        )
        .await?;
        let results = rows(&found, &what, |r| {
            Ok(pg::UniqueIndexQueryResult {
                index_name: string(r, 0)?,
                table_schema: string(r, 1)?,
                table_name: string(r, 2)?,
                column_name: string(r, 3)?,
            })
        })?;
        table_def.unique_constraints =
            parse_unique_index_query_results(Box::new(results.into_iter())).collect();
        statements.push(table_def.write());
    }
    Ok(statements)
}
