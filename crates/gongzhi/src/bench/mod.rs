//! Benchmarks run from the command line (`gongzhi bench-*`, docs/benchmarks.md): tools, not
//! product — they live beside `app/`, not inside it (issue 13 point 6).
pub mod cases;
pub mod notices;
pub mod sender;
pub mod service;
