//! Splits MySQL and PostgreSQL SQL into code and the parts a placeholder rewriter must never touch:
//! string literals (`'…'` with `''`, plus backslash escapes on MySQL and in PostgreSQL `E'…'`), quoted
//! identifiers (`"…"`, MySQL backticks), comments (`-- …`, MySQL `# …`, `/* … */`, nested on
//! PostgreSQL), PostgreSQL dollar quotes (`$$…$$`, `$tag$…$tag$`) and `::` casts.
//!
//! Both sides of the Data API rewrite placeholders with it: the emulator turns `:name` into `?`/`$n`,
//! the SeaORM adapter turns `?`/`$n` into `:name`. An unterminated literal or comment runs to the end
//! of the text (the engine reports the syntax error); the lexer never fails and never panics.
//!
//! ```
//! use sql_lexer::{Dialect, Kind, Lexer};
//! let sql = "SELECT '?' -- ?\n, ?";
//! let outside: String = Lexer::new(sql, Dialect::MySql)
//!     .filter(|t| matches!(t.kind, Kind::Code | Kind::Space))
//!     .map(|t| &sql[t.start..t.end])
//!     .collect();
//! assert_eq!(outside, "SELECT  , ?");
//! ```

/// The SQL dialect being lexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL / MariaDB: backticks, `#` comments, backslash escapes in every string.
    MySql,
    /// PostgreSQL: dollar quotes, nested block comments, backslash escapes only in `E'…'`.
    Postgres,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One byte of SQL code (keywords, names, operators, placeholders).
    Code,
    /// ASCII whitespace.
    Space,
    /// A string literal, quoted identifier or dollar-quoted string, quotes included.
    Quoted,
    /// A comment, delimiters included.
    Comment,
    /// A `::` cast operator.
    Cast,
    /// A `;`.
    Semicolon,
}

/// A token: its kind and byte range in the SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Tokens of one SQL text, in order, covering every byte. Multi-byte UTF-8 characters in code come
/// as one `Code` token per byte; their ranges still start and end on character boundaries when taken
/// together, and a rewriter only ever cuts around ASCII bytes.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    bytes: &'a [u8],
    dialect: Dialect,
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `sql`.
    pub fn new(sql: &'a str, dialect: Dialect) -> Self {
        Self {
            bytes: sql.as_bytes(),
            dialect,
            pos: 0,
        }
    }

    /// Continues lexing at byte `pos` (after a rewriter consumed a placeholder's code bytes).
    pub fn skip_to(&mut self, pos: usize) {
        self.pos = pos.max(self.pos).min(self.bytes.len());
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let bytes = self.bytes;
        let start = self.pos;
        let c = *bytes.get(start)?;
        let next = bytes.get(start + 1).copied();
        let mysql = self.dialect == Dialect::MySql;
        let (kind, end) = match c {
            b'\'' => {
                let backslash = mysql
                    || (start > 0
                        && matches!(bytes[start - 1], b'E' | b'e')
                        && (start < 2 || !is_ident(bytes[start - 2])));
                (Kind::Quoted, skip_quoted(bytes, start, b'\'', backslash))
            }
            b'"' => (Kind::Quoted, skip_quoted(bytes, start, b'"', mysql)),
            b'`' if mysql => (Kind::Quoted, skip_quoted(bytes, start, b'`', false)),
            b'-' if next == Some(b'-') => (Kind::Comment, skip_line(bytes, start)),
            b'#' if mysql => (Kind::Comment, skip_line(bytes, start)),
            b'/' if next == Some(b'*') => (
                Kind::Comment,
                skip_block_comment(bytes, start, self.dialect == Dialect::Postgres),
            ),
            b'$' if !mysql => match skip_dollar_quote(bytes, start) {
                Some(end) => (Kind::Quoted, end),
                None => (Kind::Code, start + 1),
            },
            b':' if next == Some(b':') => (Kind::Cast, start + 2),
            b';' => (Kind::Semicolon, start + 1),
            c if c.is_ascii_whitespace() => (Kind::Space, start + 1),
            _ => (Kind::Code, start + 1),
        };
        self.pos = end;
        Some(Token { kind, start, end })
    }
}

/// Whether `b` can be part of an unquoted identifier (ASCII letters, digits, `_`).
pub fn is_ident(b: u8) -> bool {
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

/// Index after a dollar-quoted string at `start`, or `None` when `$` does not open one (`$1`, or `$`
/// inside an identifier such as `a$b`).
fn skip_dollar_quote(bytes: &[u8], start: usize) -> Option<usize> {
    if start > 0 && is_ident(bytes[start - 1]) {
        return None;
    }
    let mut end = start + 1;
    while end < bytes.len() && is_ident(bytes[end]) {
        end += 1;
    }
    if end >= bytes.len()
        || bytes[end] != b'$'
        || bytes.get(start + 1).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    let tag = &bytes[start..=end];
    let body = end + 1;
    Some(
        bytes[body..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map_or(bytes.len(), |n| body + n + tag.len()),
    )
}

/// Whether a second statement follows a `;` (anything but whitespace, comments and more `;`).
pub fn has_second_statement(sql: &str, dialect: Dialect) -> bool {
    let mut seen_semicolon = false;
    for token in Lexer::new(sql, dialect) {
        match token.kind {
            Kind::Semicolon => seen_semicolon = true,
            Kind::Space | Kind::Comment => {}
            Kind::Code | Kind::Quoted | Kind::Cast if seen_semicolon => return true,
            Kind::Code | Kind::Quoted | Kind::Cast => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The SQL with everything but code removed.
    fn code(sql: &str, dialect: Dialect) -> String {
        Lexer::new(sql, dialect)
            .filter(|t| t.kind == Kind::Code)
            .map(|t| &sql[t.start..t.end])
            .collect()
    }

    #[test]
    fn skips_literals_identifiers_comments_dollar_quotes_and_casts() {
        // (sql, MySQL code, PostgreSQL code)
        let cases = [
            ("a'?'b", "ab", "ab"),
            ("a'it''s'b", "ab", "ab"),
            (r"a'x\'y'b", "ab", "ay"),
            (r"a E'x\'y'b", "aEb", "aEb"),
            (r"aE'x\'y'b", "aEb", "aEy"),
            ("a\"?\"b", "ab", "ab"),
            ("a`?`b", "ab", "a`?`b"),
            ("a-- ?\nb", "ab", "ab"),
            ("a# ?\nb", "ab", "a#?b"),
            ("a/* ? */b", "ab", "ab"),
            ("a/* /* ? */ ? */b", "a?*/b", "ab"),
            ("a $$ ? $$b", "a$$?$$b", "ab"),
            ("a $t$ ? $t$b", "a$t$?$t$b", "ab"),
            ("a$$ ? $$b", "a$$?$$b", "a$$?"),
            ("a$1b", "a$1b", "a$1b"),
            ("x::text", "xtext", "xtext"),
            ("a'unterminated ?", "a", "a"),
        ];
        for (sql, mysql, postgres) in cases {
            assert_eq!(code(sql, Dialect::MySql), mysql, "mysql {sql:?}");
            assert_eq!(code(sql, Dialect::Postgres), postgres, "postgres {sql:?}");
        }
    }

    #[test]
    fn second_statements() {
        for (sql, second) in [
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
                has_second_statement(sql, Dialect::Postgres),
                second,
                "{sql:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn tokens_cover_every_byte_in_order(sql in "\\PC{0,64}") {
            for dialect in [Dialect::MySql, Dialect::Postgres] {
                let mut at = 0;
                for token in Lexer::new(&sql, dialect) {
                    prop_assert_eq!(token.start, at);
                    prop_assert!(token.end > token.start);
                    at = token.end;
                }
                prop_assert_eq!(at, sql.len());
            }
        }
    }
}
