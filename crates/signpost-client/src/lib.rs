//! Typed clients for everything Signpost serves, shared by the crawler, the mirror, the CLI,
//! the benchmark and the tests.
//!
//! - [`fetch`]: the hardened fetcher every client is built on: rustls, a per-request
//!   timeout, a body cap enforced while streaming, JSON only, redirects to the same host only.
//! - [`node`]: [`NodeClient`] (a node's public feed, and the verified node-document chain
//!   walked from a pinned id, each version verified as it arrives) and [`NodeAdmin`] (the
//!   admin API with typed bodies).
//! - [`directory`]: [`DirectoryClient`], an aggregator's directory API.
//! - [`issuer`]: [`IssuerClient`], an issuer's public document and revocation list.
//!
//! The wire types come from `signpost_protocol::wire`; nothing here is trusted because it
//! arrived: verification is the caller's (the node client's chain walk verifies).

pub mod directory;
pub mod fetch;
pub mod issuer;
pub mod node;

pub use directory::DirectoryClient;
pub use fetch::{ClientError, FetchError, Fetched, Fetcher};
pub use issuer::IssuerClient;
pub use node::{ChainWalkError, NodeAdmin, NodeClient};
