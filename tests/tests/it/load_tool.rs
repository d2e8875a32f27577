//! The load benchmark tool (`users-load`) runs end to end on a small count, so the benchmark in
//! `docs/BENCHMARKS.md` stays reproducible.

use anyhow::{Context, Result, ensure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_load_runs_every_mode_and_checks_the_row_count() -> Result<()> {
    let tool = std::path::Path::new(env!("CARGO_BIN_EXE_users-load"));
    // The api binary of the same build, next to the tool (built by `cargo nextest run --workspace`).
    let api = tool.with_file_name("api");
    ensure!(
        api.is_file(),
        "{} is missing: run the workspace's tests (`cargo nextest run --workspace`)",
        api.display()
    );
    let output = tokio::process::Command::new(tool)
        .args(["--api-bin"])
        .arg(&api)
        .args([
            "--requests",
            "30",
            "--concurrency",
            "1,4",
            "--modes",
            "sqlite,mariadb,data-api",
        ])
        .output()
        .await
        .context("running users-load")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success(),
        "users-load failed:\n{stdout}\n{stderr}"
    );
    for mode in ["sqlite", "mariadb", "data-api"] {
        // 2 levels × 30 POSTs accepted, plus the seed row.
        ensure!(
            stdout.contains(&format!("| {mode} | ")) && stdout.contains("| 60 | 61 |"),
            "{mode}:\n{stdout}"
        );
    }
    ensure!(stdout.matches("| POST /users |").count() == 6, "{stdout}");
    ensure!(
        stdout.matches("| GET /users/{id} |").count() == 6,
        "{stdout}"
    );
    Ok(())
}
