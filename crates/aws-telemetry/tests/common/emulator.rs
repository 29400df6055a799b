//! The AWS API emulator (moto with the CloudWatch CBOR adapter) as a child process. Only std, so that
//! other crates' end-to-end tests can include this file with `#[path]` (the binary's `aws_run` test
//! does) instead of copying it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// moto with the CloudWatch CBOR adapter (`test-support/aws-emulator/server.py`) on a free loopback
/// port; killed on drop.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub fn start() -> Self {
        let python = std::env::var("FRAUDSTRESS_MOTO_PYTHON").unwrap_or_else(|_| {
            panic!(
                "FRAUDSTRESS_MOTO_PYTHON is not set: run the AWS emulator tests with `cargo xtask test`, or \
                 point it at a python with moto[server] and cbor2 (`cargo xtask aws-emulator` installs one \
                 in .tools/moto)"
            )
        });
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-support/aws-emulator/server.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {python} {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the AWS emulator did not print `ready <port>` within 60 s: {other:?}");
            }
        };
        let port: u16 = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the emulator: {line:?}"));
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
