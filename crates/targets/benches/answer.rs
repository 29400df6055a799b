//! Reading a verdict from an answer per request: the default shape (what fraud-sim and most of our
//! users' look-alikes answer), the same with reasons and agents, and a mapped foreign answer
//! (pointers and decision words), which takes the general scan.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use models::ResponseSpec;
use std::hint::black_box;
use targets::{ResponseMapping, parse_decision_map};

fn parse(c: &mut Criterion) {
    let default = ResponseMapping::default();
    let foreign = ResponseMapping::from_spec(
        "/decision",
        "/risk_score",
        &ResponseSpec {
            decision: Some("/outcome/action".into()),
            score: Some("/riskScore".into()),
            decisions: parse_decision_map("ALLOW=approve,CHALLENGE=review,BLOCK=decline")
                .expect("valid map"),
            ..ResponseSpec::default()
        },
    )
    .expect("valid mapping");
    let mut group = c.benchmark_group("answer");
    group.throughput(Throughput::Elements(1));
    for (name, mapping, body) in [
        (
            "default_shape",
            &default,
            &br#"{"decision":"approve","risk_score":0.1}"#[..],
        ),
        (
            "default_shape_with_reasons_and_agents",
            &default,
            &br#"{"decision":"decline","risk_score":0.93,"reasons":["velocity"],"agents":[{"name":"pattern_detector","duration_us":850,"ok":true}]}"#[..],
        ),
        (
            "foreign_mapped",
            &foreign,
            &br#"{"outcome":{"action":"Block"},"riskScore":87}"#[..],
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| mapping.parse(black_box(body)).expect("a verdict"))
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
