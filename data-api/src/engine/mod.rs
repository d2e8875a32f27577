//! [`Engine`]: the SQL engine behind the cluster, and everything the adapter does differently for
//! each — one file per engine, each behind its cargo feature (`mysql`, `postgres`; both default).
//!
//! A build without an engine's feature has no variant for it: code that names `Engine::Postgres`
//! does not compile in a MySQL-only build, and [`Config::from_env`](crate::Config::from_env) (through
//! `Engine`'s `FromStr`) answers `DATABASE_ENGINE=postgres` with an error naming the missing feature.
//! `Engine` is `#[non_exhaustive]`, so a dependent's `match` already has a wildcard arm and keeps
//! compiling whichever features another crate in its build switches on.

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;

#[cfg(not(any(feature = "mysql", feature = "postgres")))]
compile_error!(
    "data-api needs at least one engine: enable the `mysql` or the `postgres` feature (both are \
     default features)"
);

use aws_sdk_rdsdata::types::TypeHint;
use sea_orm::sea_query::{ArrayType, Value};

use crate::values::encode::Outgoing;
use crate::values::{Kind, ValueError};

/// The SQL engine behind the cluster.
///
/// Each variant exists only with its cargo feature (`mysql`, `postgres`; both default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// Aurora MySQL (SeaORM's MySQL backend). Feature `mysql`.
    #[cfg(feature = "mysql")]
    MySql,
    /// Aurora PostgreSQL (SeaORM's PostgreSQL backend). Feature `postgres`.
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Engine {
    /// Every engine this build has.
    #[cfg(test)]
    pub(crate) const ENABLED: &[Engine] = &[
        #[cfg(feature = "mysql")]
        Engine::MySql,
        #[cfg(feature = "postgres")]
        Engine::Postgres,
    ];

    /// The SeaORM backend that generates this engine's SQL.
    pub fn backend(self) -> sea_orm::DbBackend {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => sea_orm::DbBackend::MySql,
            #[cfg(feature = "postgres")]
            Engine::Postgres => sea_orm::DbBackend::Postgres,
        }
    }

    /// How the placeholder rewriter lexes this engine's SQL.
    pub(crate) fn dialect(self) -> sql_lexer::Dialect {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => sql_lexer::Dialect::MySql,
            #[cfg(feature = "postgres")]
            Engine::Postgres => sql_lexer::Dialect::Postgres,
        }
    }

    /// The kind a column whose `typeName` is `type_name` decodes to.
    pub(crate) fn kind_of(self, type_name: &str) -> Kind {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => mysql::kind_of(type_name),
            #[cfg(feature = "postgres")]
            Engine::Postgres => postgres::kind_of(type_name),
        }
    }

    /// The character SeaORM quotes identifiers with in this engine's SQL.
    pub(crate) fn identifier_quote(self) -> char {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => mysql::IDENTIFIER_QUOTE,
            #[cfg(feature = "postgres")]
            Engine::Postgres => postgres::IDENTIFIER_QUOTE,
        }
    }

    /// The kind SeaORM reads `Paginator::num_items`'s count as on this engine.
    pub(crate) fn count_kind(self) -> Kind {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => mysql::COUNT_KIND,
            #[cfg(feature = "postgres")]
            Engine::Postgres => postgres::COUNT_KIND,
        }
    }

    /// The types a `TIME` and a `TIMESTAMP` placeholder are cast to when the value has digits below
    /// the millisecond (which a `typeHint` cannot carry).
    pub(crate) fn exact_temporal_casts(self) -> Casts {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => mysql::EXACT_CASTS,
            #[cfg(feature = "postgres")]
            Engine::Postgres => postgres::EXACT_CASTS,
        }
    }

    /// The `typeHint` a uuid is sent with (`None`: as plain text).
    pub(crate) fn uuid_hint(self) -> Option<TypeHint> {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => mysql::UUID_HINT,
            #[cfg(feature = "postgres")]
            Engine::Postgres => postgres::UUID_HINT,
        }
    }

    /// The parameter `name` for an array value of element type `kind` (`values`: `None` for NULL).
    pub(crate) fn array_parameter(
        self,
        name: &str,
        kind: &ArrayType,
        values: Option<&Vec<Value>>,
    ) -> Result<Outgoing, ValueError> {
        match self {
            #[cfg(feature = "mysql")]
            Engine::MySql => mysql::array_parameter(name, kind, values),
            #[cfg(feature = "postgres")]
            Engine::Postgres => postgres::array_parameter(name, kind, values),
        }
    }
}

/// SQL types to cast `TIME` and `TIMESTAMP` placeholders to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Casts {
    pub(crate) time: &'static str,
    pub(crate) timestamp: &'static str,
}

impl std::str::FromStr for Engine {
    type Err = String;

    /// `mysql` / `aurora-mysql` / `mariadb`, `postgres` / `postgresql` / `aurora-postgresql`; an
    /// engine whose feature this build lacks is an error that names the feature.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            #[cfg(feature = "mysql")]
            "mysql" | "aurora-mysql" | "mariadb" => Ok(Engine::MySql),
            #[cfg(not(feature = "mysql"))]
            "mysql" | "aurora-mysql" | "mariadb" => Err(missing_feature(text, "mysql")),
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" | "aurora-postgresql" => Ok(Engine::Postgres),
            #[cfg(not(feature = "postgres"))]
            "postgres" | "postgresql" | "aurora-postgresql" => {
                Err(missing_feature(text, "postgres"))
            }
            other => Err(format!(
                "unknown engine {other:?}; expected mysql or postgres"
            )),
        }
    }
}

/// The error for an engine named in configuration whose feature this build lacks.
#[cfg(not(all(feature = "mysql", feature = "postgres")))]
fn missing_feature(text: &str, feature: &str) -> String {
    format!("{text:?} needs data-api's `{feature}` feature, which this build does not enable")
}

#[cfg(test)]
mod tests {
    use super::Engine;

    #[test]
    fn engine_names_give_this_builds_engines_and_name_a_missing_feature() {
        let cases = [
            (
                ["mysql", "aurora-mysql", "mariadb", "MySQL"],
                "mysql",
                cfg!(feature = "mysql"),
                sea_orm::DbBackend::MySql,
            ),
            (
                ["postgres", "postgresql", "aurora-postgresql", "PostgreSQL"],
                "postgres",
                cfg!(feature = "postgres"),
                sea_orm::DbBackend::Postgres,
            ),
        ];
        for (names, feature, enabled, backend) in cases {
            for name in names {
                match name.parse::<Engine>() {
                    Ok(engine) if enabled => assert_eq!(engine.backend(), backend, "{name}"),
                    Err(error) if !enabled => {
                        assert!(
                            error.contains(&format!("`{feature}` feature")),
                            "{name}: {error}"
                        );
                    }
                    other => panic!("{name} (feature {feature} enabled: {enabled}): {other:?}"),
                }
            }
        }
        let error = "oracle".parse::<Engine>().unwrap_err();
        assert!(error.contains("unknown engine"), "{error}");
    }
}
