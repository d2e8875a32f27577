//! Whether a statement may leave state on its session (connection) that a later caller would see.
//!
//! A pooled connection serves many callers, and AWS's may keep a `SET` for the next one; the emulator
//! is stricter: a connection whose statement may have changed its session is closed after the call
//! (after the transaction, in one), so the next caller starts on a fresh session and a client that
//! relies on session state fails locally rather than on AWS. The test is lexical, over
//! [`sql_lexer`] tokens (literals and comments skipped): only statements that begin with a keyword
//! known to leave no session state, and mention no temporary table, session function or MySQL user
//! variable, keep their connection. A user-defined function that sets session state inside a
//! `SELECT` is not seen.

use sql_lexer::{Dialect, Kind, Lexer, is_ident};

/// First keywords of statements that leave no session state behind.
const STATELESS: &[&str] = &[
    "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "VALUES", "TABLE", "EXPLAIN",
    "SHOW", "DESCRIBE", "DESC", "CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT",
    "REVOKE", "RENAME", "ANALYZE", "OPTIMIZE", "CHECKSUM", "REFRESH", "REINDEX", "CLUSTER",
    "VACUUM", "MERGE",
];

/// Words that, anywhere in code, mean session state: temporary tables (`CREATE TEMP TABLE`,
/// `SELECT … INTO TEMP`), settings and locks held by the session.
const SESSION_WORDS: &[&str] = &[
    "TEMP",
    "TEMPORARY",
    "SET_CONFIG",
    "PG_ADVISORY_LOCK",
    "PG_ADVISORY_LOCK_SHARED",
    "PG_TRY_ADVISORY_LOCK",
    "PG_TRY_ADVISORY_LOCK_SHARED",
    "GET_LOCK",
    "SETVAL",
];

/// Whether `sql` may change its session's state (settings, variables, temporary tables, prepared
/// statements, locks, an open transaction, the current database).
pub fn may_change_session(sql: &str, dialect: Dialect) -> bool {
    let bytes = sql.as_bytes();
    let mut lexer = Lexer::new(sql, dialect);
    let mut first = true;
    while let Some(token) = lexer.next() {
        if token.kind != Kind::Code {
            continue;
        }
        let b = bytes[token.start];
        if dialect == Dialect::MySql && b == b'@' {
            // `@name` is a user variable (`@@name`, a system variable, is only read outside SET).
            if bytes.get(token.start + 1) != Some(&b'@') {
                return true;
            }
            lexer.skip_to(token.start + 2);
            continue;
        }
        if !is_ident(b) {
            first = false;
            continue;
        }
        let end = token.start
            + bytes[token.start..]
                .iter()
                .take_while(|b| is_ident(**b))
                .count();
        let word = &sql[token.start..end];
        lexer.skip_to(end);
        if first && !STATELESS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            return true;
        }
        first = false;
        if SESSION_WORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statements() {
        // (sql, MySQL, PostgreSQL)
        let cases = [
            ("SELECT * FROM t WHERE a = 1", false, false),
            ("  insert into t values (1)", false, false),
            ("UPDATE t SET a = 1", false, false),
            ("WITH x AS (SELECT 1) SELECT * FROM x", false, false),
            ("CREATE TABLE t (id INT)", false, false),
            ("SELECT 'SET x = 1', '@v' -- TEMP\n", false, false),
            ("/* SET */ DELETE FROM t", false, false),
            ("SELECT a @> b FROM t", true, false),
            ("SET time_zone = '+05:00'", true, true),
            ("set @x = 1", true, true),
            ("SELECT @x := 1", true, false),
            ("SELECT 1 INTO @x", true, false),
            ("SELECT @@sql_mode", false, false),
            ("RESET ALL", true, true),
            ("USE other", true, true),
            ("BEGIN", true, true),
            ("START TRANSACTION", true, true),
            ("PREPARE s FROM 'SELECT 1'", true, true),
            ("DEALLOCATE s", true, true),
            ("CREATE TEMPORARY TABLE t (id INT)", true, true),
            ("CREATE TEMP TABLE t (id INT)", true, true),
            ("SELECT * INTO TEMP t FROM u", true, true),
            ("SELECT set_config('a.b', 'c', false)", true, true),
            ("SELECT pg_advisory_lock(1)", true, true),
            ("SELECT GET_LOCK('a', 0)", true, true),
            ("LISTEN c", true, true),
            ("CALL p()", true, true),
            ("DO $$ BEGIN END $$", true, true),
        ];
        for (sql, mysql, postgres) in cases {
            assert_eq!(
                may_change_session(sql, Dialect::MySql),
                mysql,
                "MySQL: {sql}"
            );
            assert_eq!(
                may_change_session(sql, Dialect::Postgres),
                postgres,
                "PostgreSQL: {sql}"
            );
        }
    }
}
