//! The `schema` command line.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::discover::TableFilter;
use crate::error::{Error, Result};
use crate::generate::{DateTime, GenerateOptions, Prelude, Serde};
use crate::target::Target;

/// Parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "schema",
    version,
    about = "Generate entities from, and check drift of, a database reached natively or through the RDS Data API",
    after_help = "Target: DATABASE_URL (mysql://, postgres://) or, without it, the RDS Data API when \
                  CLUSTER_ARN and SECRET_ARN are set (DATABASE_NAME, DATABASE_ENGINE; endpoint: \
                  AWS_ENDPOINT_URL_RDS_DATA). Exit codes: 0 success, 1 failure, 2 usage, 3 `check` \
                  found drift."
)]
pub struct Cli {
    /// Target database, e.g. `postgres://postgres@127.0.0.1/app`.
    #[arg(
        short = 'u',
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Log each step (debug level).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate code (as `sea-orm-cli generate`).
    Generate {
        /// What to generate.
        #[command(subcommand)]
        what: Generate,
    },
    /// Compare the database with what the migrations produce; exit 3 when they differ.
    Check {
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum Generate {
    /// Entity files, as `sea-orm-cli generate entity` writes them.
    Entity(Box<EntityArgs>),
}

/// `sea-orm-cli generate entity`'s options that shape the output (same names and defaults).
#[derive(Debug, Args)]
pub struct EntityArgs {
    /// Output directory.
    #[arg(short = 'o', long, default_value = "./")]
    pub output_dir: PathBuf,
    /// PostgreSQL schema (default `public`); ignored for MySQL.
    #[arg(short = 's', long, env = "DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// Only these tables (comma separated).
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tables: Vec<String>,
    /// Skip these tables (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "seaql_migrations")]
    pub ignore_tables: Vec<String>,
    /// Include tables whose name starts with `_`.
    #[arg(long)]
    pub include_hidden_tables: bool,
    /// Compact format (the default).
    #[arg(long)]
    pub compact_format: bool,
    /// Expanded format.
    #[arg(long)]
    pub expanded_format: bool,
    /// Frontend format.
    #[arg(long)]
    pub frontend_format: bool,
    /// `prelude.rs`.
    #[arg(long, value_enum, default_value = "all")]
    pub with_prelude: Prelude,
    /// Serde derives.
    #[arg(long, value_enum, default_value = "none")]
    pub with_serde: Serde,
    /// `#[serde(skip_deserializing)]` on primary keys.
    #[arg(long)]
    pub serde_skip_deserializing_primary_key: bool,
    /// Skip attributes on hidden columns.
    #[arg(long)]
    pub serde_skip_hidden_column: bool,
    /// Derive `Copy` on enums.
    #[arg(long)]
    pub with_copy_enums: bool,
    /// Date/time crate.
    #[arg(long, value_enum, default_value = "chrono")]
    pub date_time_crate: DateTime,
    /// `lib.rs` instead of `mod.rs`.
    #[arg(short = 'l', long)]
    pub lib: bool,
    /// Extra derives on models (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub model_extra_derives: Vec<String>,
    /// Extra attributes on models (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub model_extra_attributes: Vec<String>,
    /// Extra derives on enums (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub enum_extra_derives: Vec<String>,
    /// Extra attributes on enums (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub enum_extra_attributes: Vec<String>,
    /// Seaography helper enums.
    #[arg(long)]
    pub seaography: bool,
    /// Empty `ActiveModelBehavior` impls.
    #[arg(long, default_value = "true", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, action = clap::ArgAction::Set)]
    pub impl_active_model_behavior: bool,
}

impl From<&EntityArgs> for GenerateOptions {
    fn from(args: &EntityArgs) -> Self {
        GenerateOptions {
            filter: TableFilter {
                tables: args.tables.clone(),
                ignore_tables: args.ignore_tables.clone(),
                include_hidden_tables: args.include_hidden_tables,
            },
            database_schema: args.database_schema.clone(),
            expanded_format: args.expanded_format,
            frontend_format: args.frontend_format,
            with_prelude: args.with_prelude,
            with_serde: args.with_serde,
            serde_skip_deserializing_primary_key: args.serde_skip_deserializing_primary_key,
            serde_skip_hidden_column: args.serde_skip_hidden_column,
            with_copy_enums: args.with_copy_enums,
            date_time_crate: args.date_time_crate,
            lib: args.lib,
            model_extra_derives: args.model_extra_derives.clone(),
            model_extra_attributes: args.model_extra_attributes.clone(),
            enum_extra_derives: args.enum_extra_derives.clone(),
            enum_extra_attributes: args.enum_extra_attributes.clone(),
            seaography: args.seaography,
            impl_active_model_behavior: args.impl_active_model_behavior,
        }
    }
}

/// How a command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Done,
    /// `check` found drift: exit 3.
    Drift,
}

/// Runs `command` against `target`, writing its report to `out`.
///
/// # Errors
/// See [`Error`].
pub async fn run(command: &Command, target: &Target, out: &mut dyn Write) -> Result<Outcome> {
    let io = |source| Error::Io {
        what: "writing the report".into(),
        source,
    };
    match command {
        Command::Generate {
            what: Generate::Entity(args),
        } => {
            let connection = target.connect().await?;
            let files = crate::generate::entities(
                &connection.db,
                &target.database()?,
                &args.as_ref().into(),
            )
            .await;
            connection.close().await;
            for path in crate::generate::write(&args.output_dir, &files?)? {
                writeln!(out, "Wrote {}", path.display()).map_err(io)?;
            }
            Ok(Outcome::Done)
        }
        Command::Check { json } => {
            let report = crate::check::check(target).await?;
            if *json {
                let text = serde_json::to_string(&report).map_err(|e| Error::Io {
                    what: "serialising the report".into(),
                    source: e.into(),
                })?;
                writeln!(out, "{text}").map_err(io)?;
            } else if report.clean {
                writeln!(out, "No drift: the schema is what the migrations make").map_err(io)?;
            } else {
                for difference in &report.differences {
                    writeln!(out, "{difference}").map_err(io)?;
                }
            }
            Ok(if report.clean {
                Outcome::Done
            } else {
                Outcome::Drift
            })
        }
    }
}

/// The `schema` binary's `main`: parses, logs to stderr, runs, maps the outcome to the exit code.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if cli.verbose {
            "info,schema=debug"
        } else {
            "warn"
        })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let outcome = match Target::from_lookup(cli.database_url.clone(), |v| std::env::var(v).ok()) {
        Ok(target) => run(&cli.command, &target, &mut std::io::stdout().lock()).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(Outcome::Done) => std::process::ExitCode::SUCCESS,
        Ok(Outcome::Drift) => std::process::ExitCode::from(3),
        Err(error) => {
            tracing::error!("{}", crate::error_chain(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_options_take_sea_orm_cli_defaults_and_spelling() {
        let cli = Cli::try_parse_from([
            "schema",
            "generate",
            "entity",
            "-o",
            "out",
            "--with-serde",
            "both",
            "--model-extra-attributes",
            r#"serde(rename_all = "camelCase")"#,
        ])
        .expect("parses");
        let Command::Generate {
            what: Generate::Entity(args),
        } = &cli.command
        else {
            panic!("{cli:?}");
        };
        let options = GenerateOptions::from(args.as_ref());
        assert_eq!(options.with_serde, Serde::Both);
        assert_eq!(options.with_prelude, Prelude::All);
        assert_eq!(options.filter.ignore_tables, ["seaql_migrations"]);
        assert!(options.impl_active_model_behavior);
        assert_eq!(
            options.model_extra_attributes,
            [r#"serde(rename_all = "camelCase")"#]
        );
        assert_eq!(args.output_dir, PathBuf::from("out"));
    }

    #[test]
    fn a_url_and_the_data_api_at_once_is_refused() {
        let lookup = |v: &str| (v == "CLUSTER_ARN").then(|| "arn".to_owned());
        let error = Target::from_lookup(Some("mysql://h/db".into()), lookup).unwrap_err();
        assert!(error.to_string().contains("both"), "{error}");
        let error = Target::from_lookup(None, |_| None).unwrap_err();
        assert!(error.to_string().contains("no target"), "{error}");
        let target =
            Target::from_lookup(Some("mysql://u:p@h:3306/app?x=1".into()), |_| None).expect("url");
        assert_eq!(target.database().expect("db"), "app");
        let Target::Url(scratch) = target.with_database("scratch") else {
            panic!("url");
        };
        assert_eq!(scratch, "mysql://u:p@h:3306/scratch?x=1");
    }
}
