//! Latency without coordinated omission, business and agent metrics, mergeable snapshots.
