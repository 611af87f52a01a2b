//! Running an installation: backup and restore, and the self-check (`gongzhi doctor`).
//! Tools for operators, not request handling; see docs/operations.md.
pub mod backup;
pub mod doctor;
