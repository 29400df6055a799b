//! [`LiveDashboard`]: a dashboard wired to a running orchestrator: its frames and events feed the
//! pages, its control handle takes the pages' controls, and the final summary is handed over at the end.

use crate::controller::Controller;
use crate::error::DashboardError;
use crate::feed::{Feed, FeedConfig};
use crate::server::{DashboardConfig, DashboardServer};
use models::{IntervalSnapshot, RunEvent, Summary};
use orchestrator::RunControl;
use std::sync::Arc;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// A dashboard serving one orchestrator run. Start it before the run so that no event is missed.
#[derive(Debug)]
pub struct LiveDashboard {
    server: DashboardServer,
    forward: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl LiveDashboard {
    pub async fn start(
        config: DashboardConfig,
        feed: FeedConfig,
        control: RunControl,
    ) -> Result<Self, DashboardError> {
        let feed = Feed::new(feed);
        let (frames, events) = (control.subscribe_frames(), control.subscribe_events());
        let controller: Arc<dyn Controller> = Arc::new(control);
        let server = DashboardServer::start(config, feed.clone(), Some(controller)).await?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(forward(frames, events, feed, stop_rx));
        Ok(Self {
            server,
            forward: Some((stop_tx, task)),
        })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn token(&self) -> &str {
        self.server.token()
    }

    pub fn feed(&self) -> &Feed {
        self.server.feed()
    }

    /// Call when the run has returned: passes on what is still queued, then the final summary, which
    /// every page shows from then on.
    pub async fn finish(&mut self, summary: Summary) -> Result<(), DashboardError> {
        self.stop_forwarding().await?;
        self.server.feed().summary(summary);
        Ok(())
    }

    async fn stop_forwarding(&mut self) -> Result<(), DashboardError> {
        if let Some((stop, task)) = self.forward.take() {
            let _ = stop.send(());
            task.await
                .map_err(|e| DashboardError::Task("run forwarder", e.to_string()))?;
        }
        Ok(())
    }

    /// Stops serving and waits for every task.
    pub async fn shutdown(mut self) -> Result<(), DashboardError> {
        self.stop_forwarding().await?;
        self.server.shutdown().await
    }
}

async fn forward(
    mut frames: broadcast::Receiver<IntervalSnapshot>,
    mut events: broadcast::Receiver<RunEvent>,
    feed: Feed,
    mut stop: oneshot::Receiver<()>,
) {
    use broadcast::error::{RecvError, TryRecvError};
    let (mut frames_open, mut events_open) = (true, true);
    while frames_open || events_open {
        tokio::select! {
            f = frames.recv(), if frames_open => match f {
                Ok(f) => feed.frame(f),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => frames_open = false,
            },
            e = events.recv(), if events_open => match e {
                Ok(e) => feed.event(e),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => events_open = false,
            },
            _ = &mut stop => break,
        }
    }
    // The run has returned: whatever it sent is already queued.
    loop {
        match events.try_recv() {
            Ok(e) => feed.event(e),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(_) => break,
        }
    }
    loop {
        match frames.try_recv() {
            Ok(f) => feed.frame(f),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(_) => break,
        }
    }
}
