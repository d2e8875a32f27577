//! The real `sea-orm-cli` (installed by `scripts/test`, the version of the workspace's SeaORM)
//! drives this workspace as a user's shell would.
//!
//! - `sea-orm-cli migrate status|up|up -n 1|down|fresh|refresh|reset` against SQLite, MariaDB and
//!   PostgreSQL, in a scratch copy of the workspace: each command's exit code, then the database
//!   (`users` and its rows) and the ledger (`seaql_migrations`). `status` with pending migrations
//!   succeeds, as stock sea-orm-migration's does, while `status --check` exits 3. sea-orm-cli runs
//!   `cargo run --manifest-path migration/Cargo.toml -- <sub> [-n N]`, so a change to the binary's
//!   argv contract fails here.
//! - `sea-orm-cli migrate generate NAME` edits the copy's `migration/src/lib.rs`; the crate still
//!   builds and `status` lists the new migration, so a `lib.rs` layout it cannot edit fails here.
//! - `sea-orm-cli generate entity` on a freshly migrated MariaDB and PostgreSQL writes what `entity/`
//!   holds (compared as `migrations_entity` does).
//!
//! The copy lives in `target/tmp/sea-orm-cli/workspace` with its own target directory beside it (a
//! build there must not replace `target/debug/migration`, which other tests run); files are copied
//! only when their content changed, so a warm run rebuilds nothing but what `generate` touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail, ensure};
use integration_tests::{Backend, TestDatabase};
use migration::{MemoryLedger, Migrator, Runner};
use sea_orm::{ConnectionTrait, Statement};

const CREATE: &str = "m20261126_000001_create_users_table";
const SEED: &str = "m20261126_000002_seed_users";

crate::on_data_api_engines!(generate_entity_writes_the_entity_crate);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_owned()
}

/// The SeaORM version in `Cargo.lock`: the sea-orm-cli version that must be installed.
fn seaorm_version() -> Result<String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"sea-orm\"" {
            let version = lines.next().unwrap_or_default();
            if let Some(v) = version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(v.to_owned());
            }
        }
    }
    bail!("no sea-orm package in Cargo.lock")
}

/// `sea-orm-cli`, checked to be the version of the workspace's SeaORM.
fn sea_orm_cli(dir: &Path) -> Result<Command> {
    let want = seaorm_version()?;
    let version = Command::new("sea-orm-cli")
        .arg("--version")
        .output()
        .context(
            "running sea-orm-cli: scripts/test installs it (cargo install sea-orm-cli --locked \
             --version <the SeaORM version in Cargo.lock>)",
        )?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    ensure!(
        version == format!("sea-orm-cli {want}"),
        "installed: {version:?}; the workspace's SeaORM is {want} (scripts/test installs it)"
    );
    let mut command = Command::new("sea-orm-cli");
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_SCHEMA")
        .env_remove("DYNAMODB_TABLE_NAME")
        .env_remove("CLUSTER_ARN")
        .env_remove("SECRET_ARN")
        .env_remove("MIGRATION_CONFIRM_DESTRUCTIVE")
        .env("RUST_LOG", "warn");
    Ok(command)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Top-level entries of the workspace the copy needs: manifests, lockfile, toolchain, and every
/// member listed in `Cargo.toml` (cargo loads them all).
fn copied() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml"))?;
    let members = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("members = ["))
        .context("a one-line `members = [...]` in Cargo.toml")?;
    let mut entries: Vec<String> = ["Cargo.toml", "Cargo.lock", "rust-toolchain.toml"]
        .map(str::to_owned)
        .to_vec();
    entries.extend(
        members
            .trim_end_matches(']')
            .split(',')
            .map(|m| m.trim().trim_matches('"').to_owned())
            .filter(|m| !m.is_empty()),
    );
    Ok(entries)
}
const SKIPPED: &[&str] = &["target", "node_modules", ".git", ".venv"];

/// Makes `to` hold exactly `from`'s files, writing only those whose content differs (so cargo's
/// mtime-based fingerprints stay fresh) and removing the rest.
fn sync(from: &Path, to: &Path) -> Result<()> {
    if from.is_file() {
        let content = std::fs::read(from)?;
        if std::fs::read(to).ok().as_deref() != Some(content.as_slice()) {
            std::fs::write(to, content).with_context(|| format!("writing {}", to.display()))?;
        }
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    let mut wanted = Vec::new();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        sync(&entry.path(), &to.join(&name))?;
        wanted.push(name);
    }
    for entry in std::fs::read_dir(to)? {
        let entry = entry?;
        if !wanted.contains(&entry.file_name()) {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// The scratch copy of the workspace, in step with the source tree.
fn scratch_workspace() -> Result<PathBuf> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sea-orm-cli");
    let copy = base.join("workspace");
    std::fs::create_dir_all(&copy)?;
    let root = workspace_root();
    for entry in copied()? {
        sync(&root.join(&entry), &copy.join(&entry))?;
    }
    Ok(copy)
}

/// Where the copy is built: beside it, never the suite's own target directory.
fn scratch_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("sea-orm-cli/target")
}

/// `sea-orm-cli migrate <args>` in the copy against `url`.
fn migrate(workspace: &Path, url: &str, args: &[&str], confirm: bool) -> Result<Output> {
    let mut command = sea_orm_cli(workspace)?;
    command
        .arg("migrate")
        .args(args)
        .env("DATABASE_URL", url)
        .env("CARGO_TARGET_DIR", scratch_target());
    if confirm {
        command.env("MIGRATION_CONFIRM_DESTRUCTIVE", "true");
    }
    Ok(command.output()?)
}

/// The command sea-orm-cli runs, with a flag it cannot pass (`status --check`).
fn migration_binary(workspace: &Path, url: &str, args: &[&str]) -> Result<Output> {
    Ok(Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args([
            "run",
            "--quiet",
            "--manifest-path",
            "migration/Cargo.toml",
            "--",
        ])
        .args(args)
        .env("DATABASE_URL", url)
        .env("CARGO_TARGET_DIR", scratch_target())
        .env("RUST_LOG", "warn")
        .output()?)
}

fn succeeded(output: &Output, what: &str) -> Result<String> {
    ensure!(output.status.success(), "{what}: {}", describe(output));
    Ok(text(&output.stdout))
}

/// `(ledger versions, users rows)`; `None` for a table that does not exist.
async fn state(url: &str) -> Result<(Option<Vec<String>>, Option<i64>)> {
    let db = migration::connect(url, None).await?;
    let backend = db.get_database_backend();
    let versions = db
        .query_all(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .ok()
        .map(|rows| {
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let users = db
        .query_one(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
        .ok()
        .flatten()
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?;
    db.close().await.ok();
    Ok((versions, users))
}

fn names(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| (*s).to_owned()).collect())
}

/// Every forwarded `migrate` subcommand on one backend.
async fn migrate_commands(workspace: &Path, backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let url = database.url.as_str();
    let run = |args: &[&str], confirm: bool| migrate(workspace, url, args, confirm);
    let context = |what: &str| format!("{backend:?}: sea-orm-cli migrate {what}");

    // Pending migrations: `status` succeeds (as stock), `status --check` exits 3.
    let out = succeeded(&run(&["status"], false)?, &context("status"))?;
    for name in [CREATE, SEED] {
        ensure!(
            out.lines()
                .any(|l| l.starts_with(name) && l.contains("pending")),
            "{}: {out}",
            context("status")
        );
    }
    let check = migration_binary(workspace, url, &["status", "--check"])?;
    ensure!(
        check.status.code() == Some(3),
        "{backend:?}: status --check with pending migrations: {}",
        describe(&check)
    );
    ensure!(
        state(url).await? == (None, None),
        "{}: status wrote",
        context("status")
    );

    let out = succeeded(&run(&["up", "-n", "1"], false)?, &context("up -n 1"))?;
    ensure!(out.contains(&format!("Applied {CREATE}\n")), "{out}");
    ensure!(state(url).await? == (names(&[CREATE]), Some(0)));

    let out = succeeded(&run(&["up"], false)?, &context("up"))?;
    ensure!(out.contains(&format!("Applied {SEED}\n")), "{out}");
    ensure!(state(url).await? == (names(&[CREATE, SEED]), Some(1)));
    let check = migration_binary(workspace, url, &["status", "--check"])?;
    ensure!(check.status.code() == Some(0), "{}", describe(&check));

    // sea-orm-cli always passes -n to down (default 1).
    let out = succeeded(&run(&["down"], false)?, &context("down"))?;
    ensure!(out.contains(&format!("Reverted {SEED}\n")), "{out}");
    ensure!(state(url).await? == (names(&[CREATE]), Some(0)));

    // Destructive commands need MIGRATION_CONFIRM_DESTRUCTIVE (sea-orm-cli cannot pass --yes).
    let refused = run(&["fresh"], false)?;
    ensure!(
        !refused.status.success()
            && text(&refused.stderr).contains("MIGRATION_CONFIRM_DESTRUCTIVE"),
        "{}: {}",
        context("fresh"),
        describe(&refused)
    );
    ensure!(state(url).await? == (names(&[CREATE]), Some(0)));

    let out = succeeded(&run(&["fresh"], true)?, &context("fresh"))?;
    ensure!(out.contains(&format!("Applied {SEED}\n")), "{out}");
    ensure!(state(url).await? == (names(&[CREATE, SEED]), Some(1)));

    let out = succeeded(&run(&["refresh"], true)?, &context("refresh"))?;
    ensure!(
        out.contains(&format!(
            "Reverted {SEED}\nReverted {CREATE}\nApplied {CREATE}\nApplied {SEED}\n"
        )),
        "{out}"
    );
    ensure!(state(url).await? == (names(&[CREATE, SEED]), Some(1)));

    let out = succeeded(&run(&["reset"], true)?, &context("reset"))?;
    ensure!(out.contains("Ledger cleared"), "{out}");
    let (ledger, users) = state(url).await?;
    ensure!(
        ledger == Some(Vec::new()) && users.is_none(),
        "{}: ledger {ledger:?}, users {users:?}",
        context("reset")
    );
    let out = succeeded(&run(&["status"], false)?, &context("status"))?;
    ensure!(out.matches("pending").count() == 2, "{out}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sea_orm_cli_migrate_drives_the_migration_crate() -> Result<()> {
    let workspace = scratch_workspace()?;
    for backend in [Backend::Sqlite, Backend::MariaDb, Backend::Postgres] {
        migrate_commands(&workspace, backend).await?;
    }

    // `migrate generate` edits lib.rs; the crate still builds and lists the new migration.
    let generate = sea_orm_cli(&workspace)?
        .args(["migrate", "generate", "add_example"])
        .output()?;
    succeeded(&generate, "sea-orm-cli migrate generate add_example")?;
    let lib = std::fs::read_to_string(workspace.join("migration/src/lib.rs"))?;
    let new = std::fs::read_dir(workspace.join("migration/src"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with("_add_example.rs"))
        .context("sea-orm-cli wrote no migration file")?;
    let new = new.trim_end_matches(".rs");
    ensure!(
        lib.contains(&format!("mod {new};"))
            && lib.contains(&format!("Box::new({new}::Migration)")),
        "{lib}"
    );
    let database = TestDatabase::create(Backend::Sqlite).await?;
    let out = succeeded(
        &migrate(&workspace, &database.url, &["status"], false)?,
        "sea-orm-cli migrate status after generate",
    )?;
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("pending"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    ensure!(listed == [CREATE, SEED, new], "{out}");

    // Leave the copy as the source tree is.
    scratch_workspace()?;
    Ok(())
}

/// `sea-orm-cli generate entity` with the README's options on a freshly migrated database.
async fn generate_entity_writes_the_entity_crate(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    Runner::new::<Migrator>(db.clone(), MemoryLedger::new())
        .up(None)
        .await?;
    db.close().await.ok();
    let out = tempfile::tempdir()?;
    let output = sea_orm_cli(out.path())?
        .args(["generate", "entity", "-u", &database.url, "-o"])
        .arg(out.path())
        .args([
            "--with-serde",
            "both",
            "--model-extra-attributes",
            r#"serde(rename_all = "camelCase")"#,
        ])
        .output()?;
    succeeded(&output, "sea-orm-cli generate entity")?;
    let mut files: Vec<String> = std::fs::read_dir(out.path())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    files.sort();
    ensure!(files == ["mod.rs", "prelude.rs", "users.rs"], "{files:?}");
    let entity_src = workspace_root().join("entity/src");
    for file in ["prelude.rs", "users.rs"] {
        let generated = std::fs::read_to_string(out.path().join(file))?;
        let ours = std::fs::read_to_string(entity_src.join(file))?;
        ensure!(
            crate::migrations_entity::normalise(&generated)
                == crate::migrations_entity::normalise(&ours),
            "entity/src/{file} differs from sea-orm-cli generate entity on {backend:?}:\n\
             --- sea-orm-cli ---\n{generated}\n--- entity/src ---\n{ours}"
        );
    }
    Ok(())
}
