//! The built-in reference fraud-detection service: ingestion, four agents, decision.
