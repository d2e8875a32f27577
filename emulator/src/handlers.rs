//! One function per operation: check the request, run it on the backend, shape the answer.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;

use std::future::Future;

use crate::backend::{Conn, DbUser, Engine, StatementOutput};
use crate::faults::Operation;
use crate::params::{self, Rewritten};
use crate::protocol::error::{ApiError, ErrorCode};
use crate::protocol::{
    BatchExecuteStatementRequest, BatchExecuteStatementResponse, BeginTransactionRequest,
    BeginTransactionResponse, ColumnMetadata, EndTransactionRequest, EndTransactionResponse,
    ExecuteStatementRequest, ExecuteStatementResponse, Field, RecordsFormatType, UpdateResult,
    records,
};
use crate::transactions::InUse;
use crate::values::bind_values;
use crate::{AppState, Target};

/// The model's length limits on text members.
const MAX_SQL_CHARS: usize = 65_536;
const MAX_NAME_CHARS: usize = 64;
const MAX_TRANSACTION_ID_CHARS: usize = 192;
const ARN_CHARS: std::ops::RangeInclusive<usize> = 11..=570;

fn body<T>(request: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    request.map(|Json(body)| body).map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::bad_request("The request body exceeds the request size limit")
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

fn check_len(member: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            format!("{member} must be at most {max} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// Finds the cluster and the database user the secret names (`None`: the URL's user); `not_found` is
/// the error code for an unknown cluster ARN on this operation.
fn target<'a>(
    state: &'a AppState,
    resource_arn: &str,
    secret_arn: &str,
    not_found: ErrorCode,
) -> Result<(&'a Target, Option<&'a DbUser>), ApiError> {
    for (member, arn) in [("resourceArn", resource_arn), ("secretArn", secret_arn)] {
        if !ARN_CHARS.contains(&arn.chars().count()) {
            return Err(ApiError::new(
                ErrorCode::ValidationException,
                format!("{member} must be 11 to 570 characters"),
            ));
        }
    }
    let target = state
        .targets
        .iter()
        .find(|t| t.resource_arn == resource_arn)
        .ok_or_else(|| {
            ApiError::new(
                not_found,
                format!("Database cluster {resource_arn} not found"),
            )
        })?;
    if target.secret_arn == secret_arn {
        return Ok((target, None));
    }
    match state.secrets.get(secret_arn) {
        Some(user) => Ok((target, Some(user))),
        None => Err(ApiError::new(
            ErrorCode::SecretsErrorException,
            format!("The secret {secret_arn} cannot be used with cluster {resource_arn}"),
        )),
    }
}

/// The cluster for a statement or `BeginTransaction`: ARNs known, no `schema` (refused on v2), a
/// `database` name within the model's 64 characters.
fn cluster<'a>(
    state: &'a AppState,
    resource_arn: &str,
    secret_arn: &str,
    schema: Option<&str>,
    database: Option<&str>,
) -> Result<(&'a Target, Option<&'a DbUser>), ApiError> {
    let (target, user) = target(
        state,
        resource_arn,
        secret_arn,
        ErrorCode::BadRequestException,
    )?;
    if schema.is_some() {
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            "The schema parameter isn't supported.",
        ));
    }
    if let Some(database) = database {
        check_len("database", database, MAX_NAME_CHARS)?;
    }
    Ok((target, user))
}

fn prepare_sql(sql: &str, engine: Engine) -> Result<Rewritten, ApiError> {
    check_len("sql", sql, MAX_SQL_CHARS)?;
    if sql.trim().is_empty() {
        return Err(ApiError::bad_request("sql must not be empty"));
    }
    let rewritten = params::rewrite(sql, engine.dialect());
    if rewritten.multiple_statements {
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            "Multistatements aren't supported.",
        ));
    }
    Ok(rewritten)
}

/// `POST /Execute`.
#[tracing::instrument(skip_all, fields(op = "ExecuteStatement"))]
pub async fn execute_statement(
    State(state): State<AppState>,
    request: Result<Json<ExecuteStatementRequest>, JsonRejection>,
) -> Result<Json<ExecuteStatementResponse>, ApiError> {
    let request = body(request)?;
    let (target, user) = cluster(
        &state,
        &request.resource_arn,
        &request.secret_arn,
        request.schema.as_deref(),
        request.database.as_deref(),
    )?;
    let engine = target.server.engine();
    let statement = prepare_sql(&request.sql, engine)?;
    let values = bind_values(&statement.binds, &request.parameters)?;
    let metadata = request.include_result_metadata;
    check_faults(
        &state,
        Operation::ExecuteStatement,
        Some(&request.sql),
        &request.resource_arn,
    )?;
    let mut session = session(
        &state,
        target,
        &request.resource_arn,
        request.transaction_id.as_deref(),
        request.database.as_deref(),
        user,
    )
    .await?;
    let connection_id = session.conn().id();
    let max_response_bytes = state.limits.max_response_bytes;
    let output = under_timeout(
        &state,
        target,
        connection_id,
        request.continue_after_timeout,
        async move {
            let output = session
                .conn()
                .execute(&statement, values, metadata, max_response_bytes)
                .await;
            drop(session);
            Ok(output?)
        },
    )
    .await;
    let response = output.and_then(|output| respond(&state, engine, output, &request));
    if let (Some(id), Err(error)) = (&request.transaction_id, &response)
        && error.is_response_too_large()
    {
        // v2 ends the transaction when a result is too large.
        state.transactions.end_in_background(id);
    }
    let response = response?;
    state
        .faults
        .after(Operation::ExecuteStatement, Some(&request.sql))?;
    Ok(Json(response))
}

/// The pause state and `before` rules for a call that passed validation.
fn check_faults(
    state: &AppState,
    operation: Operation,
    sql: Option<&str>,
    resource_arn: &str,
) -> Result<(), ApiError> {
    state
        .faults
        .before(operation, sql, resource_arn, state.transactions.any_open())
}

/// Runs `work` (which owns its connection or transaction) under the statement timeout.
///
/// The work runs on a task of its own, so a client that hangs up abandons neither the statement nor
/// its cancellation. When the timeout passes the call fails with
/// `StatementTimeoutException` naming the connection; the statement is cancelled on the server
/// (`KILL QUERY` / `pg_cancel_backend`) and awaited, unless `continue_after_timeout`, in which case it
/// runs on and its connection (or transaction) stays busy until it ends.
async fn under_timeout<T: Send + 'static>(
    state: &AppState,
    target: &Target,
    connection_id: u64,
    continue_after_timeout: bool,
    work: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Result<T, ApiError> {
    let limit = state.limits.statement_timeout;
    let server = target.server.clone();
    let watched = async move {
        // The statement runs inline in this task; only a statement left running past its timeout
        // (continueAfterTimeout) moves to a task of its own.
        let mut work = Box::pin(work);
        match tokio::time::timeout(limit, work.as_mut()).await {
            Ok(output) => output,
            Err(_) => {
                let seconds = limit.as_secs_f64();
                if continue_after_timeout {
                    tracing::info!(
                        connection = connection_id,
                        "statement timed out; it continues (continueAfterTimeout)"
                    );
                    tokio::spawn(work);
                    return Err(ApiError::statement_timeout(
                        format!(
                            "The statement did not finish within the {seconds} s statement timeout; \
                             it continues to run because continueAfterTimeout is true"
                        ),
                        connection_id,
                    ));
                }
                if let Err(error) = server.cancel(connection_id).await {
                    tracing::warn!(connection = connection_id, %error, "cancelling a timed-out statement failed");
                }
                // Wait for the cancelled statement, so its connection is idle (or its transaction
                // free) again before the caller hears of the timeout.
                let _ = work.await;
                Err(ApiError::statement_timeout(
                    format!(
                        "The statement did not finish within the {seconds} s statement timeout and was cancelled"
                    ),
                    connection_id,
                ))
            }
        }
    };
    tokio::spawn(watched)
        .await
        .unwrap_or_else(|e| Err(task_failed(&e)))
}

fn task_failed(error: &tokio::task::JoinError) -> ApiError {
    tracing::error!(%error, "a statement task failed");
    ApiError::new(
        ErrorCode::InternalServerErrorException,
        "the emulator failed while running the statement",
    )
}

/// Where a statement runs: a pooled connection (autocommit) or a transaction locked for it.
enum Session {
    Pooled(Conn),
    Transaction(InUse),
}

impl Session {
    fn conn(&mut self) -> &mut Conn {
        match self {
            Session::Pooled(conn) => conn,
            Session::Transaction(in_use) => in_use.conn(),
        }
    }
}

/// The transaction named by `transaction_id` (checked and locked), or a connection to `database`.
async fn session(
    state: &AppState,
    target: &Target,
    resource_arn: &str,
    transaction_id: Option<&str>,
    database: Option<&str>,
    user: Option<&DbUser>,
) -> Result<Session, ApiError> {
    match transaction_id {
        Some(id) => {
            check_len("transactionId", id, MAX_TRANSACTION_ID_CHARS)?;
            state
                .transactions
                .statement(id, resource_arn)
                .map(Session::Transaction)
        }
        None => target
            .server
            .acquire(database, user)
            .await
            .map(Session::Pooled)
            .map_err(ApiError::from),
    }
}

fn generated_fields(engine: Engine, output: &StatementOutput) -> Vec<Field> {
    match engine {
        Engine::MySql if output.last_insert_id > 0 => {
            vec![Field::LongValue(
                i64::try_from(output.last_insert_id).unwrap_or(i64::MAX),
            )]
        }
        _ => Vec::new(),
    }
}

fn respond(
    state: &AppState,
    engine: Engine,
    output: StatementOutput,
    request: &ExecuteStatementRequest,
) -> Result<ExecuteStatementResponse, ApiError> {
    let generated = generated_fields(engine, &output);
    let options = request.result_set_options.unwrap_or_default();
    let records: Option<Vec<Vec<Field>>> = output.records.map(|rows| {
        rows.into_iter()
            .map(|values| records::row(values, options))
            .collect()
    });
    if let (Some(limit), Some(records)) = (state.limits.max_row_bytes, &records) {
        check_row_sizes(records, limit)?;
    }
    let columns: Vec<ColumnMetadata> = output.columns.into_iter().map(Into::into).collect();
    let mut response = ExecuteStatementResponse {
        number_of_records_updated: i64::try_from(output.rows_affected).unwrap_or(i64::MAX),
        generated_fields: Some(generated),
        ..ExecuteStatementResponse::default()
    };
    match (request.format_records_as, records) {
        (_, None) => {}
        (RecordsFormatType::None, Some(records)) => {
            response.records = Some(records);
            if request.include_result_metadata {
                response.column_metadata = Some(columns);
            }
        }
        (RecordsFormatType::Json, Some(records)) => {
            response.formatted_records = Some(json_records(&columns, records)?);
        }
    }
    let size = serde_json::to_vec(&response).map_or(0, |bytes| bytes.len());
    if size > state.limits.max_response_bytes {
        return Err(ApiError::response_too_large(&format!(
            "{size} bytes > {} bytes",
            state.limits.max_response_bytes
        )));
    }
    Ok(response)
}

/// The optional row size limit (AWS documents 64 KB per row).
fn check_row_sizes(records: &[Vec<Field>], limit: usize) -> Result<(), ApiError> {
    for (index, row) in records.iter().enumerate() {
        let size = serde_json::to_vec(row).map_or(0, |bytes| bytes.len());
        if size > limit {
            return Err(ApiError::new(
                ErrorCode::UnsupportedResultException,
                format!(
                    "Row {index} of the result is {size} bytes, over the row size limit of {limit} bytes"
                ),
            ));
        }
    }
    Ok(())
}

/// `formatRecordsAs: JSON`: one JSON array of objects keyed by column name.
fn json_records(columns: &[ColumnMetadata], records: Vec<Vec<Field>>) -> Result<String, ApiError> {
    let mut names = std::collections::HashSet::new();
    for column in columns {
        if !names.insert(column.name.as_str()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedResultException,
                format!(
                    "The result contains the duplicate column name {}",
                    column.name
                ),
            ));
        }
    }
    let rows: Vec<serde_json::Value> = records
        .into_iter()
        .map(|row| {
            serde_json::Value::Object(
                columns
                    .iter()
                    .zip(row)
                    .map(|(column, field)| (column.name.clone(), json_value(field)))
                    .collect(),
            )
        })
        .collect();
    Ok(serde_json::Value::Array(rows).to_string())
}

fn json_value(field: Field) -> serde_json::Value {
    use serde_json::Value;
    match field {
        Field::IsNull(_) => Value::Null,
        Field::BooleanValue(v) => Value::Bool(v),
        Field::LongValue(v) => Value::from(v),
        Field::DoubleValue(v) => Value::from(v),
        Field::StringValue(v) => Value::String(v),
        Field::BlobValue(v) => serde_json::to_value(v).unwrap_or(Value::Null),
        Field::ArrayValue(v) => serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_object().and_then(|o| o.values().next().cloned()))
            .unwrap_or(Value::Null),
    }
}

/// `POST /BatchExecute`: the SQL once per parameter set, each autocommitted unless in a transaction.
#[tracing::instrument(skip_all, fields(op = "BatchExecuteStatement"))]
pub async fn batch_execute_statement(
    State(state): State<AppState>,
    request: Result<Json<BatchExecuteStatementRequest>, JsonRejection>,
) -> Result<Json<BatchExecuteStatementResponse>, ApiError> {
    let request = body(request)?;
    let (target, user) = cluster(
        &state,
        &request.resource_arn,
        &request.secret_arn,
        request.schema.as_deref(),
        request.database.as_deref(),
    )?;
    let engine = target.server.engine();
    let statement = prepare_sql(&request.sql, engine)?;
    let sets = request
        .parameter_sets
        .iter()
        .map(|set| bind_values(&statement.binds, set))
        .collect::<Result<Vec<_>, _>>()?;
    check_faults(
        &state,
        Operation::BatchExecuteStatement,
        Some(&request.sql),
        &request.resource_arn,
    )?;
    let mut session = session(
        &state,
        target,
        &request.resource_arn,
        request.transaction_id.as_deref(),
        request.database.as_deref(),
        user,
    )
    .await?;
    let connection_id = session.conn().id();
    let update_results = under_timeout(&state, target, connection_id, false, async move {
        let mut update_results = Vec::with_capacity(sets.len());
        for values in sets {
            let output = session
                .conn()
                .execute(&statement, values, false, usize::MAX)
                .await?;
            update_results.push(UpdateResult {
                generated_fields: generated_fields(engine, &output),
            });
        }
        Ok(update_results)
    })
    .await?;
    state
        .faults
        .after(Operation::BatchExecuteStatement, Some(&request.sql))?;
    Ok(Json(BatchExecuteStatementResponse { update_results }))
}

/// `POST /BeginTransaction`.
#[tracing::instrument(skip_all, fields(op = "BeginTransaction"))]
pub async fn begin_transaction(
    State(state): State<AppState>,
    request: Result<Json<BeginTransactionRequest>, JsonRejection>,
) -> Result<Json<BeginTransactionResponse>, ApiError> {
    let request = body(request)?;
    let (target, user) = cluster(
        &state,
        &request.resource_arn,
        &request.secret_arn,
        request.schema.as_deref(),
        request.database.as_deref(),
    )?;
    check_faults(
        &state,
        Operation::BeginTransaction,
        None,
        &request.resource_arn,
    )?;
    let conn = target
        .server
        .acquire(request.database.as_deref(), user)
        .await?;
    let transaction_id = state
        .transactions
        .begin(&request.resource_arn, target.server.engine(), conn)
        .await?;
    state.faults.after(Operation::BeginTransaction, None)?;
    Ok(Json(BeginTransactionResponse { transaction_id }))
}

/// `POST /CommitTransaction`.
#[tracing::instrument(skip_all, fields(op = "CommitTransaction"))]
pub async fn commit_transaction(
    State(state): State<AppState>,
    request: Result<Json<EndTransactionRequest>, JsonRejection>,
) -> Result<Json<EndTransactionResponse>, ApiError> {
    end_transaction(state, request, Operation::CommitTransaction).await
}

/// `POST /RollbackTransaction`.
#[tracing::instrument(skip_all, fields(op = "RollbackTransaction"))]
pub async fn rollback_transaction(
    State(state): State<AppState>,
    request: Result<Json<EndTransactionRequest>, JsonRejection>,
) -> Result<Json<EndTransactionResponse>, ApiError> {
    end_transaction(state, request, Operation::RollbackTransaction).await
}

async fn end_transaction(
    state: AppState,
    request: Result<Json<EndTransactionRequest>, JsonRejection>,
    operation: Operation,
) -> Result<Json<EndTransactionResponse>, ApiError> {
    let (commit, status) = match operation {
        Operation::CommitTransaction => (true, "Transaction Committed"),
        _ => (false, "Rollback Complete"),
    };
    let request = body(request)?;
    target(
        &state,
        &request.resource_arn,
        &request.secret_arn,
        ErrorCode::NotFoundException,
    )?;
    check_len(
        "transactionId",
        &request.transaction_id,
        MAX_TRANSACTION_ID_CHARS,
    )?;
    check_faults(&state, operation, None, &request.resource_arn)?;
    state
        .transactions
        .end(&request.transaction_id, &request.resource_arn, commit)
        .await?;
    state.faults.after(operation, None)?;
    Ok(Json(EndTransactionResponse {
        transaction_status: status.to_owned(),
    }))
}
