//! Same seed, same stream; `at(k)` and `iter_from(k)` agree with the stream, across block boundaries.

use models::{GroundTruth, Transaction};
use transaction_factory::{BLOCK, FactoryConfig, TransactionFactory};

fn factory(seed: u64) -> TransactionFactory {
    TransactionFactory::new(seed, FactoryConfig::default()).expect("default config is valid")
}

#[test]
fn same_seed_gives_the_same_stream_and_population() {
    let (a, b) = (factory(11), factory(11));
    assert_eq!(a.customers(), b.customers());
    let sa: Vec<_> = a.iter().take(20_000).collect();
    let sb: Vec<_> = b.iter().take(20_000).collect();
    assert_eq!(sa, sb);
    // Bit for bit, including the floating-point coordinates.
    for ((x, _), (y, _)) in sa.iter().zip(&sb) {
        assert_eq!(
            (x.lat.to_bits(), x.lon.to_bits()),
            (y.lat.to_bits(), y.lon.to_bits())
        );
    }
}

#[test]
fn different_seeds_give_different_streams() {
    let a: Vec<_> = factory(1).iter().take(100).collect();
    let b: Vec<_> = factory(2).iter().take(100).collect();
    let same = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.0.customer_id == y.0.customer_id)
        .count();
    assert!(same < 5, "{same} of 100 share a customer");
}

/// A fraud transaction in the first slots of a block whose episode began in the previous block.
fn spans_previous_block(stream: &[(Transaction, GroundTruth)], k: usize) -> bool {
    let (txn, label) = &stream[k];
    let GroundTruth::Fraud { pattern } = label else {
        return false;
    };
    let block_start = k - k % BLOCK;
    k % BLOCK < 64
        && block_start > 0
        && stream[block_start.saturating_sub(64)..block_start]
            .iter()
            .any(|(t, l)| {
                t.card_id == txn.card_id && l == &GroundTruth::Fraud { pattern: *pattern }
            })
}

#[test]
fn at_k_equals_the_kth_of_the_stream_including_episodes_spanning_blocks() {
    let f = factory(42);
    let stream: Vec<_> = f.iter().take(80 * BLOCK).collect();
    for (k, item) in stream.iter().enumerate() {
        assert_eq!(&f.at(k as u64), item, "index {k}");
    }
    let spanning: Vec<usize> = (0..stream.len())
        .filter(|&k| spans_previous_block(&stream, k))
        .collect();
    assert!(
        spanning.len() >= 5,
        "expected episodes crossing block boundaries, found {}",
        spanning.len()
    );
    for k in spanning {
        assert_eq!(f.iter_from(k as u64).next().as_ref(), Some(&stream[k]));
    }
}

#[test]
fn iter_from_far_indices_matches_at() {
    let f = factory(5);
    for start in [1_000_003u64, 77_777_777_777, (1 << 40) + 129] {
        for (i, item) in f.iter_from(start).take(600).enumerate() {
            assert_eq!(item, f.at(start + i as u64), "index {}", start + i as u64);
            if item.1
                != (GroundTruth::Edge {
                    pattern: models::EdgeKind::ReplayedId,
                })
            {
                assert_eq!(item.0.id.0, start + i as u64, "ids are the stream index");
            }
        }
    }
}

#[test]
fn timestamps_follow_the_stream_clock() {
    let f = TransactionFactory::new(
        3,
        FactoryConfig {
            rate_tps: 250.0,
            ..FactoryConfig::default()
        },
    )
    .unwrap();
    let start = f.config().start.micros;
    for (k, (txn, label)) in f.iter().take(5000).enumerate() {
        if !matches!(label, GroundTruth::Edge { .. }) {
            assert_eq!(txn.timestamp.micros, start + k as i64 * 4000, "index {k}");
        }
    }
}

/// FNV-1a over the JSON of the first transactions: the stream of seed 42 must not change between
/// machines or builds. If a deliberate change to the model moves it, update the constant.
#[test]
fn stream_fingerprint_is_stable() {
    let f = factory(42);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (txn, label) in f.iter().take(2000) {
        let line = format!(
            "{}{}",
            serde_json::to_string(&txn).unwrap(),
            serde_json::to_string(&label).unwrap()
        );
        for b in line.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    assert_eq!(hash, FINGERPRINT, "fingerprint {hash:#018x}");
}

const FINGERPRINT: u64 = 0x1a5e_4a01_a87b_bb49;
