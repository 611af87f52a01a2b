//! Benchmarks of issue 5.
