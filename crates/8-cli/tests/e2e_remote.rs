//! End-to-end: building on a remote Docker engine.
//!
//! `cargo xtask e2e up` starts a second engine of its own (own data root,
//! no bridge) reachable over TCP on 127.0.0.1 with mutual TLS, and over
//! SSH (an `sshd` of the set-up's own on loopback, key auth). A spec is
//! built and pushed through it, as `DOCKER_HOST` with `DOCKER_TLS_VERIFY`
//! and `DOCKER_CERT_PATH`, as a docker context, and as `ssh://`; the
//! context goes over
//! the wire, and a one-file change resends only that file (the kept
//! context); a secret reaches the build and no layer. Preflight names the
//! remote and the fix when the TLS files are missing or not trusted.
//!
//! Built only with the `e2e` feature (`cargo xtask ci`, `cargo xtask e2e
//! test`). Without the remote engine these tests fail; they never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{e2e, E2e};

struct Remote {
    host: String,
    ssh: String,
    certs: PathBuf,
}

fn remote() -> Remote {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: run with `cargo xtask e2e test` (or `cargo xtask ci`)")
        })
    };
    Remote {
        host: var("IMAGESPEC_E2E_REMOTE_HOST"),
        ssh: var("IMAGESPEC_E2E_REMOTE_SSH"),
        certs: PathBuf::from(var("IMAGESPEC_E2E_REMOTE_CERTS")),
    }
}

impl Remote {
    /// `docker ARGS` against the remote engine (over TLS); its stdout.
    fn docker_ok(&self, e: &E2e, args: &[&str]) -> String {
        let out = Command::new(&e.docker)
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", &self.certs)
            .args(args)
            .output()
            .expect("docker runs");
        assert!(
            out.status.success(),
            "remote docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// `imagespec` aimed at the remote engine over TLS (`DOCKER_HOST` and its
/// TLS variables), the Docker builder named, nothing remembered.
fn through_tls(r: &Remote, cache: &Path) -> Command {
    let mut c = common::imagespec();
    c.env("DOCKER_HOST", &r.host)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &r.certs)
        .env("IMAGESPEC_CACHE_DIR", cache)
        .env("IMAGESPEC_EXISTENCE_TTL", "0")
        // The remote engine has no bridge: its RUN steps use the host's network.
        .env("IMAGESPEC_BUILD_NETWORK", "host")
        .args(["--verbose"]);
    c
}

fn build(c: Command, spec: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let args: Vec<&str> = ["--builder", "default"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    common::build_entry(c, &args, spec)
}

/// The bytes BuildKit says it transferred for the build context (the sum
/// of its `transferring context: N` lines; kB and MB as BuildKit prints).
fn context_bytes(log: &str) -> f64 {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find("transferring context: ")? + "transferring context: ".len()..];
            let amount = rest.split_whitespace().next()?;
            let (num, unit) = amount.split_at(amount.find(|c: char| c.is_ascii_alphabetic())?);
            let n: f64 = num.parse().ok()?;
            Some(match unit {
                "B" => n,
                "kB" => n * 1e3,
                "MB" => n * 1e6,
                "GB" => n * 1e9,
                _ => return None,
            })
        })
        .fold(0.0, f64::max)
}

fn project(e: &E2e, root: &Path, name: &str) -> PathBuf {
    write(root, "src/app/main.py", "print('remote v1')\n");
    // A few hundred kilobytes of source, so that a resend would show.
    let blob: String = (0..20_000).map(|i| format!("{i:08}\n")).collect();
    write(root, "src/app/data.txt", &blob);
    write(root, "secret.txt", &format!("REMOTE-SECRET-{}\n", nonce()));
    write(
        root,
        "spec.yaml",
        &format!(
            "name: {name}\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             env: {{RUN_NONCE: \"{}\"}}\nsource_root: src\nsource_copy_mode: all\n\
             pip_secret_mounts: [[secret.txt, /etc/imagespec-secret]]\n\
             commands: ['test -s /etc/imagespec-secret && wc -c < /etc/imagespec-secret > /opt/secret-seen']\n{}",
            e.registry,
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    root.join("spec.yaml")
}

#[test]
fn a_spec_builds_and_pushes_through_a_remote_engine_over_tls() {
    let e = e2e();
    let r = remote();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let spec = project(&e, root, "e2e-remote-tls");
    let cache = root.join("cache");

    let (first, log) = build(through_tls(&r, &cache), &spec, &[]);
    assert_eq!(first["action"], "built", "{first}");
    assert_eq!(first["pushed"], true, "{first}");
    assert!(log.contains(&r.host), "-v names the remote engine: {log}");
    let image = first["image_name"].as_str().unwrap().to_string();
    let sent_first = context_bytes(&log);
    assert!(
        sent_first > 100_000.0,
        "the context went over the wire: {sent_first} B"
    );

    // The image is in the registry: pulled by the local engine, it runs,
    // with the secret read by the build and in no layer or history.
    e.docker_ok(&["pull", &image]);
    let seen = e.docker_ok(&["run", "--rm", &image, "cat", "/opt/secret-seen"]);
    let secret = std::fs::read_to_string(root.join("secret.txt")).unwrap();
    assert_eq!(seen.trim(), secret.len().to_string());
    e.assert_image_free_of(&image, root, &[secret.trim()]);
    assert!(
        !log.contains(secret.trim()),
        "the secret is in the build's log"
    );

    // A one-file change: the kept context resends that file, not the tree.
    write(root, "src/app/main.py", "print('remote v2')\n");
    let (second, log) = build(through_tls(&r, &cache), &spec, &["--engine"]);
    assert_eq!(second["action"], "built", "{second}");
    let sent_second = context_bytes(&log);
    assert!(
        sent_second < sent_first / 10.0,
        "only the change is resent: {sent_second} B after {sent_first} B"
    );
    let image2 = second["image_name"].as_str().unwrap().to_string();
    e.docker_ok(&["pull", &image2]);
    let out = e.docker_ok(&["run", "--rm", &image2, "python", "/root/app/main.py"]);
    assert_eq!(out.trim(), "remote v2");
}

#[test]
fn a_docker_context_names_the_remote_engine_too() {
    let e = e2e();
    let r = remote();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = root.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    let c = |f: &str| r.certs.join(f).display().to_string();
    let made = Command::new(&e.docker)
        .env("DOCKER_CONFIG", &config)
        .args(["context", "create", "imagespec-e2e-remote", "--docker"])
        .arg(format!(
            "host={},ca={},cert={},key={}",
            r.host,
            c("ca.pem"),
            c("cert.pem"),
            c("key.pem")
        ))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    write(root, "src/main.py", "print('through a context')\n");
    write(
        root,
        "spec.yaml",
        &format!(
            "name: e2e-remote-context\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             env: {{RUN_NONCE: \"{}\"}}\nsource_root: src\nsource_copy_mode: all\n{}",
            e.registry,
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    let mut cmd = common::imagespec();
    cmd.env("DOCKER_CONFIG", &config)
        .env_remove("DOCKER_HOST")
        .env("IMAGESPEC_CACHE_DIR", root.join("cache"))
        .env("IMAGESPEC_EXISTENCE_TTL", "0")
        .env("IMAGESPEC_BUILD_NETWORK", "host")
        .args(["--verbose"]);
    let (entry, log) = build(
        cmd,
        &root.join("spec.yaml"),
        &["--docker-context", "imagespec-e2e-remote"],
    );
    assert_eq!(entry["action"], "built", "{entry}");
    assert!(log.contains("imagespec-e2e-remote"), "{log}");
    let image = entry["image_name"].as_str().unwrap();
    e.docker_ok(&["pull", image]);
    let out = e.docker_ok(&["run", "--rm", image, "python", "/root/main.py"]);
    assert_eq!(out.trim(), "through a context");
}

#[test]
fn preflight_names_the_remote_and_the_fix_when_tls_fails() {
    let e = e2e();
    let r = remote();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let spec = project(&e, root, "e2e-remote-refused");
    let run = |cert_path: &Path| {
        let out = common::imagespec()
            .env("DOCKER_HOST", &r.host)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", cert_path)
            .env("IMAGESPEC_CACHE_DIR", root.join("cache"))
            .env("IMAGESPEC_EXISTENCE_TTL", "0")
            .args(["build", "--builder", "default"])
            .arg(&spec)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // No TLS files at all.
    let empty = root.join("no-certs");
    std::fs::create_dir_all(&empty).unwrap();
    let said = run(&empty);
    assert!(
        said.contains(&r.host) && said.contains("TLS files are missing") && said.contains("ca.pem"),
        "{said}"
    );
    // Files of another CA: the engine's certificate is not trusted.
    let other = root.join("other-ca");
    std::fs::create_dir_all(&other).unwrap();
    let ok = |c: &mut Command| assert!(c.status().unwrap().success());
    ok(Command::new("openssl")
        .current_dir(&other)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=other",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .stderr(std::process::Stdio::null()));
    std::fs::copy(other.join("cert.pem"), other.join("ca.pem")).unwrap();
    let said = run(&other);
    assert!(
        said.contains(&r.host) && said.contains("TLS with the engine failed"),
        "{said}"
    );
}

#[test]
fn a_spec_builds_and_pushes_through_a_remote_engine_over_ssh() {
    let e = e2e();
    let r = remote();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/main.py", "print('over ssh')\n");
    write(
        root,
        "spec.yaml",
        &format!(
            "name: e2e-remote-ssh\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             env: {{RUN_NONCE: \"{}\"}}\nsource_root: src\nsource_copy_mode: all\n{}",
            e.registry,
            e.python_image,
            nonce(),
            e.builder_config()
        ),
    );
    let spec = root.join("spec.yaml");
    let mut cmd = common::imagespec();
    cmd.env("DOCKER_HOST", &r.ssh)
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .env("IMAGESPEC_CACHE_DIR", root.join("cache"))
        .env("IMAGESPEC_EXISTENCE_TTL", "0")
        .env("IMAGESPEC_BUILD_NETWORK", "host")
        .args(["--verbose"]);
    let (entry, log) = build(cmd, &spec, &[]);
    assert_eq!(entry["action"], "built", "{entry}");
    assert_eq!(entry["pushed"], true, "{entry}");
    assert!(log.contains(&r.ssh), "-v names the remote engine: {log}");
    let image = entry["image_name"].as_str().unwrap();
    e.docker_ok(&["pull", image]);
    let out = e.docker_ok(&["run", "--rm", image, "python", "-c", "import six, main"]);
    assert_eq!(out.trim(), "over ssh");

    // The same machine under a name whose host key is not known here.
    let out = common::imagespec()
        .env("DOCKER_HOST", "ssh://root@127.0.0.1:5767")
        .env("IMAGESPEC_CACHE_DIR", root.join("cache"))
        .env("IMAGESPEC_EXISTENCE_TTL", "0")
        .args(["build", "--builder", "default", "--force-push"])
        .arg(&spec)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("127.0.0.1:5767") && said.contains("known_hosts"),
        "{said}"
    );
}

/// The steps of the final stage in a `--progress plain` log (lines
/// prefixed `[image] `): each step's title (`RUN ...`, `COPY ...`) and
/// whether BuildKit took it from the cache, in the Dockerfile's order.
fn final_stage_steps(log: &str) -> Vec<(String, bool)> {
    let lines: Vec<&str> = log
        .lines()
        .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest))
        .collect();
    let mut steps: Vec<(u32, String, bool)> = Vec::new();
    for l in &lines {
        let Some((id, body)) = l.strip_prefix('#').and_then(|r| r.split_once(' ')) else {
            continue;
        };
        // `[stage-2  6/11] RUN ...`: the final stage is the one without a name
        // of its own (`stage-N`).
        let Some(rest) = body.strip_prefix("[stage-") else {
            continue;
        };
        let Some((_, rest)) = rest.split_once(char::is_whitespace) else {
            continue;
        };
        let Some((position, title)) = rest.trim_start().split_once("] ") else {
            continue;
        };
        let n: u32 = position.split('/').next().unwrap().parse().unwrap();
        if steps.iter().any(|(m, ..)| *m == n) || title.starts_with("FROM ") {
            continue;
        }
        let cached = lines.iter().any(|m| *m == format!("#{id} CACHED"));
        steps.push((n, title.to_string(), cached));
    }
    steps.sort_by_key(|(n, ..)| *n);
    steps.into_iter().map(|(_, t, c)| (t, c)).collect()
}

/// A build cache shared through the registry: engine A (the local one)
/// builds and pushes a spec with `--registry-cache`; engine B (the remote
/// one), which never built it, builds the same spec with other source files
/// and takes every step before the source from the cache: it installs
/// nothing, and copies the source anew. B held a stale cache tag of the
/// same name (an earlier build's), which must not hide the registry's.
#[test]
fn a_second_engine_reuses_the_first_engines_steps_through_the_registry() {
    let e = e2e();
    let r = remote();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let spec = root.join("spec.yaml");
    let write_spec = |nonce: &str| {
        write(
            root,
            "spec.yaml",
            &format!(
                "name: e2e-remote-cache\nregistry: {}\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
                 env: {{RUN_NONCE: \"{nonce}\"}}\nsource_root: src\nsource_copy_mode: all\n{}",
                e.registry,
                e.python_image,
                e.builder_config()
            ),
        )
    };
    let engine_a = || {
        let mut a = common::imagespec();
        // The same network as engine B's: it is part of a step's cache key.
        a.env("IMAGESPEC_CACHE_DIR", root.join("cache-a"))
            .env("IMAGESPEC_EXISTENCE_TTL", "0")
            .env("IMAGESPEC_BUILD_NETWORK", "host")
            .args(["--verbose"]);
        a
    };
    let engine_b = || through_tls(&r, &root.join("cache-b"));

    // An earlier build on B leaves B's engine an image with the cache tag's
    // name (as a build that pushed its cache from B would, before imagespec
    // untagged it).
    write(root, "src/main.py", "print('cache v0')\n");
    write_spec(&nonce().to_string());
    let (stale, _) = build(engine_b(), &spec, &["--registry-cache", "--engine"]);
    let cache_tag = format!(
        "{}:imagespec-buildcache",
        stale["image_name"]
            .as_str()
            .unwrap()
            .rsplit_once(':')
            .unwrap()
            .0
    );
    r.docker_ok(
        &e,
        &["tag", stale["image_name"].as_str().unwrap(), &cache_tag],
    );

    // Engine A: a new spec (another nonce: none of its steps ran anywhere).
    write_spec(&nonce().to_string());
    write(root, "src/main.py", "print('cache v1')\n");
    let (first, log_a) = build(engine_a(), &spec, &["--registry-cache"]);
    assert_eq!(first["action"], "built", "{first}");
    let steps_a = final_stage_steps(&log_a);
    let install = |steps: &[(String, bool)]| {
        steps
            .iter()
            .find(|(t, _)| t.contains("uv pip install"))
            .cloned()
            .unwrap_or_else(|| panic!("no install step in {steps:?}"))
    };
    assert!(!install(&steps_a).1, "engine A installs: {steps_a:?}");
    // The pushed cache tag is the pushed image; A's engine keeps no cache tag.
    let pushed = e.docker_ok(&["pull", "-q", &cache_tag]);
    assert!(!pushed.is_empty());
    e.docker_ok(&["rmi", &cache_tag]);

    // Engine B: another source file.
    write(root, "src/main.py", "print('cache v2')\n");
    let (second, log_b) = build(engine_b(), &spec, &["--registry-cache", "--engine"]);
    assert_eq!(second["action"], "built", "{second}");
    assert_ne!(second["image_name"], first["image_name"], "another tag");
    let steps_b = final_stage_steps(&log_b);
    let source = steps_b
        .iter()
        .position(|(t, _)| t.starts_with("COPY --chown=flytekit ./src /root"))
        .unwrap_or_else(|| panic!("no source step: {steps_b:?}"));
    let before: Vec<_> = steps_b[..source].iter().filter(|(_, c)| !c).collect();
    assert!(
        before.is_empty() && source > 3,
        "engine B takes every step before the source from the cache; it ran {before:?}\nA:\n{log_a}\nB:\n{log_b}"
    );
    assert!(install(&steps_b).1);
    assert!(!steps_b[source].1, "the source is copied anew: {steps_b:?}");
    assert!(
        !log_b.contains("Downloading") && !log_b.contains("Installed "),
        "B installs nothing:\n{log_b}"
    );
    // B untagged the cache tag it pushed (the stale one is gone with it).
    let tags = r.docker_ok(&e, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(!tags.lines().any(|t| t == cache_tag), "{tags}");

    let image = second["image_name"].as_str().unwrap();
    e.docker_ok(&["pull", image]);
    let out = e.docker_ok(&["run", "--rm", image, "python", "-c", "import six, main"]);
    assert_eq!(out.trim(), "cache v2");
}
