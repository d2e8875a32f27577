//! Fault injection for client tests: off unless asked for.
//!
//! Two kinds, both checked by every operation after its request is validated:
//! - **Auto-pause** ([`AutoPause`]): after `after` without a call and with no transaction open, the
//!   cluster "pauses"; the next `ExecuteStatement`, `BatchExecuteStatement` or `BeginTransaction` starts
//!   a resume and gets `DatabaseResumingException`, as does every such call for the next `resume`.
//!   Commit and Rollback are not modelled to get it and pass. [`Faults::pause`] pauses at once.
//! - **Injected errors** ([`Rule`]): the next `count` calls of an operation (and, with `sqlContains`,
//!   only statements whose SQL contains that text) fail with a chosen error, either `before` the
//!   statement runs (nothing happened) or `after` it ran (the outcome is unknown to the client: the
//!   case a blind retry gets wrong).
//!
//! Rules and pauses are set from the CLI, in-process through [`crate::AppState::faults`], or over HTTP
//! on the emulator's own `/_emulator/…` paths (README, "Fault injection").

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::protocol::error::{ApiError, ErrorCode};

/// The five operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs, reason = "AWS's operation names")]
pub enum Operation {
    ExecuteStatement,
    BatchExecuteStatement,
    BeginTransaction,
    CommitTransaction,
    RollbackTransaction,
}

impl Operation {
    /// Whether a resuming cluster answers this operation with `DatabaseResumingException` (the model
    /// lists it for Execute, BatchExecute and Begin only).
    fn resumes(self) -> bool {
        matches!(
            self,
            Operation::ExecuteStatement
                | Operation::BatchExecuteStatement
                | Operation::BeginTransaction
        )
    }
}

/// When an injected error replaces the answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    /// Before anything runs.
    #[default]
    Before,
    /// After the operation ran and its effects stand.
    After,
}

/// One injected error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// The operation it applies to; every operation when absent.
    #[serde(default)]
    pub operation: Option<Operation>,
    /// The exception name: any of the model's, `ValidationException`, or `ThrottlingException`
    /// (outside the model; the SDKs retry it as throttling).
    pub error: String,
    /// Only statements whose SQL text contains this (case-sensitive substring), so that a test can
    /// fail one statement of a sequence; calls without SQL (begin, commit, rollback) never match.
    /// Every call when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_contains: Option<String>,
    /// How many calls it fails; every call until cleared when absent.
    #[serde(default)]
    pub count: Option<u32>,
    /// Before or after the operation runs.
    #[serde(default)]
    pub when: When,
    /// The message (a default naming the injection otherwise).
    #[serde(default)]
    pub message: Option<String>,
}

impl Rule {
    /// Checks that `error` names an exception the emulator can send.
    ///
    /// # Errors
    /// A message naming the unknown exception.
    pub fn validate(&self) -> Result<(), String> {
        self.error_code().map(drop)
    }

    /// Whether the rule applies to a call of `operation` with `sql` (absent for calls without SQL).
    fn matches(&self, operation: Operation, sql: Option<&str>) -> bool {
        self.operation.is_none_or(|o| o == operation)
            && self
                .sql_contains
                .as_deref()
                .is_none_or(|needle| sql.is_some_and(|sql| sql.contains(needle)))
    }

    fn error_code(&self) -> Result<ErrorCode, String> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.name() == self.error)
            .ok_or_else(|| format!("unknown exception {:?}", self.error))
    }

    fn to_error(&self) -> ApiError {
        let code = self
            .error_code()
            .unwrap_or(ErrorCode::InternalServerErrorException);
        let mut error = ApiError::new(
            code,
            self.message
                .clone()
                .unwrap_or_else(|| format!("{} injected by the emulator", self.error)),
        );
        if code == ErrorCode::StatementTimeoutException {
            error.db_connection_id = Some(0);
        }
        error
    }
}

/// The auto-pause setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoPause {
    /// Idle time (no call, no open transaction) after which the cluster pauses.
    pub after: Duration,
    /// How long calls get `DatabaseResumingException` once a resume started (AWS: about 15 s).
    pub resume: Duration,
}

#[derive(Debug)]
struct State {
    rules: Vec<Rule>,
    auto_pause: Option<AutoPause>,
    last_call: Instant,
    paused: bool,
    resuming_until: Option<Instant>,
}

/// The fault settings of one emulator.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<State>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                rules: Vec::new(),
                auto_pause: None,
                last_call: Instant::now(),
                paused: false,
                resuming_until: None,
            }),
        }
    }
}

/// The resume window's error, worded as AWS words it (aws/aws-sdk-js-v3#6701).
fn resuming(resource_arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::DatabaseResumingException,
        format!(
            "The Aurora DB instance {resource_arn} is resuming after being auto-paused. \
             Please wait a few seconds and try again."
        ),
    )
}

impl Faults {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        crate::sync::lock(&self.state)
    }

    /// Turns auto-pause on (`Some`) or off.
    pub fn set_auto_pause(&self, auto_pause: Option<AutoPause>) {
        let mut state = self.state();
        state.auto_pause = auto_pause;
        state.last_call = Instant::now();
    }

    /// Pauses the cluster now: the next resuming call starts the resume window (of the auto-pause
    /// setting, or 15 s without one).
    pub fn pause(&self) {
        self.state().paused = true;
    }

    /// Adds a rule.
    ///
    /// # Errors
    /// As [`Rule::validate`].
    pub fn inject(&self, rule: Rule) -> Result<(), String> {
        rule.validate()?;
        self.state().rules.push(rule);
        Ok(())
    }

    /// Removes every rule and ends any pause or resume.
    pub fn clear(&self) {
        let mut state = self.state();
        state.rules.clear();
        state.paused = false;
        state.resuming_until = None;
        state.last_call = Instant::now();
    }

    /// The rules still in force (counts as they stand).
    pub fn rules(&self) -> Vec<Rule> {
        self.state().rules.clone()
    }

    /// Checks a call before it runs: the pause state, then `before` rules. `transactions_open` keeps
    /// an idle cluster from pausing, as an open connection does on Aurora; `sql` is the statement of
    /// an `ExecuteStatement` or `BatchExecuteStatement`.
    ///
    /// # Errors
    /// The injected or resume error.
    pub fn before(
        &self,
        operation: Operation,
        sql: Option<&str>,
        resource_arn: &str,
        transactions_open: bool,
    ) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut state = self.state();
        if let Some(until) = state.resuming_until {
            if now < until {
                if operation.resumes() {
                    return Err(resuming(resource_arn));
                }
            } else {
                state.resuming_until = None;
                tracing::info!("the cluster has resumed");
            }
        } else if operation.resumes() {
            let idle_pause = state.auto_pause.is_some_and(|auto| {
                !transactions_open && now.duration_since(state.last_call) >= auto.after
            });
            if state.paused || idle_pause {
                let window = state
                    .auto_pause
                    .map_or(Duration::from_secs(15), |auto| auto.resume);
                state.paused = false;
                state.resuming_until = Some(now + window);
                tracing::info!(?window, "the cluster is paused; resuming");
                return Err(resuming(resource_arn));
            }
        }
        state.last_call = now;
        take_rule(&mut state.rules, operation, sql, When::Before)
    }

    /// Checks a call after it ran: `after` rules.
    ///
    /// # Errors
    /// The injected error.
    pub fn after(&self, operation: Operation, sql: Option<&str>) -> Result<(), ApiError> {
        let mut state = self.state();
        state.last_call = Instant::now();
        take_rule(&mut state.rules, operation, sql, When::After)
    }
}

/// Fires the first rule for `operation` (and `sql`) at `when`, counting it down.
fn take_rule(
    rules: &mut Vec<Rule>,
    operation: Operation,
    sql: Option<&str>,
    when: When,
) -> Result<(), ApiError> {
    let Some(index) = rules
        .iter()
        .position(|r| r.when == when && r.matches(operation, sql))
    else {
        return Ok(());
    };
    let error = rules[index].to_error();
    match &mut rules[index].count {
        Some(1) => {
            rules.remove(index);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    tracing::info!(?operation, error = error.code.name(), "injected fault");
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> Rule {
        serde_json::from_value(json).expect("rule")
    }

    #[test]
    fn counted_rules_fire_that_many_times_for_their_operation_only() {
        let faults = Faults::default();
        faults
            .inject(rule(serde_json::json!({
                "operation": "ExecuteStatement", "error": "InternalServerErrorException", "count": 2
            })))
            .expect("valid");
        let arn = "arn";
        assert!(
            faults
                .before(Operation::BeginTransaction, None, arn, false)
                .is_ok()
        );
        for _ in 0..2 {
            let error = faults
                .before(Operation::ExecuteStatement, None, arn, false)
                .expect_err("injected");
            assert_eq!(error.code, ErrorCode::InternalServerErrorException);
        }
        assert!(
            faults
                .before(Operation::ExecuteStatement, None, arn, false)
                .is_ok()
        );
        assert!(faults.rules().is_empty());
    }

    #[test]
    fn after_rules_fire_after_and_unknown_exceptions_are_refused() {
        let faults = Faults::default();
        faults
            .inject(rule(serde_json::json!({
                "error": "ThrottlingException", "when": "after", "count": 1
            })))
            .expect("valid");
        assert!(
            faults
                .before(Operation::CommitTransaction, None, "a", false)
                .is_ok()
        );
        assert_eq!(
            faults
                .after(Operation::CommitTransaction, None)
                .expect_err("after")
                .code,
            ErrorCode::ThrottlingException
        );
        let refused = faults.inject(rule(serde_json::json!({"error": "NoSuchException"})));
        assert!(refused.is_err());
    }

    #[test]
    fn sql_rules_fire_only_for_statements_containing_their_text() {
        let faults = Faults::default();
        faults
            .inject(rule(serde_json::json!({
                "sqlContains": "CREATE INDEX", "error": "InternalServerErrorException",
                "when": "after", "count": 1
            })))
            .expect("valid");
        let create_table = Some("CREATE TABLE t (id INT)");
        let create_index = Some("CREATE INDEX i ON t (id)");
        assert!(
            faults
                .after(Operation::ExecuteStatement, create_table)
                .is_ok()
        );
        assert!(
            faults.after(Operation::CommitTransaction, None).is_ok(),
            "a call without SQL never matches a SQL rule"
        );
        assert!(
            faults
                .before(Operation::ExecuteStatement, create_index, "a", false)
                .is_ok(),
            "an `after` rule does not fire before"
        );
        let error = faults
            .after(Operation::BatchExecuteStatement, create_index)
            .expect_err("matches");
        assert_eq!(error.code, ErrorCode::InternalServerErrorException);
        assert!(
            faults
                .after(Operation::ExecuteStatement, create_index)
                .is_ok(),
            "count 1"
        );
    }

    #[test]
    fn a_pause_fails_resuming_operations_for_the_window_and_spares_commit() {
        let faults = Faults::default();
        faults.set_auto_pause(Some(AutoPause {
            after: Duration::from_secs(3600),
            resume: Duration::from_millis(200),
        }));
        assert!(
            faults
                .before(Operation::ExecuteStatement, None, "a", false)
                .is_ok()
        );
        faults.pause();
        for op in [Operation::ExecuteStatement, Operation::BeginTransaction] {
            let error = faults.before(op, None, "a", false).expect_err("resuming");
            assert_eq!(error.code, ErrorCode::DatabaseResumingException);
        }
        assert!(
            faults
                .before(Operation::CommitTransaction, None, "a", false)
                .is_ok()
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(
            faults
                .before(Operation::ExecuteStatement, None, "a", false)
                .is_ok()
        );
    }

    #[test]
    fn idle_time_pauses_unless_a_transaction_is_open() {
        let faults = Faults::default();
        faults.set_auto_pause(Some(AutoPause {
            after: Duration::from_millis(50),
            resume: Duration::from_millis(50),
        }));
        std::thread::sleep(Duration::from_millis(80));
        assert!(
            faults
                .before(Operation::ExecuteStatement, None, "a", true)
                .is_ok(),
            "an open transaction keeps the cluster up"
        );
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(
            faults
                .before(Operation::BatchExecuteStatement, None, "a", false)
                .expect_err("paused")
                .code,
            ErrorCode::DatabaseResumingException
        );
    }
}
