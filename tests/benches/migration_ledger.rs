//! A no-op `up` with 50 applied migrations: DynamoDB calls and wall time of the DynamoDB ledger
//! (lock, one consistent Query, release) beside the article's approach (one GetItem per migration),
//! both against a local moto server. Run with
//! `cargo bench -p integration-tests --bench migration_ledger` (needs `.venv/bin/moto_server`, which
//! `./scripts/test` installs); results are in docs/BENCHMARKS.md.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::moto::Moto;
use migration::{DynamoLedger, Runner};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{DbErr, MigrationName, MigrationTrait, SchemaManager};

const MIGRATIONS: usize = 50;
const ROUNDS: usize = 30;

struct Noop(String);

impl MigrationName for Noop {
    fn name(&self) -> &str {
        &self.0
    }
}

#[async_trait]
impl MigrationTrait for Noop {
    async fn up(&self, _: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    (0..MIGRATIONS)
        .map(|i| Box::new(Noop(format!("m20990101_{i:06}_noop"))) as Box<dyn MigrationTrait>)
        .collect()
}

fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    format!(
        "median {:.2} ms, mean {:.2} ms, p90 {:.2} ms, min {:.2} ms",
        ms(samples[samples.len() / 2]),
        mean,
        ms(samples[samples.len() * 9 / 10]),
        ms(samples[0])
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("bench").await?;
    let db = sea_orm::Database::connect("sqlite::memory:").await?;
    let setup = Runner::with_migrations(
        db.clone(),
        DynamoLedger::new(moto.client(), &table),
        migrations(),
    );
    ensure!(setup.up(None).await?.len() == MIGRATIONS);

    // The DynamoDB ledger: each round is a fresh runner (a new process or Lambda invocation).
    let mut ledger_times = Vec::with_capacity(ROUNDS);
    let mut calls = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let runner = Runner::with_migrations(
            db.clone(),
            DynamoLedger::new(moto.client(), &table),
            migrations(),
        );
        let started = Instant::now();
        let applied = runner.up(None).await?;
        ledger_times.push(started.elapsed());
        ensure!(applied.is_empty(), "a no-op up applied {applied:?}");
        calls.push(runner.ledger().calls());
    }

    // The article's runner: one GetItem per migration, then run what is missing. A fresh client per
    // round too, as each round of the ledger above builds its own (new connections both sides).
    let mut article_times = Vec::with_capacity(ROUNDS);
    let mut article_calls = 0;
    for _ in 0..ROUNDS {
        let client = moto.client();
        let started = Instant::now();
        article_calls = 0;
        let mut missing = 0;
        for migration in migrations() {
            article_calls += 1;
            let item = client
                .get_item()
                .table_name(&table)
                .key("PK", AttributeValue::S("MIGRATION".into()))
                .key("SK", AttributeValue::S(migration.name().into()))
                .send()
                .await?;
            if item.item().is_none() {
                missing += 1;
            }
        }
        article_times.push(started.elapsed());
        ensure!(missing == 0);
    }

    calls.sort_unstable();
    println!(
        "no-op `up`, {MIGRATIONS} applied migrations, {ROUNDS} rounds, moto at {}",
        moto.endpoint()
    );
    println!(
        "DynamoDB ledger (lock + Query + release): {}-{} DynamoDB calls; {}",
        calls[0],
        calls[calls.len() - 1],
        summary(&mut ledger_times)
    );
    println!(
        "article (GetItem per migration):          {article_calls} DynamoDB calls; {}",
        summary(&mut article_times)
    );
    Ok(())
}
