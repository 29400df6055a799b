//! The signals that end a run early: Ctrl+C (SIGINT) interrupts it; SIGTERM and SIGHUP (what
//! Kubernetes, systemd and CI runners send) terminate it. Either way the run stops gracefully and
//! writes every result file before the process exits (130 or 143).

/// Why the process is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl+C).
    Interrupt,
    /// SIGTERM or SIGHUP.
    Terminate,
}

/// Waits for the first stop signal. `None` when no handler could be installed (the run then goes on
/// as if no signal ever came: the default disposition would kill it without results).
pub async fn next() -> Option<StopSignal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return tokio::signal::ctrl_c()
                .await
                .ok()
                .map(|()| StopSignal::Interrupt);
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.ok().map(|()| StopSignal::Interrupt),
            _ = term.recv() => Some(StopSignal::Terminate),
            _ = hup.recv() => Some(StopSignal::Terminate),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| StopSignal::Interrupt)
    }
}
