//! How the API configures `aws-sdk-rdsdata`: the standard AWS chain (region, credentials,
//! `AWS_ENDPOINT_URL_RDS_DATA`), with the settings that fit this service's Data API calls.
//!
//! - **Stalled-stream protection off.** It guards long uploads and downloads: every request and
//!   response body is wrapped to measure its throughput, with a timer, for bodies that here are a
//!   few hundred bytes to a few hundred KiB of JSON arriving at once. A Data API call that stops
//!   answering is bounded by [`OPERATION_TIMEOUT`] instead.
//! - **No SDK retries** (the adapter's own rules apply: `data_api::DataApi::with_sdk_config` turns
//!   them off).
//! - **Timeouts**: the SDK's connect timeout (3.1 s), and [`OPERATION_TIMEOUT`] per call.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;

/// Longest a single Data API call may take: its own statement limit (45 s) and a margin. A call
/// cut off here has an unknown outcome, as a `StatementTimeoutException` has.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(50);

/// The SDK's default connect timeout, kept (the default chain's value, set again because a
/// timeout configuration given here replaces the default one).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// The AWS settings the Data API client is built from. Reads the environment and profile files
/// only; makes no call.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stalled_stream_protection_is_off_and_every_call_has_a_deadline() {
        let sdk = sdk_config().await;
        assert_eq!(
            sdk.stalled_stream_protection()
                .map(|config| config.is_enabled()),
            Some(false)
        );
        let timeouts = sdk.timeout_config().expect("timeouts");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        // What the Data API client is built from keeps them.
        let rds = aws_sdk_rdsdata::config::Builder::from(&sdk).build();
        assert_eq!(
            rds.stalled_stream_protection()
                .map(|config| config.is_enabled()),
            Some(false)
        );
        assert_eq!(
            rds.timeout_config()
                .and_then(|timeouts| timeouts.operation_timeout()),
            Some(OPERATION_TIMEOUT)
        );
    }
}
