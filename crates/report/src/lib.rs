//! HTML reports with plots, JUnit XML and run comparison, from the files a run writes into its results
//! folder: `summary.json` ([`models::Summary`]), `intervals.jsonl` (one [`models::IntervalSnapshot`] a
//! line), `events.jsonl` (one [`models::RunEvent`] a line, optional), `latency.hgrm` (HdrHistogram's
//! percentile distribution, optional) and `aws.json` (CloudWatch and X-Ray, optional: see [`aws`]).
//!
//! - [`write_all`] writes `report.html` and `junit.xml` beside them (the orchestrator calls it at the end
//!   of every run; `stress-runner report DIR` calls it again later).
//! - [`render_html`] builds one self-contained page: uPlot (vendored, MIT) and the chart script are
//!   inlined and the data is one JSON blob, so the file opens without a network and can be mailed.
//! - [`render_junit`] gives one JUnit test case per success criterion.
//! - [`compare()`] compares two runs for a CI regression gate; [`render_compare_html`] draws both.
//!
//! An interrupted run (no `summary.json`, or a truncated last line) still gets a report marked
//! "interrupted / partial"; without a summary its figures come from the last interval's cumulative ones.
//!
//! ```
//! use models::{Comparison, CriterionOutcome, CriterionResult, Summary};
//!
//! let summary = Summary {
//!     scenario: "peak-load".into(),
//!     criteria: vec![CriterionResult {
//!         name: "latency_ms.p99 < 500".into(),
//!         op: Comparison::Lt,
//!         limit: 500.0,
//!         outcome: CriterionOutcome::Failed { actual: 612.5 },
//!     }],
//!     ..Summary::default()
//! };
//! let xml = report::render_junit(&summary);
//! assert!(xml.contains(r#"<testsuite name="peak-load""#));
//! assert!(xml.contains("actual 612.5 does not meet threshold &lt; 500"));
//!
//! let html = report::render_html(&report::RunData::new(summary, Vec::new()));
//! assert!(html.contains("FAIL") && !html.contains("https://"));
//! ```

pub mod assets;
pub mod aws;
pub mod compare;
mod error;
pub mod escape;
pub mod hgrm;
mod html;
mod junit;
mod numbers;
pub mod partial;
mod run_data;
pub mod series;

pub use aws::{AWS_FILE, AwsData};
pub use compare::{Better, CompareConfig, Comparison, FigureDelta, compare, render_compare_html};
pub use error::ReportError;
pub use html::render_html;
pub use junit::render_junit;
pub use run_data::{EVENTS_FILE, FaultWindow, HGRM_FILE, INTERVALS_FILE, RunData, SUMMARY_FILE};

use std::path::{Path, PathBuf};

/// Name of the JUnit file inside a results folder.
pub use run_files::names::JUNIT as JUNIT_FILE;
/// Name of the HTML report inside a results folder.
pub use run_files::names::REPORT as REPORT_FILE;

/// What [`write_all`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub html: PathBuf,
    pub junit: PathBuf,
    /// The run was interrupted: the report is built from its intervals.
    pub partial: bool,
}

/// Reads the result files in `dir` and writes `report.html` and `junit.xml` beside them. Each file is
/// written to a temporary name first and renamed, so a reader never sees half a report.
pub fn write_all(dir: &Path) -> Result<Written, ReportError> {
    let data = RunData::load(dir)?;
    let html = dir.join(REPORT_FILE);
    let junit = dir.join(JUNIT_FILE);
    write_atomically(&html, &render_html(&data))?;
    write_atomically(&junit, &render_junit(&data.summary))?;
    Ok(Written {
        html,
        junit,
        partial: data.partial.is_some(),
    })
}

/// Writes `text` to `path` through a temporary file in the same folder.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), ReportError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|source| ReportError::Write {
        path: tmp.clone(),
        cause: source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        cause: source,
    })
}
