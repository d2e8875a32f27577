//! The article's HTTP contract, end to end over TCP, on each backend natively and through the Data
//! API adapter and the emulator (`data_api::mariadb::…`, `data_api::postgres::…`).

use std::collections::HashSet;

use anyhow::{Result, ensure};
use integration_tests::{Stack, TestApp};
use serde_json::{Value, json};

crate::on_every_stack!(
    add_then_list,
    seeded_user_is_present,
    bad_inputs_get_4xx_and_write_nothing,
    unicode_and_sql_looking_names_are_stored_verbatim,
    concurrent_adds_all_land_with_distinct_ids,
);

fn is_uuid_v4(id: &str) -> bool {
    uuid::Uuid::parse_str(id)
        .is_ok_and(|u| u.get_version_num() == 4 && u.hyphenated().to_string() == id)
}

async fn add_then_list(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let response = app
        .add_user(&json!({"firstName": "Ada", "lastName": "Lovelace"}))
        .await?;
    ensure!(response.status() == 200, "status {}", response.status());
    ensure!(
        response.headers()["content-type"] == "application/json",
        "content type {:?}",
        response.headers()["content-type"]
    );
    let body: Value = response.json().await?;
    let user_id = body["userId"].as_str().unwrap_or_default().to_owned();
    ensure!(is_uuid_v4(&user_id), "userId {body}");
    ensure!(
        body.as_object().map(|o| o.len()) == Some(1),
        "extra fields in {body}"
    );

    let users = app.get_users().await?;
    let added = json!({"id": user_id, "firstName": "Ada", "lastName": "Lovelace"});
    ensure!(users.contains(&added), "{added} not in {users:?}");
    ensure!(users.len() == 2, "expected the seed and Ada, got {users:?}");
    for user in &users {
        let keys: HashSet<&str> = user
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        ensure!(
            keys == HashSet::from(["id", "firstName", "lastName"]),
            "shape of {user}"
        );
    }
    app.stop().await
}

async fn seeded_user_is_present(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let users = app.get_users().await?;
    ensure!(
        users == vec![json!({"id": "1", "firstName": "John", "lastName": "Doe"})],
        "{users:?}"
    );
    app.stop().await
}

/// One rejected request: what is sent and what must come back.
struct BadInput {
    name: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    /// A phrase the message must contain (names the field or the problem).
    mentions: &'static str,
}

fn bad(name: &'static str, body: Value, mentions: &'static str) -> BadInput {
    BadInput {
        name,
        content_type: Some("application/json"),
        body: body.to_string().into_bytes(),
        status: 400,
        code: "validation_failed",
        mentions,
    }
}

fn raw(
    name: &'static str,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
    mentions: &'static str,
) -> BadInput {
    BadInput {
        name,
        content_type,
        body: body.into(),
        status,
        code,
        mentions,
    }
}

fn bad_inputs() -> Vec<BadInput> {
    let long = "x".repeat(256);
    vec![
        raw(
            "malformed JSON",
            Some("application/json"),
            r#"{"firstName": "A""#,
            400,
            "invalid_json",
            "JSON",
        ),
        raw(
            "empty body",
            Some("application/json"),
            "",
            400,
            "invalid_json",
            "JSON",
        ),
        raw(
            "trailing garbage",
            Some("application/json"),
            r#"{"firstName":"A","lastName":"B"} x"#,
            400,
            "invalid_json",
            "JSON",
        ),
        raw(
            "invalid UTF-8",
            Some("application/json"),
            b"{\"firstName\":\"\xff\xfe\",\"lastName\":\"B\"}".to_vec(),
            400,
            "invalid_json",
            "JSON",
        ),
        raw(
            "text/plain",
            Some("text/plain"),
            r#"{"firstName":"A","lastName":"B"}"#,
            415,
            "unsupported_media_type",
            "Content-Type",
        ),
        raw(
            "no content type",
            None,
            r#"{"firstName":"A","lastName":"B"}"#,
            415,
            "unsupported_media_type",
            "Content-Type",
        ),
        raw(
            "form encoded",
            Some("application/x-www-form-urlencoded"),
            "firstName=A&lastName=B",
            415,
            "unsupported_media_type",
            "Content-Type",
        ),
        bad("array body", json!(["A", "B"]), "JSON object"),
        bad("null body", Value::Null, "JSON object"),
        bad(
            "missing firstName",
            json!({"lastName": "Doe"}),
            "firstName is required",
        ),
        bad(
            "missing lastName",
            json!({"firstName": "John"}),
            "lastName is required",
        ),
        bad(
            "both missing",
            json!({}),
            "firstName is required; lastName is required",
        ),
        bad(
            "empty firstName",
            json!({"firstName": "", "lastName": "Doe"}),
            "firstName must not be empty",
        ),
        bad(
            "whitespace lastName",
            json!({"firstName": "John", "lastName": "   "}),
            "lastName must not be only whitespace",
        ),
        bad(
            "numeric firstName",
            json!({"firstName": 42, "lastName": "Doe"}),
            "firstName must be a string, got a number",
        ),
        bad(
            "null lastName",
            json!({"firstName": "John", "lastName": null}),
            "lastName must be a string, got null",
        ),
        bad(
            "array firstName",
            json!({"firstName": ["J"], "lastName": "Doe"}),
            "firstName must be a string, got an array",
        ),
        bad(
            "object lastName",
            json!({"firstName": "J", "lastName": {"x": 1}}),
            "lastName must be a string, got an object",
        ),
        bad(
            "boolean firstName",
            json!({"firstName": true, "lastName": "Doe"}),
            "firstName must be a string, got a boolean",
        ),
        bad(
            "NUL byte",
            json!({"firstName": "Jo\u{0}hn", "lastName": "Doe"}),
            "firstName must not contain control characters",
        ),
        bad(
            "newline",
            json!({"firstName": "John", "lastName": "Do\ne"}),
            "lastName must not contain control characters",
        ),
        bad(
            "over-long firstName",
            json!({"firstName": long, "lastName": "Doe"}),
            "at most 255 characters, got 256",
        ),
        bad(
            "over-long emoji firstName",
            json!({"firstName": "🦀".repeat(256), "lastName": "Doe"}),
            "at most 255 characters, got 256",
        ),
        bad("string body", json!("Ada Lovelace"), "JSON object"),
        bad("number body", json!(42), "JSON object"),
        bad(
            "tab in lastName",
            json!({"firstName": "Ada", "lastName": "Love\tlace"}),
            "control characters",
        ),
        bad(
            "DEL character",
            json!({"firstName": "Ada\u{7f}", "lastName": "Lovelace"}),
            "control characters",
        ),
        bad(
            "C1 control character",
            json!({"firstName": "Ada", "lastName": "\u{85}Lovelace"}),
            "control characters",
        ),
        bad(
            "only a no-break space",
            json!({"firstName": "\u{a0}", "lastName": "Lovelace"}),
            "only whitespace",
        ),
        bad(
            "SQL-looking but a number",
            json!({"firstName": 1, "lastName": "'; DROP TABLE users;--"}),
            "firstName must be a string",
        ),
    ]
}

async fn bad_inputs_get_4xx_and_write_nothing(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let before = app.user_count().await?;
    let cases = bad_inputs();
    ensure!(cases.len() >= 30, "{} cases", cases.len());
    for (path, case) in ["/add-user", "/users"]
        .into_iter()
        .flat_map(|path| bad_inputs().into_iter().map(move |case| (path, case)))
    {
        let response = app.post_raw(path, case.content_type, case.body).await?;
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").cloned();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(
            status == case.status,
            "{path} {}: status {status}, body {body}",
            case.name
        );
        ensure!(
            content_type
                .as_ref()
                .is_some_and(|c| c == "application/json"),
            "{}: content type {content_type:?}",
            case.name
        );
        ensure!(
            body["error"]["code"] == case.code,
            "{}: body {body}",
            case.name
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        ensure!(
            message.contains(case.mentions),
            "{}: message {message:?}",
            case.name
        );
    }

    // 2 MB: refused with 413 before it is read.
    let oversized = format!(
        r#"{{"firstName":"A","lastName":"B","pad":"{}"}}"#,
        "p".repeat(2 * 1024 * 1024)
    );
    for path in ["/add-user", "/users"] {
        let (status, body) = app
            .post_oversized(path, oversized.clone().into_bytes())
            .await?;
        ensure!(status == 413, "{path} 2 MB body: {status} {body}");
        ensure!(body["error"]["code"] == "payload_too_large", "{body}");
    }

    // Wrong method and unknown route answer JSON too.
    let response = app
        .client
        .get(format!("{}/add-user", app.base_url))
        .send()
        .await?;
    ensure!(
        response.status() == 405,
        "GET /add-user: {}",
        response.status()
    );
    ensure!(
        response.headers().get("allow").is_some_and(|a| a == "POST"),
        "Allow header"
    );
    let body: Value = response.json().await?;
    ensure!(body["error"]["code"] == "method_not_allowed", "{body}");
    let response = app
        .client
        .post(format!("{}/add-users", app.base_url))
        .send()
        .await?;
    ensure!(
        response.status() == 404,
        "POST /add-users: {}",
        response.status()
    );
    let body: Value = response.json().await?;
    ensure!(body["error"]["code"] == "not_found", "{body}");

    let after = app.user_count().await?;
    ensure!(before == after, "rows changed from {before} to {after}");
    app.stop().await
}

async fn unicode_and_sql_looking_names_are_stored_verbatim(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    let emoji_255 = "🦀".repeat(255);
    let names: Vec<(&str, &str)> = vec![
        ("Zoë", "Ångström"),
        ("李", "小龙"),
        ("🦀 Ferris", "the crab 🚀"),
        ("Robert'); DROP TABLE users;--", "Tables"),
        ("' OR '1'='1", "\" OR \"1\"=\"1"),
        ("back\\slash", "100%_wild"),
        ("?", "$1"),
        (":name", "@var"),
        ("  padded  ", "a\u{200b}b"),
        (emoji_255.as_str(), "x"),
    ];
    let mut expected = Vec::new();
    for (first, last) in &names {
        let response = app
            .add_user(&json!({"firstName": first, "lastName": last}))
            .await?;
        ensure!(response.status() == 200, "{first:?}: {}", response.status());
        let body: Value = response.json().await?;
        let id = body["userId"].as_str().unwrap_or_default().to_owned();
        expected.push(json!({"id": id, "firstName": first, "lastName": last}));
    }
    let users = app.get_users().await?;
    for user in &expected {
        ensure!(
            users.contains(user),
            "{user} not returned verbatim; got {users:?}"
        );
    }
    // Directly in the database too, not only through our own JSON round trip.
    for user in &expected {
        let id = user["id"].as_str().unwrap_or_default();
        let row = <entity::prelude::Users as sea_orm::EntityTrait>::find_by_id(id.to_owned())
            .one(&app.db)
            .await?;
        let row = row.ok_or_else(|| anyhow::anyhow!("{id} not stored"))?;
        ensure!(
            row.first_name == user["firstName"] && row.last_name == user["lastName"],
            "{row:?}"
        );
    }
    ensure!(app.user_count().await? == 1 + names.len() as u64);
    app.stop().await
}

async fn concurrent_adds_all_land_with_distinct_ids(stack: Stack) -> Result<()> {
    let app = TestApp::start(stack).await?;
    const N: usize = 32;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..N {
        let client = app.client.clone();
        let url = format!("{}/add-user", app.base_url);
        tasks.spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"firstName": format!("User{i}"), "lastName": "Concurrent"}))
                .send()
                .await?;
            anyhow::ensure!(response.status() == 200, "add {i}: {}", response.status());
            let body: Value = response.json().await?;
            Ok::<_, anyhow::Error>((i, body["userId"].as_str().unwrap_or_default().to_owned()))
        });
    }
    let mut ids = HashSet::new();
    while let Some(joined) = tasks.join_next().await {
        let (_, id) = joined??;
        ensure!(is_uuid_v4(&id), "{id}");
        ids.insert(id);
    }
    ensure!(ids.len() == N, "{} distinct ids for {N} adds", ids.len());
    let users = app.get_users().await?;
    ensure!(users.len() == N + 1, "{} users listed", users.len());
    let listed: HashSet<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    ensure!(
        ids.iter().all(|id| listed.contains(id.as_str())),
        "an added id is missing"
    );
    app.stop().await
}
