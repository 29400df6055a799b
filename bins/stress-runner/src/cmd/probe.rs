//! `stress-runner probe`: a dry run against an HTTP API. Sends the first few transactions a run would
//! send, one at a time, through the run's own target setup (`orchestrator::TargetFactory`) and
//! request path (`targets::HttpTarget::probe`), and prints each request (secret header values
//! masked), status, raw answer, verdict or why there is none, and latency. Exits 0 when every answer
//! mapped to a verdict, 1 otherwise, 2 on a configuration error (TLS refused on the first
//! connection included).

use anyhow::{Context, bail};
use models::{RunExit, ScenarioSpec};
use orchestrator::{TargetFactory, scenario_file, timeline};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;
use targets::ProbeExchange;

/// Answers are shown up to this many bytes: enough for any verdict, short enough for a terminal.
const SHOWN_ANSWER_BYTES: usize = 2_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A scenario TOML file whose [target] names an HTTP API (kind = "http", url, headers, body,
    /// [target.response], [target.tls]).
    #[arg(long, value_name = "FILE")]
    scenario: Option<String>,
    /// The API's scoring URL (overrides the scenario's).
    #[arg(long, value_name = "URL")]
    target: Option<models::TargetRef>,
    /// --allow-remote, and how to reach the API and read its answers (as for `run`).
    #[command(flatten)]
    http: super::target_args::TargetArgs,
    /// Transactions to send, one at a time (1 to 100).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=100))]
    count: u64,
    /// Seed of the transaction stream (default: the scenario's, 42 without one); the first N
    /// transactions of a run with this seed are sent.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
}

/// The scenario the flags describe, checked as `run` checks it.
fn build_spec(args: &Args) -> anyhow::Result<ScenarioSpec> {
    let mut spec = match (&args.scenario, &args.target) {
        (None, None) => bail!("give --scenario FILE or --target URL: the API to probe"),
        (Some(name), _) => scenario_file::resolve(name)?,
        // Any valid scenario will do as a base: only its target and seed are used.
        (None, Some(_)) => timeline::plain(1.0, Duration::from_secs(1))?,
    };
    if let Some(t) = &args.target {
        t.apply_to(&mut spec.target);
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    args.http.apply_to(&mut spec)?;
    scenario_file::validate(&spec)
        .map_err(|(field, message)| anyhow::anyhow!("{field}: {message}"))?;
    Ok(spec)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let spec = build_spec(&args)?;
    let factory = TargetFactory::new(&spec.target, args.http.allow_remote)?;
    let stream = orchestrator::run_stream(&spec)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let unmapped = runtime.block_on(async {
        let target = factory.prepare_probe().await?;
        println!(
            "probing {}{} with {} transaction{} (seed {}), one at a time\n",
            target.url(),
            target
                .protocol()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            args.count,
            if args.count == 1 { "" } else { "s" },
            spec.seed
        );
        let mut unmapped = 0u64;
        for k in 0..args.count {
            let (txn, _) = stream.at(k);
            let exchange = target
                .probe(&txn)
                .await
                .with_context(|| format!("making the request for transaction {}", txn.id))?;
            println!(
                "{}",
                describe(k + 1, args.count, &txn.id.to_string(), &exchange)
            );
            unmapped += u64::from(!exchange.mapped());
        }
        Ok::<_, anyhow::Error>(unmapped)
    })?;
    if unmapped == 0 {
        println!("every answer mapped to a verdict ({0} of {0})", args.count);
        Ok(super::exit(RunExit::Passed))
    } else {
        println!(
            "{unmapped} of {} answers did not map to a verdict: see `verdict` above and \
             docs/targets.md (\"Answers\")",
            args.count
        );
        Ok(super::exit(RunExit::Failed))
    }
}

/// One exchange as the terminal shows it.
fn describe(n: u64, count: u64, id: &str, ex: &ProbeExchange) -> String {
    let mut out = String::new();
    let r = &ex.request;
    let _ = writeln!(out, "#{n} of {count}: {id}");
    let _ = writeln!(out, "  request  {} {}", r.method, r.url);
    for (name, value) in &r.headers {
        let _ = writeln!(out, "           {name}: {value}");
    }
    let _ = writeln!(out, "  body     {}", String::from_utf8_lossy(&r.body));
    match ex.status {
        Some(status) => {
            let _ = writeln!(out, "  status   {status}");
            let (shown, cut) = ex.answer_prefix(SHOWN_ANSWER_BYTES);
            let text = String::from_utf8_lossy(shown);
            let _ = match (text.is_empty(), cut) {
                (true, _) => writeln!(out, "  answer   (empty)"),
                (false, false) => writeln!(out, "  answer   {text}"),
                (false, true) => writeln!(
                    out,
                    "  answer   {text}\n           ... cut: the first {} of {} bytes shown",
                    shown.len(),
                    ex.answer.len()
                ),
            };
        }
        None => {
            let _ = writeln!(out, "  status   none: no answer was read");
        }
    }
    let _ = match &ex.outcome {
        Ok(v) => {
            let decision = v.decision.as_str();
            if v.risk_score.is_nan() {
                writeln!(out, "  verdict  {decision} (no score)")
            } else {
                writeln!(out, "  verdict  {decision}, score {}", v.risk_score)
            }
        }
        Err(e) => writeln!(out, "  verdict  none ({}): {e}", e.kind().as_str()),
    };
    let _ = writeln!(out, "  latency  {:.1} ms", ex.latency.as_secs_f64() * 1e3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::Decision;
    use targets::{ProbeRequest, TargetError};

    fn exchange(answer: &str, outcome: Result<models::Verdict, TargetError>) -> ProbeExchange {
        ProbeExchange {
            request: ProbeRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:9/v2/assess".into(),
                headers: vec![("authorization".into(), "***".into())],
                body: r#"{"ref":"txn_1"}"#.as_bytes().to_vec().into(),
            },
            status: Some(200),
            answer: answer.as_bytes().to_vec().into(),
            outcome,
            latency: Duration::from_micros(1_500),
        }
    }

    #[test]
    fn an_exchange_shows_request_answer_verdict_and_latency() {
        let v = models::Verdict {
            decision: Decision::Decline,
            risk_score: f64::NAN,
            reasons: vec![],
            agents: vec![],
        };
        let text = describe(1, 3, "txn_1", &exchange(r#"{"a":"BLOCK"}"#, Ok(v)));
        assert!(text.contains("#1 of 3: txn_1"), "{text}");
        assert!(text.contains("authorization: ***"), "{text}");
        assert!(text.contains(r#"answer   {"a":"BLOCK"}"#), "{text}");
        assert!(text.contains("verdict  decline (no score)"), "{text}");
        assert!(text.contains("latency  1.5 ms"), "{text}");

        let long = "x".repeat(SHOWN_ANSWER_BYTES + 10);
        let err = TargetError::Malformed {
            reason: "no decision at /a".into(),
        };
        let text = describe(2, 3, "txn_2", &exchange(&long, Err(err)));
        assert!(
            text.contains(&format!(
                "cut: the first {SHOWN_ANSWER_BYTES} of {} bytes",
                long.len()
            )),
            "{text}"
        );
        assert!(
            text.contains(
                "verdict  none (malformed): the answer is not a verdict: no decision at /a"
            ),
            "{text}"
        );
    }
}
