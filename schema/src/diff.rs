//! The differences between the schema the migrations produce and a live one.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::snapshot::{Column, Snapshot};

/// What kind of object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    /// A table.
    Table,
    /// A column.
    Column,
    /// An index (MySQL's primary key is the index `PRIMARY`).
    Index,
    /// A primary, unique or foreign key constraint.
    Constraint,
}

/// How it differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The migrations make it; the live database lacks it.
    Missing,
    /// The live database has it; the migrations do not make it (e.g. added by hand).
    Unexpected,
    /// A column's type differs.
    Type,
    /// A column's nullability differs.
    Nullability,
    /// A column's default differs.
    Default,
    /// An index's or constraint's definition differs.
    Definition,
}

/// One difference. `expected` is what the migrations produce, `actual` what the live database has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The table.
    pub table: String,
    /// The kind of object.
    pub object: Object,
    /// The column, index or constraint (none for a table).
    pub name: Option<String>,
    /// How it differs.
    pub change: Change,
    /// The migrations' side.
    pub expected: Option<String>,
    /// The live side.
    pub actual: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let object = match self.object {
            Object::Table => "table",
            Object::Column => "column",
            Object::Index => "index",
            Object::Constraint => "constraint",
        };
        match &self.name {
            Some(name) => write!(f, "{}.{name}: {object} ", self.table)?,
            None => write!(f, "{}: {object} ", self.table)?,
        }
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        match self.change {
            Change::Missing => write!(f, "missing (the migrations make it)"),
            Change::Unexpected => match &self.actual {
                Some(actual) => write!(f, "not made by the migrations: {actual}"),
                None => write!(f, "not made by the migrations"),
            },
            Change::Type | Change::Nullability | Change::Default | Change::Definition => {
                let what = match self.change {
                    Change::Type => "type",
                    Change::Nullability => "nullability",
                    Change::Default => "default",
                    _ => "definition",
                };
                write!(
                    f,
                    "{what}: migrations `{}`, live `{}`",
                    show(&self.expected),
                    show(&self.actual)
                )
            }
        }
    }
}

fn describe(column: &Column) -> String {
    format!(
        "{}{}",
        column.data_type,
        if column.nullable {
            " NULL"
        } else {
            " NOT NULL"
        }
    )
}

fn keyed<T: PartialEq>(
    out: &mut Vec<Difference>,
    table: &str,
    object: Object,
    expected: &BTreeMap<String, T>,
    actual: &BTreeMap<String, T>,
    show: impl Fn(&T) -> String,
    compare: impl Fn(&str, &T, &T, &mut Vec<Difference>),
) {
    for (name, want) in expected {
        match actual.get(name) {
            None => out.push(Difference {
                table: table.to_owned(),
                object,
                name: Some(name.clone()),
                change: Change::Missing,
                expected: Some(show(want)),
                actual: None,
            }),
            Some(have) => compare(name, want, have, out),
        }
    }
    for (name, have) in actual {
        if !expected.contains_key(name) {
            out.push(Difference {
                table: table.to_owned(),
                object,
                name: Some(name.clone()),
                change: Change::Unexpected,
                expected: None,
                actual: Some(show(have)),
            });
        }
    }
}

/// Every difference between `expected` (what the migrations produce) and `actual` (live), table by
/// table in name order: tables, then columns, indexes and constraints.
pub fn diff(expected: &Snapshot, actual: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    for (name, want) in &expected.tables {
        let Some(have) = actual.tables.get(name) else {
            out.push(Difference {
                table: name.clone(),
                object: Object::Table,
                name: None,
                change: Change::Missing,
                expected: None,
                actual: None,
            });
            continue;
        };
        keyed(
            &mut out,
            name,
            Object::Column,
            &want.columns,
            &have.columns,
            describe,
            |column, want, have, out| {
                let mut push = |change, expected: Option<String>, actual: Option<String>| {
                    out.push(Difference {
                        table: name.clone(),
                        object: Object::Column,
                        name: Some(column.to_owned()),
                        change,
                        expected,
                        actual,
                    });
                };
                if want.data_type != have.data_type {
                    push(
                        Change::Type,
                        Some(want.data_type.clone()),
                        Some(have.data_type.clone()),
                    );
                }
                if want.nullable != have.nullable {
                    let null = |n: bool| Some(if n { "NULL" } else { "NOT NULL" }.to_owned());
                    push(
                        Change::Nullability,
                        null(want.nullable),
                        null(have.nullable),
                    );
                }
                if want.default != have.default {
                    push(Change::Default, want.default.clone(), have.default.clone());
                }
            },
        );
        for (object, want, have) in [
            (Object::Index, &want.indexes, &have.indexes),
            (Object::Constraint, &want.constraints, &have.constraints),
        ] {
            keyed(
                &mut out,
                name,
                object,
                want,
                have,
                Clone::clone,
                |key, want, have, out| {
                    if want != have {
                        out.push(Difference {
                            table: name.clone(),
                            object,
                            name: Some(key.to_owned()),
                            change: Change::Definition,
                            expected: Some(want.clone()),
                            actual: Some(have.clone()),
                        });
                    }
                },
            );
        }
    }
    for name in actual.tables.keys() {
        if !expected.tables.contains_key(name) {
            out.push(Difference {
                table: name.clone(),
                object: Object::Table,
                name: None,
                change: Change::Unexpected,
                expected: None,
                actual: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Table;

    fn column(data_type: &str, nullable: bool) -> Column {
        Column {
            data_type: data_type.into(),
            nullable,
            default: None,
        }
    }

    fn users() -> Table {
        let mut table = Table::default();
        table
            .columns
            .insert("id".into(), column("varchar(255)", false));
        table
            .columns
            .insert("name".into(), column("varchar(255)", true));
        table
            .indexes
            .insert("PRIMARY".into(), "UNIQUE BTREE (id)".into());
        table
    }

    fn snapshot(tables: Vec<(&str, Table)>) -> Snapshot {
        Snapshot {
            tables: tables.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
        }
    }

    #[test]
    fn equal_snapshots_have_no_differences() {
        let s = snapshot(vec![("users", users())]);
        assert_eq!(diff(&s, &s), []);
    }

    #[test]
    fn each_kind_of_drift_is_named() {
        let expected = snapshot(vec![("users", users()), ("gone", Table::default())]);
        let mut live = users();
        live.columns.insert("age".into(), column("int(11)", true));
        live.columns.insert("name".into(), column("text", false));
        live.indexes.clear();
        let actual = snapshot(vec![("users", live), ("extra", Table::default())]);
        let found: Vec<String> = diff(&expected, &actual)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "gone: table missing (the migrations make it)",
                "users.name: column type: migrations `varchar(255)`, live `text`",
                "users.name: column nullability: migrations `NULL`, live `NOT NULL`",
                "users.age: column not made by the migrations: int(11) NULL",
                "users.PRIMARY: index missing (the migrations make it)",
                "extra: table not made by the migrations",
            ]
        );
    }
}
