//! What can go wrong in metrics-core: bad configuration and undecodable or mismatched inputs to a merge.

/// Errors of the recorder and the merge functions. Each says what was wrong, where and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("invalid metrics config at `{field}`: {reason}")]
    Config { field: String, reason: String },
    #[error(
        "cannot decode the {which} histogram of part {part}: {reason}; pass snapshots written by metrics-core with histograms enabled"
    )]
    Decode {
        part: usize,
        which: &'static str,
        reason: String,
    },
    #[error(
        "part {part} has no histograms; write snapshots/summaries with `encode_histograms = true` to merge them exactly"
    )]
    MissingHistograms { part: usize },
    #[error(
        "cannot sample resources: {reason}; run on Linux with /proc readable, or leave resources out"
    )]
    Resources { reason: String },
    #[error("nothing to merge: pass at least one snapshot or summary")]
    Empty,
}
