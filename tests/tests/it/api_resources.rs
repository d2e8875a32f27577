//! The resource API (`/users`, `/users/{id}`, `/health`, `/openapi.json`) on every stack, and what
//! only the Data API stack has: paging past its 1 MiB response limit, auto-pause and injected faults.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use integration_tests::{Backend, DataApiOptions, Stack, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

crate::on_every_stack!(
    create_read_and_page_users,
    list_parameters_are_validated,
    health_and_openapi_answer,
);

/// Scenarios of the Data API stack only: `through_data_api::{mariadb,postgres}::…`.
mod through_data_api {
    use super::*;
    crate::on_data_api_engines!(
        pages_25000_users_without_gaps_or_repeats,
        get_users_reads_past_the_1_mib_response_limit,
        auto_pause_is_waited_out_or_answered_503,
        ambiguous_and_refused_writes_never_write_twice,
        get_users_stops_reading_once_over_the_limit,
    );
}

async fn create_read_and_page_users(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let (status, headers, created) = app
        .post(
            "/users",
            &json!({"firstName": "Grace", "lastName": "Hopper"}),
        )
        .await?;
    ensure!(status == 201, "POST /users: {status} {created}");
    let id = created["id"].as_str().context("id")?.to_owned();
    ensure!(
        created == json!({"id": id, "firstName": "Grace", "lastName": "Hopper"}),
        "{created}"
    );
    let location = headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .context("Location header")?;
    ensure!(location == format!("/users/{id}"), "Location {location}");

    let (status, _, fetched) = app.get(location).await?;
    ensure!(
        status == 200 && fetched == created,
        "GET {location}: {status} {fetched}"
    );
    let (status, _, seeded) = app.get("/users/1").await?;
    ensure!(
        status == 200 && seeded == json!({"id": "1", "firstName": "John", "lastName": "Doe"}),
        "{status} {seeded}"
    );
    for missing in [
        "/users/nobody",
        "/users/%F0%9F%A6%80",
        &format!("/users/{}", "x".repeat(300)),
    ] {
        let (status, _, body) = app.get(missing).await?;
        ensure!(
            status == 404 && body["error"]["code"] == "not_found",
            "{missing}: {status} {body}"
        );
    }

    // Seven more users: nine in all, read in pages of two.
    for i in 0..7 {
        let (status, _, _) = app
            .post(
                "/users",
                &json!({"firstName": format!("P{i}"), "lastName": "Page"}),
            )
            .await?;
        ensure!(status == 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/users?limit=2&cursor={cursor}"),
            None => "/users?limit=2".to_owned(),
        };
        let (status, _, page) = app.get(&path).await?;
        ensure!(status == 200, "{path}: {status} {page}");
        let users = page["users"].as_array().context("users")?;
        ensure!(users.len() <= 2, "{page}");
        seen.extend(
            users
                .iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned)),
        );
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    ensure!(pages == 5, "{pages} pages for 9 users");
    let listed: Vec<String> = app
        .get_users()
        .await?
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect();
    ensure!(seen == listed, "pages {seen:?} != /get-users {listed:?}");
    ensure!(seen.len() == 9, "{seen:?}");
    // A last page that is exactly full says so: no cursor to an empty page.
    let (_, _, all) = app.get("/users?limit=9").await?;
    ensure!(
        all["users"].as_array().map(Vec::len) == Some(9) && all["nextCursor"].is_null(),
        "{all}"
    );
    app.stop().await
}

async fn list_parameters_are_validated(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    for (path, code, mentions) in [
        ("/users?limit=0", "invalid_query", "limit"),
        ("/users?limit=1001", "invalid_query", "limit"),
        ("/users?limit=-1", "invalid_query", "limit"),
        ("/users?limit=ten", "invalid_query", "limit"),
        ("/users?limit=", "invalid_query", "limit"),
        ("/users?cursor=!!!", "invalid_cursor", "cursor"),
        ("/users?cursor=_w", "invalid_cursor", "cursor"),
    ] {
        let (status, headers, body) = app.get(path).await?;
        ensure!(status == 400, "{path}: {status} {body}");
        ensure!(headers["content-type"] == "application/json", "{path}");
        ensure!(body["error"]["code"] == code, "{path}: {body}");
        ensure!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(mentions)),
            "{path}: {body}"
        );
    }
    // Unknown parameters are ignored; the largest limit is accepted.
    let (status, _, body) = app.get("/users?limit=1000&sort=desc").await?;
    ensure!(
        status == 200 && body["users"].as_array().map(Vec::len) == Some(1),
        "{body}"
    );
    app.stop().await
}

async fn health_and_openapi_answer(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let (status, _, health) = app.get("/health").await?;
    ensure!(
        status == 200 && health == json!({"status": "ok", "database": "ok"}),
        "{status} {health}"
    );
    let (status, headers, spec) = app.get("/openapi.json").await?;
    ensure!(status == 200, "{status}");
    ensure!(headers["content-type"] == "application/json");
    ensure!(spec["openapi"] == "3.1.0", "{spec}");
    let paths: HashSet<&str> = spec["paths"]
        .as_object()
        .context("paths")?
        .keys()
        .map(String::as_str)
        .collect();
    ensure!(
        paths
            == HashSet::from([
                "/add-user",
                "/get-users",
                "/users",
                "/users/{id}",
                "/health",
                "/openapi.json"
            ]),
        "{paths:?}"
    );
    app.stop().await
}

/// Inserts `count` users `u{i:06}` directly (multi-row INSERTs on the test's own connection), with
/// both names `name(i)`.
async fn insert_users(app: &TestApp, count: usize, name: impl Fn(usize) -> String) -> Result<()> {
    let backend = app.db.get_database_backend();
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from(if backend == sea_orm::DbBackend::Postgres {
            r#"INSERT INTO users (id, "firstName", "lastName") VALUES "#
        } else {
            "INSERT INTO users (id, firstName, lastName) VALUES "
        });
        let mut values = Vec::new();
        for (n, i) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push(',');
            }
            if backend == sea_orm::DbBackend::Postgres {
                let base = n * 3;
                sql.push_str(&format!("(${}, ${}, ${})", base + 1, base + 2, base + 3));
            } else {
                sql.push_str("(?, ?, ?)");
            }
            values.push(format!("u{i:06}").into());
            values.push(name(*i).into());
            values.push(name(*i).into());
        }
        app.db
            .execute(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

async fn pages_25000_users_without_gaps_or_repeats(backend: Backend) -> Result<()> {
    const USERS: usize = 25_000;
    let app = TestApp::spawn_data_api(backend).await?;
    insert_users(&app, USERS, |i| format!("User{i}")).await?;
    // Users added while paging: each may or may not be seen, but nothing repeats or goes missing.
    let writer = {
        let client = app.client.clone();
        let url = format!("{}/users", app.base_url);
        tokio::spawn(async move {
            let mut added = Vec::new();
            for i in 0..40 {
                let response = client
                    .post(&url)
                    .json(&json!({"firstName": format!("Late{i}"), "lastName": "Writer"}))
                    .send()
                    .await?;
                anyhow::ensure!(response.status() == 201, "late add: {}", response.status());
                let body: Value = response.json().await?;
                added.push(body["id"].as_str().unwrap_or_default().to_owned());
            }
            Ok::<_, anyhow::Error>(added)
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/users?limit=1000&cursor={cursor}"),
            None => "/users?limit=1000".to_owned(),
        };
        let (status, _, page) = app.get(&path).await?;
        ensure!(status == 200, "{path}: {status} {page}");
        seen.extend(
            page["users"]
                .as_array()
                .context("users")?
                .iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned)),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let late = writer.await??;
    let unique: HashSet<&String> = seen.iter().collect();
    ensure!(
        unique.len() == seen.len(),
        "{} repeats",
        seen.len() - unique.len()
    );
    ensure!(seen.windows(2).all(|w| w[0] < w[1]), "ids not in order");
    for i in 0..USERS {
        let id = format!("u{i:06}");
        ensure!(unique.contains(&id), "{id} missing");
    }
    ensure!(
        unique.contains(&"1".to_owned()),
        "the seeded user is missing"
    );
    let extra = seen.len() - USERS - 1;
    ensure!(
        extra <= late.len() && seen.iter().filter(|id| late.contains(id)).count() == extra,
        "{extra} ids neither loaded nor added late"
    );
    ensure!(app.user_count().await? == (USERS + 1 + late.len()) as u64);
    app.stop().await
}

async fn get_users_reads_past_the_1_mib_response_limit(backend: Backend) -> Result<()> {
    // 3,000 users with 255-character names of 3-byte characters: ~4.6 MB of names, and a page of
    // 1,000 rows (~1.5 MB) is itself over 1 MiB, so the service must page and halve.
    const USERS: usize = 3000;
    let app = TestApp::spawn_data_api(backend).await?;
    let long = |i: usize| format!("{:€<255}", format!("{i}"));
    insert_users(&app, USERS, long).await?;

    // The whole table in one statement is refused by the Data API: the test is meaningful.
    let emulator = app.emulator().context("emulator")?;
    let direct = emulator
        .data_api()
        .connection()?
        .query_all(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT * FROM users",
        ))
        .await
        .expect_err("over 1 MiB");
    ensure!(data_api::is_response_too_large(&direct), "{direct}");

    let users = app.get_users().await?;
    ensure!(users.len() == USERS + 1, "{} users", users.len());
    // Ordered by id: the seeded "1" first, then u000000…
    ensure!(users[0]["id"] == "1", "{}", users[0]);
    for (i, user) in users[1..].iter().enumerate() {
        let expected = json!({"id": format!("u{i:06}"), "firstName": long(i), "lastName": long(i)});
        ensure!(*user == expected, "user {i}: {user}");
    }
    let body_bytes = serde_json::to_vec(&users)?.len();
    ensure!(body_bytes > 4 * 1024 * 1024, "{body_bytes} bytes");

    // The largest page of the resource API is over 1 MiB too: still one answer, in order.
    let (status, _, page) = app.get("/users?limit=1000").await?;
    ensure!(status == 200, "{status} {page}");
    let ids: Vec<&str> = page["users"]
        .as_array()
        .context("users")?
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    ensure!(
        ids.len() == 1000 && ids[0] == "1" && ids[999] == "u000998",
        "{:?}",
        ids.last()
    );
    ensure!(page["nextCursor"].is_string(), "{}", page["nextCursor"]);
    app.stop().await?;

    // A deployment limit (Lambda's 6 MB in production) refuses an answer that would not fit.
    let app = TestApp::spawn_data_api_with(
        backend,
        DataApiOptions {
            get_users_max_bytes: Some(64 * 1024),
            ..DataApiOptions::default()
        },
    )
    .await?;
    insert_users(&app, 300, long).await?;
    let (status, _, body) = app.get("/get-users").await?;
    ensure!(status == 500, "{status} {body}");
    ensure!(body["error"]["code"] == "response_too_large", "{body}");
    ensure!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("GET /users")),
        "{body}"
    );
    app.stop().await
}

/// `GET /get-users` with a limit stops reading as soon as the rows read pass it: the second page's
/// query (the only one with a `WHERE`, after the first page's last id) would fail, and is never sent.
async fn get_users_stops_reading_once_over_the_limit(backend: Backend) -> Result<()> {
    let app = TestApp::spawn_data_api_with(
        backend,
        DataApiOptions {
            get_users_max_bytes: Some(20 * 1024),
            ..DataApiOptions::default()
        },
    )
    .await?;
    insert_users(&app, 1500, |i| format!("Name{i}")).await?;
    inject(
        &app,
        json!({"operation": "ExecuteStatement", "error": "DatabaseErrorException", "sqlContains": "WHERE"}),
    )?;
    let (status, _, body) = app.get("/get-users").await?;
    ensure!(status == 500, "{status} {body}");
    ensure!(
        body["error"]["code"] == "response_too_large",
        "the first page passed the limit, so no second query: {body}"
    );
    // The rule is live: a read that needs a second page fails on it.
    let (status, _, body) = app.get("/users?limit=1000&cursor=dTAwMDAwMA").await?;
    ensure!(
        status == 500 && body["error"]["code"] == "internal",
        "{status} {body}"
    );
    app.stop().await
}

fn inject(app: &TestApp, rule: Value) -> Result<()> {
    app.emulator()
        .context("emulator")?
        .faults()
        .inject(serde_json::from_value(rule)?)
        .map_err(anyhow::Error::msg)
}

async fn auto_pause_is_waited_out_or_answered_503(backend: Backend) -> Result<()> {
    let app = TestApp::spawn_data_api(backend).await?;
    let faults = app.emulator().context("emulator")?.faults();
    faults.set_auto_pause(Some(emulator::faults::AutoPause {
        after: Duration::from_secs(3600),
        resume: Duration::from_millis(1500),
    }));
    // Paused: the first request waits out the 1.5 s resume inside the 20 s budget.
    faults.pause();
    let (status, _, body) = app
        .post(
            "/add-user",
            &json!({"firstName": "Sleepy", "lastName": "Cluster"}),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    faults.pause();
    let (status, _, users) = app.get("/users").await?;
    ensure!(
        status == 200 && users["users"].as_array().map(Vec::len) == Some(2),
        "{users}"
    );
    ensure!(app.user_count().await? == 2, "one write");
    app.stop().await?;

    // A budget shorter than the resume: 503 with Retry-After, nothing written; later it works.
    let app = TestApp::spawn_data_api_with(
        backend,
        DataApiOptions {
            retry: data_api::RetryPolicy::default()
                .with_resume_budget(Duration::from_millis(300))
                .with_base_delay(Duration::from_millis(10)),
            ..DataApiOptions::default()
        },
    )
    .await?;
    let faults = app.emulator().context("emulator")?.faults();
    faults.set_auto_pause(Some(emulator::faults::AutoPause {
        after: Duration::from_secs(3600),
        resume: Duration::from_secs(2),
    }));
    faults.pause();
    let before = app.user_count().await?;
    for path in ["/add-user", "/users"] {
        let (status, headers, body) = app
            .post(path, &json!({"firstName": "Too", "lastName": "Early"}))
            .await?;
        ensure!(status == 503, "{path}: {status} {body}");
        ensure!(body["error"]["code"] == "database_unavailable", "{body}");
        ensure!(headers.get("retry-after").is_some(), "Retry-After");
    }
    let (status, _, health) = app.get("/health").await?;
    ensure!(
        status == 503 && health["database"] == "unavailable",
        "{status} {health}"
    );
    ensure!(
        app.user_count().await? == before,
        "nothing written while resuming"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, body) = app
        .post("/users", &json!({"firstName": "Later", "lastName": "On"}))
        .await?;
    ensure!(status == 201, "after the resume: {status} {body}");
    ensure!(app.user_count().await? == before + 1);
    app.stop().await
}

async fn ambiguous_and_refused_writes_never_write_twice(backend: Backend) -> Result<()> {
    let app = TestApp::spawn_data_api(backend).await?;
    // Throttled twice: refused before running, retried, written once.
    inject(
        &app,
        json!({"operation": "ExecuteStatement", "error": "ThrottlingException", "count": 2}),
    )?;
    let (status, _, body) = app
        .post(
            "/users",
            &json!({"firstName": "Throttled", "lastName": "Once"}),
        )
        .await?;
    ensure!(status == 201, "{status} {body}");
    ensure!(app.user_count().await? == 2);

    // A 500 after the INSERT ran: the outcome is unknown to the service, which says so and does not
    // repeat the INSERT; the user exists exactly once.
    for error in ["InternalServerErrorException", "ServiceUnavailableError"] {
        inject(
            &app,
            json!({"operation": "ExecuteStatement", "error": error, "when": "after", "count": 1}),
        )?;
        let before = app.user_count().await?;
        let (status, headers, body) = app
            .post(
                "/add-user",
                &json!({"firstName": "Ambiguous", "lastName": error}),
            )
            .await?;
        ensure!(status == 503, "{error}: {status} {body}");
        ensure!(body["error"]["code"] == "outcome_unknown", "{body}");
        ensure!(headers.get("retry-after").is_some(), "Retry-After");
        ensure!(
            !body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(error),
            "the cause leaked: {body}"
        );
        ensure!(
            app.user_count().await? == before + 1,
            "{error}: written once"
        );
    }

    // Reads are retried through transient 5xx answers.
    inject(
        &app,
        json!({"operation": "ExecuteStatement", "error": "InternalServerErrorException", "count": 2}),
    )?;
    let (status, _, page) = app.get("/users").await?;
    ensure!(
        status == 200 && page["users"].as_array().map(Vec::len) == Some(4),
        "{status} {page}"
    );

    // A SQL error is an internal error, not a 503, and its cause is not sent.
    inject(
        &app,
        json!({"operation": "ExecuteStatement", "error": "DatabaseErrorException", "count": 1, "message": "secret detail"}),
    )?;
    let (status, _, body) = app.get("/users/1").await?;
    ensure!(
        status == 500 && body["error"]["code"] == "internal",
        "{status} {body}"
    );
    ensure!(!body.to_string().contains("secret detail"), "{body}");
    app.stop().await
}
