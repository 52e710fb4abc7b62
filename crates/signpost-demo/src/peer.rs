//! The peer measurement: the same listings in PostgreSQL with PostGIS and full-text indexes,
//! the way classic service directories answer these queries, timed with pgbench.

use crate::bench::{BenchOptions, BenchReport};

/// Returns a one-line summary; fills `ratio_to_peer` where measured. Skips cleanly when
/// PostgreSQL is not installed.
pub async fn run(_opts: &BenchOptions, _report: &mut BenchReport) -> String {
    "skipped: PostgreSQL peer not measured in this build".into()
}
