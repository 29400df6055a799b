//! Seeded, deterministic payment transactions with coherent fraud patterns, for stress tests that
//! also measure whether a detector still catches fraud.
//!
//! # The model
//!
//! - **Population.** [`TransactionFactory::new`] builds customers from the seed: a home country and
//!   city (23 countries weighted by card volume, 15 currencies), the home currency, 1 to 3 devices, a
//!   usual IP in the country's block, 1 or 2 cards, a spending segment whose median amount is spread
//!   log-normally, and six usual merchants drawn from a Zipf popularity law over the home country's
//!   merchants. Amounts follow each currency's scale (a coffee is about 350 cents, 500 yen or 1,100 fils).
//! - **Legitimate traffic** is a customer at home, at a usual or popular merchant, with an amount
//!   log-normal around their median, on one of their own devices.
//! - **Fraud** is played in episodes on one customer's card, coherent with that customer's profile
//!   (see [`fraud`] for the thresholds): card testing (3 to 6 probes of $0.50 to $2 within seconds at
//!   merchants the card never used), account takeover (new device, another country, 4x to 15x the
//!   median), velocity (6 to 10 transactions on one card within a minute), impossible travel (a card
//!   used at home, then moments later at least 3,000 km away), high-value anomaly (10x to 40x the
//!   median on the customer's own device), risky merchant (gambling, crypto, wire transfer).
//! - **Edge cases** are legitimate: zero and maximum amounts (the currency's per-transaction limit,
//!   [`currency::max_amount_minor`]: eight digits of minor units, 999,999.99 USD), JPY (no
//!   minor unit) and KWD (three), no device or IP, unicode merchant names, a replayed id (an earlier
//!   index's id), timestamps exactly at midnight or the first of the month.
//! - **Amounts** never exceed [`currency::max_amount_minor`] of their currency.
//! - **Labels** ([`models::GroundTruth`]) are returned beside the transaction, never inside it.
//!
//! # Determinism and `at(k)`
//!
//! Every decision comes from a SplitMix64 generator seeded by `(seed, purpose, index)`, so the
//! stream depends only on the seed and the [`FactoryConfig`], not on the machine or on what was
//! generated before. The stream is cut into blocks of 256 indices; a block's plan (which index is
//! legit, fraud or edge, and which fraud episode) is rebuilt from the seed and the block number, plus
//! the previous block's plan for the episodes that run over the boundary (see `plan.rs`).
//! Transaction `k` is then made from its slot and a generator seeded by `k`. So
//! [`TransactionFactory::at`] gives transaction `k` of the stream at the cost of one plan, and
//! segments of a distributed run produce identical transactions. Ids are `TxnId(k)`. Timestamps follow
//! the stream's own clock, `start + k / rate_tps`; a load driver may re-base them.
//!
//! # The stream's clock and how often a customer pays
//!
//! `rate_tps` is the pace of the simulated world, not the rate a test sends at. Together with the
//! population it sets how far apart one customer's transactions are: `customers / rate_tps` seconds
//! of stream time on average ([`FactoryConfig::purchase_interval_s`]). A detector judges per-card
//! windows (velocity within seconds, card testing within minutes) on the transactions' timestamps,
//! so that interval must not follow the test's send rate: stamped at a 5,000 TPS send rate, 50,000
//! customers would each pay every 10 s and look like velocity fraud. The orchestrator therefore
//! sets the clock with [`FactoryConfig::with_purchase_interval`]`(`[`DEFAULT_PURCHASE_INTERVAL_S`]`)`:
//! one purchase per customer per hour of stream time (a 13.9 TPS clock for 50,000 customers), the
//! same stream at 200 TPS as at 50,000 TPS, and a 60 s run at 5,000 TPS covers about six hours of
//! the simulated day, six purchases per customer, so card histories still build up during a run.
//!
//! Scaling the population with the send rate instead (a realistic interval at 5,000 TPS needs
//! millions of customers) was rejected: at 50,000 TPS it would take gigabytes here and in the
//! detector's per-card memory, and each card would be seen once per run, so no detector could learn
//! a card's habits from the run. Fraud episodes are placed by index, a burst within a few dozen
//! indices, so their bursts fit their windows down to [`MIN_STREAM_RATE_TPS`], which `with_purchase_interval`
//! never goes below (`tests/patterns.rs` checks every pattern on both the default and that clock).
//!
//! Amounts use floating-point `exp` and `ln` (log-normal and Zipf draws) and are then rounded to whole
//! minor units, so a last-digit difference between two platforms' maths libraries could only change
//! an amount that lands exactly on a rounding boundary.
//!
//! # Example
//!
//! ```
//! use transaction_factory::{FactoryConfig, TransactionFactory};
//! use models::GroundTruth;
//!
//! let factory = TransactionFactory::new(42, FactoryConfig::default()).unwrap();
//! let first: Vec<_> = factory.iter().take(1000).collect();
//! assert_eq!(factory.at(700), first[700]);
//! let frauds = first.iter().filter(|(_, label)| label.is_fraud()).count();
//! assert!((100..200).contains(&frauds));
//!
//! let (txn, label) = &first[0];
//! let json = serde_json::to_string(txn).unwrap();
//! assert!(!json.contains("label"));
//! let customer = factory.customer(txn.customer_id).unwrap();
//! if *label == GroundTruth::Legit {
//!     assert_eq!(txn.country, customer.home_country());
//! }
//! ```

mod config;
pub mod currency;
pub mod edge;
pub mod export;
mod factory;
pub mod fraud;
pub mod geo;
pub mod merchants;
mod plan;
mod population;
mod rng;
mod world;

pub use config::{
    DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, FactoryError, MAX_CUSTOMERS, MAX_MERCHANTS,
    MIN_CUSTOMERS, MIN_MERCHANTS, MIN_STREAM_RATE_TPS,
};
pub use factory::{History, Iter, TransactionFactory};
pub use merchants::{MerchantInfo, MerchantKind};
pub use plan::BLOCK;
pub use population::{Customer, SpendSegment, USUAL_MERCHANTS};
