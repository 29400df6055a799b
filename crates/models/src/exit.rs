//! The process exit codes of fraudstress commands, defined once: the orchestrator's run outcome, the
//! capacity search and the command line all map what happened to one of these.

/// How a command ended, as the exit code a shell or a CI job sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RunExit {
    /// Every criterion passed (or there was nothing to judge).
    Passed = 0,
    /// A criterion failed, the run ended early, or a comparison found a regression.
    Failed = 1,
    /// Bad usage or configuration: nothing (or not everything) could be run.
    Usage = 2,
    /// The run was set up but failed while it ran (the results folder became unwritable, the disk
    /// filled, the load driver failed): not the user's input at fault, so not `Usage`; what was
    /// measured up to then is written where the folder still takes it.
    Runtime = 3,
    /// Interrupted by Ctrl+C (128 + SIGINT, as shells report it); what was measured is still written.
    Interrupted = 130,
    /// Ended by SIGTERM or SIGHUP (128 + SIGTERM): a supervisor stopped it; what was measured is still
    /// written.
    Terminated = 143,
}

impl RunExit {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<RunExit> for u8 {
    fn from(e: RunExit) -> u8 {
        e.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<u8> = [
            RunExit::Passed,
            RunExit::Failed,
            RunExit::Usage,
            RunExit::Runtime,
            RunExit::Interrupted,
            RunExit::Terminated,
        ]
        .into_iter()
        .map(u8::from)
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 130, 143]);
    }
}
