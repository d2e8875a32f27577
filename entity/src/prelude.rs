//! Each table's `Entity` under its table name, as `sea-orm-cli generate entity` writes it.

pub use super::users::Entity as Users;
