//! [`ShapeSpec`]: the one-line shape syntax of the command line (`--shape`), parsed into
//! [`models::Stage`]s. The syntax is documented in [`SHAPE_SYNTAX`].

use crate::chaos::derive_seed;
use crate::curve::Curve;
use crate::error::ProfileError;
use crate::profile::Profile;
use models::{Arrival, LoadProfile, Stage, duration_serde};
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// The shape syntax, as shown in `stress-runner profile --help`.
pub const SHAPE_SYNTAX: &str = "\
A shape is a comma-separated list of stages, run one after the other. Each stage is
SHAPE:PARAMETERS@DURATION, optionally preceded by NAME= to label the phase. Rates are in
transactions per second (plain numbers); durations are written like 90s, 1m30s, 250ms or 15m.

  ramp:FROM..TO@D               linear from FROM to TO TPS
                                  e.g. ramp:0..8000@60s
  sustained:TPS@D               constant rate
                                  e.g. sustained:5000@240s
  burst:BASE/BURST~EVERY/FOR@D  BURST TPS for FOR at the start of every EVERY, BASE TPS otherwise
                                  e.g. burst:1000/10000~3m/10s@15m
  wave:MEAN+-AMP~PERIOD@D       MEAN + AMP * sin(2 pi t / PERIOD), with AMP <= MEAN (MEAN±AMP also works)
                                  e.g. wave:5000+-2000~60s@10m
  chaos:MEAN~VOL/SPIKE/PROB@D   seeded random walk around MEAN (relative step about VOL per second),
                                with whole seconds at SPIKE TPS (chance PROB per second)
                                  e.g. chaos:3000~0.1/9000/0.02@5m
  pause:@D                      no traffic (a sustained stage at 0 TPS named \"pause\")
                                  e.g. pause:@10s

Example: warmup=ramp:0..8000@60s,sustained:5000@240s,pause:@10s,wave:5000+-2000~60s@10m";

const EXAMPLE: &str = "ramp:0..8000@60s,sustained:5000@240s";

/// A parsed `--shape`: its stages, in order. Chaos stages get their seeds from the profile seed
/// in [`ShapeSpec::load_profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeSpec {
    stages: Vec<Stage>,
}

/// Why a shape did not parse. `number` counts stages from 1; `text` is the stage as written.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ShapeError {
    #[error("the shape is empty; write stages separated by commas, for example `{EXAMPLE}`")]
    Empty,

    #[error("shape stage {number} `{text}`: {problem}; for example `{example}`")]
    Syntax {
        number: usize,
        text: String,
        problem: String,
        example: &'static str,
    },

    #[error("shape stage {number} `{text}`: {source}")]
    Invalid {
        number: usize,
        text: String,
        source: ProfileError,
    },
}

impl ShapeSpec {
    /// Parses the syntax of [`SHAPE_SYNTAX`] and checks every stage as [`Profile::new`] would.
    pub fn parse(text: &str) -> Result<ShapeSpec, ShapeError> {
        if text.trim().is_empty() {
            return Err(ShapeError::Empty);
        }
        let mut stages = Vec::new();
        for (index, raw) in text.split(',').enumerate() {
            let raw = raw.trim();
            let stage = parse_stage(raw).map_err(|(problem, example)| ShapeError::Syntax {
                number: index + 1,
                text: raw.to_string(),
                problem,
                example,
            })?;
            Curve::from_stage(index, &stage).map_err(|source| ShapeError::Invalid {
                number: index + 1,
                text: raw.to_string(),
                source,
            })?;
            stages.push(stage);
        }
        Ok(ShapeSpec { stages })
    }

    /// The stages as parsed (chaos seeds still 0).
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The shape as a profile spec; chaos stage `i` gets a seed derived from `seed` and `i`.
    pub fn load_profile(&self, seed: u64, arrival: Arrival) -> LoadProfile {
        let stages = self
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let mut stage = stage.clone();
                if let Stage::Chaos {
                    seed: stage_seed, ..
                } = &mut stage
                {
                    *stage_seed = derive_seed(seed, i);
                }
                stage
            })
            .collect();
        LoadProfile { arrival, stages }
    }

    /// The shape as a ready [`Profile`] (uniform arrivals by default in its spec).
    pub fn profile(&self, seed: u64) -> Result<Profile, ProfileError> {
        Profile::new(&self.load_profile(seed, Arrival::Uniform))
    }
}

impl FromStr for ShapeSpec {
    type Err = ShapeError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ShapeSpec::parse(text)
    }
}

type StageResult = Result<Stage, (String, &'static str)>;

fn parse_stage(raw: &str) -> StageResult {
    const GENERIC: &str = "sustained:5000@240s";
    if raw.is_empty() {
        return Err((
            "the stage is empty (two commas in a row, or a trailing comma?)".into(),
            GENERIC,
        ));
    }
    // `NAME=` prefix, as long as the `=` comes before the shape's `:`.
    let (name, body) = match raw.split_once('=') {
        Some((name, rest)) if !name.contains(':') => {
            let name = name.trim();
            if name.is_empty() {
                return Err((
                    "the name before `=` is empty".into(),
                    "warmup=ramp:0..8000@60s",
                ));
            }
            (Some(name.to_string()), rest.trim())
        }
        _ => (None, raw),
    };
    let Some((keyword, params)) = body.split_once(':') else {
        return Err((
            format!("expected SHAPE:PARAMETERS@DURATION, found no `:` in `{body}`"),
            GENERIC,
        ));
    };
    let keyword = keyword.trim().to_ascii_lowercase();
    let example = match keyword.as_str() {
        "ramp" => "ramp:0..8000@60s",
        "sustained" => "sustained:5000@240s",
        "burst" => "burst:1000/10000~3m/10s@15m",
        "wave" => "wave:5000+-2000~60s@10m",
        "chaos" => "chaos:3000~0.1/9000/0.02@5m",
        "pause" => "pause:@10s",
        other => {
            return Err((
                format!(
                    "unknown shape `{other}`; use ramp, sustained, burst, wave, chaos or pause"
                ),
                GENERIC,
            ));
        }
    };
    let fail = |problem: String| (problem, example);
    let Some((params, duration)) = params.rsplit_once('@') else {
        return Err(fail("missing `@DURATION` at the end".into()));
    };
    let duration = duration_serde::parse(duration).map_err(fail)?;
    let params = params.trim();
    let num = |what: &str, text: &str| -> Result<f64, (String, &'static str)> {
        let text = text.trim();
        text.parse::<f64>()
            .map_err(|_| fail(format!("expected {what} as a number, found `{text}`")))
    };
    let dur = |what: &str, text: &str| -> Result<Duration, (String, &'static str)> {
        duration_serde::parse(text).map_err(|e| fail(format!("{what}: {e}")))
    };
    let split = |text: &'_ str,
                 sep: &str,
                 what: &str|
     -> Result<(String, String), (String, &'static str)> {
        text.split_once(sep)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .ok_or_else(|| fail(format!("expected {what}, found `{text}`")))
    };
    Ok(match keyword.as_str() {
        "ramp" => {
            let (from, to) = split(params, "..", "FROM..TO")?;
            Stage::Ramp {
                from_tps: num("FROM", &from)?,
                to_tps: num("TO", &to)?,
                duration,
                name,
            }
        }
        "sustained" => Stage::Sustained {
            tps: num("TPS", params)?,
            duration,
            name,
        },
        "burst" => {
            let (rates, timing) = split(params, "~", "BASE/BURST~EVERY/FOR")?;
            let (base, burst) = split(&rates, "/", "BASE/BURST before `~`")?;
            let (every, burst_for) = split(&timing, "/", "EVERY/FOR after `~`")?;
            Stage::Burst {
                base_tps: num("BASE", &base)?,
                burst_tps: num("BURST", &burst)?,
                every: dur("EVERY", &every)?,
                burst_for: dur("FOR", &burst_for)?,
                duration,
                name,
            }
        }
        "wave" => {
            let (levels, period) = split(params, "~", "MEAN+-AMP~PERIOD")?;
            let (mean, amp) = match levels.split_once("+-").or_else(|| levels.split_once('±')) {
                Some(parts) => parts,
                None => {
                    return Err(fail(format!(
                        "expected MEAN+-AMP before `~`, found `{levels}`"
                    )));
                }
            };
            Stage::Wave {
                mean_tps: num("MEAN", mean)?,
                amplitude_tps: num("AMP", amp)?,
                period: dur("PERIOD", &period)?,
                duration,
                name,
            }
        }
        "chaos" => {
            let (mean, rest) = split(params, "~", "MEAN~VOL/SPIKE/PROB")?;
            let parts: Vec<&str> = rest.split('/').collect();
            let [vol, spike, prob] = parts[..] else {
                return Err(fail(format!(
                    "expected VOL/SPIKE/PROB after `~` (three numbers), found `{rest}`"
                )));
            };
            Stage::Chaos {
                mean_tps: num("MEAN", &mean)?,
                volatility: num("VOL", vol)?,
                spike_tps: num("SPIKE", spike)?,
                spike_probability: num("PROB", prob)?,
                seed: 0,
                duration,
                name,
            }
        }
        _ => {
            // pause
            if !params.is_empty() {
                return Err(fail(format!(
                    "a pause takes no parameters, found `{params}`"
                )));
            }
            Stage::Sustained {
                tps: 0.0,
                duration,
                name: Some(name.unwrap_or_else(|| "pause".into())),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn parses_every_shape() {
        let spec = ShapeSpec::parse(
            "warmup=ramp:0..8000@60s, sustained:5000@240s,burst:1000/10000~3m/10s@15m,\
             wave:5000+-2000~60s@10m,WAVE:10±5~1s@2s,chaos:3000~0.1/9000/0.02@5m,pause:@10s",
        )
        .unwrap();
        let s = spec.stages();
        assert_eq!(
            s[0],
            Stage::Ramp {
                from_tps: 0.0,
                to_tps: 8000.0,
                duration: secs(60),
                name: Some("warmup".into())
            }
        );
        assert_eq!(
            s[1],
            Stage::Sustained {
                tps: 5000.0,
                duration: secs(240),
                name: None
            }
        );
        assert_eq!(
            s[2],
            Stage::Burst {
                base_tps: 1000.0,
                burst_tps: 10000.0,
                every: secs(180),
                burst_for: secs(10),
                duration: secs(900),
                name: None
            }
        );
        assert_eq!(
            s[3],
            Stage::Wave {
                mean_tps: 5000.0,
                amplitude_tps: 2000.0,
                period: secs(60),
                duration: secs(600),
                name: None
            }
        );
        assert!(matches!(
            s[4],
            Stage::Wave {
                mean_tps: 10.0,
                amplitude_tps: 5.0,
                ..
            }
        ));
        assert!(matches!(
            s[5],
            Stage::Chaos {
                mean_tps: 3000.0,
                volatility: 0.1,
                spike_tps: 9000.0,
                spike_probability: 0.02,
                ..
            }
        ));
        assert_eq!(
            s[6],
            Stage::Sustained {
                tps: 0.0,
                duration: secs(10),
                name: Some("pause".into())
            }
        );
    }

    #[test]
    fn chaos_seed_comes_from_the_profile_seed() {
        let spec: ShapeSpec = "chaos:3000~0.1/9000/0.02@1m,chaos:3000~0.1/9000/0.02@1m"
            .parse()
            .unwrap();
        let seeds = |seed| -> Vec<u64> {
            spec.load_profile(seed, Arrival::Uniform)
                .stages
                .iter()
                .map(|s| match s {
                    Stage::Chaos { seed, .. } => *seed,
                    _ => unreachable!(),
                })
                .collect()
        };
        assert_eq!(seeds(1), seeds(1));
        assert_ne!(seeds(1), seeds(2));
        assert_ne!(seeds(1)[0], seeds(1)[1]);
    }

    fn err(text: &str) -> String {
        ShapeSpec::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_stage_and_show_an_example() {
        assert_eq!(ShapeSpec::parse("  "), Err(ShapeError::Empty));
        let e = err("sustained:5@1s,ramp:0-100@1m");
        assert!(
            e.contains("stage 2 `ramp:0-100@1m`")
                && e.contains("FROM..TO")
                && e.contains("ramp:0..8000@60s"),
            "{e}"
        );
        let e = err("sustained:5@1s,,ramp:0..1@1s");
        assert!(e.contains("stage 2") && e.contains("empty"), "{e}");
        let e = err("square:5@1s");
        assert!(e.contains("unknown shape `square`"), "{e}");
        let e = err("sustained:5");
        assert!(e.contains("@DURATION"), "{e}");
        let e = err("sustained:five@1s");
        assert!(e.contains("`five`"), "{e}");
        let e = err("sustained:5@soon");
        assert!(
            e.contains("invalid duration") && e.contains("sustained:5000@240s"),
            "{e}"
        );
        let e = err("chaos:3000~0.1/9000@5m");
        assert!(e.contains("VOL/SPIKE/PROB"), "{e}");
        let e = err("wave:5000-2000~60s@10m");
        assert!(e.contains("MEAN+-AMP"), "{e}");
        let e = err("burst:1000/10000~3m@15m");
        assert!(e.contains("EVERY/FOR"), "{e}");
        let e = err("pause:5@10s");
        assert!(e.contains("no parameters"), "{e}");
        // Parsed, but refused by validation.
        let e = err("sustained:1@1s,wave:100+-200~1m@5m");
        assert!(e.contains("stage 2") && e.contains("amplitude_tps"), "{e}");
        let e = err("sustained:-5@1s");
        assert!(e.contains("negative"), "{e}");
        let e = err("sustained:5@0s");
        assert!(e.contains("duration is zero"), "{e}");
    }

    #[test]
    fn profile_from_shape_has_the_right_length() {
        let p = ShapeSpec::parse(EXAMPLE).unwrap().profile(42).unwrap();
        assert_eq!(p.duration(), secs(300));
        assert_eq!(p.total(), 4000.0 * 60.0 + 5000.0 * 240.0);
    }
}
