//! `aws.json`: what the AWS side of a run measured, for the report and the admin page.

use crate::collector::InfraMetrics;
use crate::error::AwsError;
use crate::segments::EmitReport;
use crate::sink::SinkReport;
use crate::xray::TraceBreakdown;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name written into a run's results folder.
pub const AWS_JSON: &str = "aws.json";

/// Everything AWS-related about one run; absent parts were not enabled or not read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AwsReport {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_sink: Option<SinkReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra: Option<InfraMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xray: Option<TraceBreakdown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xray_segments: Option<EmitReport>,
}

/// Writes `aws.json` into `dir` (through a temporary file, so a reader never sees half a file) and
/// returns its path.
pub fn write_aws_json(dir: &Path, report: &AwsReport) -> Result<PathBuf, AwsError> {
    let path = dir.join(AWS_JSON);
    let tmp = dir.join(format!(".{AWS_JSON}.tmp"));
    let text = serde_json::to_string_pretty(report).expect("the report is plain data");
    std::fs::write(&tmp, text + "\n").map_err(|source| AwsError::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| AwsError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Reads an `aws.json` back.
pub fn read_aws_json(path: &Path) -> Result<AwsReport, AwsError> {
    let text = std::fs::read_to_string(path).map_err(|source| AwsError::Write {
        path: path.into(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| AwsError::Write {
        path: path.into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::{InfraPoint, InfraSeries};

    #[test]
    fn round_trips_through_the_file() {
        let dir = std::env::temp_dir().join(format!("aws-telemetry-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let report = AwsReport {
            run_id: "r1".into(),
            cloudwatch_sink: Some(SinkReport {
                published_datums: 42,
                ..Default::default()
            }),
            infra: Some(InfraMetrics {
                start_unix_s: 1.8e9,
                duration_s: 120.0,
                period_s: 60,
                series: vec![InfraSeries {
                    service: "lambda".into(),
                    resource: "score".into(),
                    metric: "Invocations".into(),
                    stat: "Sum".into(),
                    points: vec![InfraPoint {
                        t_s: 0.0,
                        value: 10.0,
                    }],
                    complete: true,
                }],
            }),
            ..Default::default()
        };
        let path = write_aws_json(&dir, &report).unwrap();
        assert_eq!(path.file_name().unwrap(), "aws.json");
        assert_eq!(read_aws_json(&path).unwrap(), report);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("xray"), "absent parts are left out");
        std::fs::remove_dir_all(&dir).unwrap();

        let err = write_aws_json(Path::new("/nonexistent/folder"), &report)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent/folder") && err.contains("writable"),
            "{err}"
        );
    }
}
