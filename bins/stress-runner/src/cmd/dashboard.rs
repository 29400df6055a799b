//! `stress-runner dashboard --results DIR`: replays a finished run in the live dashboards (optionally N
//! times faster) with the controls disabled, serving on 127.0.0.1 until Ctrl+C.
//!
//! Also the `--dashboard` flags of `run` ([`DashboardArgs`], flattened into run's arguments) and
//! [`start_for_run`], which `run` calls with the orchestrator's control handle before the run starts.

use anyhow::Context;
use dashboard_server::{
    DashboardConfig, DashboardServer, Feed, FeedConfig, LiveDashboard, Presentation,
};
use models::{ScenarioSpec, Summary};
use orchestrator::RunControl;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Results folder of a finished run (intervals.jsonl; events.jsonl and summary.json when present).
    #[arg(long, value_name = "DIR")]
    results: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 8090)]
    port: u16,
    /// Replay N times faster than the run happened; 0 shows the whole run at once.
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    speed: f64,
    /// Presentation settings (TOML): company, logo, currency, hero numbers, tone, reference figures.
    #[arg(long, value_name = "FILE")]
    presentation: Option<PathBuf>,
}

/// The dashboard flags of `stress-runner run`.
#[derive(Debug, Clone, clap::Args)]
pub struct DashboardArgs {
    /// Serve the live dashboards during the run (prints their URL and control token).
    #[arg(long)]
    pub dashboard: bool,
    /// Dashboard port on 127.0.0.1 (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 8090, requires = "dashboard")]
    pub dashboard_port: u16,
    /// Bearer token for the dashboard's controls, 16 characters or more (default: a random one, printed at start).
    #[arg(long, value_name = "T", requires = "dashboard")]
    pub token: Option<String>,
    /// Presentation settings (TOML): company, logo, currency, hero numbers, tone, reference figures.
    #[arg(long, value_name = "FILE", requires = "dashboard")]
    pub presentation: Option<PathBuf>,
    /// Keep serving the dashboards after the run has ended, until Ctrl+C.
    #[arg(long, requires = "dashboard")]
    pub dashboard_linger: bool,
}

impl DashboardArgs {
    /// Refuses what the dashboard would refuse, before the run starts (a usage error, exit 2).
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(token) = &self.token {
            dashboard_server::token::check(token).map_err(|e| anyhow::anyhow!("--token: {e}"))?;
        }
        Ok(())
    }
}

fn presentation(path: Option<&Path>) -> anyhow::Result<Presentation> {
    match path {
        Some(p) => Ok(dashboard_server::presentation::load(p)?),
        None => Ok(Presentation::default()),
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.speed.is_finite() && args.speed >= 0.0) {
        anyhow::bail!(
            "--speed {} must be 0 (all at once) or a positive factor like 10",
            args.speed
        );
    }
    let recorded = dashboard_server::replay::load(&args.results)?;
    let presentation = presentation(args.presentation.as_deref())?;
    let cost_model = recorded
        .summary
        .as_ref()
        .map(|s| s.business.cost_model.clone())
        .unwrap_or_default();
    let budget = recorded.summary.as_ref().and_then(|s| s.business.budget);
    // The rule the run was judged by, so the replayed uptime is the summary's.
    let uptime = recorded
        .summary
        .as_ref()
        .and_then(|s| s.resilience.uptime_rule)
        .unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let feed = Feed::new(FeedConfig {
            presentation,
            cost_model,
            budget,
            uptime,
            target: recorded.summary.as_ref().map(|s| s.target.clone()),
            mix: recorded.summary.as_ref().and_then(|s| s.mix),
            ..FeedConfig::default()
        });
        let config = DashboardConfig {
            port: args.port,
            ..DashboardConfig::default()
        };
        let server = DashboardServer::start(config, feed.clone(), None).await?;
        let ticks = recorded.ticks.len();
        let speed = if args.speed == 0.0 {
            f64::INFINITY
        } else {
            args.speed
        };
        println!(
            "dashboard replaying {} ({ticks} ticks, x{}) at {}",
            args.results.display(),
            args.speed,
            server.url()
        );
        println!(
            "  pages: {0}investor {0}analytics {0}agents {0}admin",
            server.url()
        );
        println!("  controls are disabled for a replay; press Ctrl+C to stop");
        let mut replay = tokio::spawn(dashboard_server::replay::replay(recorded, feed, speed));
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        tokio::select! {
            r = &mut replay => {
                r.context("the replay task failed")?;
                println!("replay finished; still serving the final figures until Ctrl+C");
                ctrl_c.await.context("waiting for Ctrl+C")?;
            }
            r = &mut ctrl_c => {
                r.context("waiting for Ctrl+C")?;
                replay.abort();
                let _ = replay.await;
            }
        }
        server.shutdown().await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// A dashboard serving a `run`.
#[derive(Debug)]
pub struct RunDashboard {
    live: LiveDashboard,
    linger: bool,
}

impl RunDashboard {
    /// The feed the pages follow, to add what arrives after the run (such as `aws.json`).
    pub fn feed(&self) -> &dashboard_server::Feed {
        self.live.feed()
    }
}

/// Starts the dashboards for a run when `--dashboard` is given (call it inside the runtime, before
/// `orch.run()`, so that no event is missed) and prints their URL and control token once.
pub async fn start_for_run(
    args: &DashboardArgs,
    control: &RunControl,
    spec: &ScenarioSpec,
) -> anyhow::Result<Option<RunDashboard>> {
    if !args.dashboard {
        return Ok(None);
    }
    let presentation = presentation(args.presentation.as_deref())?;
    let feed = FeedConfig {
        presentation,
        cost_model: spec.cost.clone(),
        budget: spec.limits.budget,
        uptime: models::UptimeRule::of(&spec.resilience),
        // The built-in service's address is only known once it is served; its name is enough here.
        target: Some(models::TargetInfo::new(
            spec.target.kind,
            spec.target.url.clone(),
        )),
        mix: Some(spec.mix),
        ..FeedConfig::default()
    };
    let config = DashboardConfig {
        port: args.dashboard_port,
        token: args.token.clone(),
        ..DashboardConfig::default()
    };
    let live = LiveDashboard::start(config, feed, control.clone()).await?;
    println!(
        "dashboard: {}  (investor: {}investor)",
        live.url(),
        live.url()
    );
    println!(
        "  control token: {}  (type it into the admin page; it is not stored in the pages)",
        live.token()
    );
    Ok(Some(RunDashboard {
        live,
        linger: args.dashboard_linger,
    }))
}

impl RunDashboard {
    /// Call when the run has returned: every page then shows the summary's figures. With
    /// `--dashboard-linger` it keeps serving until Ctrl+C; then it stops.
    pub async fn finish(mut self, summary: &Summary) -> anyhow::Result<()> {
        self.live.finish(summary.clone()).await?;
        if self.linger {
            println!(
                "dashboard still serving the final figures at {}; press Ctrl+C to stop",
                self.live.url()
            );
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl+C")?;
        }
        self.live.shutdown().await?;
        Ok(())
    }

    /// Stops the dashboards without a summary (the run failed).
    pub async fn abandon(self) -> anyhow::Result<()> {
        self.live.shutdown().await?;
        Ok(())
    }
}
