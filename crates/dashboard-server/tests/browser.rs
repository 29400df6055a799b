//! The dashboards in a real headless Chromium, driven through chromedriver with fantoccini, during a
//! real run of the orchestrator against the built-in target: every page loads without errors, hero
//! numbers follow the WebSocket and end equal to the summary, the controls refuse a request without
//! the token and pause the run with it. Screenshots go to `target/dashboard-screenshots/`.
//!
//! Needs Chromium and chromedriver: `cargo xtask test` installs them and sets FRAUDSTRESS_CHROMIUM and
//! FRAUDSTRESS_CHROMEDRIVER (by hand: `apt-get install -y chromium chromium-driver`).

use dashboard_server::{DashboardConfig, FeedConfig, LiveDashboard};
use fantoccini::{Client, ClientBuilder, Locator};
use models::{FaultKind, FaultSpec, RunState, TargetKind};
use orchestrator::{RunOptions, StressTestOrchestrator, timeline};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PAGES: [&str; 5] = ["", "investor", "analytics", "agents", "admin"];

struct Driver {
    process: Child,
    port: u16,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn tool(var: &str, fallback: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| fallback.to_owned())
}

async fn start_driver() -> Driver {
    let driver = tool("FRAUDSTRESS_CHROMEDRIVER", "/usr/bin/chromedriver");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let process = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {driver}: {e}; run `cargo xtask test` or install chromium-driver")
        });
    let profile = std::env::temp_dir().join(format!(
        "fraudstress-chromium-{}-{port}",
        std::process::id()
    ));
    // Owned at once, so that it is killed and waited for on every path.
    let driver = Driver {
        process,
        port,
        profile,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not open port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let chromium = tool("FRAUDSTRESS_CHROMIUM", "/usr/bin/chromium");
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1440,1000",
        &format!("--user-data-dir={}", driver.profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromedriver session")
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Waits until `script` returns true (up to `secs`).
async fn until(c: &Client, script: &str, secs: u64, what: &str) {
    for _ in 0..secs * 10 {
        if js(c, script).await == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let errors = js(c, "return window.__fsErrors || null").await;
    panic!("timed out waiting for {what} ({script}); page errors: {errors}");
}

async fn errors(c: &Client) -> Vec<String> {
    serde_json::from_value(js(c, "return window.__fsErrors || ['no error hook']").await).unwrap()
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shoot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn hero(c: &Client, key: &str) -> f64 {
    let v = js(
        c,
        &format!("return document.getElementById('hero-{key}-value').dataset.value"),
    )
    .await;
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

async fn exercise(c: &Client, base: &str, token: &str, control: &orchestrator::RunControl) {
    // Every page loads with no errors and receives the feed.
    for page in PAGES {
        c.goto(&format!("{base}{page}")).await.unwrap();
        until(
            c,
            "return window.FS && FS.messages > 0 && FS.ticks.length > 0",
            20,
            "the feed",
        )
        .await;
        assert_eq!(errors(c).await, Vec::<String>::new(), "errors on /{page}");
    }

    // Hero numbers follow the WebSocket.
    c.goto(&format!("{base}investor")).await.unwrap();
    until(c, "var e = document.getElementById('hero-transactions-value'); return !!e && +e.dataset.value > 0", 20, "a hero number").await;
    let first = hero(c, "transactions").await;
    until(
        c,
        &format!(
            "return +document.getElementById('hero-transactions-value').dataset.value > {first}"
        ),
        10,
        "the number to move",
    )
    .await;

    // The page says what was tested: the target and the synthetic traffic's declared mix.
    until(
        c,
        "return /built-in reference service/.test(document.getElementById('tested-target').textContent)",
        10,
        "the target named",
    )
    .await;
    let mix = js(
        c,
        "return document.getElementById('tested-mix').textContent",
    )
    .await;
    assert_eq!(mix, json!("15% fraud, 5% edge cases, synthetic"));
    // Between ticks the extrapolated counters say they are estimates.
    until(
        c,
        "return !!FS.headline && FS.headline.live === true && !document.getElementById('live-tag').hidden",
        10,
        "the live-estimate tag between ticks",
    )
    .await;

    // Controls: refused without the token, carried out with it.
    c.goto(&format!("{base}admin")).await.unwrap();
    until(
        c,
        "return FS.messages > 0 && FS.controls === true",
        10,
        "controls enabled",
    )
    .await;
    let status = js(c, "return fetch('/api/control/pause', {method: 'POST'}).then(function (r) { return r.status; })").await;
    assert_eq!(status, json!(401));
    c.find(Locator::Css("[data-action=pause]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        c,
        "return /Type the control token/.test(document.getElementById('result').textContent)",
        5,
        "a hint to type the token",
    )
    .await;
    c.find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    c.find(Locator::Id("token-save"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let html = c.source().await.unwrap();
    assert!(!html.contains(token), "the token stays out of the page");
    assert_eq!(
        js(c, "return sessionStorage.getItem('fraudstress.token')").await,
        json!(token)
    );
    c.find(Locator::Css("[data-action=pause]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..50 {
        if control.state() == RunState::Paused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        control.state(),
        RunState::Paused,
        "the admin page paused the run"
    );
    until(c, "return FS.state === 'paused' && document.getElementById('run-state').textContent === 'paused'", 5, "the page to show paused").await;
    c.find(Locator::Css("[data-action=resume]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(c, "return FS.state === 'running'", 10, "the run to resume").await;

    // Screenshots while the run is live, tall enough to show whole pages.
    c.set_window_size(1440, 1700).await.unwrap();
    for page in ["investor", "analytics", "agents", "admin"] {
        c.goto(&format!("{base}{page}")).await.unwrap();
        until(
            c,
            "return FS.messages > 0 && FS.ticks.length > 3",
            20,
            "ticks for charts",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        shoot(c, page).await;
        assert_eq!(errors(c).await, Vec::<String>::new(), "errors on /{page}");
    }
    c.goto(base).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    shoot(c, "index").await;
    c.goto(&format!("{base}investor")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs headless Chromium; run cargo xtask test"]
async fn dashboards_in_headless_chromium_during_a_real_run() {
    let mut spec = timeline::plain(400.0, Duration::from_secs(16)).unwrap();
    spec.name = "browser-test".into();
    spec.target.kind = TargetKind::Builtin;
    let mut crash = FaultSpec::new(
        FaultKind::AgentCrash,
        Duration::from_secs(5),
        Duration::from_secs(3),
    );
    crash.stage = Some("pattern_detector".into());
    spec.faults = vec![crash];
    let out = std::env::temp_dir().join(format!(
        "fraudstress-dashboard-browser-{}",
        std::process::id()
    ));
    let options = RunOptions {
        out_dir: Some(out.clone()),
        ..RunOptions::default()
    };
    let orch = StressTestOrchestrator::new(spec.clone(), options).unwrap();
    let control = orch.control();
    // A presenter's settings; the reference figure is a labelled test fixture, as any real one would
    // come from the presenter's own file with its source.
    let presentation = dashboard_server::Presentation {
        company: "Acme Payments".into(),
        tone: dashboard_server::Tone::Business,
        references: vec![dashboard_server::Reference {
            name: "Example vendor (test fixture)".into(),
            figure: "p99_ms".into(),
            value: 250.0,
            unit: Some("ms".into()),
            source: "fixture in crates/dashboard-server/tests/browser.rs".into(),
        }],
        ..Default::default()
    };
    let feed = FeedConfig {
        cost_model: spec.cost.clone(),
        presentation,
        target: Some(models::TargetInfo::new(TargetKind::Builtin, None)),
        mix: Some(spec.mix),
        ..FeedConfig::default()
    };
    let mut dash = LiveDashboard::start(DashboardConfig::default(), feed, control.clone())
        .await
        .unwrap();
    let base = dash.url();
    let run = tokio::spawn(orch.run());

    let driver = start_driver().await;
    let c = browser(&driver).await;
    c.set_window_size(1440, 1000).await.unwrap();
    // Run the checks, then always close the browser before judging them.
    let token = dash.token().to_owned();
    let checks = async {
        exercise(&c, &base, &token, &control).await;
        let outcome = run.await.unwrap().unwrap();
        dash.finish(outcome.summary.clone()).await.unwrap();
        until(
            &c,
            "return !!FS.headline && FS.headline['final'] === true",
            10,
            "the final summary",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let s = &outcome.summary;
        assert!(
            s.load.completed > 1000,
            "the run did work: {}",
            s.load.completed
        );
        assert_eq!(hero(&c, "transactions").await, s.load.completed as f64);
        assert_eq!(hero(&c, "fraud_blocked").await, s.fraud.tp as f64);
        assert!((hero(&c, "money_saved").await - s.fraud.prevented_amount).abs() < 1e-6);
        assert!((hero(&c, "uptime").await - s.resilience.uptime_pct).abs() < 1e-9);
        assert!((hero(&c, "tps").await - s.load.achieved_tps_avg).abs() < 1e-9);
        // Detection in the hero is recall and precision (accuracy flatters on imbalanced classes and
        // stays on the analytics page); the ROI is net of the false-decline loss.
        assert!((hero(&c, "recall").await - s.fraud.recall * 100.0).abs() < 1e-9);
        assert!((hero(&c, "precision").await - s.fraud.precision * 100.0).abs() < 1e-9);
        assert_eq!(
            js(
                &c,
                "return !!document.getElementById('hero-accuracy-value')"
            )
            .await,
            json!(false),
            "no accuracy hero"
        );
        assert!((hero(&c, "roi").await - s.business.roi_pct).abs() < 1e-6);
        let roi_formula = js(
            &c,
            "return document.getElementById('roi-formula').textContent",
        )
        .await;
        assert!(
            roi_formula
                .as_str()
                .is_some_and(|t| t.contains("false_decline_cost_ratio")),
            "the net ROI's formula is beside it: {roi_formula}"
        );
        let tested = js(
            &c,
            "return document.getElementById('tested').textContent + ' | ' + document.getElementById('mix-note').textContent",
        )
        .await;
        let tested = tested.as_str().unwrap_or_default();
        assert!(
            tested.contains("built-in reference service")
                && tested.contains("15% fraud")
                && tested.contains("synthetic"),
            "the target and the mix are named: {tested}"
        );
        assert_eq!(
            js(&c, "return document.getElementById('live-tag').hidden").await,
            json!(true),
            "final figures are not estimates"
        );
        // Money and large numbers carry thousands separators: no run of four digits outside a
        // decimal part.
        let shown = js(
            &c,
            // Each element's own text apart: "928" then "34 missed" is not "92834".
            "return Array.from(document.querySelectorAll('#heroes *, .value-grid *')).filter(e => e.children.length === 0).map(e => e.textContent).join(' ')",
        )
        .await;
        let shown = shown.as_str().unwrap_or_default().to_owned();
        let bare = shown
            .split(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .filter(|w| w.split('.').next().is_some_and(|whole| whole.len() >= 4))
            .collect::<Vec<_>>();
        assert!(
            bare.is_empty(),
            "numbers without separators {bare:?} in {shown}"
        );
        // The flow's stages are the agents the target named, in its pipeline's order, each one a
        // stage every dot passes through: no invented or missing stage.
        assert_eq!(
            js(&c, "return FS.flowStages").await,
            json!([
                "ingestion",
                "transaction_analyzer",
                "pattern_detector",
                "risk_assessor",
                "decision_maker"
            ]),
        );
        let narrative = js(
            &c,
            "return document.getElementById('narrative').textContent",
        )
        .await;
        assert!(
            narrative.as_str().is_some_and(|t| t.contains("payments")),
            "business tone: {narrative}"
        );
        let source = js(
            &c,
            "return document.getElementById('comparison').textContent",
        )
        .await;
        assert!(
            source
                .as_str()
                .is_some_and(|t| t.contains("fixture in crates/dashboard-server")),
            "each reference shows its source"
        );
        shoot(&c, "investor-final").await;
        c.find(Locator::Id("cinematic"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(
            &c,
            "return document.body.classList.contains('cinematic')",
            5,
            "cinematic mode",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        shoot(&c, "investor-cinematic").await;
        assert_eq!(
            errors(&c).await,
            Vec::<String>::new(),
            "errors in cinematic mode"
        );
        c.goto(&format!("{base}analytics")).await.unwrap();
        let peak = format!(
            "return +document.getElementById('k-peak').dataset.value === {:?}",
            s.load.peak_tps
        );
        until(&c, &peak, 10, "the summary's peak load on analytics").await;
        assert_eq!(errors(&c).await, Vec::<String>::new());
    };
    let result = tokio::time::timeout(Duration::from_secs(180), checks).await;
    c.close().await.unwrap();
    drop(driver);
    dash.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&out);
    result.expect("the browser checks finished within 3 minutes");
}
