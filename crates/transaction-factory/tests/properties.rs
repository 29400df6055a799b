//! Invariants for any seed and any position in the stream.

use models::MixSpec;
use models::{GroundTruth, Transaction};
use proptest::prelude::*;
use transaction_factory::currency::{max_amount_minor, minor_to_usd};
use transaction_factory::edge::MAX_AMOUNT_MINOR;
use transaction_factory::geo::{COUNTRIES, country, country_of_ip};
use transaction_factory::{FactoryConfig, TransactionFactory};

// The wire fields are the CSV export's columns: one list, in `export`.
use transaction_factory::export::CSV_HEADER as WIRE_FIELDS;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_seed_keeps_the_invariants(seed in any::<u64>(), start in 0u64..(1 << 40), customers in 4096u32..12_000) {
        let config = FactoryConfig { customers, ..FactoryConfig::default() };
        let f = TransactionFactory::new(seed, config).unwrap();
        let items: Vec<(Transaction, GroundTruth)> = f.iter_from(start).take(400).collect();
        prop_assert_eq!(&f.at(start), &items[0]);
        for (t, label) in &items {
            // Labels never on the wire: only the wire fields, and the payload parses back strictly.
            let json = serde_json::to_value(t).unwrap();
            let obj = json.as_object().unwrap();
            for key in obj.keys() {
                prop_assert!(WIRE_FIELDS.contains(&key.as_str()), "unexpected field {}", key);
            }
            let text = json.to_string();
            prop_assert!(!text.contains("\"kind\"") && !text.contains("\"label\"") && !text.contains("\"pattern\""));
            let back: Transaction = serde_json::from_value(json.clone()).unwrap();
            prop_assert_eq!(&back, t);

            // Amounts within currency-sensible bounds.
            let usd = minor_to_usd(t.amount_minor, t.currency);
            match label {
                GroundTruth::Edge { pattern: models::EdgeKind::ZeroAmount } => prop_assert_eq!(t.amount_minor, 0),
                GroundTruth::Edge { pattern: models::EdgeKind::MaxAmount } => prop_assert_eq!(t.amount_minor, max_amount_minor(t.currency)),
                _ => prop_assert!(t.amount_minor >= 1 && (0.2..=100_000.0).contains(&usd), "{} {} = ${}", t.amount_minor, t.currency, usd),
            }

            // Places from the table, paid in the local currency, IPs from the country blocks.
            let c = country(t.country);
            prop_assert!(c.is_some(), "country {} not in the table", t.country);
            prop_assert_eq!(c.map(|c| c.currency), Some(t.currency));
            prop_assert!((-90.0..=90.0).contains(&t.lat) && (-180.0..=180.0).contains(&t.lon));
            if let Some(ip) = t.ip {
                prop_assert!(country_of_ip(ip).is_some(), "ip {} outside the table's blocks", ip);
            }
            prop_assert!(COUNTRIES.iter().any(|c| c.code == f.customer(t.customer_id).unwrap().home_country()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The declared per-transaction maximum holds for every label, including fraud patterns whose
    /// amounts are multiples of a customer's median and the `max_amount` edge case itself.
    #[test]
    fn no_amount_exceeds_the_declared_maximum(
        seed in any::<u64>(),
        start in 0u64..(1 << 40),
        fraud in 0.0f64..0.6,
        edge in 0.0f64..0.4,
    ) {
        let mix = MixSpec { legit: 1.0 - fraud - edge, fraud, edge };
        let f = TransactionFactory::new(seed, FactoryConfig { mix, ..FactoryConfig::default() }).unwrap();
        for (t, label) in f.iter_from(start).take(2_000) {
            let max = max_amount_minor(t.currency);
            prop_assert!(max <= MAX_AMOUNT_MINOR);
            prop_assert!(t.amount_minor <= max, "{} {} ({:?}) above the maximum {}", t.amount_minor, t.currency, label, max);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `fraud_counts` (plans only) agrees with the labels of the transactions themselves, across
    /// block boundaries and from any start.
    #[test]
    fn fraud_counts_match_the_made_labels(seed in any::<u64>(), start in 0u64..(1 << 40), len in 0u64..1500) {
        let f = TransactionFactory::new(seed, FactoryConfig { customers: 4096, ..FactoryConfig::default() }).unwrap();
        let mut made = [0u64; models::FraudPattern::ALL.len()];
        for (_, label) in f.iter_from(start).take(len as usize) {
            if let GroundTruth::Fraud { pattern } = label {
                made[pattern as usize] += 1;
            }
        }
        prop_assert_eq!(f.fraud_counts(start..start + len), made);
    }
}
