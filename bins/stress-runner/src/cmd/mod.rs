//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`;
//! an `Err` is reported as a usage or configuration error (exit code 2).

pub mod generate;
pub mod profile;

/// Criteria failed.
#[allow(dead_code)]
pub const EXIT_FAILED: u8 = 1;
/// Usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl+C.
#[allow(dead_code)]
pub const EXIT_INTERRUPTED: u8 = 130;
