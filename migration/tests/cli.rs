//! The `migration` binary under sea-orm-cli's contract: `<sub> [-n N] [-v]`, `DATABASE_URL` from the
//! environment, report on stdout, non-zero exit on failure.

use std::process::{Command, Output};

fn migration(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_SCHEMA")
        .env("RUST_LOG", "info");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().expect("runs the migration binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const CREATE: &str = "m20261126_000001_create_users_table";
const SEED: &str = "m20261126_000002_seed_users";

#[test]
fn up_status_down_round_trip_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("cli.sqlite3").display()
    );
    let url = Some(url.as_str());

    // Plain `status` exits 0 with pending migrations, as stock sea-orm-migration's does
    // (sea-orm-cli reports any non-zero exit as a failure); `status --check` exits 3.
    let status = migration(&["status"], url);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let check = migration(&["status", "--check"], url);
    assert_eq!(check.status.code(), Some(3), "{}", stderr(&check));
    assert_eq!(
        stdout(&check),
        stdout(&status),
        "--check prints the same table"
    );
    let text = stdout(&status);
    assert!(text.starts_with("Migration"), "{text}");
    assert!(text.contains(&format!("{CREATE}  pending")), "{text}");
    assert!(text.contains(&format!("{SEED}          pending")), "{text}");

    let up = migration(&["up", "-n", "1"], url);
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(stdout(&up), format!("Applied {CREATE}\n"));

    let up = migration(&["up", "-v"], url);
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(stdout(&up), format!("Applied {SEED}\n"));
    assert!(
        stderr(&up).contains("running migration"),
        "logs go to stderr: {}",
        stderr(&up)
    );

    let up = migration(&["up"], url);
    assert!(up.status.success());
    assert_eq!(stdout(&up), "Applied no migrations: nothing to do\n");

    let status = migration(&["status", "--check"], url);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let text = stdout(&status);
    assert!(text.contains(&format!("{CREATE}  applied ")), "{text}");
    assert!(
        text.contains(&format!("{SEED}          applied ")),
        "{text}"
    );

    // sea-orm-cli always passes -n to down; without it one migration is reverted.
    let down = migration(&["down"], url);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(stdout(&down), format!("Reverted {SEED}\n"));
    let down = migration(&["down", "-n", "5"], url);
    assert_eq!(stdout(&down), format!("Reverted {CREATE}\n"));
    let text = stdout(&migration(&["status"], url));
    assert_eq!(text.matches("pending").count(), 2, "{text}");
}

#[test]
fn database_url_flag_works_like_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("flag.sqlite3").display()
    );
    let up = migration(&["up", "-u", &url], None);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(stdout(&up).contains(SEED));
}

#[test]
fn failures_exit_non_zero_with_a_message() {
    let missing = migration(&["status"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("DATABASE_URL is not set"),
        "{}",
        stderr(&missing)
    );

    let unreachable = migration(&["up"], Some("mysql://root@127.0.0.1:9/none"));
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stderr(&unreachable).contains("cannot connect to the database"),
        "{}",
        stderr(&unreachable)
    );

    // Subcommands this binary does not offer are usage errors (exit 2), like any clap program.
    for args in [&["sideways"][..], &["up", "-n", "x"], &[]] {
        let output = migration(args, Some("sqlite::memory:"));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// `sea-orm-cli migrate generate NAME` edits `src/lib.rs` with two regexes (sea-orm-cli 1.1,
/// `commands/migrate.rs::update_migrator`). Applying them here proves this file's layout survives:
/// the new `mod` line lands after the last migration module and the single list gains the new entry.
#[test]
fn lib_rs_survives_sea_orm_cli_migrate_generate() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"))
        .expect("lib.rs");
    let new = "m20990101_000000_example";

    let mod_regex = regex::Regex::new(r"mod\s+(?P<name>m\d{8}_\d{6}_\w+);").expect("regex");
    let mods: Vec<_> = mod_regex.captures_iter(&lib).collect();
    let names: Vec<&str> = mods
        .iter()
        .map(|c| c.name("name").expect("name").as_str())
        .collect();
    assert_eq!(names, [CREATE, SEED]);
    let mods_end = mods
        .last()
        .expect("a migration mod")
        .get(0)
        .expect("match")
        .end()
        + 1;
    let mut updated = lib.clone();
    updated.insert_str(mods_end, &format!("mod {new};\n"));
    let entries: String = names
        .iter()
        .chain(std::iter::once(&new))
        .map(|m| format!("            Box::new({m}::Migration),\n"))
        .collect();
    let list = format!("vec![\n{entries}        ]\n");
    let vec_regex = regex::Regex::new(r"vec!\[[\s\S]+\]\n").expect("regex");
    let updated = vec_regex.replace(&updated, list.as_str()).into_owned();

    // The list is rewritten in place and nothing after it is swallowed by the greedy regex.
    let original_list = vec_regex.find(&lib).expect("one vec![…] list").as_str();
    assert_eq!(
        original_list.matches("Box::new").count(),
        2,
        "{original_list}"
    );
    assert!(updated.contains(&format!("mod {new};\n")), "{updated}");
    assert!(
        updated.contains(&format!(
            "Box::new({new}::Migration),\n        ]\n    }}\n}}\n"
        )),
        "{updated}"
    );
    assert_eq!(
        updated
            .replace(&format!("mod {new};\n"), "")
            .replace(&format!("            Box::new({new}::Migration),\n"), ""),
        lib,
        "only the new module and list entry may change"
    );
}

#[test]
fn destructive_commands_need_confirmation_and_clear_the_ledger() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("fresh.sqlite3").display()
    );
    let url = Some(url.as_str());
    assert!(migration(&["up"], url).status.success());
    for sub in ["fresh", "refresh", "reset"] {
        let refused = migration(&[sub], url);
        assert_eq!(refused.status.code(), Some(1), "{sub}");
        assert!(
            stderr(&refused).contains("--yes"),
            "{sub}: {}",
            stderr(&refused)
        );
    }
    // Nothing was touched by the refusals.
    assert_eq!(
        migration(&["status", "--check"], url).status.code(),
        Some(0)
    );

    let reset = migration(&["reset", "--yes"], url);
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert_eq!(
        stdout(&reset),
        format!("Reverted {SEED}\nReverted {CREATE}\nLedger cleared\n")
    );
    assert_eq!(migration(&["status"], url).status.code(), Some(0));
    assert_eq!(
        migration(&["status", "--check"], url).status.code(),
        Some(3)
    );
    let json = migration(&["status", "--json", "--check"], url);
    assert_eq!(json.status.code(), Some(3));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["clean"], false, "{value}");

    let fresh = migration(&["fresh", "--yes"], url);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(
        stdout(&fresh).contains(&format!("Applied {SEED}")),
        "{}",
        stdout(&fresh)
    );
    let refresh = migration(&["refresh", "--yes"], url);
    assert!(refresh.status.success(), "{}", stderr(&refresh));
    assert_eq!(
        stdout(&refresh),
        format!("Reverted {SEED}\nReverted {CREATE}\nApplied {CREATE}\nApplied {SEED}\n")
    );
    let json = migration(&["status", "--json", "--check"], url);
    assert_eq!(json.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["clean"], true, "{value}");
    assert_eq!(value["migrations"][0]["status"], "applied");
}

#[test]
fn repair_and_unlock_explain_what_the_sql_ledger_cannot_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("repair.sqlite3").display()
    );
    let url = Some(url.as_str());
    let unlock = migration(&["unlock", "--force", "--fence", "1"], url);
    assert_eq!(unlock.status.code(), Some(1));
    assert!(
        stderr(&unlock).contains("has no lock"),
        "{}",
        stderr(&unlock)
    );

    let unknown = migration(&["repair", "mark-applied", "m20000101_000000_nope"], url);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("is not a migration of this binary"),
        "{}",
        stderr(&unknown)
    );

    // baseline records without running: the users table is not created.
    let baseline = migration(&["baseline", "--to", CREATE], url);
    assert!(baseline.status.success(), "{}", stderr(&baseline));
    assert_eq!(stdout(&baseline), format!("Baselined {CREATE}\n"));
    let up = migration(&["up"], url);
    assert_eq!(
        up.status.code(),
        Some(1),
        "seed needs the table baseline skipped"
    );
    let forget = migration(&["repair", "forget", CREATE], url);
    assert!(forget.status.success(), "{}", stderr(&forget));
    let up = migration(&["up"], url);
    assert!(up.status.success(), "{}", stderr(&up));
}

/// `sea-orm-cli migrate <sub>` runs `cargo run --manifest-path migration/Cargo.toml -- <sub> …`, which
/// needs one default binary as soon as the package has a second one (cargo refuses to guess).
#[test]
fn cargo_run_without_bin_picks_the_migration_binary() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    let package = manifest
        .split("\n[")
        .next()
        .expect("the [package] table comes first");
    assert!(
        package.contains("\ndefault-run = \"migration\"\n"),
        "[package] must set default-run = \"migration\":\n{package}"
    );
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_migration")).exists());
}
