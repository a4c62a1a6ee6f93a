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

/// The ID of `image` as `tool` (a docker or podman command) has it, if it
/// has it.
pub fn image_id(mut tool: Command, image: &str) -> Option<String> {
    let out = tool
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !id.is_empty()).then(|| id.trim_start_matches("sha256:").to_string())
}

/// Copies `image` from the local engine into `target` (a docker or podman
/// command) unless `target` has the very same image: a base image rebuilt
/// on the local engine is copied again, or the engines would build on
/// different bases (and share no build cache).
pub fn copy_image(what: &str, image: &str, mut target: impl FnMut() -> Command) -> Result<()> {
    let local = image_id(Command::new(DOCKER), image);
    if local.is_some() && image_id(target(), image) == local {
        return Ok(());
    }
    log(&format!("copying {image} into {what}"));
    let save = Command::new(DOCKER)
        .args(["save", image])
        .stdout(Stdio::piped())
        .spawn()?;
    run(target()
        .args(["load", "--quiet"])
        .stdin(save.stdout.context("docker save output")?)
        .stdout(Stdio::null()))
}

/// Removes `tool`'s images (a docker or podman command) whose
/// `REPOSITORY:TAG` name `pick` picks; how many it removed. Serves the e2e
/// set-up's clean-up and the bench's.
pub fn remove_images(
    mut tool: impl FnMut() -> Command,
    pick: impl Fn(&str) -> bool,
) -> Result<usize> {
    let out = tool()
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
        .context("cannot list the images")?;
    if !out.status.success() {
        bail!(
            "listing the images failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let names: Vec<&str> = listed.lines().filter(|n| pick(n)).collect();
    // Every chunk is tried; the first failure is said after.
    let mut failed = None;
    for chunk in names.chunks(50) {
        if let Err(e) = run(tool().args(["rmi", "-f"]).args(chunk).stdout(Stdio::null())) {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(names.len()),
    }
}
