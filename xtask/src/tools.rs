//! What the end-to-end suites need, installed when missing: Debian's Chromium and ChromeDriver for the
//! dashboard tests, Debian's nginx for the lean HTTP engine's test against a real server, moto's AWS emulator (in a virtual environment under `.tools/`) for the AWS tests,
//! and `kubernetes-validate` (its own environment, with its bundled offline schemas) for the
//! `stress-runner k8s` manifests.
//! The suites find them through the environment variables returned by [`prepare`].

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const NGINX: &str = "/usr/sbin/nginx";

/// Installs what is missing and returns the variables that point the suites at it.
pub fn prepare(root: &Path) -> Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    ensure_chromium()?;
    env.push(("FRAUDSTRESS_CHROMIUM".into(), CHROMIUM.into()));
    env.push(("FRAUDSTRESS_CHROMEDRIVER".into(), CHROMEDRIVER.into()));
    ensure_debian_package(NGINX, "nginx")?;
    env.push(("FRAUDSTRESS_NGINX".into(), NGINX.into()));
    let python = ensure_moto(root)?;
    env.push(("FRAUDSTRESS_MOTO_PYTHON".into(), python));
    let validate = ensure_kubernetes_validate(root)?;
    env.push(("FRAUDSTRESS_KUBERNETES_VALIDATE".into(), validate));
    Ok(env)
}

/// A virtual environment with `kubernetes-validate`, which checks manifests against the Kubernetes
/// schemas it bundles (no cluster, no network). Returns the command's path.
pub fn ensure_kubernetes_validate(root: &Path) -> Result<String> {
    let venv = ensure_venv(
        root,
        "kubernetes-validate",
        &["kubernetes-validate==1.37.0"],
    )?;
    Ok(venv
        .join("bin/kubernetes-validate")
        .to_string_lossy()
        .into_owned())
}

/// `.tools/<name>`, a Python virtual environment with `packages` from PyPI, made once (a marker
/// file says it is complete, so an interrupted install is redone). Returns its folder.
fn ensure_venv(root: &Path, name: &str, packages: &[&str]) -> Result<std::path::PathBuf> {
    let venv = root.join(".tools").join(name);
    let python = venv.join("bin/python");
    let ready = venv.join(".installed");
    let wanted = packages.join(" ") + "\n";
    // The marker holds what was installed, so changing a pin reinstalls rather than keeping the old one.
    if std::fs::read_to_string(&ready).ok().as_deref() != Some(wanted.as_str()) {
        println!("installing {} into {}", wanted.trim_end(), venv.display());
        run(
            "python3",
            &["-m", "venv", venv.to_str().context("venv path is UTF-8")?],
        )?;
        let mut args = vec!["-m", "pip", "install", "-q"];
        args.extend_from_slice(packages);
        run(python.to_str().context("path is UTF-8")?, &args)?;
        std::fs::write(&ready, wanted)?;
    }
    Ok(venv)
}

fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    println!("installing chromium and chromium-driver from Debian's packages");
    run("apt-get", &["update", "-q"])?;
    run(
        "apt-get",
        &["install", "-y", "-q", "chromium", "chromium-driver"],
    )?;
    Ok(())
}

/// Installs Debian's `package` when `path` is missing.
fn ensure_debian_package(path: &str, package: &str) -> Result<()> {
    if Path::new(path).exists() {
        return Ok(());
    }
    println!("installing {package} from Debian's packages");
    run("apt-get", &["update", "-q"])?;
    run("apt-get", &["install", "-y", "-q", package])?;
    Ok(())
}

/// A virtual environment with `moto[server]` (the AWS API emulator) and `cbor2` (for the CloudWatch
/// CBOR adapter in `test-support/aws-emulator`). Returns its python.
pub fn ensure_moto(root: &Path) -> Result<String> {
    // Pinned: moto 5.2.6 began answering CloudWatch's CBOR itself, and an unpinned install changed
    // under CI overnight. `server.py` still adapts older releases.
    let venv = ensure_venv(root, "moto", &["moto[server]==5.2.6", "cbor2"])?;
    Ok(venv.join("bin/python").to_string_lossy().into_owned())
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
