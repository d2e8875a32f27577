//! The API embeds `migration` only for its runner and SQL ledger, so the migration command line and
//! the DynamoDB ledger must not reach its build: `cargo tree -p api -e normal` (features resolved for
//! this package alone, as `cargo build -p api` sees them) lists no `aws-sdk-dynamodb` or `clap`, and
//! `migration` brings none of its binary-only dependencies (`tracing-subscriber` is the API's own,
//! for its logging, so only `migration`'s edges are checked for it).
//!
//! The Lambda build (`--no-default-features`, what `infra/` builds) must also leave out SeaORM's native
//! drivers: `cargo tree -p api --no-default-features -e normal` lists no `sqlx-mysql`,
//! `sqlx-postgres`, `sqlx-sqlite` or `libsqlite3-sys`, while the default build (`native`) has them.

use std::process::Command;

use anyhow::{Context, Result, ensure};

/// `cargo tree -p api -e normal --prefix depth`: each line is `<depth><name> v<version> …`.
fn api_tree() -> Result<String> {
    api_tree_with(&[])
}

/// [`api_tree`] with more arguments for `cargo tree` (feature selection).
fn api_tree_with(extra: &[&str]) -> Result<String> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "-p",
            "api",
            "--prefix",
            "depth",
        ])
        .args(["--manifest-path", manifest])
        .args(extra)
        .output()
        .context("running cargo tree")?;
    ensure!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout)?;
    // The tree is really this package's (a failure to resolve must not pass as "nothing found").
    ensure!(tree.starts_with("0api v"), "{tree}");
    Ok(tree)
}

/// The depth and crate name of a tree line.
fn parse(line: &str) -> (usize, &str) {
    let name_at = line
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(line.len());
    let depth = line[..name_at].parse().unwrap_or(usize::MAX);
    let name = line[name_at..].split(' ').next().unwrap_or_default();
    (depth, name)
}

#[test]
fn no_dynamodb_sdk_or_clap_in_the_tree() -> Result<()> {
    let tree = api_tree()?;
    ensure!(tree.lines().any(|l| parse(l) == (1, "migration")), "{tree}");
    let found: Vec<&str> = tree
        .lines()
        .filter(|line| ["aws-sdk-dynamodb", "clap"].contains(&parse(line).1))
        .collect();
    ensure!(found.is_empty(), "unwanted crates in the tree: {found:?}");
    Ok(())
}

#[test]
fn migration_brings_none_of_its_binary_only_dependencies() -> Result<()> {
    let tree = api_tree()?;
    // `migration`'s direct dependencies: the depth-2 lines under the depth-1 `migration` line.
    let mut lines = tree.lines().map(parse);
    lines
        .find(|&entry| entry == (1, "migration"))
        .context("`migration` is not a direct dependency in the tree")?;
    let direct: Vec<&str> = lines
        .take_while(|&(depth, _)| depth > 1)
        .filter(|&(depth, _)| depth == 2)
        .map(|(_, name)| name)
        .collect();
    ensure!(direct.contains(&"sea-orm-migration"), "{direct:?}");
    let unwanted: Vec<&str> = direct
        .iter()
        .copied()
        .filter(|dep| {
            [
                "aws-config",
                "aws-sdk-dynamodb",
                "clap",
                "tracing-subscriber",
            ]
            .contains(dep)
        })
        .collect();
    ensure!(
        unwanted.is_empty(),
        "`migration` brings {unwanted:?} into the API"
    );
    Ok(())
}

/// SeaORM's native drivers and the bundled SQLite library, in name order.
const NATIVE_DRIVERS: [&str; 4] = [
    "libsqlite3-sys",
    "sqlx-mysql",
    "sqlx-postgres",
    "sqlx-sqlite",
];

/// The native drivers found in a tree, each once.
fn native_drivers(tree: &str) -> Vec<&str> {
    let mut found: Vec<&str> = tree
        .lines()
        .map(|line| parse(line).1)
        .filter(|name| NATIVE_DRIVERS.contains(name))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[test]
fn the_lambda_build_has_no_native_database_driver() -> Result<()> {
    let tree = api_tree_with(&["--no-default-features"])?;
    // Still the API with SeaORM and the Data API adapter.
    for name in ["sea-orm", "data-api", "migration"] {
        ensure!(
            tree.lines().any(|l| parse(l) == (1, name)),
            "{name}: {tree}"
        );
    }
    let found = native_drivers(&tree);
    ensure!(
        found.is_empty(),
        "native drivers in the Lambda build (--no-default-features): {found:?}"
    );
    Ok(())
}

#[test]
fn the_default_build_has_every_native_driver() -> Result<()> {
    // The local service (`native`): the embedded SQLite and `DATABASE_URL` need all of them; this
    // also shows that the test above would see a driver in the tree.
    let tree = api_tree()?;
    ensure!(
        native_drivers(&tree) == NATIVE_DRIVERS,
        "{:?}",
        native_drivers(&tree)
    );
    Ok(())
}
