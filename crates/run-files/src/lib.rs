//! The results folder of a run, in one place: the names of its files ([`names`]), the writer
//! ([`write`]), the reader ([`Folder`], with one policy for damaged lines: [`lines`]), the encoded
//! histograms that snapshots and summaries carry ([`histogram`]) and the `latency.hgrm` text
//! ([`hgrm`]). The orchestrator writes folders with it; merges, reports and the dashboard's replay read
//! them with it. No async runtime: writes and reads block, and the orchestrator runs its writer on a
//! thread of its own.
//!
//! | file | contents | written |
//! |---|---|---|
//! | `intervals.jsonl` | one [`models::IntervalSnapshot`] a line | as the run goes, each line flushed |
//! | `events.jsonl` | one [`models::RunEvent`] a line | as the run goes, each line flushed |
//! | `latency.hgrm` | HdrHistogram's percentile distribution, in ms | at the end |
//! | `summary.json` | [`models::Summary`] | last |
//! | `aws.json` | [`models::AwsReport`] | after the run, with `--cloudwatch` or `--xray` |
//!
//! ```
//! use models::{IntervalSnapshot, Summary};
//! use run_files::{Folder, FolderWriter, names};
//!
//! let dir = std::env::temp_dir().join(format!("run-files-doc-{}", std::process::id()));
//! let mut writer = FolderWriter::create(&dir)?;
//! writer.tick(&IntervalSnapshot { t_s: 1.0, ..Default::default() })?;
//! writer.finish(&Summary { run_id: "r1".into(), ..Default::default() }, "")?;
//!
//! // A crash in the middle of a line leaves it cut short: it is skipped, counted and located.
//! std::fs::write(dir.join(names::EVENTS), "{\"t_s\": 2.0, \"ev")?;
//! let folder = Folder::new(&dir);
//! assert_eq!(folder.summary()?.unwrap().run_id, "r1");
//! assert_eq!(folder.intervals()?.unwrap().items[0].t_s, 1.0);
//! let events = folder.events()?.unwrap();
//! assert!(events.items.is_empty() && events.only_cut_short());
//! assert_eq!(events.damaged[0].line, 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod folder;
pub mod hgrm;
pub mod histogram;
pub mod lines;
pub mod names;
pub mod write;

pub use error::{DecodeError, FolderInUse, ReadError, WriteError};
pub use folder::Folder;
pub use lines::{DamagedLine, Lines};
pub use write::{ClaimError, Existing, FolderWriter, claim_folder};
