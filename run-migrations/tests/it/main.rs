//! The run-migrations function's handler against the Data API emulator (MariaDB and PostgreSQL
//! behind it) and a moto server for the DynamoDB ledger.

mod api_user;
mod drift;
mod handler;
