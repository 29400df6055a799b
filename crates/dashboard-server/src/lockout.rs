//! [`Lockout`]: failed control attempts (a wrong token or a foreign origin) counted per peer address, so
//! that guessing the token goes at a few tries a window. A peer that has used up its tries is refused
//! until its window has passed, even with the right token.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Peers remembered before expired windows are swept (loopback has few; this bounds the rest).
const SWEEP_AT: usize = 1_024;

#[derive(Debug)]
struct Tries {
    failed: u32,
    since: Instant,
}

/// Failed control attempts per peer, in fixed windows that open at a peer's first failure.
#[derive(Debug)]
pub struct Lockout {
    max_failures: u32,
    window: Duration,
    peers: Mutex<HashMap<IpAddr, Tries>>,
}

impl Lockout {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            peers: Mutex::new(HashMap::new()),
        }
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Tries>> {
        // Plain counters: a panic elsewhere leaves nothing half-done worth refusing over.
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long `peer` must wait before trying again, when it has used up its failures.
    pub fn wait(&self, peer: IpAddr) -> Option<Duration> {
        let peers = self.peers();
        let tries = peers.get(&peer)?;
        let left = self.window.saturating_sub(tries.since.elapsed());
        (tries.failed >= self.max_failures && !left.is_zero()).then_some(left)
    }

    /// Counts one failed attempt by `peer`.
    pub fn fail(&self, peer: IpAddr) {
        let now = Instant::now();
        let mut peers = self.peers();
        if peers.len() >= SWEEP_AT {
            peers.retain(|_, t| now.duration_since(t.since) < self.window);
        }
        let tries = peers.entry(peer).or_insert(Tries {
            failed: 0,
            since: now,
        });
        if now.duration_since(tries.since) >= self.window {
            *tries = Tries {
                failed: 0,
                since: now,
            };
        }
        tries.failed = tries.failed.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

    #[tokio::test(start_paused = true)]
    async fn a_peer_is_refused_after_its_failures_until_its_window_passes() {
        let lockout = Lockout::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            lockout.fail(A);
            assert_eq!(lockout.wait(A), None, "tries left");
        }
        tokio::time::advance(Duration::from_secs(20)).await;
        lockout.fail(A);
        assert_eq!(lockout.wait(A), Some(Duration::from_secs(40)));
        assert_eq!(lockout.wait(B), None, "other peers are not affected");
        tokio::time::advance(Duration::from_secs(40)).await;
        assert_eq!(lockout.wait(A), None, "the window has passed");
        lockout.fail(A);
        assert_eq!(
            lockout.wait(A),
            None,
            "a new window starts with one failure"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_peers_are_swept_once_many_are_remembered() {
        let lockout = Lockout::new(1, Duration::from_secs(1));
        for i in 0..SWEEP_AT as u32 {
            lockout.fail(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        lockout.fail(A);
        assert_eq!(lockout.peers().len(), 1);
        assert_eq!(lockout.wait(A), Some(Duration::from_secs(1)));
    }
}
