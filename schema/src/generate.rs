//! Entity files from a live schema, written as `sea-orm-cli generate entity` writes them.

use std::path::{Path, PathBuf};

use sea_orm::ConnectionTrait;
use sea_orm_codegen::{
    DateTimeCrate, EntityTransformer, EntityWriterContext, OutputFile, WithPrelude, WithSerde,
};

use crate::discover::{TableFilter, tables};
use crate::error::{Error, Result};

/// `--with-prelude`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Prelude {
    /// `prelude.rs` re-exports every entity.
    All,
    /// No `prelude.rs`.
    None,
    /// As `all`, with `#[allow(unused_imports)]`.
    AllAllowUnusedImports,
}

/// `--with-serde`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Serde {
    /// No serde derives.
    None,
    /// `Serialize`.
    Serialize,
    /// `Deserialize`.
    Deserialize,
    /// Both.
    Both,
}

/// `--date-time-crate`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DateTime {
    /// `chrono` types.
    Chrono,
    /// `time` types.
    Time,
}

/// The options of `sea-orm-cli generate entity` that shape its output, with its defaults.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Which tables.
    pub filter: TableFilter,
    /// PostgreSQL schema (default `public`; also written into the entities when given). MySQL
    /// ignores it.
    pub database_schema: Option<String>,
    /// `--expanded-format`.
    pub expanded_format: bool,
    /// `--frontend-format`.
    pub frontend_format: bool,
    /// `--with-prelude`.
    pub with_prelude: Prelude,
    /// `--with-serde`.
    pub with_serde: Serde,
    /// `--serde-skip-deserializing-primary-key`.
    pub serde_skip_deserializing_primary_key: bool,
    /// `--serde-skip-hidden-column`.
    pub serde_skip_hidden_column: bool,
    /// `--with-copy-enums`.
    pub with_copy_enums: bool,
    /// `--date-time-crate`.
    pub date_time_crate: DateTime,
    /// `--lib`: `lib.rs` instead of `mod.rs`.
    pub lib: bool,
    /// `--model-extra-derives`.
    pub model_extra_derives: Vec<String>,
    /// `--model-extra-attributes`.
    pub model_extra_attributes: Vec<String>,
    /// `--enum-extra-derives`.
    pub enum_extra_derives: Vec<String>,
    /// `--enum-extra-attributes`.
    pub enum_extra_attributes: Vec<String>,
    /// `--seaography`.
    pub seaography: bool,
    /// `--impl-active-model-behavior` (default true).
    pub impl_active_model_behavior: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            filter: TableFilter::default(),
            database_schema: None,
            expanded_format: false,
            frontend_format: false,
            with_prelude: Prelude::All,
            with_serde: Serde::None,
            serde_skip_deserializing_primary_key: false,
            serde_skip_hidden_column: false,
            with_copy_enums: false,
            date_time_crate: DateTime::Chrono,
            lib: false,
            model_extra_derives: Vec::new(),
            model_extra_attributes: Vec::new(),
            enum_extra_derives: Vec::new(),
            enum_extra_attributes: Vec::new(),
            seaography: false,
            impl_active_model_behavior: true,
        }
    }
}

impl GenerateOptions {
    fn writer_context(&self, schema_name: Option<String>) -> EntityWriterContext {
        EntityWriterContext::new(
            self.expanded_format,
            self.frontend_format,
            match self.with_prelude {
                Prelude::All => WithPrelude::All,
                Prelude::None => WithPrelude::None,
                Prelude::AllAllowUnusedImports => WithPrelude::AllAllowUnusedImports,
            },
            match self.with_serde {
                Serde::None => WithSerde::None,
                Serde::Serialize => WithSerde::Serialize,
                Serde::Deserialize => WithSerde::Deserialize,
                Serde::Both => WithSerde::Both,
            },
            self.with_copy_enums,
            match self.date_time_crate {
                DateTime::Chrono => DateTimeCrate::Chrono,
                DateTime::Time => DateTimeCrate::Time,
            },
            schema_name,
            self.lib,
            self.serde_skip_deserializing_primary_key,
            self.serde_skip_hidden_column,
            self.model_extra_derives.clone(),
            self.model_extra_attributes.clone(),
            self.enum_extra_derives.clone(),
            self.enum_extra_attributes.clone(),
            self.seaography,
            self.impl_active_model_behavior,
        )
    }
}

/// The entity files for the tables of `database` (MySQL: the database; PostgreSQL: the schema from
/// the options, default `public`), unformatted.
///
/// # Errors
/// See [`tables`]; [`Error::Codegen`].
pub async fn entities<C: ConnectionTrait>(
    db: &C,
    database: &str,
    options: &GenerateOptions,
) -> Result<Vec<OutputFile>> {
    let (discover_in, schema_name) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => (
            options
                .database_schema
                .clone()
                .unwrap_or_else(|| "public".to_owned()),
            options.database_schema.clone(),
        ),
        _ => (database.to_owned(), None),
    };
    let statements = tables(db, &discover_in, &options.filter).await?;
    tracing::info!(tables = statements.len(), "discovered");
    let output = EntityTransformer::transform(statements)
        .map_err(Error::Codegen)?
        .generate(&options.writer_context(schema_name));
    Ok(output.files)
}

/// Writes `files` into `dir` (created when missing), then runs `rustfmt` on each, as sea-orm-cli
/// does; returns the paths written.
///
/// # Errors
/// [`Error::Io`] when a file cannot be written or rustfmt cannot run; [`Error::Format`] when it
/// fails.
pub fn write(dir: &Path, files: &[OutputFile]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;
    let mut written = Vec::new();
    for file in files {
        let path = dir.join(&file.name);
        std::fs::write(&path, &file.content).map_err(|source| Error::Io {
            what: format!("writing {}", path.display()),
            source,
        })?;
        tracing::info!(path = %path.display(), "written");
        written.push(path);
    }
    for path in &written {
        let status = std::process::Command::new("rustfmt")
            .arg(path)
            .status()
            .map_err(|source| Error::Io {
                what: "running rustfmt".into(),
                source,
            })?;
        if !status.success() {
            return Err(Error::Format(path.display().to_string()));
        }
    }
    Ok(written)
}
