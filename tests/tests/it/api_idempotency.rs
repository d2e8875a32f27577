//! `Idempotency-Key` on `POST /add-user` and `POST /users`, on every stack: a repeat answers as the
//! first request did and writes nothing, another body with the same key is refused, concurrent
//! requests with one key create one user; through the Data API, a retry after an unknown outcome
//! (a 500 injected after the INSERT ran) finds the user the first attempt created.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, ensure};
use integration_tests::{Backend, Stack, TestApp};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

crate::on_every_stack!(
    a_repeated_key_answers_as_the_first_request_and_writes_nothing,
    a_key_reused_with_another_body_is_refused_with_422,
    fifty_concurrent_requests_with_ten_keys_create_ten_users,
    bad_keys_are_refused_and_no_key_changes_nothing,
);

/// Scenarios of the Data API stack only: `idempotency_through_data_api::{mariadb,postgres}::…`.
mod idempotency_through_data_api {
    use super::*;
    crate::on_data_api_engines!(a_retry_after_an_unknown_outcome_finds_the_first_user);
}

/// `POST path` with `body` and, when given, `Idempotency-Key: key`: status, headers, JSON body.
async fn post_keyed(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    body: &Value,
) -> Result<(u16, reqwest::header::HeaderMap, Value)> {
    let mut request = app
        .client
        .post(format!("{}{path}", app.base_url))
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .json()
        .await
        .with_context(|| format!("POST {path}: body is not JSON"))?;
    Ok((status, headers, body))
}

fn replayed(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

async fn a_repeated_key_answers_as_the_first_request_and_writes_nothing(
    stack: Stack,
) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let ada = json!({"firstName": "Ada", "lastName": "Lovelace"});
    let key = "8e03978e-40d5-43e8-bc93-6894a57f9324";

    let (status, headers, first) = post_keyed(&app, "/add-user", Some(key), &ada).await?;
    ensure!(status == 200, "{status} {first}");
    ensure!(!replayed(&headers), "the first answer is not a replay");
    let id = first["userId"].as_str().context("userId")?.to_owned();
    let uuid = uuid::Uuid::parse_str(&id)?;
    ensure!(
        uuid.get_version_num() == 5,
        "an id derived from the key: {id}"
    );
    ensure!(app.user_count().await? == 2, "seed + one");
    for _ in 0..2 {
        // The quoted (structured-field) form is the same key.
        let (status, headers, again) =
            post_keyed(&app, "/add-user", Some(&format!("\"{key}\"")), &ada).await?;
        ensure!(status == 200 && again == first, "{status} {again}");
        ensure!(replayed(&headers), "marked as a replay");
    }
    ensure!(app.user_count().await? == 2, "a repeat writes nothing");
    let stored = entity::prelude::Users::find_by_id(id.clone())
        .one(&app.db)
        .await?
        .context("the user is stored under the answered id")?;
    ensure!(stored.first_name == "Ada" && stored.last_name == "Lovelace");

    // POST /users: 201 with Location, the same answer again; the key is scoped to its route.
    let (status, headers, created) = post_keyed(&app, "/users", Some(key), &ada).await?;
    ensure!(status == 201, "{status} {created}");
    let user_id = created["id"].as_str().context("id")?.to_owned();
    ensure!(user_id != id, "a key is scoped to its route");
    let location = headers.get("location").cloned().context("Location")?;
    let (status, headers, again) = post_keyed(&app, "/users", Some(key), &ada).await?;
    ensure!(
        status == 201 && again == created && headers.get("location") == Some(&location),
        "{status} {again}"
    );
    ensure!(replayed(&headers));
    ensure!(app.user_count().await? == 3);
    app.stop().await
}

async fn a_key_reused_with_another_body_is_refused_with_422(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let key = "reused-key";
    for path in ["/add-user", "/users"] {
        let (status, _, first) = post_keyed(
            &app,
            path,
            Some(key),
            &json!({"firstName": "Grace", "lastName": "Hopper"}),
        )
        .await?;
        ensure!(status == 200 || status == 201, "{path}: {status} {first}");
        let before = app.user_count().await?;
        for other in [
            json!({"firstName": "Grace", "lastName": "Murray"}),
            json!({"firstName": "Alan", "lastName": "Hopper"}),
            json!({"firstName": "grace", "lastName": "hopper"}),
        ] {
            let (status, headers, body) = post_keyed(&app, path, Some(key), &other).await?;
            ensure!(status == 422, "{path} {other}: {status} {body}");
            ensure!(headers["content-type"] == "application/json");
            ensure!(
                body["error"]["code"] == "idempotency_key_reused",
                "{path}: {body}"
            );
        }
        ensure!(app.user_count().await? == before, "{path}: nothing written");
        // Fields the service ignores are not part of the request: still the same request.
        let (status, _, again) = post_keyed(
            &app,
            path,
            Some(key),
            &json!({"lastName": "Hopper", "firstName": "Grace", "note": 1}),
        )
        .await?;
        ensure!(
            (status == 200 || status == 201) && again == first,
            "{path}: {status} {again}"
        );
    }
    let stored = entity::prelude::Users::find().all(&app.db).await?;
    ensure!(
        stored
            .iter()
            .filter(|u| u.first_name == "Grace" && u.last_name == "Hopper")
            .count()
            == 2,
        "{stored:?}"
    );
    app.stop().await
}

async fn fifty_concurrent_requests_with_ten_keys_create_ten_users(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let before = app.user_count().await?;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/users", app.base_url);
        let key = format!("concurrent-{}", i % 10);
        tasks.spawn(async move {
            let response = client
                .post(url)
                .header("Idempotency-Key", &key)
                .json(&json!({"firstName": key, "lastName": "Concurrent"}))
                .send()
                .await?;
            let status = response.status().as_u16();
            let body: Value = response.json().await?;
            Ok::<_, anyhow::Error>((key, status, body))
        });
    }
    let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (key, status, body) = joined??;
        *statuses.entry(status).or_default() += 1;
        ensure!(
            status == 201 || (status == 409 && body["error"]["code"] == "idempotency_key_in_use"),
            "{key}: {status} {body}"
        );
        if status == 201 {
            ensure!(body["firstName"] == key.as_str(), "{body}");
            ids.entry(key)
                .or_default()
                .insert(body["id"].as_str().context("id")?.to_owned());
        }
    }
    ensure!(
        ids.len() == 10,
        "every key answered 201 at least once: {statuses:?}"
    );
    ensure!(
        ids.values().all(|ids| ids.len() == 1),
        "one id per key: {ids:?}"
    );
    ensure!(
        app.user_count().await? == before + 10,
        "{} rows for 10 keys ({statuses:?})",
        app.user_count().await? - before
    );
    app.stop().await
}

async fn bad_keys_are_refused_and_no_key_changes_nothing(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let body = json!({"firstName": "No", "lastName": "Key"});
    for bad in ["", "\"unterminated", &"k".repeat(256)] {
        let (status, _, answer) = post_keyed(&app, "/add-user", Some(bad), &body).await?;
        ensure!(status == 400, "{bad:?}: {status} {answer}");
        ensure!(
            answer["error"]["code"] == "invalid_idempotency_key",
            "{answer}"
        );
    }
    ensure!(app.user_count().await? == 1, "a refused key writes nothing");
    // Without the header, two identical requests are two users with random (v4) ids.
    let (_, _, a) = post_keyed(&app, "/add-user", None, &body).await?;
    let (_, _, b) = post_keyed(&app, "/add-user", None, &body).await?;
    ensure!(a["userId"] != b["userId"], "{a} {b}");
    for id in [&a["userId"], &b["userId"]] {
        let id = uuid::Uuid::parse_str(id.as_str().context("userId")?)?;
        ensure!(id.get_version_num() == 4, "{id}");
    }
    ensure!(app.user_count().await? == 3);
    app.stop().await
}

async fn a_retry_after_an_unknown_outcome_finds_the_first_user(backend: Backend) -> Result<()> {
    let app = TestApp::spawn_data_api(backend).await?;
    let faults = app.emulator().context("emulator")?.faults();
    for (path, key) in [("/add-user", "ambiguous-1"), ("/users", "ambiguous-2")] {
        let body = json!({"firstName": "Ambiguous", "lastName": path});
        // The INSERT runs, then the Data API answers 500: the service cannot know it happened.
        faults
            .inject(serde_json::from_value(json!({
                "operation": "ExecuteStatement",
                "error": "InternalServerErrorException",
                "sqlContains": "INSERT",
                "when": "after",
                "count": 1,
            }))?)
            .map_err(anyhow::Error::msg)?;
        let before = app.user_count().await?;
        let (status, _, first) = post_keyed(&app, path, Some(key), &body).await?;
        ensure!(status == 503, "{path}: {status} {first}");
        ensure!(first["error"]["code"] == "outcome_unknown", "{first}");
        ensure!(app.user_count().await? == before + 1, "the INSERT ran");

        // The client's retry with the same key: the user the first attempt created, same id.
        let (status, headers, retried) = post_keyed(&app, path, Some(key), &body).await?;
        ensure!(status == 200 || status == 201, "{path}: {status} {retried}");
        ensure!(replayed(&headers), "{path}: a replay");
        let id = retried
            .get("userId")
            .or_else(|| retried.get("id"))
            .and_then(Value::as_str)
            .context("the id")?
            .to_owned();
        let (_, _, again) = post_keyed(&app, path, Some(key), &body).await?;
        ensure!(again == retried, "{again} {retried}");
        ensure!(
            app.user_count().await? == before + 1,
            "{path}: exactly one row"
        );
        let rows: Vec<_> = entity::prelude::Users::find()
            .all(&app.db)
            .await?
            .into_iter()
            .filter(|u| u.last_name == path)
            .collect();
        ensure!(rows.len() == 1 && rows[0].id == id, "{rows:?} vs {id}");
    }
    app.stop().await
}
