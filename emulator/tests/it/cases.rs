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

use super::{Emulator, Engine};

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
            let Some((name, engine, section)) = runs.next() else {
                break;
            };
            set.spawn(async move {
                let outcome = run_case(engine, &section).await;
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

async fn run_case(engine: Engine, section: &Value) -> Result<()> {
    let emulator = Emulator::spawn(engine).await?;
    for sql in section["setup"].as_array().into_iter().flatten() {
        emulator
            .database
            .execute(sql.as_str().context("setup entries are SQL strings")?)
            .await?;
    }
    let request = &section["request"];
    let mut call = emulator.execute(request["sql"].as_str().context("request.sql")?);
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
    if let Some(v) = request["formatRecordsAs"].as_str() {
        call = call.format_records_as(RecordsFormatType::from(v));
    }
    if let Some(v) = request["schema"].as_str() {
        call = call.schema(v);
    }
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
    let outcome = call.send().await;
    match (&section["expect"], &section["expectError"], outcome) {
        (expect, Value::Null, Ok(output)) if expect.is_object() => {
            let actual = json!({
                "records": output.records().iter().map(|row| row.iter().map(field_json).collect::<Result<Vec<_>>>()).collect::<Result<Vec<_>>>()?,
                "numberOfRecordsUpdated": output.number_of_records_updated(),
                "generatedFields": output.generated_fields().iter().map(field_json).collect::<Result<Vec<_>>>()?,
                "formattedRecords": output.formatted_records().map(serde_json::from_str::<Value>).transpose()?,
                "columnMetadata": output.column_metadata().iter().map(|c| json!({
                    "name": c.name(), "label": c.label(), "type": c.r#type(), "typeName": c.type_name(),
                    "isSigned": c.is_signed(), "nullable": c.nullable(),
                })).collect::<Vec<_>>(),
            });
            for (key, want) in expect.as_object().into_iter().flatten() {
                let got = &actual[key];
                let matches = match key.as_str() {
                    "columnMetadata" => partial_list(want, got),
                    _ => want == got,
                };
                ensure!(matches, "{key}: expected {want}, got {got}");
            }
            Ok(())
        }
        (Value::Null, want, Err(error)) if want.is_object() => {
            let code = error.code().unwrap_or_default().to_owned();
            let message = error.message().unwrap_or_default().to_owned();
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
            Ok(())
        }
        (_, want, Err(error)) if want.is_null() => bail!(
            "unexpected error: {}",
            aws_sdk_rdsdata::error::DisplayErrorContext(&error)
        ),
        (_, want, Ok(output)) => bail!("expected {want}, got success: {output:?}"),
        _ => bail!("a case section needs exactly one of expect / expectError"),
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
