//! Entities and migrations cannot drift apart: on a freshly migrated MariaDB and PostgreSQL, the code
//! `sea-orm-cli generate entity` would write (README, "Entities from the migrated schema") matches
//! `entity/`.
//!
//! The test runs the library code sea-orm-cli 1.1.20 runs for that command — `sea-schema`'s
//! discovery, then `sea-orm-codegen`'s `EntityTransformer` and `EntityWriter` with the same options,
//! then `rustfmt` — rather than installing sea-orm-cli (a long `cargo install`). The comparison
//! ignores comments, blank lines, `entity/`'s unit tests and the order within `derive(…)` lists.

use anyhow::{Context, Result, ensure};
use integration_tests::{Backend, TestDatabase};
use migration::{MemoryLedger, Migrator, Runner};
use sea_orm_codegen::{
    DateTimeCrate, EntityTransformer, EntityWriterContext, WithPrelude, WithSerde,
};

crate::on_data_api_engines!(generated_entities_match_the_entity_crate);

/// The options of the documented command:
/// `sea-orm-cli generate entity -o entity/src --with-serde both
///  --model-extra-attributes 'serde(rename_all = "camelCase")'`.
fn writer_context(schema: Option<String>) -> EntityWriterContext {
    EntityWriterContext::new(
        false,
        false,
        WithPrelude::All,
        WithSerde::Both,
        false,
        DateTimeCrate::Chrono,
        schema,
        false,
        false,
        false,
        Vec::new(),
        vec![r#"serde(rename_all = "camelCase")"#.to_owned()],
        Vec::new(),
        Vec::new(),
        false,
        // sea-orm-cli's default for --impl-active-model-behavior.
        true,
    )
}

/// Code lines without comments, blank lines, a trailing `#[cfg(test)]` module, and with the items of
/// each `derive(…)` sorted.
pub(crate) fn normalise(source: &str) -> Vec<String> {
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(|line| {
            match line
                .strip_prefix("#[derive(")
                .and_then(|l| l.strip_suffix(")]"))
            {
                Some(items) => {
                    let mut items: Vec<&str> = items.split(',').map(str::trim).collect();
                    items.sort_unstable();
                    format!("#[derive({})]", items.join(", "))
                }
                None => line.to_owned(),
            }
        })
        .collect()
}

async fn generated_entities_match_the_entity_crate(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    Runner::new::<Migrator>(db.clone(), MemoryLedger::new())
        .up(None)
        .await?;
    let name = database
        .url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (schema, tables) = match backend {
        Backend::MariaDb => {
            let pool = sqlx::MySqlPool::connect(&database.url).await?;
            let discovered = sea_schema::mysql::discovery::SchemaDiscovery::new(pool, &name)
                .discover()
                .await?;
            let tables: Vec<_> = discovered
                .tables
                .into_iter()
                .filter(|t| t.info.name != "seaql_migrations")
                .map(|t| t.write())
                .collect();
            (None, tables)
        }
        _ => {
            let pool = sqlx::PgPool::connect(&database.url).await?;
            let discovered = sea_schema::postgres::discovery::SchemaDiscovery::new(pool, "public")
                .discover()
                .await?;
            let tables: Vec<_> = discovered
                .tables
                .into_iter()
                .filter(|t| t.info.name != "seaql_migrations")
                .map(|t| t.write())
                .collect();
            // sea-orm-cli passes the schema only when --database-schema is given.
            (None, tables)
        }
    };
    let output = EntityTransformer::transform(tables)?.generate(&writer_context(schema));
    let dir = tempfile::tempdir()?;
    let entity_src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../entity/src");
    // As sea-orm-cli: write every file, then run rustfmt on each.
    for file in &output.files {
        std::fs::write(dir.path().join(&file.name), &file.content)?;
    }
    for file in &output.files {
        let status = std::process::Command::new("rustfmt")
            .arg("--edition=2024")
            .arg(dir.path().join(&file.name))
            .status()
            .context("running rustfmt, as sea-orm-cli does")?;
        ensure!(status.success(), "rustfmt failed on {}", file.name);
    }
    let mut compared = Vec::new();
    for file in &output.files {
        if file.name == "mod.rs" {
            continue; // entity/ is a crate: its lib.rs holds the same `pub mod` lines and docs.
        }
        let generated = std::fs::read_to_string(dir.path().join(&file.name))?;
        let ours = std::fs::read_to_string(entity_src.join(&file.name)).with_context(|| {
            format!("sea-orm-cli would write {}, entity/src lacks it", file.name)
        })?;
        ensure!(
            normalise(&generated) == normalise(&ours),
            "entity/src/{} differs from what sea-orm-cli generates from the migrated {backend:?} \
             schema:\n--- generated ---\n{generated}\n--- entity/src ---\n{ours}",
            file.name
        );
        compared.push(file.name.clone());
    }
    compared.sort();
    ensure!(compared == ["prelude.rs", "users.rs"], "{compared:?}");
    Ok(())
}
