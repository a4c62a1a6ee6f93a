//! The end-to-end environment: a Docker engine, a registry on loopback, and
//! the base and helper images the tests build on (no image can be pulled
//! here). Everything is idempotent: what is already there is reused, and
//! `down` stops only what `up` started (by PID).
//!
//! State lives in `target/e2e/`; `target/e2e/env` holds the variables the
//! e2e tests read.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::daemon::{log, pid_alive, quiet_ok, run, spawn_daemon, wait_for};

pub use crate::daemon::DOCKER;
/// The registry's loopback port.
pub const REGISTRY_PORT: u16 = 5765;
/// Debian base with Python 3.11 and the machine's CA certificates.
pub const PYTHON_IMAGE: &str = "imagespec-e2e/python:3.11";
/// `FROM scratch` + the uv binary at `/uv`, for `builder_config.uv_image`.
pub const UV_IMAGE: &str = "imagespec-e2e/uv:latest";
const PACKAGES: [&str; 8] = [
    "docker.io",
    "docker-registry",
    "debootstrap",
    "podman",
    "openssl",
    "openssh-server",
    "iproute2",
    // dockerd unpacks gzip layers with `unpigz` when it is on its PATH (Go's
    // gzip otherwise): a second engine taking a spec's layers from the
    // registry's cache unpacks them about a quarter faster (docs/remote.md).
    "pigz",
];
/// Debian's podman (4.3), the `podman` builder's e2e engine.
pub const PODMAN: &str = "/usr/bin/podman";
/// Where podman is told that the local registry speaks plain HTTP (that
/// registry alone, on loopback).
const PODMAN_REGISTRY_CONF: &str = "/etc/containers/registries.conf.d/50-imagespec-e2e.conf";

fn state_dir(root: &Path) -> PathBuf {
    root.join("target/e2e")
}

fn docker() -> Command {
    Command::new(DOCKER)
}

fn install_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .copied()
        .filter(|p| !quiet_ok(Command::new("dpkg").args(["-s", p])))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    log(&format!("installing {}", missing.join(" ")));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    // No service starts as a package installs (openssh-server would listen
    // on every address, port 22): Debian's policy-rc.d says no, for the
    // time of the install.
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let ours = !policy.exists();
    if ours {
        fs::write(
            policy,
            "#!/bin/sh\n# imagespec's xtask: no service starts during its install\nexit 101\n",
        )?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(policy, fs::Permissions::from_mode(0o755))?;
    }
    let installed = run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"));
    if ours {
        let _ = fs::remove_file(policy);
    }
    installed
}

fn engine_up() -> bool {
    quiet_ok(docker().args(["info"]))
}

fn start_engine(state: &Path) -> Result<()> {
    if engine_up() {
        return Ok(());
    }
    log("starting dockerd");
    spawn_daemon(
        Command::new("dockerd").args(["--host", "unix:///var/run/docker.sock"]),
        &state.join("dockerd.log"),
        &state.join("dockerd.pid"),
    )?;
    wait_for("dockerd", Duration::from_secs(60), engine_up)
        .with_context(|| format!("see {}", state.join("dockerd.log").display()))
}

/// True when the registry answers `GET /v2/` with 200.
fn registry_up() -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], REGISTRY_PORT)),
        Duration::from_secs(2),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:{REGISTRY_PORT}\r\n\r\n");
    let mut buf = [0u8; 32];
    if s.write_all(req.as_bytes()).is_err() || s.read(&mut buf).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&buf);
    head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200")
}

fn start_registry(state: &Path) -> Result<()> {
    if registry_up() {
        return Ok(());
    }
    let dir = state.join("registry");
    fs::create_dir_all(dir.join("data"))?;
    let config = dir.join("config.yml");
    fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{REGISTRY_PORT}\n",
            dir.join("data").display()
        ),
    )?;
    log(&format!("starting a registry on 127.0.0.1:{REGISTRY_PORT}"));
    spawn_daemon(
        Command::new("docker-registry").args(["serve"]).arg(&config),
        &state.join("registry.log"),
        &state.join("registry.pid"),
    )?;
    wait_for("the registry", Duration::from_secs(30), registry_up)
        .with_context(|| format!("see {}", state.join("registry.log").display()))
}

fn image_exists(name: &str) -> bool {
    quiet_ok(docker().args(["image", "inspect", name]))
}

/// The Debian mirror apt uses here.
fn debian_mirror() -> String {
    let mut text = String::new();
    for dir in ["/etc/apt/sources.list.d", "/etc/apt"] {
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_file() && (p.extension().is_some_and(|x| x == "sources" || x == "list")) {
                    text.push_str(&fs::read_to_string(&p).unwrap_or_default());
                    text.push('\n');
                }
            }
        }
    }
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("URIs:") || l.starts_with("deb "))
        .flat_map(str::split_whitespace)
        .find(|w| w.starts_with("http") && w.contains("debian") && !w.contains("security"))
        .unwrap_or("http://deb.debian.org/debian")
        .trim_end_matches('/')
        .to_string()
}

fn build_python_image(state: &Path) -> Result<()> {
    if image_exists(PYTHON_IMAGE) {
        return Ok(());
    }
    let rootfs = state.join("rootfs");
    if rootfs.exists() {
        fs::remove_dir_all(&rootfs)?;
    }
    let mirror = debian_mirror();
    log(&format!(
        "debootstrap bookworm from {mirror} (about a minute)"
    ));
    run(Command::new("debootstrap")
        .args([
            "--variant=minbase",
            "--include=ca-certificates,python3,python3-venv",
            "bookworm",
        ])
        .arg(&rootfs)
        .arg(&mirror)
        .stdout(Stdio::null()))?;
    // Containers reach the package registries through a TLS proxy: trust its CA.
    let certs = rootfs.join("usr/local/share/ca-certificates");
    fs::create_dir_all(&certs)?;
    for e in fs::read_dir("/usr/local/share/ca-certificates")?.flatten() {
        if e.path().extension().is_some_and(|x| x == "crt") {
            fs::copy(e.path(), certs.join(e.file_name()))?;
        }
    }
    run(Command::new("chroot")
        .arg(&rootfs)
        .args(["update-ca-certificates"])
        .stdout(Stdio::null()))?;
    run(Command::new("chroot")
        .arg(&rootfs)
        .args(["apt-get", "clean"]))?;
    log(&format!("importing {PYTHON_IMAGE}"));
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()?;
    run(docker()
        .args([
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "CMD [\"/bin/bash\"]",
            "-",
            PYTHON_IMAGE,
        ])
        .stdin(tar.stdout.context("tar output")?)
        .stdout(Stdio::null()))?;
    fs::remove_dir_all(&rootfs)?;
    Ok(())
}

fn build_uv_image(state: &Path) -> Result<()> {
    if image_exists(UV_IMAGE) {
        return Ok(());
    }
    let dir = state.join("uv");
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    log("downloading uv from PyPI");
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "uv",
            "-d",
        ])
        .arg(&dir))?;
    let wheel = fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("pip downloaded no uv wheel")?;
    run(Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [x for x in z.namelist() if x.endswith('/scripts/uv')][0]; open(sys.argv[2], 'wb').write(z.read(n))"])
        .arg(&wheel)
        .arg(dir.join("uv")))?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.join("uv"), fs::Permissions::from_mode(0o755))?;
    }
    fs::write(dir.join("Dockerfile"), "FROM scratch\nCOPY uv /uv\n")?;
    log(&format!("building {UV_IMAGE}"));
    run(docker()
        .args(["build", "-q", "-t", UV_IMAGE])
        .arg(&dir)
        .stdout(Stdio::null()))
}

/// Podman's side: the local registry trusted over HTTP (it alone), and the
/// base and helper images copied from the Docker engine (nothing can be
/// pulled here). Idempotent.
fn prepare_podman() -> Result<()> {
    let conf = format!("[[registry]]\nlocation = \"localhost:{REGISTRY_PORT}\"\ninsecure = true\n");
    if fs::read_to_string(PODMAN_REGISTRY_CONF).ok().as_deref() != Some(conf.as_str()) {
        log(&format!(
            "trusting localhost:{REGISTRY_PORT} over HTTP in podman ({PODMAN_REGISTRY_CONF})"
        ));
        fs::create_dir_all(
            Path::new(PODMAN_REGISTRY_CONF)
                .parent()
                .context("a folder")?,
        )?;
        fs::write(PODMAN_REGISTRY_CONF, conf)?;
    }
    for image in [PYTHON_IMAGE, UV_IMAGE] {
        crate::daemon::copy_image("podman", image, || Command::new(PODMAN))?;
    }
    Ok(())
}

/// Below this many GB free where the engines and the registry keep their
/// data, the suites cannot pass: a CI run takes about 12 GB at its peak
/// (the build, 6; the engines' and podman's images, the registry), and an
/// engine out of space fails every build after, each with a long log.
const FLOOR_GB: u64 = 6;

/// The GB free on the filesystem holding `place`, as `df` says.
fn free_gb(place: &Path) -> Option<u64> {
    let out = Command::new("df")
        .args(["--output=avail", "-B1G"])
        .arg(place)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// Says how much disk there is where the suites write, and refuses to
/// start below [`FLOOR_GB`].
fn check_space(state: &Path) -> Result<()> {
    for place in [state, Path::new("/var/lib")] {
        let Some(gb) = free_gb(place) else { continue };
        log(&format!("{gb} GB free for {}", place.display()));
        if gb < FLOOR_GB {
            anyhow::bail!(
                "only {gb} GB free for {}: the e2e suites need about {FLOOR_GB} GB more than the \
                 build. Free some (`cargo xtask e2e down` removes the images earlier suites made; \
                 `docker system df` shows what the engine holds)",
                place.display()
            );
        }
    }
    Ok(())
}

/// Brings the environment up; writes `target/e2e/env`.
pub fn up(root: &Path) -> Result<()> {
    let state = state_dir(root);
    fs::create_dir_all(&state)?;
    check_space(&state)?;
    install_packages()?;
    start_engine(&state)?;
    start_registry(&state)?;
    build_python_image(&state)?;
    build_uv_image(&state)?;
    prepare_podman()?;
    crate::remote::up(&state, &[PYTHON_IMAGE, UV_IMAGE])?;
    let env = format!(
        "IMAGESPEC_DOCKER={DOCKER}\nIMAGESPEC_PODMAN={PODMAN}\nIMAGESPEC_E2E_REGISTRY=localhost:{REGISTRY_PORT}\nIMAGESPEC_E2E_PYTHON_IMAGE={PYTHON_IMAGE}\nIMAGESPEC_E2E_UV_IMAGE={UV_IMAGE}\nIMAGESPEC_E2E_REMOTE_HOST={}\nIMAGESPEC_E2E_REMOTE_SSH=ssh://{}\nIMAGESPEC_E2E_REMOTE_CERTS={}\n",
        crate::remote::host(),
        crate::remote::SSH_ALIAS,
        crate::remote::certs(&state).display()
    );
    fs::write(state.join("env"), env)?;
    log("ready");
    Ok(())
}

/// The variables `up` wrote, for the test run.
pub fn env_vars(root: &Path) -> Result<Vec<(String, String)>> {
    let text = fs::read_to_string(state_dir(root).join("env"))
        .context("run `cargo xtask e2e up` first")?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Whether `up` has the engine and the registry running now.
pub fn is_up(root: &Path) -> bool {
    let state = state_dir(root);
    state.join("env").is_file()
        && ["registry", "dockerd"]
            .iter()
            .all(|n| pid_alive(&state.join(format!("{n}.pid"))).is_some())
        && crate::remote::is_up(&state)
}

/// Whether `name` (`REPOSITORY:TAG`, as `docker images` lists it) is an
/// image the e2e suites or the bench made: one of the e2e registry's or of
/// another loopback registry's, or a local `e2e-…`, `imagespec-e2e…` or
/// `imagespec-bench/…` tag. The set-up's base images are not.
fn made_by_the_suites(name: &str) -> bool {
    // podman lists a local image as `localhost/NAME`.
    let name = name.strip_prefix("localhost/").unwrap_or(name);
    if name == PYTHON_IMAGE || name == UV_IMAGE {
        return false;
    }
    let loopback_registry = ["localhost:", "127.0.0.1:"]
        .iter()
        .any(|host| name.starts_with(host) && name.contains('/'));
    loopback_registry
        || ["e2e-", "imagespec-e2e", "imagespec-bench/"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Removes, with `tool` (a docker or podman command), the images the
/// suites made, then the untagged ones they leave: a CI run leaves about
/// 5 GB of them otherwise, and the next run on the same disk has that much
/// less.
fn forget_suite_images(what: &str, tool: impl FnMut() -> Command + Clone) {
    match crate::daemon::remove_images(tool.clone(), made_by_the_suites) {
        Ok(0) => {}
        Ok(n) => log(&format!("removed {n} images the suites made from {what}")),
        Err(e) => log(&format!("the suites' images stay in {what}: {e:#}")),
    }
    let mut tool = tool;
    let _ = quiet_ok(tool().args(["image", "prune", "-f"]));
}

/// Stops what `up` started (by PID), after removing the images the suites
/// made from its engines and from podman, and the registry's storage;
/// leaves anything else running.
pub fn down(root: &Path) -> Result<()> {
    let state = state_dir(root);
    if engine_up() {
        forget_suite_images("the engine", docker);
    }
    if crate::remote::is_up(&state) {
        forget_suite_images("the remote engine", || crate::remote::docker(&state));
    }
    if Path::new(PODMAN).exists() {
        forget_suite_images("podman", || Command::new(PODMAN));
    }
    crate::remote::down(&state)?;
    let registry_started_here = pid_alive(&state.join("registry.pid")).is_some();
    for name in ["registry", "dockerd"] {
        let pid_file = state.join(format!("{name}.pid"));
        if let Some(pid) = pid_alive(&pid_file) {
            log(&format!("stopping {name} (pid {pid})"));
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let gone = wait_for(name, Duration::from_secs(20), || {
                !Path::new(&format!("/proc/{pid}")).exists()
            });
            if gone.is_err() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        let _ = fs::remove_file(&pid_file);
    }
    if registry_started_here {
        // Only the suites' images are in it; the next `up` starts it empty.
        let _ = fs::remove_dir_all(state.join("registry").join("data"));
    }
    Ok(())
}

/// The last `n` lines of a log file, or why it can't be read.
fn log_tail(path: &Path, n: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n    ")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}

/// What the environment looked like when a suite failed, printed last so
/// that it is in the tail of a CI log: whether each service `up` started is
/// still running (with its log's last lines if not), the free space where
/// the engines, podman and the registry keep their data, and the memory.
pub fn report(root: &Path) {
    let state = state_dir(root);
    eprintln!("xtask e2e: the environment after the failure:");
    let services = [
        (
            "registry",
            state.join("registry.pid"),
            state.join("registry.log"),
        ),
        (
            "dockerd",
            state.join("dockerd.pid"),
            state.join("dockerd.log"),
        ),
        (
            "remote dockerd",
            crate::remote::dir(&state).join("dockerd.pid"),
            crate::remote::dir(&state).join("dockerd.log"),
        ),
        (
            "remote sshd",
            crate::remote::dir(&state).join("sshd.pid"),
            crate::remote::dir(&state).join("sshd.log"),
        ),
    ];
    for (name, pid_file, log_file) in services {
        match pid_alive(&pid_file) {
            Some(pid) => eprintln!("  {name}: running (pid {pid})"),
            None => eprintln!(
                "  {name}: NOT running; the end of {}:\n    {}",
                log_file.display(),
                log_tail(&log_file, 15)
            ),
        }
    }
    let mut df = Command::new("df");
    df.args(["-h", "--output=target,size,used,avail,pcent"]);
    for place in [
        state.as_path(),
        Path::new("/var/lib/docker"),
        Path::new("/var/lib/containers"),
        Path::new("/tmp"),
    ] {
        if place.exists() {
            df.arg(place);
        }
    }
    for (what, mut cmd) in [
        ("disk", df),
        ("memory", {
            let mut free = Command::new("free");
            free.arg("-m");
            free
        }),
    ] {
        match cmd.output() {
            Ok(out) => eprintln!(
                "  {what}:\n    {}",
                String::from_utf8_lossy(&out.stdout)
                    .trim_end()
                    .replace('\n', "\n    ")
            ),
            Err(e) => eprintln!("  {what}: cannot run {cmd:?}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::made_by_the_suites;

    #[test]
    fn the_suites_images_are_told_from_the_base_images_and_the_users() {
        for ours in [
            "localhost:5765/e2e-podman-child:abc",
            "127.0.0.1:37383/e2e-unreachable:x",
            "e2e-parity:docker",
            "imagespec-e2e/flytekit-parity:latest",
            "imagespec-e2e-podman-parity-uv-lock:docker",
            "imagespec-bench/tiny:1",
            "localhost/localhost:5765/e2e-podman-base:t",
        ] {
            assert!(made_by_the_suites(ours), "{ours}");
        }
        for theirs in [
            "imagespec-e2e/python:3.11",
            "localhost/imagespec-e2e/uv:latest",
            "python:3.11-slim",
            "ghcr.io/me/app:v1",
            "localhost/myapp:dev",
            "<none>:<none>",
        ] {
            assert!(!made_by_the_suites(theirs), "{theirs}");
        }
    }
}
