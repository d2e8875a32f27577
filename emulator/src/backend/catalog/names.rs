//! Which tables and column aliases a MySQL statement names, read with [`sql_lexer`] so literals and
//! comments are skipped: the keys of the `information_schema` lookups.

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
pub(super) fn from_tables(sql: &str) -> Vec<String> {
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

/// `(alias, column)` for each `column AS alias` in `sql` (names unquoted; a qualified `t.col` gives
/// `col`), found with [`sql_lexer`] so literals and comments are skipped. SeaORM aliases every column
/// of a related find (`events.payload AS A_payload`).
pub(super) fn alias_sources(sql: &str) -> Vec<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::{alias_sources, from_tables};

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
}
