//! `api`: the users service. Local listener by default; `lambda_http` under the Lambda runtime.

use std::process::ExitCode;

use api::config::{Config, Runtime};
use tracing_subscriber::EnvFilter;

/// mimalloc: a request allocates and frees thousands of small blocks (the Data API's JSON, SeaORM's
/// rows, the answer), which it serves from per-thread pages with less work than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            // Before tracing: say what is wrong in plain words, then stop.
            #[allow(clippy::print_stderr, reason = "no subscriber is installed yet")]
            {
                eprintln!("error: {error}");
            }
            return ExitCode::FAILURE;
        }
    };
    init_tracing(&config.runtime);
    let runtime = match config.runtime.tokio() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{:#}", error);
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let db = api::database::open(&config.database).await?;
    let app = api::app(api::AppState::new(db).with_get_users_max_bytes(config.get_users_max_bytes));
    match config.runtime {
        Runtime::Lambda => {
            tracing::info!("serving through the AWS Lambda runtime API");
            lambda_http::run(app)
                .await
                .map_err(|error| anyhow::anyhow!(error))
        }
        Runtime::Local { addr } => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!(e).context(format!("cannot listen on {addr}")))?;
            let local = listener.local_addr()?;
            tracing::info!("listening on http://{local}");
            api::serve(listener, app, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

fn init_tracing(runtime: &Runtime) {
    match runtime {
        // Honours RUST_LOG / AWS_LAMBDA_LOG_LEVEL and the function's log format.
        Runtime::Lambda => lambda_http::tracing::init_default_subscriber(),
        Runtime::Local { .. } => {
            let filter = EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .init();
        }
    }
}
