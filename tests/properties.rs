//! Property tests (proptest): the parsers are total on arbitrary bytes, TCP reassembly and
//! IP defragmentation frame the same SIP messages whatever the order and duplication of
//! segments or fragments, SCTP rebuilds messages cut into chunks (and is total on any
//! chunks), and a capture gives the same report as pcap, pcapng, gzip and on standard
//! input.
//!
//! Case counts are modest (the suite stays fast) and the seed is fixed
//! (`PROPTEST_RNG_SEED` overrides it), so a run is repeatable.

mod common;
#[path = "properties/formats.rs"]
mod formats;
#[path = "properties/reassembly.rs"]
mod reassembly;
#[path = "properties/totality.rs"]
mod totality;

use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

/// `cases` cases, a fixed seed unless `PROPTEST_RNG_SEED` says otherwise, and no
/// persistence files written into the source tree.
pub fn config(cases: u32) -> Config {
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5151_d1a6);
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}
