//! A one-worker nginx on a free loopback port, for the tools and tests that need a real, fast HTTP
//! server: `cargo xtask bench-peers` and the lean engine's test in `crates/targets/tests/nginx.rs`.
//! Standard library only, so that both include this one file with `#[path]`.
//!
//! `master_process off`: the process started is the one that serves (its CPU can be read from its
//! pid). Its config, logs, temp files and any extra files live in a fresh folder, removed with it.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

/// A whole nginx config: one worker, no access log, temp folders in `dir`, listening on
/// 127.0.0.1:`port`; `http` adds directives to the `http` block and `locations` fills the server.
pub fn config(dir: &Path, port: u16, http: &str, locations: &str) -> String {
    let dir = dir.display();
    format!(
        "worker_processes 1;
master_process off;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{http}
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"
    )
}

/// `program`, under `taskset -c CORE` when a core is given (taskset execs it: same pid).
pub fn on_core(core: Option<usize>, program: impl AsRef<std::ffi::OsStr>) -> Command {
    match core {
        Some(core) => {
            let mut cmd = Command::new("/usr/bin/taskset");
            cmd.arg("-c").arg(core.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

impl Nginx {
    /// Starts `program` (under `taskset -c CORE` when a core is given; taskset execs it, so the pid
    /// is nginx's) with the config `make_config(dir, port)` returns, after writing `files` (name,
    /// content) into its folder; waits until it accepts connections (at most 10 s).
    pub fn start(
        program: &str,
        make_config: impl FnOnce(&Path, u16) -> String,
        files: &[(&str, &str)],
        core: Option<usize>,
    ) -> Result<Self, String> {
        // A free port: bind port 0, note it, release it for nginx. It also names the folder.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free loopback port: {e}"))?
            .port();
        let dir =
            std::env::temp_dir().join(format!("fraudstress-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        for (name, content) in files {
            std::fs::write(dir.join(name), content)
                .map_err(|e| format!("writing {name} for nginx: {e}"))?;
        }
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, make_config(&dir, port))
            .map_err(|e| format!("writing {}: {e}", conf_path.display()))?;
        let child = on_core(core, program)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {program} ({e}); install it with `apt-get install -y nginx`")
            })?;
        let mut nginx = Self { child, port, dir };
        nginx.wait_ready()?;
        Ok(nginx)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                return Err(format!(
                    "nginx exited at start ({status}); its error log says:\n{log}"
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "nginx did not accept connections on {addr} within 10 s; see {}",
                    self.dir.join("error.log").display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Our own child, by its handle; then its folder.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
