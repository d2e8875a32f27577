//! Finds `:name` parameters in Data API SQL and rewrites them to the engine's placeholders.
//!
//! [`sql_lexer`] keeps string literals, quoted identifiers, comments, PostgreSQL dollar quotes and
//! `::` casts out of reach (the same lexer the SeaORM adapter uses in the other direction). It also
//! finds a second statement after a `;` (v2 refuses multi-statements).

pub use sql_lexer::Dialect;
use sql_lexer::{Kind, Lexer, has_second_statement, is_ident};

/// SQL with engine placeholders and the parameter names they stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The SQL to send to the engine.
    pub sql: String,
    /// One name per bind value, in bind order (MySQL: every occurrence; PostgreSQL: each distinct
    /// name once, `$n` reused for repeats).
    pub binds: Vec<String>,
    /// Whether a second statement follows a `;`.
    pub multiple_statements: bool,
    /// Whether the statement may leave state on its session ([`crate::session`]), so its connection
    /// must not serve another caller.
    pub changes_session: bool,
}

/// Rewrites `:name` to `?` (MySQL) or `$n` (PostgreSQL).
pub fn rewrite(sql: &str, dialect: Dialect) -> Rewritten {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut binds: Vec<String> = Vec::new();
    let mut copied = 0; // bytes of `sql` already copied to `out`
    let mut lexer = Lexer::new(sql, dialect);
    while let Some(token) = lexer.next() {
        if token.kind != Kind::Code || bytes[token.start] != b':' {
            continue;
        }
        let start = token.start;
        let mut end = start + 1;
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
        if end == start + 1 {
            continue;
        }
        let name = &sql[start + 1..end];
        out.push_str(&sql[copied..start]);
        match dialect {
            Dialect::MySql => {
                out.push('?');
                binds.push(name.to_owned());
            }
            Dialect::Postgres => {
                let index = match binds.iter().position(|b| b == name) {
                    Some(index) => index,
                    None => {
                        binds.push(name.to_owned());
                        binds.len() - 1
                    }
                };
                out.push('$');
                out.push_str(&(index + 1).to_string());
            }
        }
        copied = end;
        lexer.skip_to(end);
    }
    out.push_str(&sql[copied..]);
    Rewritten {
        sql: out,
        binds,
        multiple_statements: has_second_statement(sql, dialect),
        changes_session: crate::session::may_change_session(sql, dialect),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn my(sql: &str) -> (String, Vec<String>) {
        let r = rewrite(sql, Dialect::MySql);
        (r.sql, r.binds)
    }

    fn pg(sql: &str) -> (String, Vec<String>) {
        let r = rewrite(sql, Dialect::Postgres);
        (r.sql, r.binds)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn rewrites_names_outside_literals_comments_and_casts() {
        /// sql, MySQL sql, MySQL binds, PostgreSQL sql, PostgreSQL binds.
        type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a str, &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            // sql, mysql sql, mysql binds, pg sql, pg binds
            (
                "SELECT :a, :b",
                "SELECT ?, ?",
                &["a", "b"],
                "SELECT $1, $2",
                &["a", "b"],
            ),
            (
                "SELECT :a, :a",
                "SELECT ?, ?",
                &["a", "a"],
                "SELECT $1, $1",
                &["a"],
            ),
            (
                "SELECT :1, :0",
                "SELECT ?, ?",
                &["1", "0"],
                "SELECT $1, $2",
                &["1", "0"],
            ),
            ("SELECT ':a'", "SELECT ':a'", &[], "SELECT ':a'", &[]),
            (
                "SELECT 'it''s :a'",
                "SELECT 'it''s :a'",
                &[],
                "SELECT 'it''s :a'",
                &[],
            ),
            ("SELECT \":a\"", "SELECT \":a\"", &[], "SELECT \":a\"", &[]),
            ("SELECT `:a`", "SELECT `:a`", &[], "SELECT `$1`", &["a"]),
            (
                "SELECT 1 -- :a\n, :b",
                "SELECT 1 -- :a\n, ?",
                &["b"],
                "SELECT 1 -- :a\n, $1",
                &["b"],
            ),
            (
                "SELECT /* :a */ :b",
                "SELECT /* :a */ ?",
                &["b"],
                "SELECT /* :a */ $1",
                &["b"],
            ),
            (
                "SELECT :p::jsonb",
                "SELECT ?::jsonb",
                &["p"],
                "SELECT $1::jsonb",
                &["p"],
            ),
            (
                "SELECT x::text",
                "SELECT x::text",
                &[],
                "SELECT x::text",
                &[],
            ),
            (
                "SELECT $$ :a $$, :b",
                "SELECT $$ ? $$, ?",
                &["a", "b"],
                "SELECT $$ :a $$, $1",
                &["b"],
            ),
            (
                "SELECT $t$ :a $t$ || :b",
                "SELECT $t$ ? $t$ || ?",
                &["a", "b"],
                "SELECT $t$ :a $t$ || $1",
                &["b"],
            ),
        ];
        for (sql, my_sql, my_binds, pg_sql, pg_binds) in cases {
            assert_eq!(
                my(sql),
                ((*my_sql).to_owned(), names(my_binds)),
                "mysql {sql:?}"
            );
            assert_eq!(
                pg(sql),
                ((*pg_sql).to_owned(), names(pg_binds)),
                "pg {sql:?}"
            );
        }
    }

    #[test]
    fn dialect_specific_escapes() {
        // MySQL: backslash escapes the quote, `#` starts a comment.
        assert_eq!(
            my(r"SELECT 'a\' :x', :y # :z"),
            (r"SELECT 'a\' :x', ? # :z".into(), names(&["y"]))
        );
        // PostgreSQL: backslash is literal in standard strings, escapes in E'…'.
        assert_eq!(
            pg(r"SELECT 'a\', :y"),
            (r"SELECT 'a\', $1".into(), names(&["y"]))
        );
        assert_eq!(
            pg(r"SELECT E'a\' :x', :y"),
            (r"SELECT E'a\' :x', $1".into(), names(&["y"]))
        );
        // PostgreSQL block comments nest.
        assert_eq!(
            pg("/* a /* :x */ :y */ :z"),
            ("/* a /* :x */ :y */ $1".into(), names(&["z"]))
        );
        // `$1` is not a dollar quote.
        assert_eq!(pg("SELECT $1, :a"), ("SELECT $1, $1".into(), names(&["a"])));
    }

    #[test]
    fn flags_a_second_statement() {
        // The cases live in sql-lexer; this checks the wiring.
        assert!(rewrite("SELECT 1; SELECT 2", Dialect::Postgres).multiple_statements);
        assert!(!rewrite("SELECT ';'; -- done", Dialect::MySql).multiple_statements);
    }

    /// Text with no `:` outside literals is left byte for byte.
    fn literal() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z :;$]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
            "[a-z :;]{0,8}".prop_map(|s| format!("\"{s}\"")),
            "[a-z :;]{0,8}".prop_map(|s| format!("/*{s}*/")),
            "[a-z :;]{0,8}".prop_map(|s| format!("--{s}\n")),
            "[a-z :;]{0,8}".prop_map(|s| format!("$q${s}$q$")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn literals_and_comments_are_never_changed_and_binds_match_placeholders(
            parts in proptest::collection::vec(
                prop_oneof![literal(), "[a-z]{1,5}".prop_map(|n| format!(" :{n} ")), " [a-z,()]{0,6} ".prop_map(String::from)],
                0..12
            )
        ) {
            let sql: String = parts.concat();
            let r = rewrite(&sql, Dialect::Postgres);
            for part in parts.iter().filter(|p| !p.starts_with(" :") ) {
                if !part.trim().is_empty() {
                    prop_assert!(r.sql.contains(part.trim()), "{part:?} lost from {:?}", r.sql);
                }
            }
            let placeholders = parts.iter().filter(|p| p.starts_with(" :")).count();
            let mut distinct: Vec<&str> = parts.iter().filter(|p| p.starts_with(" :")).map(|p| p.trim()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            prop_assert_eq!(r.binds.len(), distinct.len());
            let numbered = r.sql.as_bytes().windows(2).filter(|w| w[0] == b'$' && w[1].is_ascii_digit()).count();
            prop_assert_eq!(numbered, placeholders);
            // Dollar quotes are PostgreSQL-only: on MySQL their content is SQL.
            if !sql.contains("$q$") {
                let mysql = rewrite(&sql, Dialect::MySql);
                prop_assert_eq!(mysql.binds.len(), placeholders);
            }
        }

        #[test]
        fn never_panics(sql in "\\PC{0,64}") {
            let _ = rewrite(&sql, Dialect::MySql);
            let _ = rewrite(&sql, Dialect::Postgres);
        }

        #[test]
        fn sql_without_colons_is_unchanged(sql in "[^:]{0,64}") {
            prop_assert_eq!(rewrite(&sql, Dialect::Postgres).sql, sql.clone());
            prop_assert_eq!(rewrite(&sql, Dialect::MySql).sql, sql);
        }
    }
}
