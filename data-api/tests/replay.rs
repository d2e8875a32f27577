//! Replay tests: responses recorded from real Aurora and published, served by a canned-response HTTP
//! server to a real `aws-sdk-rdsdata` client, and decoded by the adapter into SeaORM models, rows
//! and results. The expected values are written from the captures themselves, not from our
//! emulator.
//!
//! The captures (MIT licence) are copied unchanged into `tests/fixtures/captures/`:
//!
//! - `test-sample-query-response.json`:
//!   <https://github.com/jeremydaly/data-api-client/blob/0aca579320d7a638cda63be844624910948734d8/test/sample-query-response.json>
//! - `fixtures-sample-query-response.json`:
//!   <https://github.com/jeremydaly/data-api-client/blob/fae0a9a31562fcc25d50db36dee2516bacf1af4a/fixtures/sample-query-response.json>
//! - `fixtures-sample-insert-response.json`:
//!   <https://github.com/jeremydaly/data-api-client/blob/8a1540f6a5dc65da48965bfd8be4de63cf69b91f/fixtures/sample-insert-response.json>
//! - `test-sample-update-response.json`:
//!   <https://github.com/jeremydaly/data-api-client/blob/1260e90594a9a8e292001f798e5f93f7f39e4613/test/sample-update-response.json>
//! - `test-sample-batch-insert-response.json`:
//!   <https://github.com/jeremydaly/data-api-client/blob/1260e90594a9a8e292001f798e5f93f7f39e4613/test/sample-batch-insert-response.json>
//!   and `fixtures-sample-batch-delete-response.json`:
//!   <https://github.com/jeremydaly/data-api-client/blob/8a1540f6a5dc65da48965bfd8be4de63cf69b91f/fixtures/sample-batch-delete-response.json>
//!   are kept for reference only: the adapter never calls `BatchExecuteStatement` (SeaORM sends a
//!   multi-row insert as one statement).
//!
//! The captures are MySQL answers (Connector/J type names: `INT UNSIGNED`, `VARCHAR`, `TIMESTAMP`).
//! `test/sample-query-response.json` also has a `tags` column of type `_VARCHAR` with an
//! `arrayValue`, which the adapter decodes as an array of strings.

#![allow(
    unreachable_pub,
    reason = "SeaORM's derives make the test-local entities' items pub"
)]

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, ensure};
use axum::body::Bytes;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use data_api::{Config, DataApi, Engine};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, Statement};
use serde_json::Value as Json;

/// The `cats` table the captures were recorded from (MySQL), as a SeaORM entity.
mod cats {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cats")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: u32,
        pub name: Option<String>,
        pub description: Option<String>,
        pub created: DateTime<Utc>,
        pub modified: DateTime<Utc>,
        pub deleted: Option<DateTime<Utc>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `cats` with the `tags` column of `test/sample-query-response.json`.
mod tagged_cats {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cats")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: u32,
        pub name: Option<String>,
        pub description: Option<String>,
        pub created: DateTime<Utc>,
        pub modified: DateTime<Utc>,
        pub deleted: Option<DateTime<Utc>>,
        pub tags: Option<Vec<String>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn capture(name: &str) -> Result<String> {
    let path = format!(
        "{}/tests/fixtures/captures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).with_context(|| path)
}

/// A request the canned server received: its path and JSON body.
type Received = Arc<Mutex<Vec<(String, Json)>>>;

/// Serves `body` as the answer to every Data API call on `127.0.0.1:<ephemeral>`, and records the
/// requests. Returns the adapter pointed at it (MySQL: the captures' engine) and the record.
async fn replay(body: String) -> Result<(DataApi, Received)> {
    let received: Received = Arc::default();
    let record = received.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, request: Bytes| {
        let (body, record) = (body.clone(), record.clone());
        async move {
            let json = serde_json::from_slice(&request).unwrap_or(Json::Null);
            if let Ok(mut record) = record.lock() {
                record.push((uri.path().to_owned(), json));
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let shared = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "replay"),
            ),
        )
        .endpoint_url(format!("http://{addr}"))
        .build();
    let config = Config::new(
        "arn:aws:rds:us-east-1:123456789012:cluster:replay",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:replay",
        "replay",
        Engine::MySql,
    );
    Ok((DataApi::with_sdk_config(&shared, config), received))
}

fn at(date: (i32, u32, u32), time: (u32, u32, u32)) -> Result<DateTime<Utc>> {
    Ok(NaiveDate::from_ymd_opt(date.0, date.1, date.2)
        .context("date")?
        .and_hms_opt(time.0, time.1, time.2)
        .context("time")?
        .and_utc())
}

/// The two rows of the captured `cats` query, as the capture's records spell them.
fn captured_cats() -> Result<Vec<cats::Model>> {
    Ok(vec![
        cats::Model {
            id: 1,
            name: Some("Category 1".into()),
            description: None,
            created: at((2019, 11, 12), (22, 0, 11))?,
            modified: at((2019, 11, 12), (22, 15, 25))?,
            deleted: None,
        },
        cats::Model {
            id: 2,
            name: Some("Category 2".into()),
            description: Some("Description of Category 2".into()),
            created: at((2019, 11, 12), (22, 17, 11))?,
            modified: at((2019, 11, 12), (22, 21, 36))?,
            deleted: None,
        },
    ])
}

#[tokio::test]
async fn a_captured_query_decodes_into_models() -> Result<()> {
    let (api, received) = replay(capture("fixtures-sample-query-response.json")?).await?;
    let db = api.connection()?;
    let cats = cats::Entity::find()
        .order_by_asc(cats::Column::Id)
        .all(&db)
        .await?;
    ensure!(cats == captured_cats()?, "{cats:#?}");

    // What the adapter asked for: the statement with its result metadata.
    let received = received.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let (path, request) = received.first().context("one request")?;
    ensure!(path == "/Execute", "{path}");
    ensure!(
        request["includeResultMetadata"] == Json::Bool(true),
        "{request}"
    );
    ensure!(
        request["resourceArn"] == "arn:aws:rds:us-east-1:123456789012:cluster:replay",
        "{request}"
    );
    Ok(())
}

#[tokio::test]
async fn a_captured_query_decodes_into_raw_rows_by_name_and_position() -> Result<()> {
    let (api, _) = replay(capture("fixtures-sample-query-response.json")?).await?;
    let db = api.connection()?;
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT * FROM cats",
        ))
        .await?;
    ensure!(rows.len() == 2, "{rows:?}");
    let second = &rows[1];
    ensure!(second.try_get::<u32>("", "id")? == 2);
    ensure!(
        second
            .try_get::<Option<String>>("", "description")?
            .as_deref()
            == Some("Description of Category 2")
    );
    ensure!(
        second
            .try_get::<Option<DateTime<Utc>>>("", "deleted")?
            .is_none()
    );
    // By position, in the capture's column order.
    let tuple: (u32, Option<String>, Option<String>) = (
        second.try_get_by_index(0)?,
        second.try_get_by_index(1)?,
        second.try_get_by_index(2)?,
    );
    ensure!(
        tuple
            == (
                2,
                Some("Category 2".into()),
                Some("Description of Category 2".into())
            ),
        "{tuple:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_captured_query_with_an_array_column_decodes() -> Result<()> {
    let (api, _) = replay(capture("test-sample-query-response.json")?).await?;
    let db = api.connection()?;
    let cats = tagged_cats::Entity::find().all(&db).await?;
    let expected: Vec<tagged_cats::Model> = captured_cats()?
        .into_iter()
        .zip([Some(vec!["tag1".to_owned(), "tag2".to_owned()]), None])
        .map(|(cat, tags)| tagged_cats::Model {
            id: cat.id,
            name: cat.name,
            description: cat.description,
            created: cat.created,
            modified: cat.modified,
            deleted: cat.deleted,
            tags,
        })
        .collect();
    ensure!(cats == expected, "{cats:#?}");
    Ok(())
}

#[tokio::test]
async fn a_captured_insert_gives_the_generated_key() -> Result<()> {
    let (api, received) = replay(capture("fixtures-sample-insert-response.json")?).await?;
    let db = api.connection()?;
    let now = at((2019, 11, 12), (22, 0, 11))?;
    let inserted = cats::Entity::insert(cats::ActiveModel {
        name: Set(Some("Category 3".into())),
        description: Set(None),
        created: Set(now),
        modified: Set(now),
        deleted: Set(None),
        ..Default::default()
    })
    .exec(&db)
    .await?;
    // `generatedFields: [{"longValue": 315}]`.
    ensure!(
        inserted.last_insert_id == 315,
        "{}",
        inserted.last_insert_id
    );
    let raw = db
        .execute(Statement::from_string(
            db.get_database_backend(),
            "INSERT INTO cats (name) VALUES ('x')",
        ))
        .await?;
    // `numberOfRecordsUpdated: 1`.
    ensure!(raw.rows_affected() == 1 && raw.last_insert_id() == 315);

    let received = received.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let (_, request) = received.first().context("one request")?;
    let parameters = request["parameters"].as_array().context("parameters")?;
    // Typed parameters: the name as a string, the TIMESTAMP with its hint, NULL as isNull.
    ensure!(
        parameters
            .iter()
            .any(|p| p["value"]["stringValue"] == "Category 3"),
        "{request}"
    );
    ensure!(
        parameters
            .iter()
            .any(|p| p["typeHint"] == "TIMESTAMP"
                && p["value"]["stringValue"] == "2019-11-12 22:00:11"),
        "{request}"
    );
    ensure!(
        parameters.iter().any(|p| p["value"]["isNull"] == true),
        "{request}"
    );
    Ok(())
}

#[tokio::test]
async fn a_captured_update_gives_the_rows_affected() -> Result<()> {
    let (api, _) = replay(capture("test-sample-update-response.json")?).await?;
    let db = api.connection()?;
    let updated = cats::Entity::update_many()
        .col_expr(cats::Column::Name, Expr::value("Category 4"))
        .filter(cats::Column::Id.eq(2u32))
        .exec(&db)
        .await?;
    // `numberOfRecordsUpdated: 1`, `generatedFields: []`.
    ensure!(updated.rows_affected == 1, "{}", updated.rows_affected);
    Ok(())
}
