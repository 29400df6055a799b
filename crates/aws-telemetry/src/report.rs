//! `aws.json`: what the AWS side of a run measured, for the report and the admin page.

use crate::error::AwsError;
use std::path::{Path, PathBuf};

/// Everything AWS-related about one run (the shape of `aws.json`, which lives in `models`).
pub use models::AwsReport;
/// The file name written into a run's results folder.
pub use run_files::names::AWS as AWS_JSON;

/// Writes `aws.json` into `dir` (through a temporary file, so a reader never sees half a file) and
/// returns its path.
pub fn write_aws_json(dir: &Path, report: &AwsReport) -> Result<PathBuf, AwsError> {
    run_files::write::write_aws(dir, report).map_err(|e| AwsError::Write {
        path: e.path,
        source: e.source,
    })
}

/// Reads an `aws.json` back.
pub fn read_aws_json(path: &Path) -> Result<AwsReport, AwsError> {
    let missing = || std::io::Error::from(std::io::ErrorKind::NotFound);
    match run_files::folder::read_json(path) {
        Ok(Some(report)) => Ok(report),
        Ok(None) => Err(AwsError::Write {
            path: path.into(),
            source: missing(),
        }),
        Err(e) => Err(AwsError::Write {
            path: e.path().to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InfraMetrics, InfraPoint, InfraSeries, SinkReport};

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
