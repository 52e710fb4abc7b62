//! The fuzz targets, each as a function of its input: cargo-fuzz runs them from
//! `fuzz_targets/`, and `tests/seeds.rs` runs every seed through them in the workspace's tests.

pub mod crawl;
pub mod federation;
pub mod form;
pub mod listing;
pub mod manage;
pub mod query;
