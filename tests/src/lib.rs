//! Shared pieces of the end-to-end tests and benchmarks (the tests themselves live in `tests/`).

pub mod floor;
