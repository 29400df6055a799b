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
//! Limits, all fields of [`DashboardConfig`] (defaults in brackets):
//! - Only requests addressed to `127.0.0.1:P`, `localhost:P`, `[::1]:P` (or the bound address) are
//!   answered; any other `Host` gets 421, so a DNS-rebinding page cannot read the API or `/metrics`.
//! - A control request's size, origin and token are checked before its body is read: a
//!   `content-length` over `max_control_body` (16 KiB) gets 413 at once, a chunked body as it streams
//!   past it. A peer address with `max_failed_controls` (10) failed attempts within
//!   `failed_controls_window` (60 s) gets 429 until the window has passed.
//! - At most `max_clients` (64) browsers on the feed; one more is closed with code 1013 and a reason.
//!   A browser that takes no message for `stall_timeout` (10 s) is closed and its queue let go.
//! - `/api/intervals.jsonl` streams in pieces, serialized on the blocking pool.
//! - A given token has at least 16 characters ([`token::check`]); none gives a random one of 32.
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
pub mod lockout;
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
