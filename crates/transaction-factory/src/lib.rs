//! Seeded, deterministic payment transactions with coherent fraud patterns.
