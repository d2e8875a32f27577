//! A moto server (DynamoDB) for the tests: one `moto_server -H 127.0.0.1 -p <free port>` per test
//! process, started on first use and stopped when the process exits (a small `sh` watchdog kills it
//! once the test process is gone, even after SIGKILL).
//!
//! The executable comes from `MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`, which
//! `./scripts/test` installs (`moto[server]` in `scripts/requirements-test.txt`). Clients use fixed
//! fake credentials and `us-east-1`; each test creates its own table ([`Moto::table`]).
//!
//! moto's server handles requests on parallel threads without locking its tables, so two
//! conditional writes racing on one item can both succeed, which DynamoDB never allows (a
//! conditional write is atomic per item). The harness therefore starts moto's own `main` through the
//! `moto_server` script's Python interpreter with one change: requests are handled one at a time.
//! Without it, the concurrent-runner tests see two lock holders (and the fence refuses the loser's
//! writes, which is the point of the fence, but not a faithful DynamoDB).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::sync::OnceCell;

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
}

static MOTO: OnceCell<Moto> = OnceCell::const_new();

fn executable() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".venv/bin/moto_server");
    if !path.exists() {
        bail!(
            "moto_server not found at {} (and MOTO_SERVER is not set): run ./scripts/test once, \
             which installs moto[server] into .venv from scripts/requirements-test.txt",
            path.display()
        );
    }
    Ok(path)
}

/// The Python interpreter of the `moto_server` script (its `#!` line).
fn interpreter(exe: &PathBuf) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(exe)
        .with_context(|| format!("reading {} (a moto_server script)", exe.display()))?;
    let shebang = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("#!"))
        .with_context(|| format!("{} has no #! line", exe.display()))?;
    Ok(shebang.split_whitespace().map(str::to_owned).collect())
}

/// moto's `main`, with each request handled under one lock (see the module docs).
const SERIALISED_MOTO: &str = r#"
import sys, threading
import moto.server as server
_lock = threading.Lock()
class Serialised(server.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        with _lock:
            return super().__call__(environ, start_response)
server.DomainDispatcherApplication = Serialised
server.main(sys.argv[1:])
"#;

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Moto {
    /// The process's moto server, started on first use.
    ///
    /// # Errors
    /// The executable is missing, or the server does not answer within 30 s.
    pub async fn shared() -> Result<&'static Moto> {
        MOTO.get_or_try_init(Self::start).await
    }

    async fn start() -> Result<Moto> {
        let exe = executable()?;
        let port = free_port()?;
        // The watchdog: runs moto, and kills it as soon as this test process is gone.
        let script = r#"parent=$1; shift; "$@" & child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill "$child" 2>/dev/null; wait "$child" 2>/dev/null"#;
        let quiet = std::env::var_os("TEST_LOG").is_none();
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(std::process::id().to_string())
            .args(interpreter(&exe)?)
            .args(["-c", SERIALISED_MOTO])
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .stderr(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            // Listening, and answering DynamoDB (not just TCP).
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && moto.client().list_tables().send().await.is_ok()
            {
                return Ok(moto);
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!(
                    "{} did not answer DynamoDB on {} within 30 s",
                    exe.display(),
                    moto.endpoint
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An SDK config for moto: fake credentials, `us-east-1`, this endpoint.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("test", "test", None, None, "tests"),
                ),
            )
            .endpoint_url(&self.endpoint)
            .build()
    }

    /// A DynamoDB client for moto.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
    }

    /// Creates a new ledger table with a unique name starting with `prefix`.
    ///
    /// # Errors
    /// `CreateTable` failing.
    pub async fn table(&self, prefix: &str) -> Result<String> {
        let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        migration::DynamoLedger::create_table(&self.client(), &name).await?;
        Ok(name)
    }

    /// The environment a child process needs to reach this moto server through `aws-config`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}
