//! A `lambda_http` handler on the Data API: one `DataApi` per process (made before the first
//! request, reused by every invocation), SeaORM in the handler, and 503 with `Retry-After` while
//! the cluster is waking.
//!
//! Build for Lambda with `cargo lambda build --release --example lambda_handler`; the function needs
//! `CLUSTER_ARN`, `SECRET_ARN`, `DATABASE_NAME` and `DATABASE_ENGINE`.

#![allow(unreachable_pub, reason = "the tests include this file as a module")]

use data_api::{Config, DataApi, Unavailable};
use lambda_http::{Body, Error, Request, Response, service_fn};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Answers with the number of tables in the database, as JSON.
pub async fn handler(db: &DatabaseConnection, _request: Request) -> Result<Response<Body>, Error> {
    let sql = "SELECT COUNT(*) AS n FROM information_schema.tables";
    let result = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await;
    let (status, body) = match result {
        Ok(row) => {
            let n: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
            (200, format!("{{\"tables\":{n}}}"))
        }
        Err(error) => match data_api::unavailable(&error) {
            Some(Unavailable::NotApplied) => (503, r#"{"error":"waking up"}"#.to_owned()),
            Some(_) => (503, r#"{"error":"outcome unknown"}"#.to_owned()),
            None => return Err(error.into()),
        },
    };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if status == 503 {
        response = response.header("retry-after", "5");
    }
    Ok(response.body(Body::from(body))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let api = DataApi::with_default_aws_config(Config::from_env()?).await;
    let db = api.connection()?;
    lambda_http::run(service_fn(|request| handler(&db, request))).await
}
