//! Running the helper programs and daemons of the e2e set-up: a command
//! that must succeed, one whose success is the answer, a daemon started in
//! the background with its PID in a file, and waiting for it.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Debian's docker client: it builds with the daemon's built-in BuildKit
/// (the first `docker` on PATH here is a client without buildx).
pub const DOCKER: &str = "/usr/bin/docker";

pub fn log(msg: &str) {
    eprintln!("xtask e2e: {msg}");
}

pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

pub fn quiet_ok(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("{what} did not come up within {timeout:?}")
}

pub fn pid_alive(pid_file: &Path) -> Option<u32> {
    let pid: u32 = fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// Starts a daemon in the background, its output in `log`, its PID in `pid_file`.
pub fn spawn_daemon(cmd: &mut Command, log_file: &Path, pid_file: &Path) -> Result<u32> {
    let out = fs::File::create(log_file)?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    fs::write(pid_file, child.id().to_string())?;
    Ok(child.id())
}
