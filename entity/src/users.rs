//! The `users` table.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of `users`. Serialises with the article's JSON field names (`id`, `firstName`, `lastName`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// A UUID v4 string for rows this service creates; any string up to 255 characters for adopted rows.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Given name, 1–255 characters.
    #[sea_orm(column_name = "firstName")]
    pub first_name: String,
    /// Family name, 1–255 characters.
    #[sea_orm(column_name = "lastName")]
    pub last_name: String,
}

/// `users` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Iterable, QueryTrait};

    #[test]
    fn columns_keep_the_articles_camel_case_names() {
        let names: Vec<String> = Column::iter().map(|c| c.as_str().to_owned()).collect();
        assert_eq!(names, ["id", "firstName", "lastName"]);
        assert_eq!(Entity.table_name(), "users");
    }

    #[test]
    fn select_quotes_camel_case_columns_on_every_backend() {
        let mysql = Entity::find().build(DbBackend::MySql).to_string();
        assert_eq!(
            mysql,
            "SELECT `users`.`id`, `users`.`firstName`, `users`.`lastName` FROM `users`"
        );
        let postgres = Entity::find().build(DbBackend::Postgres).to_string();
        assert_eq!(
            postgres,
            r#"SELECT "users"."id", "users"."firstName", "users"."lastName" FROM "users""#
        );
    }

    #[test]
    fn serialises_with_the_articles_json_field_names() {
        let model = Model {
            id: "1".into(),
            first_name: "John".into(),
            last_name: "Doe".into(),
        };
        let json = serde_json::to_value(&model).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"id": "1", "firstName": "John", "lastName": "Doe"})
        );
    }
}
