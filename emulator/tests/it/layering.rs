//! The backend speaks only its own vocabulary: no file under `src/backend/` names the wire format
//! (`protocol`), the handlers, or HTTP (`axum`, `hyper`, `http`, `tower`). `protocol` turns the
//! backend's rows, columns and errors into wire shapes; this check keeps that boundary from eroding.

use std::path::{Path, PathBuf};

/// Module and crate names the backend must not use.
const FORBIDDEN: [&str; 6] = ["protocol", "handlers", "axum", "hyper", "http", "tower"];

/// Where `source` names a forbidden module or crate, as `(line, name)`. Comments are skipped, so
/// prose may still speak of the protocol; any use in code counts, whether in a `use`, a path or a
/// macro.
fn forbidden_names(source: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if let Some(name) = FORBIDDEN.iter().find(|name| **name == word) {
                found.push((index + 1, *name));
            }
        }
    }
    found
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("backend directory readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn backend_names_neither_the_wire_format_nor_http() {
    let backend = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/backend");
    let files = rust_files(&backend);
    assert!(
        files.iter().any(|f| f.ends_with("mod.rs")),
        "no backend sources found under {}",
        backend.display()
    );
    let mut offences = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("source readable");
        for (line, name) in forbidden_names(&source) {
            offences.push(format!("{}:{line} uses `{name}`", file.display()));
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn the_check_finds_imports_paths_and_grouped_uses_but_not_prose() {
    let cases: &[(&str, &[&str])] = &[
        ("use crate::protocol::Field;", &["protocol"]),
        (
            "use crate::{params, protocol::error::ApiError};",
            &["protocol"],
        ),
        ("fn f() -> crate::handlers::X {}", &["handlers"]),
        ("use axum::http::StatusCode;", &["axum", "http"]),
        ("let s = hyper::Body::empty();", &["hyper"]),
        (
            "/// Nothing here knows the wire protocol or HTTP handlers.",
            &[],
        ),
        ("let protocol_version = 10; // not the protocol module", &[]),
        ("use super::{Error, Value};", &[]),
    ];
    for (source, expected) in cases {
        let names: Vec<&str> = forbidden_names(source)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names, *expected, "{source}");
    }
}
