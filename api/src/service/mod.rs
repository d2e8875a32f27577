//! Database operations over `entity`, free of HTTP types.

pub mod users;
