//! Live dashboards for a fraudstress run, on warp: four pages (`/investor`, `/analytics`, `/agents`,
//! `/admin`, linked from `/`) embedded in the binary, a WebSocket at `/ws` streaming metric frames and
//! events (real ticks as they come, and "live" counters every 500 ms between them), `GET /api/status`,
//! `GET /api/summary`, the bearer-token-guarded `POST /api/control/{start,pause,resume,stop,rate,inject}`,
//! and `GET /metrics` in the Prometheus text format.
//!
//! Data comes in through a [`Feed`] (frames, events and the final summary: from a live run with
//! [`LiveDashboard`], from a results folder with [`replay`], or from anything else), and controls go out
//! to a [`Controller`] (implemented for the orchestrator's `RunControl`; absent for a replay). Each
//! browser has its own bounded queue, so a stalled browser never slows the run: its messages are dropped
//! and counted instead.
//!
//! ```
//! use dashboard_server::{DashboardConfig, DashboardServer, Feed};
//! use models::IntervalSnapshot;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let feed = Feed::default();
//! let server = DashboardServer::start(DashboardConfig::default(), feed.clone(), None).await.unwrap();
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! assert_eq!(server.token().len(), 32);
//! feed.frame(IntervalSnapshot { t_s: 1.0, interval_s: 1.0, achieved_tps: 250.0, ..Default::default() });
//! assert_eq!(feed.status().headline.unwrap().tps, 250.0);
//! server.shutdown().await.unwrap();
//! # });
//! ```

pub mod assets;
pub mod controller;
pub mod error;
pub mod feed;
pub mod headline;
pub mod live_run;
pub mod metrics;
pub mod narrative;
pub mod presentation;
pub mod replay;
pub mod server;
pub mod token;

pub use controller::{Controller, Refused};
pub use error::DashboardError;
pub use feed::{Feed, FeedConfig, Status, Subscription};
pub use headline::Headline;
pub use live_run::LiveDashboard;
pub use presentation::{HeroKey, Presentation, Reference, Tone};
pub use server::{DashboardConfig, DashboardServer};
