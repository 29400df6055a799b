//! Temporary probe.
#![allow(clippy::print_stdout)]
use std::sync::Arc;
use std::time::{Duration, Instant};
use targets::{HttpTarget, HttpTargetConfig, Target};
use models::*;
use std::borrow::Cow;
fn txn() -> Transaction {
    Transaction { id: TxnId(42), timestamp: Timestamp::from_secs(1_767_225_600), amount_minor: 12_345, currency: Currency::EUR,
        card_id: CardId(7), customer_id: CustomerId(3), merchant_id: MerchantId(99), merchant_name: Cow::Borrowed("Cafe Zurich"),
        mcc: 5812, channel: Channel::Contactless, country: CountryCode::new("CH"), lat: 47.37, lon: 8.54, device_id: None, ip: None }
}
fn main() {
    let conns: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let t = Arc::new(HttpTarget::new(HttpTargetConfig { url: "http://127.0.0.1:18080/v1/score".into(), connections: conns, ..Default::default() }).unwrap());
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..conns { let t = t.clone(); set.spawn(async move { let x = txn(); let mut n = 0u64; let mut lat = Duration::ZERO; while Instant::now() < deadline { let s = Instant::now(); t.score(&x).await.unwrap(); lat += s.elapsed(); n += 1; } (n, lat) }); }
        let (mut n, mut lat) = (0, Duration::ZERO);
        while let Some(r) = set.join_next().await { let (a, b) = r.unwrap(); n += a; lat += b; }
        println!("{conns} conns: {} req/s, mean latency {:?}", n / 3, lat / n as u32);
    });
}
