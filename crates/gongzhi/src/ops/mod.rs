//! Running an installation: backup and restore, the self-check (`gongzhi doctor`), and the metrics
//! the server keeps for `/metrics` (held by `AppState`, so not an `http` type).
//! Tools for operators, not request handling; see docs/operations.md.
pub mod backup;
pub mod doctor;
pub mod metrics;
