//! The demo federation and the benchmark program.
//!
//! - [`federation`]: several organisations' nodes with realistic, fictional groups of West
//!   Yorkshire, a training provider issuing (and revoking) attestations, and an aggregator,
//!   on embedded sled in one data folder.
//! - [`bench`]: `signpost bench`, measuring crawl, query and memory figures in one run
//!   against the machine's own limits; [`farm`] serves its N nodes; [`peer`] times the same
//!   queries on PostgreSQL + PostGIS when installed; [`report`] holds the options and the
//!   report they share.

pub mod bench;
pub mod farm;
pub mod federation;
pub mod peer;
pub mod report;

pub use federation::{Demo, DemoError, DemoOptions};
