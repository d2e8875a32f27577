//! Tests of the `api` binary as it is deployed: `main`'s configuration, the local listener and the
//! Lambda runtime branch, each in a child process.

mod binary;
mod lambda;

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The `api` binary with a clean environment: only `PATH`, `RUST_LOG` and `vars`.
fn api_command(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A running child whose stdout and stderr lines are collected as they come.
struct Running {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(mut command: Command) -> Result<Self> {
        let mut child = command.spawn().context("spawning the api binary")?;
        let (tx, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().context("stdout")?;
        let stderr = child.stderr.take().context("stderr")?;
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(stderr),
        ] {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Self {
            child,
            lines,
            seen: Vec::new(),
        })
    }

    /// Waits (up to 60 s) for a line containing `needle` and returns it.
    async fn wait_for(&mut self, needle: &str) -> Result<String> {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return Ok(line.clone());
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Ok(None) => bail!(
                    "output ended before {needle:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
                Err(_) => bail!(
                    "timed out waiting for {needle:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything printed so far, without waiting.
    fn output_so_far(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }

    /// Waits for the process to exit and returns its status and all its output.
    async fn exit(mut self) -> Result<(std::process::ExitStatus, String)> {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .context("the api binary did not exit")??;
        while let Some(line) = self.lines.recv().await {
            self.seen.push(line);
        }
        Ok((status, self.seen.join("\n")))
    }
}
