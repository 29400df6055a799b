//! The whole search (orchestrator runs, figures, knees, report files) against a model system whose
//! latency is a known function of load: 20 servers of 10 ms each behind a FIFO queue, so 2,000 TPS
//! at most; below that a request takes 10 ms, above it the queue (and latency) grows without bound.
//! On tokio's paused clock, so the steps take virtual time. Measured: answer 2,000 TPS (interval
//! [2,000, 2,032]), knee 2,004 TPS, in 13 steps.

use capacity::{
    CapacityReport, KneeConfig, SearchConfig, Settings, Slo, StepConfig, StepRunner, StopReason,
    TargetChoice,
};
use models::{Decision, Verdict};
use std::sync::Arc;
use std::time::Duration;
use targets::FnTarget;
use tokio::sync::Semaphore;

const SERVERS: usize = 20;
const SERVICE: Duration = Duration::from_millis(10);
const CAPACITY_TPS: f64 = 2000.0; // SERVERS / SERVICE

fn model() -> Arc<dyn targets::Target> {
    let servers = Arc::new(Semaphore::new(SERVERS));
    Arc::new(FnTarget::new(move |_txn| {
        let servers = servers.clone();
        async move {
            let _permit = servers.acquire().await.expect("never closed");
            tokio::time::sleep(SERVICE).await;
            Ok(Verdict {
                decision: Decision::Approve,
                risk_score: 0.1,
                reasons: vec![],
                agents: vec![],
            })
        }
    }))
}

#[tokio::test(start_paused = true)]
async fn the_answer_and_the_knee_are_where_the_model_puts_them() {
    let dir = std::env::temp_dir().join(format!("capacity-model-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let slo = Slo::parse("p99<50ms,error_rate<1%").unwrap();
    let search_cfg = SearchConfig {
        min_tps: 250.0,
        max_tps: 8000.0,
        precision: 0.02,
        ..SearchConfig::default()
    };
    let step_cfg = StepConfig {
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(2),
        max_tps: search_cfg.max_tps,
        ..StepConfig::default()
    };
    let mut runner = StepRunner::start(TargetChoice::Custom(model()), step_cfg.clone(), &dir)
        .await
        .unwrap();
    let outcome = capacity::search(&search_cfg, &slo, &mut runner, &mut capacity::Quiet)
        .await
        .unwrap();
    runner.shutdown().await.unwrap();
    assert_eq!(outcome.stop, StopReason::Converged, "{outcome:#?}");
    assert!(outcome.steps.iter().all(|s| s.tps <= search_cfg.max_tps));

    let report = CapacityReport::new(
        "capacity-test".into(),
        "2026-01-01T00:00:00Z".into(),
        runner_info(),
        &slo,
        Settings::new(&search_cfg, &step_cfg, &slo),
        &KneeConfig::default(),
        outcome,
    );
    let answer = report.max_sustainable_tps.unwrap();
    assert!(
        (answer - CAPACITY_TPS).abs() <= 0.10 * CAPACITY_TPS,
        "answer {answer} TPS, the model saturates at {CAPACITY_TPS}"
    );
    assert_eq!(report.exit(), models::RunExit::Passed);
    let knee = report.knee_tps.expect("a knee");
    assert!(
        (knee - CAPACITY_TPS).abs() <= 0.15 * CAPACITY_TPS,
        "knee {knee} TPS, put at {CAPACITY_TPS}: {:?}",
        report.knees
    );
    // Every step has its own results folder; the report files are written.
    for s in &report.steps {
        let d = dir.join(s.dir.as_ref().unwrap());
        assert!(d.join("summary.json").is_file(), "{}", d.display());
    }
    let [json, html] = report.write(&dir).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    for key in [
        "max_sustainable_tps",
        "knee_tps",
        "quality_knee_tps",
        "confidence",
        "confidence_interval",
        "slo",
        "steps",
    ] {
        assert!(v.get(key).is_some(), "capacity.json lacks {key}");
    }
    assert_eq!(v["settings"]["keep_up_ratio"], 0.98);
    let step = &v["steps"][0];
    assert!(
        step["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["clause"].as_str().unwrap().starts_with("keep_up:")),
        "every step is judged on keeping up: {step}"
    );
    for key in [
        "tps",
        "repeat",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "error_rate",
        "recall",
        "precision",
        "achieved_tps",
        "verdict",
        "failed",
    ] {
        assert!(step.get(key).is_some(), "a step lacks {key}: {step}");
    }
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("uPlot") && html.contains("capacity-data"));
    assert!(
        html.contains("keep up with its rate") && html.contains("at least 98%"),
        "the page states the keep-up bound"
    );
    assert!(
        !html.contains("https://") && !html.contains("http://cdn"),
        "self-contained"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn runner_info() -> models::TargetInfo {
    models::TargetInfo {
        kind: "closure".into(),
        url: None,
        protocol: None,
    }
}
