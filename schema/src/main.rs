//! `schema`: entity generation and the drift check; see the crate docs and README "Schema".

#[tokio::main]
async fn main() -> std::process::ExitCode {
    schema::cli::main().await
}
