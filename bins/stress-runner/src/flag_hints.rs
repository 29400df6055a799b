//! Library errors name the setting at fault as it is spelled in a config or a scenario file
//! (`` `max_tps` ``, `` `tls.ca_file` ``), never a command-line flag: an embedder has no flags. This
//! is the one place that tells a command-line user which flag sets it, by adding the flag after the
//! setting's name when an error is printed.

/// A library's name for a setting, and the flag that sets it on this command line.
const FLAGS: &[(&str, &str)] = &[
    ("allow_remote", "--allow-remote"),
    ("aws.region", "--aws-region"),
    ("duration_limit", "--duration"),
    ("engine", "--engine"),
    ("http2", "--http2"),
    ("kill_error_rate", "--kill-error-rate"),
    ("margin", "--margin"),
    ("max_runs", "--max-runs"),
    ("max_tps", "--max-tps"),
    ("metrics_url", "--target-metrics"),
    ("min_tps", "--min-tps"),
    ("overwrite", "--overwrite"),
    ("precision", "--precision"),
    ("run_id", "--run-id"),
    ("slo", "--slo"),
    ("start_at", "--start-at"),
    ("start_delay", "--start-delay"),
    ("step_duration", "--step-duration"),
    ("time_scale", "--time-scale"),
    ("tls.ca_file", "--ca-file"),
    ("tls.client_cert", "--client-cert"),
    ("tls.client_key", "--client-key"),
    ("tps", "--tps"),
    ("workers", "--workers"),
];

/// `text` with each `` `setting` `` that a flag sets followed by that flag:
/// "invalid `max_tps`: ..." becomes "invalid `max_tps` (--max-tps): ...". Other text is unchanged.
pub fn with_flags(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let close = open + 1 + len;
        let name = &rest[open + 1..close];
        out.push_str(&rest[..=close]);
        if let Some((_, flag)) = FLAGS.iter().find(|(setting, _)| *setting == name) {
            // Already said by the library's message (for example "`tps` (--tps)")? Then once is enough.
            if !rest[close + 1..].starts_with(&format!(" ({flag}")) {
                out.push_str(&format!(" ({flag})"));
            }
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_setting_gets_its_flag_and_other_text_is_left_alone() {
        assert_eq!(
            with_flags("invalid `max_tps`: lower `min_tps` or raise `max_tps`"),
            "invalid `max_tps` (--max-tps): lower `min_tps` (--min-tps) or raise `max_tps` (--max-tps)"
        );
        assert_eq!(
            with_flags("[target] `url` is missing; `a"),
            "[target] `url` is missing; `a"
        );
        assert_eq!(with_flags("no backticks"), "no backticks");
        assert_eq!(with_flags("`tps` (--tps) twice"), "`tps` (--tps) twice");
    }

    #[test]
    fn every_flag_named_is_one_the_command_line_has() {
        let cli = crate::Cli::command();
        let mut flags = Vec::new();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                if let Some(long) = arg.get_long() {
                    flags.push(format!("--{long}"));
                }
            }
        }
        for (setting, flag) in FLAGS {
            assert!(
                flags.contains(&flag.to_string()),
                "{setting} maps to {flag}, which no subcommand has"
            );
        }
    }

    #[test]
    fn library_errors_get_their_flags() {
        let err = capacity::SearchConfig {
            min_tps: 0.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(with_flags(&err.to_string()).contains("`min_tps` (--min-tps)"));
        let err = orchestrator::timeline::check_rate_under_ceiling(1e9, 60_000.0).unwrap_err();
        let text = with_flags(&err.to_string());
        assert!(
            text.contains("`tps` (--tps)") && text.contains("(--max-tps)"),
            "{text}"
        );
    }
}
