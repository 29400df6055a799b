//! `stress-runner serve-target`: serves the built-in reference fraud-detection service alone on
//! 127.0.0.1 until Ctrl+C, for pointing other tools (or `run --url`) at it.

use anyhow::Context;
use fraud_sim::{DEFAULT_CAPACITY_TPS, FraudSim, SimConfig};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Throughput (TPS) at which the slowest stage saturates.
    #[arg(long, default_value_t = DEFAULT_CAPACITY_TPS)]
    capacity: f64,
    /// Bearer token for /admin/faults (default: a random one, printed at start).
    #[arg(long)]
    admin_token: Option<String>,
    /// No simulated service time: only the detection logic runs (for driver benchmarks).
    #[arg(long)]
    no_service_time: bool,
    /// Card history the detector learns before serving: the everyday purchases in this period
    /// before the stream of `--seed` starts ("0s": a cold start; default: the scenarios' default
    /// `target.warm_up`).
    #[arg(long, value_name = "D", value_parser = models::duration_serde::parse)]
    warm_up: Option<std::time::Duration>,
    /// Seed of the runs that will be pointed at it (the scenarios' default is 42): the history is
    /// that of their cards.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = if args.no_service_time {
        SimConfig::zero_service_time()
    } else {
        SimConfig::default()
    };
    config.port = args.port;
    config.capacity = args.capacity;
    config.admin_token = args.admin_token;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(async move {
        let sim = FraudSim::start(config).await?;
        let period = args.warm_up.unwrap_or(models::DEFAULT_WARM_UP);
        if !period.is_zero() {
            let warm = orchestrator::warm_up(sim.pipeline(), args.seed, period).await?;
            println!("{}", warm.describe());
        }
        println!("fraud-sim serving at {}", sim.score_url());
        println!("  health:      {}/health", sim.base_url());
        println!("  metrics:     {}/metrics", sim.base_url());
        println!(
            "  admin:       {}/admin/faults (Authorization: Bearer {})",
            sim.base_url(),
            sim.admin_token()
        );
        println!("  admin token: {}", sim.admin_token());
        println!("  pid {}; press Ctrl+C to stop", sim.pid());
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl+C")?;
        sim.shutdown().await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
