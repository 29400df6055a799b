//! Request body rendering per request: today's default body (the transaction's JSON) against a
//! field template that writes the same fields one placeholder at a time, and a foreign schema with
//! renamed keys, the amount in major units and the time in milliseconds. The issue's goal: a field
//! template costs at most 10% more CPU per request than the default body.

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use models::Transaction;
use std::hint::black_box;
use targets::BodyTemplate;
use transaction_factory::{FactoryConfig, TransactionFactory};

/// The default body's fields, in its order, as placeholders (`device_id` and `ip` are written as
/// `null` when absent, where the default body leaves them out).
const SAME_FIELDS: &str = r#"{"id":{{id}},"timestamp":{{timestamp}},"amount_minor":{{amount_minor}},"currency":{{currency}},"card_id":{{card_id}},"customer_id":{{customer_id}},"merchant_id":{{merchant_id}},"merchant_name":{{merchant_name}},"mcc":{{mcc}},"channel":{{channel}},"country":{{country}},"lat":{{lat}},"lon":{{lon}},"device_id":{{device_id}},"ip":{{ip}}}"#;

const FOREIGN: &str = r#"{"transactionRef":{{id}},"occurredAtMs":{{timestamp_ms}},"amount":{"value":{{amount}},"currency":{{currency}}},"card":{"token":{{card_id}}},"customer":{{customer_id}},"merchant":{"id":{{merchant_id}},"categoryCode":{{mcc}},"country":{{country}}},"channel":{{channel}},"geo":[{{lat}},{{lon}}],"deviceFingerprint":{{device_id}},"ipAddress":{{ip}}}"#;

fn render(c: &mut Criterion) {
    let factory =
        TransactionFactory::new(42, FactoryConfig::default()).expect("default config is valid");
    // A mix of transactions (legit, fraud, edge cases) so that names, currencies and optional
    // fields vary as in a run.
    let txns: Vec<Transaction> = factory.iter_from(0).take(4096).map(|(t, _)| t).collect();
    let mut group = c.benchmark_group("body");
    group.throughput(Throughput::Elements(1));
    for (name, template) in [
        ("default_transaction", BodyTemplate::default()),
        (
            "same_fields_template",
            BodyTemplate::parse(SAME_FIELDS).expect("valid template"),
        ),
        (
            "foreign_schema_template",
            BodyTemplate::parse(FOREIGN).expect("valid template"),
        ),
    ] {
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % txns.len();
                buf.clear();
                template
                    .render_into(black_box(&txns[i]), &mut buf)
                    .expect("renders");
                black_box(buf.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
