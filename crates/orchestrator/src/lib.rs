//! Scenarios, the run state machine, criteria, safeguards and result files.
