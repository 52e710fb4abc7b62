//! End-to-end tests: one binary, real servers on 127.0.0.1:0, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acme;
mod aggregator;
mod attestations;
mod charity;
mod federation;
mod fhir;
mod hardening;
mod node;
mod oruk;
mod refusals;
