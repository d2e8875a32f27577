//! The `mysql` and `postgres` features each build on their own: the library with only one engine
//! compiles and passes clippy with `-D warnings` (no dead code left behind by the other engine), and
//! with neither it stops at a `compile_error!` that says which features to enable.
//!
//! Only the library is built (`--lib`): with the dev-dependencies, feature unification would turn both
//! engines back on (`test-support` depends on data-api with its default features).
//!
//! Cargo runs in a target directory of its own under `CARGO_TARGET_TMPDIR` (a nested cargo must not
//! wait on the lock of the build running this test); its first run checks data-api's dependencies.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};

/// `cargo <subcommand> -p data-api --lib --no-default-features --features <features> <args…>`.
fn cargo(subcommand: &str, features: &str, args: &[&str]) -> Result<Output> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("features");
    let mut command = Command::new(env!("CARGO"));
    command
        .arg(subcommand)
        .args(["--offline", "--quiet", "-p", "data-api", "--lib"])
        .args(["--manifest-path", manifest, "--no-default-features"])
        .env("CARGO_TARGET_DIR", &target);
    if !features.is_empty() {
        command.args(["--features", features]);
    }
    command
        .args(args)
        .output()
        .with_context(|| format!("running cargo {subcommand} with features {features:?}"))
}

#[test]
fn each_engine_builds_alone_without_warnings() -> Result<()> {
    for features in ["mysql", "postgres"] {
        let output = cargo("clippy", features, &["--", "-D", "warnings"])?;
        ensure!(
            output.status.success(),
            "cargo clippy --no-default-features --features {features} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[test]
fn a_build_without_an_engine_says_which_features_to_enable() -> Result<()> {
    let output = cargo("check", "", &[])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        !output.status.success(),
        "built without an engine:\n{stderr}"
    );
    ensure!(
        stderr.contains(
            "data-api needs at least one engine: enable the `mysql` or the `postgres` feature"
        ),
        "{stderr}"
    );
    Ok(())
}
