//! The collector: reads the system's infrastructure metrics for the run window with GetMetricData.
//!
//! | service | namespace | dimension | metrics (statistic) |
//! |---|---|---|---|
//! | lambda | `AWS/Lambda` | `FunctionName` | Invocations, Errors, Throttles (Sum); Duration (Average, p99); ConcurrentExecutions (Maximum) |
//! | dynamodb | `AWS/DynamoDB` | `TableName` | ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits, ThrottledRequests (Sum) |
//! | kinesis | `AWS/Kinesis` | `StreamName` | GetRecords.IteratorAgeMilliseconds (Maximum) |
//! | bedrock | `AWS/Bedrock` | `ModelId` | Invocations, InvocationThrottles (Sum) |
//!
//! DynamoDB also reports `ThrottledRequests` per `Operation`; the series read here is the one with the
//! table name alone.

use crate::config::AwsResources;
use crate::error::AwsError;
use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// GetMetricData accepts at most 500 queries per request.
const MAX_QUERIES_PER_CALL: usize = 500;

/// The wall-clock span of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunWindow {
    pub start: SystemTime,
    pub end: SystemTime,
}

impl RunWindow {
    /// A window starting at `start` and lasting `duration`.
    pub fn new(start: SystemTime, duration: Duration) -> Self {
        Self {
            start,
            end: start + duration,
        }
    }

    fn offset_s(&self, t: SystemTime) -> f64 {
        match t.duration_since(self.start) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        }
    }
}

// The shapes it produces live in `models` (they are `aws.json`).
pub use models::aws::{InfraMetrics, InfraPoint, InfraSeries};

/// Which metrics of which services: `(service, namespace, dimension, [(metric, stat)])`.
type Catalogue = [(
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
); 4];

const CATALOGUE: Catalogue = [
    (
        "lambda",
        "AWS/Lambda",
        "FunctionName",
        &[
            ("Invocations", "Sum"),
            ("Duration", "Average"),
            ("Duration", "p99"),
            ("Errors", "Sum"),
            ("Throttles", "Sum"),
            ("ConcurrentExecutions", "Maximum"),
        ],
    ),
    (
        "dynamodb",
        "AWS/DynamoDB",
        "TableName",
        &[
            ("ConsumedReadCapacityUnits", "Sum"),
            ("ConsumedWriteCapacityUnits", "Sum"),
            ("ThrottledRequests", "Sum"),
        ],
    ),
    (
        "kinesis",
        "AWS/Kinesis",
        "StreamName",
        &[("GetRecords.IteratorAgeMilliseconds", "Maximum")],
    ),
    (
        "bedrock",
        "AWS/Bedrock",
        "ModelId",
        &[("Invocations", "Sum"), ("InvocationThrottles", "Sum")],
    ),
];

/// One query the collector makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfraQuery {
    /// GetMetricData query id (`q0`, `q1`, ...).
    pub id: String,
    pub service: &'static str,
    pub namespace: &'static str,
    pub dimension: &'static str,
    pub resource: String,
    pub metric: &'static str,
    pub stat: &'static str,
}

/// The queries for the given resources, in catalogue order.
pub fn infra_queries(resources: &AwsResources) -> Vec<InfraQuery> {
    let lists = [
        &resources.lambda_functions,
        &resources.dynamodb_tables,
        &resources.kinesis_streams,
        &resources.bedrock_models,
    ];
    let mut out = Vec::new();
    for ((service, namespace, dimension, metrics), names) in CATALOGUE.iter().zip(lists) {
        for name in names {
            for (metric, stat) in *metrics {
                out.push(InfraQuery {
                    id: format!("q{}", out.len()),
                    service,
                    namespace,
                    dimension,
                    resource: name.clone(),
                    metric,
                    stat,
                });
            }
        }
    }
    out
}

/// Reads infrastructure metrics with GetMetricData.
#[derive(Debug, Clone)]
pub struct InfraCollector {
    client: aws_sdk_cloudwatch::Client,
    /// Seconds per point: 60 or a multiple of it for standard-resolution metrics.
    pub period_s: u32,
}

impl InfraCollector {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        Self {
            client,
            period_s: 60,
        }
    }

    pub fn with_period(mut self, period_s: u32) -> Self {
        self.period_s = period_s;
        self
    }

    /// Every catalogue metric of every named resource over the window. Resources with no data get
    /// empty series.
    pub async fn collect(
        &self,
        resources: &AwsResources,
        window: RunWindow,
    ) -> Result<InfraMetrics, AwsError> {
        if self.period_s == 0 {
            return Err(AwsError::Config {
                field: "period_s",
                reason: "must be at least 1 second".into(),
            });
        }
        let queries = infra_queries(resources);
        let mut series: Vec<InfraSeries> = queries
            .iter()
            .map(|q| InfraSeries {
                service: q.service.into(),
                resource: q.resource.clone(),
                metric: q.metric.into(),
                stat: q.stat.into(),
                points: Vec::new(),
                complete: true,
            })
            .collect();
        for (chunk_index, chunk) in queries.chunks(MAX_QUERIES_PER_CALL).enumerate() {
            let sdk_queries: Vec<MetricDataQuery> =
                chunk.iter().map(|q| self.sdk_query(q)).collect();
            let mut next_token: Option<String> = None;
            loop {
                let out = self
                    .client
                    .get_metric_data()
                    .set_metric_data_queries(Some(sdk_queries.clone()))
                    .start_time(DateTime::from(window.start))
                    .end_time(DateTime::from(window.end))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(|e| AwsError::CloudWatch {
                        operation: "GetMetricData",
                        message: DisplayErrorContext(&e).to_string(),
                    })?;
                for result in out.metric_data_results() {
                    let Some(index) = result
                        .id()
                        .and_then(|id| id.strip_prefix('q'))
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|i| *i / MAX_QUERIES_PER_CALL == chunk_index && *i < series.len())
                    else {
                        continue;
                    };
                    let s = &mut series[index];
                    for (t, v) in result.timestamps().iter().zip(result.values()) {
                        s.points.push(InfraPoint {
                            t_s: window.offset_s(to_system_time(t)),
                            value: *v,
                        });
                    }
                    if !matches!(result.status_code(), Some(StatusCode::Complete) | None) {
                        s.complete = false;
                    }
                }
                match out.next_token() {
                    Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                    _ => break,
                }
            }
        }
        for s in &mut series {
            s.points.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        }
        Ok(InfraMetrics {
            start_unix_s: window.offset_from_epoch(),
            duration_s: window.offset_s(window.end),
            period_s: self.period_s,
            series,
        })
    }

    fn sdk_query(&self, q: &InfraQuery) -> MetricDataQuery {
        let metric = Metric::builder()
            .namespace(q.namespace)
            .metric_name(q.metric)
            .dimensions(
                Dimension::builder()
                    .name(q.dimension)
                    .value(&q.resource)
                    .build(),
            )
            .build();
        MetricDataQuery::builder()
            .id(&q.id)
            .label(format!("{} {} {}", q.resource, q.metric, q.stat))
            .metric_stat(
                MetricStat::builder()
                    .metric(metric)
                    .period(self.period_s.min(i32::MAX as u32) as i32)
                    .stat(q.stat)
                    .build(),
            )
            .return_data(true)
            .build()
    }
}

impl RunWindow {
    fn offset_from_epoch(&self) -> f64 {
        self.start
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// The SDK's timestamp as a `SystemTime`.
pub(crate) fn to_system_time(t: &DateTime) -> SystemTime {
    let secs = t.as_secs_f64();
    if secs >= 0.0 {
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    } else {
        UNIX_EPOCH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_cover_every_resource_with_unique_ids() {
        let resources = AwsResources {
            lambda_functions: vec!["ingest".into(), "score".into()],
            dynamodb_tables: vec!["txns".into()],
            kinesis_streams: vec!["events".into()],
            bedrock_models: vec!["anthropic.claude".into()],
        };
        let q = infra_queries(&resources);
        assert_eq!(q.len(), 2 * 6 + 3 + 1 + 2);
        let ids: std::collections::BTreeSet<&str> = q.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids.len(), q.len());
        assert!(q.iter().any(|q| q.resource == "events" && q.metric == "GetRecords.IteratorAgeMilliseconds"));
        assert!(q.iter().any(|q| q.resource == "txns"
            && q.metric == "ThrottledRequests"
            && q.dimension == "TableName"));
        assert!(q.iter().all(|q| q.id.starts_with('q')));
        assert!(infra_queries(&AwsResources::default()).is_empty());
    }

    #[test]
    fn offsets_are_relative_to_the_run_start() {
        let start = UNIX_EPOCH + Duration::from_secs(1_000);
        let w = RunWindow::new(start, Duration::from_secs(600));
        assert_eq!(w.offset_s(start + Duration::from_secs(90)), 90.0);
        assert_eq!(w.offset_s(start - Duration::from_secs(30)), -30.0);
        assert_eq!(w.offset_from_epoch(), 1_000.0);
        let t = to_system_time(&DateTime::from_secs(1_060));
        assert_eq!(w.offset_s(t), 60.0);
    }
}
