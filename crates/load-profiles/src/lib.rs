//! Rate curves, open-model arrival schedules and execution segments.
