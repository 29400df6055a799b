//! The history before the stream: the population's everyday purchases in a period before
//! transaction 0, made by the model of legitimate traffic, deterministic and extendable.

use std::time::Duration;
use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, TransactionFactory};

fn orchestrators_clock(seed: u64) -> TransactionFactory {
    let config = FactoryConfig::default().with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S);
    TransactionFactory::new(seed, config).expect("a valid config")
}

#[test]
fn history_is_the_stream_clocks_pace_before_the_start_oldest_first() {
    let f = orchestrators_clock(42);
    let period = Duration::from_secs(2 * 3600);
    let past: Vec<_> = f.history(period).collect();
    let expected = (period.as_secs_f64() * f.config().rate_tps).round() as usize;
    assert_eq!(past.len(), expected);
    assert_eq!(f.history(period).size_hint(), (expected, Some(expected)));
    let start = f.timestamp_of(0).micros;
    let earliest = start - period.as_micros() as i64;
    assert!(past.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(past.first().unwrap().timestamp.micros >= earliest - 1);
    assert!(past.last().unwrap().timestamp.micros < start);
    // Ids count down from the top and never meet the stream's.
    assert!(past.iter().all(|t| t.id.0 > u64::MAX / 2));
}

#[test]
fn history_is_everyday_purchases_of_each_cards_owner() {
    let f = orchestrators_clock(7);
    let past: Vec<_> = f.history(Duration::from_secs(3600)).collect();
    let mut customers = std::collections::HashSet::new();
    for t in &past {
        let owner = f.card_owner(t.card_id).expect("a card of the population");
        assert_eq!(owner.id(), t.customer_id);
        assert_eq!(t.country, owner.home_country());
        assert_eq!(t.currency, owner.currency());
        assert!(owner.devices().contains(&t.device_id.expect("a device")));
        assert_eq!(t.ip, Some(owner.ip()));
        assert!(t.amount_minor >= 1);
        customers.insert(t.customer_id);
    }
    // An hour at one purchase per customer per hour: most customers appear (1 − 1/e ≈ 63%).
    let share = customers.len() as f64 / f.customers().len() as f64;
    assert!((0.55..0.70).contains(&share), "{share}");
}

#[test]
fn history_is_deterministic_and_a_longer_period_extends_a_shorter_one() {
    let (a, b) = (orchestrators_clock(3), orchestrators_clock(3));
    let short: Vec<_> = a.history(Duration::from_secs(600)).collect();
    assert_eq!(
        short,
        b.history(Duration::from_secs(600)).collect::<Vec<_>>()
    );
    let long: Vec<_> = a.history(Duration::from_secs(1200)).collect();
    assert_eq!(long[long.len() - short.len()..], short[..]);
    assert!(a.history(Duration::ZERO).next().is_none());
    let other: Vec<_> = orchestrators_clock(4)
        .history(Duration::from_secs(600))
        .collect();
    assert_ne!(short, other);
}
