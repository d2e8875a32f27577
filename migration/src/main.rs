//! `migration`: apply, revert and list migrations; the binary `sea-orm-cli migrate` drives.
//!
//! Exit codes: 0 success, 1 failure (the error is logged on stderr), 2 usage error, 3 `status`
//! found something pending, in progress, failed, missing or drifted. See [`migration::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    migration::cli::main().await
}
