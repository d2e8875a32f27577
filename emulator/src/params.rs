//! Finds `:name` parameters in Data API SQL and rewrites them to the engine's placeholders.
//!
//! The lexer never looks inside string literals (`'…'` with `''`, plus backslash escapes on MySQL and
//! in PostgreSQL `E'…'`), quoted identifiers (`"…"`, MySQL backticks), comments (`-- …`, MySQL `# …`,
//! `/* … */`, nested on PostgreSQL), PostgreSQL dollar quotes (`$$…$$`, `$tag$…$tag$`) or `::` casts.
//! An unterminated literal or comment runs to the end of the text; the engine reports the syntax error.
//!
//! It also finds a second statement after a `;` (v2 refuses multi-statements).

/// The SQL dialect being lexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL / MariaDB: `?` placeholders, backticks, `#` comments, backslash escapes.
    MySql,
    /// PostgreSQL: `$n` placeholders, dollar quotes, nested block comments.
    Postgres,
}

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
}

/// Rewrites `:name` to `?` (MySQL) or `$n` (PostgreSQL).
pub fn rewrite(sql: &str, dialect: Dialect) -> Rewritten {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut binds: Vec<String> = Vec::new();
    let mut multiple_statements = false;
    let mut seen_semicolon = false;
    let mut i = 0;
    let mut copied = 0; // bytes of `sql` already copied to `out`
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let mut kind = Token::Other;
        i = match c {
            b'\'' => {
                let backslash = dialect == Dialect::MySql
                    || (start > 0
                        && matches!(bytes[start - 1], b'E' | b'e')
                        && (start < 2 || !is_ident(bytes[start - 2])));
                skip_quoted(bytes, start, b'\'', backslash)
            }
            b'"' => skip_quoted(bytes, start, b'"', dialect == Dialect::MySql),
            b'`' if dialect == Dialect::MySql => skip_quoted(bytes, start, b'`', false),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                kind = Token::Comment;
                skip_line(bytes, start)
            }
            b'#' if dialect == Dialect::MySql => {
                kind = Token::Comment;
                skip_line(bytes, start)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                kind = Token::Comment;
                skip_block_comment(bytes, start, dialect == Dialect::Postgres)
            }
            b'$' if dialect == Dialect::Postgres => skip_dollar_quote(bytes, start),
            b':' if bytes.get(i + 1) == Some(&b':') => i + 2,
            b':' if bytes.get(i + 1).is_some_and(|b| is_ident(*b)) => {
                let mut end = i + 1;
                while end < bytes.len() && is_ident(bytes[end]) {
                    end += 1;
                }
                let name = &sql[i + 1..end];
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
                end
            }
            b';' => {
                kind = Token::Semicolon;
                i + 1
            }
            c if c.is_ascii_whitespace() => {
                kind = Token::Space;
                i + 1
            }
            _ => i + 1,
        };
        match kind {
            Token::Other if seen_semicolon => multiple_statements = true,
            Token::Semicolon => seen_semicolon = true,
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    Rewritten {
        sql: out,
        binds,
        multiple_statements,
    }
}

/// What a lexed token means for statement counting.
#[derive(PartialEq, Eq)]
enum Token {
    Space,
    Comment,
    Semicolon,
    Other,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Index after a literal opened at `start` by `quote`; doubled quotes escape, and backslashes when
/// `backslash`.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash && b == b'\\' {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn skip_line(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |n| start + n + 1)
}

fn skip_block_comment(bytes: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' && (nested || depth == 0) {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Index after a dollar-quoted string at `start`, or `start + 1` when `$` does not open one
/// (`$1`, or `$` inside an identifier such as `a$b`).
fn skip_dollar_quote(bytes: &[u8], start: usize) -> usize {
    if start > 0 && is_ident(bytes[start - 1]) {
        return start + 1;
    }
    let mut end = start + 1;
    while end < bytes.len() && is_ident(bytes[end]) {
        end += 1;
    }
    if end >= bytes.len()
        || bytes[end] != b'$'
        || bytes.get(start + 1).is_some_and(u8::is_ascii_digit)
    {
        return start + 1;
    }
    let tag = &bytes[start..=end];
    let body = end + 1;
    bytes[body..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(bytes.len(), |n| body + n + tag.len())
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
    fn detects_a_second_statement() {
        for (sql, multiple) in [
            ("SELECT 1", false),
            ("SELECT 1;", false),
            ("SELECT 1;  \n", false),
            ("SELECT 1; -- done", false),
            ("SELECT ';'", false),
            ("SELECT 1; SELECT 2", true),
            ("SELECT 1;'x'", true),
            ("SELECT 1;;", false),
        ] {
            assert_eq!(
                rewrite(sql, Dialect::Postgres).multiple_statements,
                multiple,
                "{sql:?}"
            );
        }
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
