//! `cargo xtask aws-emulator [--port P]`: installs moto (with the adapters in `test-support/aws-emulator`)
//! when missing and runs it in the foreground on 127.0.0.1, for trying the AWS features by hand
//! (`stress-runner run ... --cloudwatch --aws-endpoint-url http://127.0.0.1:P`). Ctrl+C stops it.

use crate::tools;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// moto's usual port.
const DEFAULT_PORT: u16 = 5000;

#[allow(clippy::print_stdout)] // xtask talks to the developer
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let port = parse_port(args)?;
    let python = tools::ensure_moto(root)?;
    let script = root.join("test-support/aws-emulator/server.py");
    let (at, url_port) = if port == 0 {
        (
            "a free port (printed on the `ready` line)".to_string(),
            "PORT".to_string(),
        )
    } else {
        (port.to_string(), port.to_string())
    };
    println!(
        "starting the AWS emulator (moto) on 127.0.0.1, port {at}; point fraudstress at it with \
         --aws-endpoint-url http://127.0.0.1:{url_port} and any credentials; Ctrl+C stops it"
    );
    let status = Command::new(&python)
        .arg(&script)
        .args(["--port", &port.to_string()])
        .status()
        .with_context(|| format!("could not start {python} {}", script.display()))?;
    if !status.success() {
        bail!(
            "the AWS emulator exited with {status} (is port {port} already in use? try --port 0 for a free one)"
        );
    }
    Ok(())
}

fn parse_port(args: &[String]) -> Result<u16> {
    let mut port = DEFAULT_PORT;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "--port" => it
                .next()
                .context("--port needs a value, for example --port 5000")?
                .as_str(),
            other => match other.strip_prefix("--port=") {
                Some(v) => v,
                None => bail!(
                    "unknown aws-emulator option {other:?}; usage: cargo xtask aws-emulator [--port P]"
                ),
            },
        };
        port = value
            .parse()
            .with_context(|| format!("--port {value:?} is not a port number (0 to 65535)"))?;
    }
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_option() {
        assert_eq!(parse_port(&args(&[])).unwrap(), 5000);
        assert_eq!(parse_port(&args(&["--port", "0"])).unwrap(), 0);
        assert_eq!(parse_port(&args(&["--port=4566"])).unwrap(), 4566);
        assert!(parse_port(&args(&["--port"])).is_err());
        assert!(parse_port(&args(&["--port", "http"])).is_err());
        assert!(parse_port(&args(&["--host", "0.0.0.0"])).is_err());
    }
}
