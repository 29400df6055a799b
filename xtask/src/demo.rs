//! `cargo xtask demo [--quick] [--port P] [--presentation FILE]`: builds stress-runner (release), runs the
//! investor scenario against the built-in reference target with the live dashboards, prints their URL
//! and control token, and opens a browser where there is a display (`xdg-open`). `--quick` compresses
//! the 10-minute scenario to about 2 minutes (time scale 0.2). The dashboards keep serving after the run
//! until Ctrl+C.

// xtask talks to the developer on stdout.
#![allow(clippy::print_stdout)]

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Options {
    quick: bool,
    port: u16,
    presentation: Option<String>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        quick: false,
        port: 8090,
        presentation: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--port" => {
                let v = it
                    .next()
                    .context("--port needs a number, like --port 8090")?;
                o.port = v
                    .parse()
                    .with_context(|| format!("--port {v}: not a port number"))?;
            }
            "--presentation" => {
                o.presentation = Some(
                    it.next()
                        .context("--presentation needs a TOML file")?
                        .clone(),
                )
            }
            other => {
                bail!("unknown demo option {other:?}; use --quick, --port P, --presentation FILE")
            }
        }
    }
    if o.port == 0 {
        bail!(
            "--port 0 would hide the dashboard's address from this script; give a free port like 8090"
        );
    }
    Ok(o)
}

/// 128 random bits from the operating system, as hex.
fn token() -> Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for a token")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let o = options(args)?;
    println!("\n==> cargo build --release -p stress-runner");
    crate::cargo(root, &["build", "--release", "-p", "stress-runner"], &[])?;
    let bin = root.join("target/release/stress-runner");
    let help = Command::new(&bin)
        .args(["run", "--help"])
        .output()
        .with_context(|| format!("could not run {}", bin.display()))?;
    if !String::from_utf8_lossy(&help.stdout).contains("--dashboard") {
        bail!(
            "`stress-runner run` has no --dashboard flag yet: its DashboardArgs (cmd/dashboard.rs) are not wired into run.rs"
        );
    }
    let token = token()?;
    let mut cmd = Command::new(&bin);
    cmd.current_dir(root).args([
        "run",
        "--scenario",
        "investor",
        "--target",
        "builtin",
        "--dashboard",
        "--dashboard-linger",
    ]);
    cmd.args(["--dashboard-port", &o.port.to_string(), "--token", &token]);
    if o.quick {
        cmd.args(["--time-scale", "0.2"]);
    }
    if let Some(p) = &o.presentation {
        cmd.args(["--presentation", p]);
    }
    println!(
        "\n==> investor scenario{} with the live dashboards",
        if o.quick {
            " (quick: about 2 minutes)"
        } else {
            " (10 minutes)"
        }
    );
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", bin.display()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], o.port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("stress-runner ended before the dashboard was up ({status})");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the dashboard did not answer on {addr} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let url = format!("http://{addr}/investor");
    println!("\n  dashboard:     {url}");
    println!(
        "  control token: {token}  (type it into http://{addr}/admin to pause, stop or inject faults)"
    );
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if display {
        match Command::new("xdg-open").arg(&url).spawn() {
            Ok(mut c) => {
                let _ = c.wait();
            }
            Err(e) => {
                println!("  (could not open a browser with xdg-open: {e}; open the URL yourself)")
            }
        }
    } else {
        println!("  (no display here: open the URL in a browser on this machine)");
    }
    let status = child.wait().context("waiting for stress-runner")?;
    if !status.success() && status.code() != Some(130) && status.code() != Some(1) {
        bail!("stress-runner failed ({status})");
    }
    Ok(())
}
