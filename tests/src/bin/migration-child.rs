//! The `migration` binary's exact logic (`migration::cli::main`), built inside this package so the
//! integration tests can run it as a child process (`CARGO_BIN_EXE_migration-child`) and SIGKILL it
//! mid-migration.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    migration::cli::main().await
}
