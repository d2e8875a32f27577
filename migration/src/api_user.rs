//! The users API's own database user: what the API may do, and the statements that give it exactly
//! that — `SELECT` and `INSERT` on `users`, nothing else (no DDL, no `UPDATE`/`DELETE`, no other table).
//! The API's `Idempotency-Key` needs nothing more: the key becomes the row's id.
//!
//! [`ensure`] runs as the cluster's master user (the run-migrations function's secret): it creates the
//! user or resets its password to the one given (the API secret's, so a rotated secret takes effect on
//! the next run), takes back every privilege, then grants the two. Idempotent; MySQL/MariaDB and
//! PostgreSQL.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::Error;

/// The API's database user: a name and a password (from its own secret).
#[derive(Clone)]
pub struct ApiUser {
    /// `[a-z_][a-z0-9_]{0,31}`.
    pub username: String,
    /// Printable ASCII, at least 8 characters.
    pub password: String,
}

impl std::fmt::Debug for ApiUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The table the API reads and writes.
pub const TABLE: &str = "users";

/// Creates or updates `user` on `db` (connected as the master user to `database`) with `SELECT` and
/// `INSERT` on `users` and no other privilege.
///
/// # Errors
/// [`Error::Config`] for a user name or password outside the accepted characters; the database error.
#[tracing::instrument(skip_all, fields(username = %user.username))]
pub async fn ensure(
    db: &impl ConnectionTrait,
    database: &str,
    user: &ApiUser,
) -> Result<(), Error> {
    check(database, user)?;
    let backend = db.get_database_backend();
    let exists = match backend {
        DbBackend::Postgres => db
            .query_one(Statement::from_sql_and_values(
                backend,
                "SELECT 1 FROM pg_roles WHERE rolname = $1",
                [user.username.clone().into()],
            ))
            .await?
            .is_some(),
        _ => false,
    };
    for sql in statements(backend, database, user, exists) {
        db.execute_unprepared(&sql).await?;
    }
    tracing::info!("the API's database user has SELECT and INSERT on users only");
    Ok(())
}

/// The statements [`ensure`] runs (`exists`: whether a PostgreSQL role of that name exists already).
pub fn statements(backend: DbBackend, database: &str, user: &ApiUser, exists: bool) -> Vec<String> {
    let name = &user.username;
    let password = user.password.replace('\\', "\\\\").replace('\'', "''");
    match backend {
        DbBackend::Postgres => {
            let password = user.password.replace('\'', "''");
            vec![
                if exists {
                    format!(
                        r#"ALTER ROLE "{name}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'"#
                    )
                } else {
                    format!(
                        r#"CREATE ROLE "{name}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'"#
                    )
                },
                format!(r#"REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{name}""#),
                format!(r#"GRANT CONNECT ON DATABASE "{database}" TO "{name}""#),
                format!(r#"GRANT USAGE ON SCHEMA public TO "{name}""#),
                format!(r#"GRANT SELECT, INSERT ON TABLE public."{TABLE}" TO "{name}""#),
            ]
        }
        _ => vec![
            format!("CREATE USER IF NOT EXISTS '{name}'@'%' IDENTIFIED BY '{password}'"),
            format!("ALTER USER '{name}'@'%' IDENTIFIED BY '{password}'"),
            format!("REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{name}'@'%'"),
            format!("GRANT SELECT, INSERT ON `{database}`.`{TABLE}` TO '{name}'@'%'"),
        ],
    }
}

fn check(database: &str, user: &ApiUser) -> Result<(), Error> {
    let identifier = |text: &str, max: usize| {
        !text.is_empty()
            && text.len() <= max
            && text.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !identifier(&user.username, 32) {
        return Err(Error::Config(format!(
            "the API's database user must be 1-32 characters of a-z, 0-9 and _, not starting with a digit (got {:?})",
            user.username
        )));
    }
    if !identifier(database, 63) {
        return Err(Error::Config(format!(
            "the database name must be 1-63 characters of a-z, 0-9 and _ (got {database:?})"
        )));
    }
    if user.password.len() < 8 || !user.password.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Error::Config(
            "the API's database password must be at least 8 printable ASCII characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str, password: &str) -> ApiUser {
        ApiUser {
            username: username.into(),
            password: password.into(),
        }
    }

    #[test]
    fn quotes_in_passwords_stay_inside_the_literal() {
        let mysql = statements(DbBackend::MySql, "db", &user("api", r"a'b\c-long"), false);
        assert!(
            mysql[0].ends_with(r"IDENTIFIED BY 'a''b\\c-long'"),
            "{}",
            mysql[0]
        );
        let pg = statements(DbBackend::Postgres, "db", &user("api", "a'b-long"), true);
        assert!(pg[0].starts_with(r#"ALTER ROLE "api""#), "{}", pg[0]);
        assert!(pg[0].ends_with("PASSWORD 'a''b-long'"), "{}", pg[0]);
    }

    #[test]
    fn grants_are_select_and_insert_on_users_only() {
        for backend in [DbBackend::MySql, DbBackend::Postgres] {
            let grants: Vec<String> = statements(backend, "db", &user("api", "password"), false)
                .into_iter()
                .filter(|s| s.starts_with("GRANT") && s.contains(TABLE))
                .collect();
            assert_eq!(grants.len(), 1, "{backend:?}");
            assert!(grants[0].contains("SELECT, INSERT ON"), "{}", grants[0]);
        }
    }

    #[test]
    fn names_and_passwords_outside_the_rules_are_refused() {
        for (database, api) in [
            ("db", user("API", "password")),
            ("db", user("a-b", "password")),
            ("db", user("1api", "password")),
            ("db", user("api", "short")),
            ("db", user("api", "pass\nword")),
            ("d`b", user("api", "password")),
        ] {
            assert!(check(database, &api).is_err(), "{database} {api:?}");
        }
        assert!(check("my_database", &user("users_api", "p@ss'word")).is_ok());
        assert!(!format!("{:?}", user("api", "hunter2-secret")).contains("hunter2"));
    }
}
