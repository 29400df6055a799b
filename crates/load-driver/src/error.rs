//! What can go wrong when setting up or running the driver.

/// Driver errors. Each says what was wrong, where, and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriverError {
    #[error("invalid driver config at `{field}`: {reason}")]
    Config { field: &'static str, reason: String },
    #[error(
        "invalid rate multiplier {value}: must be a finite number, 0 or more (1 = the profile as planned)"
    )]
    Multiplier { value: f64 },
    #[error(
        "a driver lane task failed: {reason}; this is a bug in load-driver or in the target (a panic), see the message"
    )]
    Lane { reason: String },
    #[error("cannot set up the benchmark: {reason}")]
    Setup { reason: String },
}
