//! Interrupted builds, against the e2e environment: SIGTERM sent to
//! imagespec alone, a Ctrl-C sent to its whole process group, and SIGKILL.
//! Its `docker build` ends with it and never tags or pushes afterwards; it
//! exits with 130; and no credential is ever on disk for a kill to leave
//! behind. Built only with the `e2e` feature; without the environment it
//! fails, it never skips.

mod common;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{e2e, E2e};

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn nonce() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A spec whose build sleeps `secs` in its commands, pushed to the e2e registry.
fn slow_spec(e: &E2e, dir: &Path, name: &str, secs: u32, extra: &str) -> std::path::PathBuf {
    write(
        dir,
        "spec.yaml",
        &format!(
            "name: {name}\nbase_image: {}\npython_exec: /usr/bin/python3\nregistry: {}\n\
             env: {{NONCE: \"{}\"}}\ncommands: ['sleep {secs}']\n{extra}\
             builder_config: {{uv_image: {}, micromamba_image: {}}}\n",
            e.python_image,
            e.registry,
            nonce(),
            e.uv_image,
            e.python_image
        ),
    );
    dir.join("spec.yaml")
}

fn name_of(spec: &Path) -> String {
    let out = common::imagespec().arg("tag").arg(spec).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Starts `imagespec build SPEC` in a process group of its own.
fn start_build(spec: &Path, tmp: &Path) -> Child {
    let mut c = common::imagespec();
    c.args(["build", "-v"])
        .arg(spec)
        .env("TMPDIR", tmp)
        .env("IMAGESPEC_CACHE_DIR", tmp.join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    c.spawn().unwrap()
}

/// Waits until a `docker` process of this build (its command line names
/// `image`) runs; its PID.
fn docker_of(image: &str, limit: Duration) -> u32 {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(pid) = processes_naming(image).into_iter().next() {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no docker process for {image} within {limit:?}");
}

/// The processes whose command line holds `text` (this test's not).
fn processes_naming(text: &str) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let line = String::from_utf8_lossy(&c).replace('\0', " ");
                line.contains(text) && line.contains("docker")
            })
        })
        .collect()
}

/// Waits for `child` to end (at most `limit`); its exit code and stderr.
fn end_of(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("imagespec did not end within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status of `HEAD /v2/<repo>/manifests/<tag>` on the (plain-HTTP) e2e registry.
fn manifest_status(image: &str) -> u16 {
    use std::io::{Read as _, Write as _};
    let (repo, tag) = image.rsplit_once(':').unwrap();
    let (host, path) = repo.split_once('/').unwrap();
    let mut conn = std::net::TcpStream::connect(host.replace("localhost", "127.0.0.1")).unwrap();
    write!(
        conn,
        "HEAD /v2/{path}/manifests/{tag} HTTP/1.0\r\nHost: {host}\r\n\
         Accept: application/vnd.docker.distribution.manifest.v2+json\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The image is neither in the engine (tagged) nor in the registry (pushed).
fn never_published(e: &E2e, image: &str) {
    assert!(
        !e.docker(&["image", "inspect", image]).status.success(),
        "{image} was tagged after the interruption"
    );
    assert_eq!(
        manifest_status(image),
        404,
        "{image} was pushed after the interruption"
    );
}

#[test]
fn sigterm_ends_the_build_exits_130_and_nothing_is_published() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = slow_spec(&e, dir.path(), "e2e-sigterm", 15, "");
    let image = name_of(&spec);
    let child = start_build(&spec, tmp.path());
    let docker = docker_of(&image, Duration::from_secs(60));
    // A moment into the build, then SIGTERM to imagespec alone.
    std::thread::sleep(Duration::from_secs(2));
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let (code, stderr) = end_of(child, Duration::from_secs(20));
    assert_eq!(code, Some(130), "{}", common::said(&stderr));
    assert!(
        !Path::new(&format!("/proc/{docker}")).exists() || processes_naming(&image).is_empty(),
        "docker build still runs after imagespec ended"
    );
    // Past when the sleep would have ended and docker would have tagged it.
    std::thread::sleep(Duration::from_secs(20));
    assert!(
        processes_naming(&image).is_empty(),
        "a docker process of {image} runs"
    );
    never_published(&e, &image);
}

#[test]
fn ctrl_c_to_the_process_group_exits_130() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = slow_spec(&e, dir.path(), "e2e-ctrl-c", 15, "");
    let image = name_of(&spec);
    let child = start_build(&spec, tmp.path());
    docker_of(&image, Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    // What a terminal's Ctrl-C does: SIGINT to the foreground process group.
    rustix::process::kill_process_group(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let (code, stderr) = end_of(child, Duration::from_secs(20));
    assert_eq!(code, Some(130), "{}", common::said(&stderr));
    assert!(
        !stderr.contains("docker exited"),
        "{}",
        common::said(&stderr)
    );
    std::thread::sleep(Duration::from_secs(20));
    assert!(
        processes_naming(&image).is_empty(),
        "a docker process of {image} runs"
    );
    never_published(&e, &image);
}

#[test]
fn a_killed_build_leaves_no_credential_on_disk_and_its_docker_ends_too() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let token = format!("kill-T0KEN-{}", std::process::id());
    let index = imagespec_tests::pyindex::PrivateIndex::start(
        "imagespec-probe",
        imagespec_tests::pyindex::wheel("imagespec-probe", "1.0", "imagespec_probe", "V = 1\n"),
        "deploy",
        &token,
    );
    let spec = slow_spec(
        &e,
        dir.path(),
        "e2e-sigkill",
        20,
        &format!(
            "packages: [imagespec-probe]\npip_extra_index_url: ['http://deploy:{token}@127.0.0.1:{}/simple/']\n",
            index.port
        ),
    );
    let image = name_of(&spec);
    let mut c = common::imagespec();
    c.args(["build", "-v"])
        .arg(&spec)
        .env("TMPDIR", tmp.path())
        .env("IMAGESPEC_CACHE_DIR", tmp.path().join("cache"))
        .env("IMAGESPEC_BUILD_NETWORK", "host")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = c.spawn().unwrap();
    docker_of(&image, Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    child.kill().unwrap();
    let _ = child.wait();
    // Nothing under the build's TMPDIR, nor an imagespec folder of the
    // system's, holds the token.
    let mut stack = vec![tmp.path().to_path_buf(), std::env::temp_dir()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() && p.starts_with(tmp.path()) => stack.push(p),
                Ok(t)
                    if t.is_dir()
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("imagespec")) =>
                {
                    stack.push(p)
                }
                Ok(t) if t.is_file() && entry.metadata().is_ok_and(|m| m.len() < 1 << 20) => {
                    let bytes = std::fs::read(&p).unwrap_or_default();
                    assert!(
                        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                        "the credential is on disk in {}",
                        p.display()
                    );
                }
                _ => {}
            }
        }
    }
    // Its docker ends with it (a parent-death signal), and tags nothing.
    let start = Instant::now();
    while !processes_naming(&image).is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        processes_naming(&image).is_empty(),
        "docker outlived a killed imagespec"
    );
    std::thread::sleep(Duration::from_secs(20));
    never_published(&e, &image);
}
