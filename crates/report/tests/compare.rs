//! `compare`: the figures that matter with deltas, and the regression gate.

mod common;

use common::{Fixture, FixtureSpec, WriteOpts};
use expect_test::expect_file;
use models::Summary;
use report::{CompareConfig, RunData, compare, render_compare_html};

fn base() -> Summary {
    let mut s = Summary {
        scenario: "peak-load".into(),
        run_id: "a".into(),
        ..Summary::default()
    };
    s.load.achieved_tps_avg = 2000.0;
    s.latency_ms.p50 = 12.0;
    s.latency_ms.p95 = 30.0;
    s.latency_ms.p99 = 50.0;
    s.errors.rate = 0.0001;
    s.fraud.recall = 0.92;
    s.fraud.precision = 0.95;
    s.business.cost_per_txn = 0.000_29;
    s
}

#[test]
fn identical_runs_pass() {
    let cmp = compare(&base(), &base(), &CompareConfig::default());
    assert!(!cmp.regressed());
    assert!(cmp.figures.iter().all(|f| f.delta == 0.0 && !f.regression));
}

#[test]
fn an_injected_regression_is_caught_and_tabled() {
    let a = base();
    let mut b = base();
    b.load.achieved_tps_avg = 1900.0; // -5 %: within 10 %
    b.latency_ms.p99 = 58.0; // +16 %: regression
    b.latency_ms.p50 = 11.0; // better
    b.errors.rate = 0.0002; // +100 % relative but +0.01 pp: under the 0.1 pp floor
    b.fraud.recall = 0.80; // -13 %: regression
    b.business.cost_per_txn = 0.000_30;
    let cmp = compare(&a, &b, &CompareConfig::default());
    let names: Vec<&str> = cmp.regressions().map(|f| f.name).collect();
    assert_eq!(names, ["latency p99", "recall"]);
    expect_file!["snapshots/compare_table.txt"].assert_eq(&cmp.to_table());

    // The floor is absolute: a rise of more than 0.1 percentage points is a regression.
    b = base();
    b.errors.rate = 0.0015;
    assert_eq!(
        compare(&a, &b, &CompareConfig::default())
            .regressions()
            .map(|f| f.name)
            .collect::<Vec<_>>(),
        ["error rate"]
    );
    // A looser threshold lets the same change through.
    b = base();
    b.latency_ms.p99 = 58.0;
    assert!(
        !compare(
            &a,
            &b,
            &CompareConfig {
                max_regression_pct: 20.0,
                ..CompareConfig::default()
            }
        )
        .regressed()
    );
    // Worse from zero is a regression (no percentage exists).
    let mut zero = base();
    zero.latency_ms.p50 = 0.0;
    let cmp = compare(&zero, &base(), &CompareConfig::default());
    let p50 = cmp
        .figures
        .iter()
        .find(|f| f.name == "latency p50")
        .unwrap();
    assert!(p50.regression && p50.delta_pct.is_none());
}

#[test]
fn compare_html_overlays_both_runs() {
    let a = Fixture::generate(&FixtureSpec {
        duration_s: 180,
        ramp_up_s: 30,
        ramp_down_s: 30,
        faults: vec![],
        ..FixtureSpec::ten_minutes()
    });
    let b = Fixture::generate(&FixtureSpec {
        duration_s: 200,
        ramp_up_s: 30,
        ramp_down_s: 30,
        faults: vec![],
        latency_factor: 1.5,
        ..FixtureSpec::ten_minutes()
    });
    let a = RunData::load(&a.write("cmp-a", WriteOpts::default())).unwrap();
    let b = RunData::load(&b.write("cmp-b", WriteOpts::default())).unwrap();
    let cmp = compare(&a.summary, &b.summary, &CompareConfig::default());
    assert!(cmp.regressions().any(|f| f.name == "latency p99"));
    let html = render_compare_html(&a, &b, &cmp);
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(doc.select(&sel("#compare-table tbody tr")).count(), 9);
    assert_eq!(
        doc.select(&sel("#chart-cmp-throughput, #chart-cmp-p99"))
            .count(),
        2
    );
    assert_eq!(
        doc.select(&sel("#verdict"))
            .next()
            .unwrap()
            .text()
            .collect::<String>(),
        "REGRESSION"
    );
    let blob: serde_json::Value = serde_json::from_str(
        &doc.select(&sel("#report-data"))
            .next()
            .unwrap()
            .text()
            .collect::<String>(),
    )
    .unwrap();
    assert_eq!(blob["a"]["t"].as_array().unwrap().len(), 180);
    assert_eq!(blob["b"]["lat_p99"].as_array().unwrap().len(), 200);
    assert!(!html.contains("https://"));
}
