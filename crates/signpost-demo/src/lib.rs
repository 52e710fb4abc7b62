//! The demo federation: several organisations' nodes with realistic, fictional groups of
//! West Yorkshire, a training provider issuing (and revoking) attestations, and an
//! aggregator crawling them all — on embedded sled, in one data folder, on one machine.

pub mod federation;

pub use federation::{Demo, DemoError, DemoOptions};
