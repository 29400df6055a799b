//! The whole-run latency percentile curve: from `latency.hgrm` (HdrHistogram's percentile-distribution
//! text) or from the V2 + deflate base64 histogram in `summary.json`. Both formats are run-files'; this
//! module names them for the report.

pub use run_files::hgrm::{CurvePoint, curve_from_encoded, parse as parse_hgrm};
