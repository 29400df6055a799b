//! The names of the files in a results folder.

/// The run summary ([`models::Summary`], pretty JSON), written last when a run ends.
pub const SUMMARY: &str = "summary.json";
/// One [`models::IntervalSnapshot`] a line, written as the run goes.
pub const INTERVALS: &str = "intervals.jsonl";
/// One [`models::RunEvent`] a line, written as the run goes.
pub const EVENTS: &str = "events.jsonl";
/// The whole-run latency as HdrHistogram's percentile-distribution text (see [`crate::hgrm`]).
pub const LATENCY: &str = "latency.hgrm";
/// What the AWS side of the run measured ([`models::AwsReport`]), for runs with CloudWatch or X-Ray.
pub const AWS: &str = "aws.json";
/// The resolved scenario a segment worker ran (TOML), so that a merge can judge the criteria again.
pub const SCENARIO: &str = "scenario.toml";
/// The per-worker table of a merged result.
pub const WORKERS: &str = "workers.json";
/// The HTML report, written from the other files (the `report` crate).
pub const REPORT: &str = "report.html";
/// The JUnit file, one test case per criterion (the `report` crate).
pub const JUNIT: &str = "junit.xml";
/// The sent transactions, when asked for: one line per sent transaction, `<index> <transaction
/// id>`, in send order. (Ids are not unique: an edge-case replay re-sends an earlier transaction's
/// id; the index is.)
pub const IDS: &str = "ids.txt";

/// Every file a run, a merge or a report writes into a results folder: a folder holding any of them
/// holds a run's results, and replacing a run removes exactly these.
pub const ALL: [&str; 10] = [
    SUMMARY, INTERVALS, EVENTS, LATENCY, AWS, SCENARIO, WORKERS, REPORT, JUNIT, IDS,
];
