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

    let status = migration(&["status"], url);
    assert!(status.status.success(), "{}", stderr(&status));
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

    let text = stdout(&migration(&["status"], url));
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
    for args in [&["fresh"][..], &["up", "-n", "x"], &[]] {
        let output = migration(args, Some("sqlite::memory:"));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
