//! The adapter opens no socket, so none of SeaORM's native drivers may reach a user's build:
//! `cargo tree -p data-api -e normal` must list no `sqlx-mysql`, `sqlx-postgres`, `sqlx-sqlite` or
//! `libsqlite3-sys` (features resolved for this package alone, as a dependent project sees them).

use std::process::Command;

use anyhow::{Context, Result, ensure};

#[test]
fn no_native_database_driver_is_a_normal_dependency() -> Result<()> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "-p",
            "data-api",
            "--prefix",
            "none",
        ])
        .args(["--manifest-path", manifest])
        .output()
        .context("running cargo tree")?;
    ensure!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout)?;
    // The tree is really this package's (a failure to resolve must not pass as "nothing found").
    ensure!(tree.starts_with("data-api v"), "{tree}");
    ensure!(tree.lines().any(|l| l.starts_with("sea-orm v")), "{tree}");
    let drivers: Vec<&str> = tree
        .lines()
        .filter(|line| {
            [
                "sqlx-mysql ",
                "sqlx-postgres ",
                "sqlx-sqlite ",
                "libsqlite3-sys ",
            ]
            .iter()
            .any(|name| line.starts_with(name))
        })
        .collect();
    ensure!(
        drivers.is_empty(),
        "native drivers in the tree: {drivers:?}"
    );
    Ok(())
}
