//! SeaORM's placeholders (`?` on MySQL, `$n` on PostgreSQL) rewritten to the Data API's named
//! parameters (`:p1`, `:p2`, …), by [`sql_lexer`], which keeps literals, quoted identifiers, comments,
//! dollar quotes and `::` casts untouched.

use sql_lexer::{Dialect, Kind, Lexer, is_ident};

/// SQL with named parameters: value `i` (0-based) is `:p{i+1}`, and every value is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    /// The SQL to send.
    pub(crate) sql: String,
}

/// Why SQL cannot be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranslateError {
    /// The statement has `n` values but its placeholders want another number.
    #[error("the statement has {values} values but {placeholders} placeholders")]
    Count {
        /// Values SeaORM sent.
        values: usize,
        /// Placeholders found (MySQL) or the highest `$n` (PostgreSQL).
        placeholders: usize,
    },
    /// A `$n` names no value, or some value is never used.
    #[error("placeholder ${index} has no value (the statement has {values})")]
    Unbound {
        /// The `n` of `$n`.
        index: usize,
        /// Values SeaORM sent.
        values: usize,
    },
    /// `:name` in code, which the Data API would take for a parameter.
    #[error(
        "the SQL has `:{name}` outside literals and comments, which the Data API reads as a named \
         parameter; put a space after the colon (for example `arr[1: 2]`)"
    )]
    StrayColon {
        /// The name after the colon.
        name: String,
    },
}

/// The name of value `index` (0-based): `p1`, `p2`, …
pub(crate) fn name(index: usize) -> String {
    format!("p{}", index + 1)
}

/// Rewrites the placeholders of `sql`, which carries `values` values; `cast(i)` names the SQL type
/// value `i`'s placeholder must be cast to (written `CAST(:pN AS type)`), if any.
pub(crate) fn translate(
    sql: &str,
    dialect: Dialect,
    values: usize,
    cast: &dyn Fn(usize) -> Option<String>,
) -> Result<Translated, TranslateError> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 2 * values);
    let mut seen = 0; // MySQL: `?` placeholders so far
    let mut used = vec![false; values];
    let mut copied = 0;
    let mut lexer = Lexer::new(sql, dialect);
    while let Some(token) = lexer.next() {
        if token.kind != Kind::Code {
            continue;
        }
        let start = token.start;
        let (index, end) = match (dialect, bytes[start]) {
            (Dialect::MySql, b'?') => {
                seen += 1;
                (seen - 1, start + 1)
            }
            (Dialect::Postgres, b'$') => {
                let digits = bytes[start + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits == 0 || (start > 0 && is_ident(bytes[start - 1])) {
                    continue;
                }
                let end = start + 1 + digits;
                let n: usize = sql[start + 1..end].parse().unwrap_or(usize::MAX);
                if n == 0 || n > values {
                    return Err(TranslateError::Unbound { index: n, values });
                }
                (n - 1, end)
            }
            (_, b':') if bytes.get(start + 1).is_some_and(|b| is_ident(*b)) => {
                let name_end = start
                    + 1
                    + bytes[start + 1..]
                        .iter()
                        .take_while(|b| is_ident(**b))
                        .count();
                return Err(TranslateError::StrayColon {
                    name: sql[start + 1..name_end].to_owned(),
                });
            }
            _ => continue,
        };
        if index >= values {
            return Err(TranslateError::Count {
                values,
                placeholders: index + 1,
            });
        }
        out.push_str(&sql[copied..start]);
        used[index] = true;
        // PostgreSQL reuses `$n`; the Data API reuses a name the same way.
        match cast(index) {
            Some(cast) => out.push_str(&format!("CAST(:{} AS {cast})", name(index))),
            None => {
                out.push(':');
                out.push_str(&name(index));
                if bytes.get(end).is_some_and(|b| is_ident(*b)) {
                    out.push(' ');
                }
            }
        }
        copied = end;
        lexer.skip_to(end);
    }
    out.push_str(&sql[copied..]);
    if let Some(unused) = used.iter().position(|u| !u) {
        return Err(match dialect {
            Dialect::MySql => TranslateError::Count {
                values,
                placeholders: seen,
            },
            Dialect::Postgres => TranslateError::Unbound {
                index: unused + 1,
                values,
            },
        });
    }
    Ok(Translated { sql: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_cast(_: usize) -> Option<String> {
        None
    }

    fn my(sql: &str, n: usize) -> Result<String, TranslateError> {
        translate(sql, Dialect::MySql, n, &no_cast).map(|t| t.sql)
    }

    fn pg(sql: &str, n: usize) -> Result<String, TranslateError> {
        translate(sql, Dialect::Postgres, n, &no_cast).map(|t| t.sql)
    }

    #[test]
    fn mysql_question_marks_become_names_outside_literals_and_comments() {
        let cases: &[(&str, usize, &str)] = &[
            ("SELECT ?, ?", 2, "SELECT :p1, :p2"),
            (
                "SELECT `a?` FROM t WHERE x = '?' AND y = ?",
                1,
                "SELECT `a?` FROM t WHERE x = '?' AND y = :p1",
            ),
            ("SELECT ? -- ?\n, \"?\"", 1, "SELECT :p1 -- ?\n, \"?\""),
            (r"SELECT 'it\'s ?', ?", 1, r"SELECT 'it\'s ?', :p1"),
            ("SELECT ?a", 1, "SELECT :p1 a"),
            ("SELECT @x := ?", 1, "SELECT @x := :p1"),
        ];
        for (sql, n, want) in cases {
            assert_eq!(my(sql, *n), Ok((*want).to_owned()), "{sql:?}");
        }
    }

    #[test]
    fn postgres_dollar_numbers_become_names_and_repeat() {
        let cases: &[(&str, usize, &str)] = &[
            ("SELECT $1, $2", 2, "SELECT :p1, :p2"),
            ("SELECT $2, $1, $2", 2, "SELECT :p2, :p1, :p2"),
            ("SELECT $1::jsonb", 1, "SELECT :p1::jsonb"),
            (
                "SELECT '$1', $$ $1 $$, $tag$ $1 $tag$, $1",
                1,
                "SELECT '$1', $$ $1 $$, $tag$ $1 $tag$, :p1",
            ),
            (
                "SELECT data ? 'k' FROM t WHERE id = $1",
                1,
                "SELECT data ? 'k' FROM t WHERE id = :p1",
            ),
            (
                "SELECT a$1 FROM t WHERE b = $1",
                1,
                "SELECT a$1 FROM t WHERE b = :p1",
            ),
        ];
        for (sql, n, want) in cases {
            assert_eq!(pg(sql, *n), Ok((*want).to_owned()), "{sql:?}");
        }
        // $10 is one placeholder, not $1 followed by 0; the other nine values are unused.
        assert_eq!(
            pg("SELECT $10", 10),
            Err(TranslateError::Unbound {
                index: 1,
                values: 10
            })
        );
    }

    #[test]
    fn casts_wrap_the_placeholders_of_their_value() {
        let cast = |i: usize| (i == 1).then(|| "timestamp".to_owned());
        assert_eq!(
            translate("SELECT $1, $2, '$2', $2", Dialect::Postgres, 2, &cast).map(|t| t.sql),
            Ok("SELECT :p1, CAST(:p2 AS timestamp), '$2', CAST(:p2 AS timestamp)".to_owned())
        );
        assert_eq!(
            translate("SELECT ?, ?", Dialect::MySql, 2, &cast).map(|t| t.sql),
            Ok("SELECT :p1, CAST(:p2 AS timestamp)".to_owned())
        );
    }

    #[test]
    fn mismatches_and_stray_colons_are_errors() {
        assert_eq!(
            my("SELECT ?", 2),
            Err(TranslateError::Count {
                values: 2,
                placeholders: 1
            })
        );
        assert_eq!(
            my("SELECT ?, ?", 1),
            Err(TranslateError::Count {
                values: 1,
                placeholders: 2
            })
        );
        assert_eq!(
            pg("SELECT $3", 2),
            Err(TranslateError::Unbound {
                index: 3,
                values: 2
            })
        );
        assert_eq!(
            pg("SELECT arr[1:2] FROM t", 0),
            Err(TranslateError::StrayColon { name: "2".into() })
        );
        assert!(pg("SELECT x::text, ':a' /* :b */", 0).is_ok());
    }

    /// A fragment a rewriter must leave byte for byte.
    fn opaque() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ?$:;]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
            "[a-z ?$:;]{0,8}".prop_map(|s| format!("\"{s}\"")),
            "[a-z ?$:;]{0,8}".prop_map(|s| format!("/*{s}*/")),
            "[a-z ?$:;]{0,8}".prop_map(|s| format!("--{s}\n")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn literals_and_comments_are_kept_and_placeholders_match_values(
            parts in proptest::collection::vec(
                prop_oneof![opaque(), Just(" ? ".to_owned()), " [a-z,()=]{0,6} ".prop_map(String::from)],
                0..12
            )
        ) {
            let sql: String = parts.concat();
            let n = parts.iter().filter(|p| *p == " ? ").count();
            let t = translate(&sql, Dialect::MySql, n, &no_cast).expect("translates");
            let mut rest = t.sql.as_str();
            for part in parts.iter().filter(|p| *p != " ? ") {
                let at = rest.find(part.as_str());
                prop_assert!(at.is_some(), "{:?} lost from {:?}", part, t.sql);
                rest = &rest[at.unwrap_or(0) + part.len()..];
            }
            prop_assert_eq!(t.sql.matches(":p").count(), n + parts.iter().filter(|p| *p != " ? ").map(|p| p.matches(":p").count()).sum::<usize>());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100_000))]

        /// Any text, any value count: an answer or an error, never a panic.
        #[test]
        fn never_panics(sql in "\\PC{0,48}", n in 0usize..4) {
            let _ = translate(&sql, Dialect::MySql, n, &no_cast);
            let _ = translate(&sql, Dialect::Postgres, n, &no_cast);
        }
    }
}
