//! gongzhi (共治) — urban community governance.
//!
//! Layers, top to bottom (see `docs/architecture.md`):
//! - [`http`]: routes, extractors (current principal + scope), one error type → JSON, OpenAPI;
//! - [`app`]: services per capability; every query takes the caller's scope; audit written here;
//! - [`domain`]: newtypes that validate on parse, rules; no IO;
//! - [`store`]: connection, migrations, small SQL helpers; one code path for SQLite and PostgreSQL.
//!
//! Beside them, [`demo`] (the demo city) and [`bench`] (benchmarks) are tools, not product.
//!
//! [`startup`] composes them: settings → pool → migrations → state → background jobs → router.
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod ops;
pub mod sheet;
pub mod spool;
pub mod startup;
pub mod store;

pub use config::Settings;
pub use error::{AppError, AppResult};
