//! Data-driven conformance cases: `emulator/tests/cases/**/*.json`, one case per file, each run through
//! the real SDK against the emulator on the engines it names.
//!
//! ```json
//! { "about": "what and why", "source": "AWS doc page or issue behind the expectation",
//!   "postgres": { "setup": ["CREATE TABLE …"], "request": { "sql": "…", "parameters": […] },
//!                 "expect": { "records": […] } },
//!   "mysql": { …, "expectError": { "type": "BadRequestException", "message": "regex" } } }
//! ```
//! `request` is the ExecuteStatement input without the ARNs and database. `expect` compares only the
//! members it lists (`records`, `numberOfRecordsUpdated`, `generatedFields`, `formattedRecords`
//! parsed as JSON, `columnMetadata` as a list of partial objects).
//!
//! A section may instead hold `steps`, run in order against one emulator:
//! `{"op": "ExecuteStatement" | "BatchExecuteStatement" | "BeginTransaction" | "CommitTransaction" |
//! "RollbackTransaction", "request": {…}, "expect"/"expectError": {…}, "retryForMs": N}` (a request's
//! `"transactionId": true` means the last transaction begun), `{"op": "Admin", "action": "inject" |
//! "clear" | "pause", "rule": {…}, "status": 204}` (the emulator's `/_emulator` paths) and
//! `{"sleepMs": N}`. A top-level `emulator` object sets limits and auto-pause for the case
//! (`statementTimeoutSeconds`, `transactionIdleSeconds`, `maxResponseBytes`, `maxRequestBytes`,
//! `maxRowBytes`, `autoPause: {afterSeconds, resumeSeconds}`). `EMULATOR_CASES=text` runs only the
//! cases whose path contains `text`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{
    ArrayValue, DecimalReturnType, Field, LongReturnType, RecordsFormatType, ResultSetOptions,
    SqlParameter, TypeHint,
};
use base64::Engine as _;
use serde_json::{Value, json};

use std::time::Duration;

use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementError;
use emulator::Limits;
use emulator::faults::AutoPause;

use super::{Emulator, Engine, RESOURCE_ARN, SECRET_ARN};

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            case_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_cases() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files = Vec::new();
    case_files(&root, &mut files)?;
    files.sort();
    // While iterating: `EMULATOR_CASES=session/ cargo nextest run -p emulator conformance`.
    if let Ok(only) = std::env::var("EMULATOR_CASES") {
        files.retain(|f| f.to_string_lossy().contains(&only));
    }
    let mut runs = Vec::new();
    for file in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(file)?)
            .with_context(|| format!("parsing {}", file.display()))?;
        ensure!(
            case["about"].is_string() && case["source"].is_string(),
            "{}: about and source are required",
            file.display()
        );
        let mut engines = 0;
        for (key, engine) in [("mysql", Engine::MySql), ("postgres", Engine::Postgres)] {
            if case[key].is_object() {
                engines += 1;
                runs.push((
                    file.strip_prefix(&root)?.display().to_string(),
                    engine,
                    case["emulator"].clone(),
                    case[key].clone(),
                ));
            }
        }
        ensure!(engines > 0, "{}: no engine section", file.display());
    }
    let total = runs.len();
    let mut set = tokio::task::JoinSet::new();
    let mut failures = Vec::new();
    let mut runs = runs.into_iter();
    loop {
        while set.len() < 6 {
            let Some((name, engine, settings, section)) = runs.next() else {
                break;
            };
            set.spawn(async move {
                let outcome = run_case(engine, &settings, &section).await;
                (name, engine, outcome)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (name, engine, outcome) = joined?;
        if let Err(error) = outcome {
            failures.push(format!("{name} [{engine:?}]: {error:#}"));
        }
    }
    ensure!(
        failures.is_empty(),
        "{} of {total} case runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

/// The case's `emulator` settings as limits.
fn limits(settings: &Value) -> Result<Limits> {
    let mut limits = Limits::default();
    let seconds = |key: &str| settings[key].as_f64().map(Duration::from_secs_f64);
    let bytes = |key: &str| {
        settings[key]
            .as_u64()
            .map(|n| usize::try_from(n).context("byte count"))
            .transpose()
    };
    if let Some(timeout) = seconds("statementTimeoutSeconds") {
        limits.statement_timeout = timeout;
    }
    if let Some(idle) = seconds("transactionIdleSeconds") {
        limits.expiry.idle = idle;
    }
    if let Some(n) = bytes("maxResponseBytes")? {
        limits.max_response_bytes = n;
    }
    if let Some(n) = bytes("maxRequestBytes")? {
        limits.max_request_bytes = n;
    }
    limits.max_row_bytes = bytes("maxRowBytes")?;
    Ok(limits)
}

/// A section is either one `request` (an ExecuteStatement) or a list of `steps`.
async fn run_case(engine: Engine, settings: &Value, section: &Value) -> Result<()> {
    let emulator = Emulator::spawn_with(engine, limits(settings)?).await?;
    if let Some(auto) = settings.get("autoPause") {
        emulator
            .admin_state()
            .faults()
            .set_auto_pause(Some(AutoPause {
                after: Duration::from_secs_f64(
                    auto["afterSeconds"].as_f64().context("afterSeconds")?,
                ),
                resume: Duration::from_secs_f64(
                    auto["resumeSeconds"].as_f64().context("resumeSeconds")?,
                ),
            }));
    }
    for sql in section["setup"].as_array().into_iter().flatten() {
        emulator
            .database
            .execute(sql.as_str().context("setup entries are SQL strings")?)
            .await?;
    }
    let single;
    let steps = match section["steps"].as_array() {
        Some(steps) => steps,
        None => {
            single = vec![json!({
                "op": "ExecuteStatement", "request": section["request"],
                "expect": section["expect"], "expectError": section["expectError"],
            })];
            &single
        }
    };
    let mut run = Run {
        emulator: &emulator,
        transaction: None,
    };
    for (index, step) in steps.iter().enumerate() {
        run.step(step)
            .await
            .with_context(|| format!("step {index} ({})", step["op"]))?;
    }
    Ok(())
}

/// One case's emulator and the transaction its steps share.
struct Run<'a> {
    emulator: &'a Emulator,
    transaction: Option<String>,
}

/// What an operation answered: its output as JSON, or the error's code, message and
/// `dbConnectionId`.
type Outcome = std::result::Result<Value, (String, String, Option<i64>)>;

fn failed<E: ProvideErrorMetadata>(error: &E) -> (String, String, Option<i64>) {
    (
        error.code().unwrap_or_default().to_owned(),
        error.message().unwrap_or_default().to_owned(),
        None,
    )
}

impl Run<'_> {
    async fn step(&mut self, step: &Value) -> Result<()> {
        if let Some(ms) = step["sleepMs"].as_u64() {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return Ok(());
        }
        if step["op"] == "Admin" {
            return self.admin(step).await;
        }
        // `retryForMs`: repeat the step until it matches, for steps that wait on something running in
        // the background (a statement left running, a resume window), so load cannot make them flaky.
        let deadline = std::time::Instant::now()
            + Duration::from_millis(step["retryForMs"].as_u64().unwrap_or(0));
        loop {
            let outcome = match step["op"].as_str().context("op")? {
                "ExecuteStatement" => self.execute(&step["request"]).await?,
                "BatchExecuteStatement" => self.batch(&step["request"]).await?,
                "BeginTransaction" => self.begin().await,
                op @ ("CommitTransaction" | "RollbackTransaction") => {
                    self.end(op, &step["request"]).await?
                }
                other => bail!("unknown op {other}"),
            };
            match check(&step["expect"], &step["expectError"], outcome) {
                Err(_) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                checked => return checked,
            }
        }
    }

    /// The emulator's own `/_emulator/…` paths, over HTTP as an outside test would use them.
    async fn admin(&self, step: &Value) -> Result<()> {
        let http = reqwest::Client::new();
        let base = format!("http://{}/_emulator", self.emulator.addr);
        let response = match step["action"].as_str().context("action")? {
            "inject" => {
                http.post(format!("{base}/faults"))
                    .json(&step["rule"])
                    .send()
                    .await?
            }
            "clear" => http.delete(format!("{base}/faults")).send().await?,
            "pause" => http.post(format!("{base}/pause")).send().await?,
            other => bail!("unknown admin action {other}"),
        };
        let status = response.status().as_u16();
        let want = step["status"].as_u64().unwrap_or(204);
        ensure!(
            u64::from(status) == want,
            "admin answered {status}: {}",
            response.text().await?
        );
        Ok(())
    }

    fn transaction_id(&self, request: &Value) -> Result<Option<String>> {
        Ok(match &request["transactionId"] {
            Value::String(id) => Some(id.clone()),
            Value::Bool(true) => Some(self.transaction.clone().context("no transaction begun")?),
            _ => None,
        })
    }

    async fn execute(&self, request: &Value) -> Result<Outcome> {
        let mut call = self
            .emulator
            .execute(request["sql"].as_str().context("request.sql")?);
        if let Some(arn) = request["resourceArn"].as_str() {
            call = call.resource_arn(arn);
        }
        if let Some(arn) = request["secretArn"].as_str() {
            call = call.secret_arn(arn);
        }
        for parameter in request["parameters"].as_array().into_iter().flatten() {
            call = call.parameters(sql_parameter(parameter)?);
        }
        if let Some(v) = request["includeResultMetadata"].as_bool() {
            call = call.include_result_metadata(v);
        }
        if let Some(v) = request["continueAfterTimeout"].as_bool() {
            call = call.continue_after_timeout(v);
        }
        if let Some(v) = request["formatRecordsAs"].as_str() {
            call = call.format_records_as(RecordsFormatType::from(v));
        }
        if let Some(v) = request["schema"].as_str() {
            call = call.schema(v);
        }
        call = call.set_transaction_id(self.transaction_id(request)?);
        if request["resultSetOptions"].is_object() {
            let o = &request["resultSetOptions"];
            let mut options = ResultSetOptions::builder();
            if let Some(v) = o["decimalReturnType"].as_str() {
                options = options.decimal_return_type(DecimalReturnType::from(v));
            }
            if let Some(v) = o["longReturnType"].as_str() {
                options = options.long_return_type(LongReturnType::from(v));
            }
            call = call.result_set_options(options.build());
        }
        Ok(match call.send().await {
            Ok(output) => Ok(json!({
                "records": output.records().iter().map(|row| row.iter().map(field_json).collect::<Result<Vec<_>>>()).collect::<Result<Vec<_>>>()?,
                "numberOfRecordsUpdated": output.number_of_records_updated(),
                "generatedFields": output.generated_fields().iter().map(field_json).collect::<Result<Vec<_>>>()?,
                "formattedRecords": output.formatted_records().map(serde_json::from_str::<Value>).transpose()?,
                "columnMetadata": output.column_metadata().iter().map(|c| json!({
                    "name": c.name(), "label": c.label(), "type": c.r#type(), "typeName": c.type_name(),
                    "isSigned": c.is_signed(), "nullable": c.nullable(), "precision": c.precision(),
                    "scale": c.scale(), "tableName": c.table_name(), "schemaName": c.schema_name(),
                    "isAutoIncrement": c.is_auto_increment(), "isCaseSensitive": c.is_case_sensitive(),
                    "isCurrency": c.is_currency(), "arrayBaseColumnType": c.array_base_column_type(),
                })).collect::<Vec<_>>(),
            })),
            Err(error) => {
                let mut failure = failed(&error);
                if let Some(ExecuteStatementError::StatementTimeoutException(timeout)) =
                    error.as_service_error()
                {
                    failure.2 = Some(timeout.db_connection_id());
                }
                Err(failure)
            }
        })
    }

    async fn batch(&self, request: &Value) -> Result<Outcome> {
        let mut call = self
            .emulator
            .client
            .batch_execute_statement()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.emulator.database.name)
            .sql(request["sql"].as_str().context("request.sql")?)
            .set_transaction_id(self.transaction_id(request)?);
        for set in request["parameterSets"].as_array().into_iter().flatten() {
            let set = set
                .as_array()
                .context("a parameter set is a list")?
                .iter()
                .map(sql_parameter)
                .collect::<Result<Vec<_>>>()?;
            call = call.parameter_sets(set);
        }
        Ok(match call.send().await {
            Ok(output) => Ok(json!({
                "updateResults": output.update_results().iter().map(|r| Ok(json!({
                    "generatedFields": r.generated_fields().iter().map(field_json).collect::<Result<Vec<_>>>()?,
                }))).collect::<Result<Vec<_>>>()?,
            })),
            Err(error) => Err(failed(&error)),
        })
    }

    async fn begin(&mut self) -> Outcome {
        let begun = self
            .emulator
            .client
            .begin_transaction()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.emulator.database.name)
            .send()
            .await;
        match begun {
            Ok(output) => {
                let id = output.transaction_id().unwrap_or_default().to_owned();
                self.transaction = Some(id.clone());
                Ok(json!({ "transactionId": id }))
            }
            Err(error) => Err(failed(&error)),
        }
    }

    async fn end(&self, op: &str, request: &Value) -> Result<Outcome> {
        let id = self
            .transaction_id(request)?
            .or_else(|| self.transaction.clone())
            .context("no transaction to end")?;
        let client = &self.emulator.client;
        Ok(if op == "CommitTransaction" {
            let call = client
                .commit_transaction()
                .resource_arn(RESOURCE_ARN)
                .secret_arn(SECRET_ARN)
                .transaction_id(id);
            match call.send().await {
                Ok(o) => Ok(json!({ "transactionStatus": o.transaction_status() })),
                Err(error) => Err(failed(&error)),
            }
        } else {
            let call = client
                .rollback_transaction()
                .resource_arn(RESOURCE_ARN)
                .secret_arn(SECRET_ARN)
                .transaction_id(id);
            match call.send().await {
                Ok(o) => Ok(json!({ "transactionStatus": o.transaction_status() })),
                Err(error) => Err(failed(&error)),
            }
        })
    }
}

/// Compares an outcome with the step's `expect` (members it lists) or `expectError` (`type`,
/// `message` regex, `dbConnectionId: true` for "present and positive").
fn check(expect: &Value, expect_error: &Value, outcome: Outcome) -> Result<()> {
    match (expect, expect_error, outcome) {
        (expect, Value::Null, Ok(actual)) => {
            for (key, want) in expect.as_object().into_iter().flatten() {
                let got = &actual[key];
                let matches = match key.as_str() {
                    "columnMetadata" | "updateResults" => partial_list(want, got),
                    _ => want == got,
                };
                ensure!(matches, "{key}: expected {want}, got {got}");
            }
            Ok(())
        }
        (Value::Null, want, Err((code, message, connection))) if want.is_object() => {
            ensure!(
                want["type"] == code.as_str(),
                "expected {}, got {code}: {message}",
                want["type"]
            );
            if let Some(pattern) = want["message"].as_str() {
                let regex = regex::Regex::new(pattern)?;
                ensure!(
                    regex.is_match(&message),
                    "message {message:?} does not match /{pattern}/"
                );
            }
            if want["dbConnectionId"] == true {
                ensure!(
                    connection.is_some_and(|id| id > 0),
                    "dbConnectionId missing: {connection:?}"
                );
            }
            Ok(())
        }
        (_, want, Err((code, message, _))) if want.is_null() => {
            bail!("unexpected error {code}: {message}")
        }
        (_, want, Ok(output)) => bail!("expected {want}, got success: {output}"),
        _ => bail!("a step needs at most one of expect / expectError"),
    }
}

fn partial_list(want: &Value, got: &Value) -> bool {
    let (Some(want), Some(got)) = (want.as_array(), got.as_array()) else {
        return false;
    };
    want.len() == got.len()
        && want
            .iter()
            .zip(got)
            .all(|(w, g)| w.as_object().into_iter().flatten().all(|(k, v)| &g[k] == v))
}

fn sql_parameter(json: &Value) -> Result<SqlParameter> {
    let mut builder = SqlParameter::builder();
    if let Some(name) = json["name"].as_str() {
        builder = builder.name(name);
    }
    if json["value"].is_object() {
        builder = builder.value(field(&json["value"])?);
    }
    if let Some(hint) = json["typeHint"].as_str() {
        builder = builder.type_hint(TypeHint::from(hint));
    }
    Ok(builder.build())
}

fn field(json: &Value) -> Result<Field> {
    let (key, value) = json
        .as_object()
        .and_then(|o| o.iter().next())
        .context("a field has one member")?;
    Ok(match key.as_str() {
        "isNull" => Field::IsNull(value.as_bool().context("isNull")?),
        "booleanValue" => Field::BooleanValue(value.as_bool().context("booleanValue")?),
        "longValue" => Field::LongValue(value.as_i64().context("longValue")?),
        "doubleValue" => Field::DoubleValue(value.as_f64().context("doubleValue")?),
        "stringValue" => Field::StringValue(value.as_str().context("stringValue")?.to_owned()),
        "blobValue" => Field::BlobValue(Blob::new(
            base64::engine::general_purpose::STANDARD
                .decode(value.as_str().context("blobValue")?)?,
        )),
        "arrayValue" => Field::ArrayValue(ArrayValue::LongValues(
            value["longValues"]
                .as_array()
                .context("only longValues arrays in cases")?
                .iter()
                .map(Value::as_i64)
                .collect(),
        )),
        other => bail!("unknown field member {other}"),
    })
}

fn array_json(array: &ArrayValue) -> Result<Value> {
    Ok(match array {
        ArrayValue::BooleanValues(v) => json!({"booleanValues": v}),
        ArrayValue::LongValues(v) => json!({"longValues": v}),
        ArrayValue::DoubleValues(v) => json!({"doubleValues": v}),
        ArrayValue::StringValues(v) => json!({"stringValues": v}),
        ArrayValue::ArrayValues(v) => {
            json!({"arrayValues": v.iter().map(|a| a.as_ref().map(array_json).transpose()).collect::<Result<Vec<_>>>()?})
        }
        other => bail!("unknown array {other:?}"),
    })
}

fn field_json(field: &Field) -> Result<Value> {
    Ok(match field {
        Field::IsNull(v) => json!({"isNull": v}),
        Field::BooleanValue(v) => json!({"booleanValue": v}),
        Field::LongValue(v) => json!({"longValue": v}),
        Field::DoubleValue(v) => json!({"doubleValue": v}),
        Field::StringValue(v) => json!({"stringValue": v}),
        Field::BlobValue(v) => {
            json!({"blobValue": base64::engine::general_purpose::STANDARD.encode(v.as_ref())})
        }
        Field::ArrayValue(v) => json!({"arrayValue": array_json(v)?}),
        other => bail!("unknown field {other:?}"),
    })
}
