//! The integration suite: one test binary, a real server on 127.0.0.1:0 per test, a fresh
//! database per test. SQLite by default; PostgreSQL when `GONGZHI_TEST_DATABASE_URL` is set
//! (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): each test gets its own database, copied
//! from a template made once per run.
mod helpers;

mod admin;
mod areas;
mod audit;
mod auth;
mod browser;
mod cases;
mod channels;
mod console_api;
mod crash;
mod deadlines;
mod errors;
mod files;
mod hardening;
mod home;
mod instances;
mod messages;
mod notices;
mod ops;
mod party;
mod questions;
mod reach;
mod register;
mod registry;
mod scope;
mod service;
mod sessions;
mod signup;
mod transfer;
mod walkthrough;
mod wire;
