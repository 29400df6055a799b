//! CPU, memory and network of the load generator (this process) and of a local target by pid,
//! sampled with `sysinfo` at each tick.
//!
//! * `cpu_pct`: percent of one core since the previous sample (200 = two cores busy); the first
//!   sample reads 0 because CPU use is a difference between two samples.
//! * `rss_bytes`: resident set size at the sample.
//! * `net_rx_bytes`/`net_tx_bytes`: per-process network counters do not exist on Linux, so these are
//!   the machine's counters summed over every interface (loopback included), counted from the
//!   sampler's creation. They are reported on the generator only; a target sample carries 0.

use crate::error::MetricsError;
use models::{ProcessSample, Resources};
use sysinfo::{Networks, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// Samples [`Resources`]; keep one per run and call [`sample`](Self::sample) once per tick.
#[derive(Debug)]
pub struct ResourceSampler {
    system: System,
    networks: Networks,
    own: Pid,
    target: Option<Pid>,
    net_base: (u64, u64),
}

fn sys_err(what: &str, e: impl std::fmt::Display) -> MetricsError {
    MetricsError::Resources {
        reason: format!("{what}: {e}"),
    }
}

impl ResourceSampler {
    /// `target_pid`: a local target process to watch beside this one (the built-in target when it
    /// runs as its own process), or `None`.
    pub fn new(target_pid: Option<u32>) -> Result<Self, MetricsError> {
        let system = System::new().map_err(|e| sys_err("cannot read process statistics", e))?;
        let networks = Networks::new_with_refreshed_list()
            .map_err(|e| sys_err("cannot read network counters", e))?;
        let own =
            sysinfo::get_current_pid().map_err(|e| sys_err("cannot find this process's pid", e))?;
        let mut s = Self {
            system,
            networks,
            own,
            target: target_pid.map(Pid::from_u32),
            net_base: (0, 0),
        };
        s.net_base = s.net_totals();
        s.refresh_processes();
        Ok(s)
    }

    fn net_totals(&self) -> (u64, u64) {
        self.networks.values().fold((0, 0), |(rx, tx), n| {
            (rx + n.total_received(), tx + n.total_transmitted())
        })
    }

    fn refresh_processes(&mut self) {
        // Each pid once: sysinfo takes a pid refreshed twice in one call for a dead process.
        let mut pids: Vec<Pid> = std::iter::once(self.own).chain(self.target).collect();
        pids.dedup();
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&pids),
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
    }

    fn process(&self, pid: Pid) -> Option<ProcessSample> {
        self.system.process(pid).map(|p| ProcessSample {
            pid: pid.as_u32(),
            cpu_pct: f64::from(p.cpu_usage()),
            rss_bytes: p.memory(),
            net_rx_bytes: 0,
            net_tx_bytes: 0,
        })
    }

    /// One sample. The target is `None` when none was given or its process is gone.
    pub fn sample(&mut self) -> Resources {
        self.refresh_processes();
        self.networks.refresh(true);
        let (rx, tx) = self.net_totals();
        let mut generator = self.process(self.own).unwrap_or_default();
        generator.pid = self.own.as_u32();
        generator.net_rx_bytes = rx.saturating_sub(self.net_base.0);
        generator.net_tx_bytes = tx.saturating_sub(self.net_base.1);
        Resources {
            generator,
            target: self.target.and_then(|pid| self.process(pid)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process() {
        let mut s = ResourceSampler::new(Some(std::process::id())).unwrap();
        // Some work between samples so that CPU time moves.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert_ne!(x, 1);
        let r = s.sample();
        assert_eq!(r.generator.pid, std::process::id());
        assert!(r.generator.rss_bytes > 1_000_000, "{r:?}");
        assert!(r.generator.cpu_pct >= 0.0);
        assert_eq!(r.target.map(|t| t.pid), Some(std::process::id()));
        let gone = ResourceSampler::new(Some(u32::MAX - 7)).unwrap().sample();
        assert!(gone.target.is_none());
    }
}
