//! Reads: finds and filters, pagination, related finds (joins) and tuple selects.

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, FromQueryResult, QueryOrder, QuerySelect};
use test_support::Backend;

use super::data::*;
use super::entities::{event, item};
use super::record::{Observed, Record, cell, column};
use super::sides::Side;

crate::on_data_api_engines!(
    finds_agree,
    pagination_agrees,
    related_finds_agree,
    tuple_selects_agree,
);

async fn finds_agree(backend: Backend) -> Result<()> {
    differential!(backend, finds)
}

async fn finds<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 12).await?;
    let all = see!(rec, "find all by id", all_items(db));
    rec.push("prices as text", prices(&all));
    see!(
        rec,
        "active by price desc",
        item::Entity::find()
            .filter(item::Column::Active.eq(true))
            .order_by_desc(item::Column::Price)
            .all(db)
    );
    see!(
        rec,
        "note is null",
        item::Entity::find()
            .filter(item::Column::Note.is_null())
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(
        rec,
        "name like",
        item::Entity::find()
            .filter(item::Column::Name.like("item-1%"))
            .order_by_asc(item::Column::Name)
            .all(db)
    );
    see!(
        rec,
        "qty in, ordered by two columns",
        item::Entity::find()
            .filter(item::Column::Qty.is_in([1, 3, 5, 7]))
            .order_by_desc(item::Column::Active)
            .order_by_asc(item::Column::Name)
            .all(db)
    );
    see!(
        rec,
        "price between decimals",
        item::Entity::find()
            .filter(item::Column::Price.between(Decimal::new(349, 2), Decimal::new(1099, 2)))
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(
        rec,
        "created_at after, limit and offset",
        item::Entity::find()
            .filter(item::Column::CreatedAt.gt(at(2)))
            .order_by_desc(item::Column::CreatedAt)
            .limit(3)
            .offset(2)
            .all(db)
    );
    see!(
        rec,
        "created_at equals a microsecond value",
        item::Entity::find()
            .filter(item::Column::CreatedAt.eq(at(5)))
            .all(db)
    );
    see!(
        rec,
        "name equals unicode text",
        item::Entity::find()
            .filter(item::Column::Name.eq("item-05 ✓ 🦀"))
            .all(db)
    );
    see!(
        rec,
        "any of two conditions",
        item::Entity::find()
            .filter(
                Condition::any().add(item::Column::Id.lte(2)).add(
                    Condition::all()
                        .add(item::Column::Active.eq(false))
                        .add(item::Column::Note.is_not_null())
                        .add(item::Column::Price.gte(Decimal::new(10, 0))),
                ),
            )
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(
        rec,
        "note contains a quote and a question mark",
        item::Entity::find()
            .filter(item::Column::Note.contains("it's \"quoted\" \\ ünï ?"))
            .order_by_asc(item::Column::Id)
            .all(db)
    );
    see!(rec, "find_by_id hit", item::Entity::find_by_id(5).one(db));
    see!(
        rec,
        "find_by_id miss",
        item::Entity::find_by_id(999).one(db)
    );
    see!(
        rec,
        "one() of an ordered filter",
        item::Entity::find()
            .filter(item::Column::Qty.gt(4))
            .order_by_desc(item::Column::Id)
            .one(db)
    );
    see!(rec, "count all", count_items(db));
    see!(
        rec,
        "count filtered",
        item::Entity::find()
            .filter(item::Column::Active.eq(false))
            .count(db)
    );
    see!(
        rec,
        "count empty",
        item::Entity::find()
            .filter(item::Column::Qty.gt(1000))
            .count(db)
    );
    Ok(())
}

async fn pagination_agrees(backend: Backend) -> Result<()> {
    differential!(backend, pagination)
}

async fn pagination<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 12).await?;
    let pages = item::Entity::find()
        .order_by_asc(item::Column::Id)
        .paginate(db, 5);
    see!(rec, "num_items", pages.num_items());
    see!(rec, "num_pages", pages.num_pages());
    let both = pages
        .num_items_and_pages()
        .await
        .context("num_items_and_pages")?;
    rec.push("num_items_and_pages items", both.number_of_items);
    rec.push("num_items_and_pages pages", both.number_of_pages);
    see!(rec, "fetch_page(0)", pages.fetch_page(0));
    see!(rec, "fetch_page(2)", pages.fetch_page(2));
    see!(rec, "fetch_page(9)", pages.fetch_page(9));
    let mut walk = item::Entity::find()
        .filter(item::Column::Active.eq(true))
        .order_by_desc(item::Column::Price)
        .paginate(db, 4);
    let mut walked = Vec::new();
    while let Some(page) = walk.fetch_and_next().await.context("fetch_and_next")? {
        walked.push(u64::try_from(page.len())?);
        if walked.len() > 10 {
            break;
        }
    }
    rec.push("page sizes of a filtered walk", column(walked));
    let names = item::Entity::find()
        .select_only()
        .column(item::Column::Name)
        .order_by_asc(item::Column::Id)
        .into_tuple::<String>()
        .paginate(db, 5);
    let page = names.fetch_page(1).await.context("tuple page")?;
    rec.push("tuple paginate fetch_page(1)", column(page));
    see!(rec, "tuple paginate num_pages", names.num_pages());
    let mut cursor = item::Entity::find().cursor_by(item::Column::Id);
    cursor.after(3).before(11).first(4);
    see!(rec, "cursor after/before/first", cursor.all(db));
    let mut cursor = item::Entity::find().cursor_by(item::Column::Id);
    cursor.after(3).last(2);
    see!(rec, "cursor after/last", cursor.all(db));
    Ok(())
}

async fn related_finds_agree(backend: Backend) -> Result<()> {
    differential!(backend, related_finds)
}

/// Joins: two entities' columns in one row, told apart by SeaORM's `A_`/`B_` aliases.
async fn related_finds<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 6).await?;
    event::Entity::insert_many([
        new_event(2, "a", 1),
        new_event(2, "b", 2),
        new_event(5, "c", 3),
        new_event(999, "orphan", 4),
    ])
    .exec(db)
    .await
    .context("seeding events")?;
    let also = event::Entity::find()
        .find_also_related(item::Entity)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await;
    rec.outcome(side, "find_also_related", also);
    let with = item::Entity::find()
        .find_with_related(event::Entity)
        .filter(item::Column::Id.lte(5))
        .order_by_asc(item::Column::Id)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await;
    rec.outcome(side, "find_with_related", with);
    let related = item::Entity::find_by_id(2)
        .one(db)
        .await?
        .context("item 2")?
        .find_related(event::Entity)
        .order_by_asc(event::Column::Id)
        .all(db)
        .await;
    rec.outcome(side, "Model::find_related", related);
    Ok(())
}

async fn tuple_selects_agree(backend: Backend) -> Result<()> {
    differential!(backend, tuple_selects)
}

#[derive(Clone, Debug, PartialEq, FromQueryResult)]
struct Partial {
    id: i32,
    note: Option<String>,
    created_at: NaiveDateTime,
}

async fn tuple_selects<S: Side>(side: &S, rec: &mut Record) -> Result<()> {
    let db = side.db();
    seed(db, 10).await?;
    let triples = item::Entity::find()
        .select_only()
        .columns([item::Column::Id, item::Column::Name, item::Column::Note])
        .order_by_asc(item::Column::Id)
        .into_tuple::<(i32, String, Option<String>)>()
        .all(db)
        .await
        .context("(id, name, note)")?;
    rec.push(
        "into_tuple (i32, String, Option<String>)",
        Observed::Rows(
            triples
                .into_iter()
                .map(|(a, b, c)| vec![a.into(), b.into(), c.into()])
                .collect(),
        ),
    );
    // Columns selected in an order that is not alphabetical: a tuple is read by position.
    let typed = item::Entity::find()
        .select_only()
        .columns([
            item::Column::Price,
            item::Column::Meta,
            item::Column::CreatedAt,
            item::Column::Active,
            item::Column::Qty,
        ])
        .order_by_desc(item::Column::Id)
        .limit(4)
        .into_tuple::<(Decimal, Json, NaiveDateTime, bool, i32)>()
        .all(db)
        .await
        .context("typed tuple")?;
    rec.push(
        "into_tuple (Decimal, Json, NaiveDateTime, bool, i32)",
        Observed::Rows(
            typed
                .iter()
                .map(|(p, m, c, a, q)| {
                    vec![
                        (*p).into(),
                        m.clone().into(),
                        (*c).into(),
                        (*a).into(),
                        (*q).into(),
                    ]
                })
                .collect(),
        ),
    );
    rec.push(
        "tuple decimals as text",
        Observed::Texts(typed.iter().map(|t| t.0.to_string()).collect()),
    );
    let grouped = item::Entity::find()
        .select_only()
        .column(item::Column::Active)
        .column_as(Expr::col(item::Column::Id).count(), "n")
        .column_as(Expr::col(item::Column::Price).max(), "top")
        .column_as(Expr::col(item::Column::CreatedAt).min(), "first")
        .group_by(item::Column::Active)
        .order_by_asc(item::Column::Active)
        .into_tuple::<(bool, i64, Option<Decimal>, Option<NaiveDateTime>)>()
        .all(db)
        .await
        .context("grouped aggregates")?;
    rec.push(
        "group by with COUNT, MAX, MIN",
        Observed::Rows(
            grouped
                .iter()
                .map(|(a, n, t, f)| vec![(*a).into(), (*n).into(), (*t).into(), (*f).into()])
                .collect(),
        ),
    );
    rec.push(
        "MAX(price) as text",
        Observed::Texts(
            grouped
                .iter()
                .map(|g| format!("{:?}", g.2.map(|d| d.to_string())))
                .collect(),
        ),
    );
    // SUM's type is the engine's: DECIMAL on MySQL, bigint on PostgreSQL.
    let sum = item::Entity::find()
        .select_only()
        .column_as(Expr::col(item::Column::Qty).sum(), "total");
    let sum = if side.backend() == Backend::MariaDb {
        cell(
            sum.into_tuple::<Option<Decimal>>()
                .one(db)
                .await
                .context("SUM")?
                .flatten(),
        )
    } else {
        cell(
            sum.into_tuple::<Option<i64>>()
                .one(db)
                .await
                .context("SUM")?
                .flatten(),
        )
    };
    rec.push("SUM(qty)", sum);
    let distinct = item::Entity::find()
        .select_only()
        .column(item::Column::Qty)
        .distinct()
        .order_by_asc(item::Column::Qty)
        .into_tuple::<i32>()
        .all(db)
        .await
        .context("distinct")?;
    rec.push("distinct qty", column(distinct));
    let partial = item::Entity::find()
        .select_only()
        .columns([
            item::Column::CreatedAt,
            item::Column::Note,
            item::Column::Id,
        ])
        .filter(item::Column::Id.lte(4))
        .order_by_asc(item::Column::Id)
        .into_model::<Partial>()
        .all(db)
        .await
        .context("into_model")?;
    rec.push(
        "into_model (partial struct)",
        Observed::Rows(
            partial
                .into_iter()
                .map(|p| vec![p.id.into(), p.note.into(), p.created_at.into()])
                .collect(),
        ),
    );
    Ok(())
}
