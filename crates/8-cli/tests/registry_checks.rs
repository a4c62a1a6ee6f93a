//! `imagespec exists` and `build`'s skip decision against real registries on
//! loopback (Debian's `docker-registry`, started by the tests): no auth,
//! htpasswd with docker config files and credential helpers, token auth with
//! scoped tokens, indexes with platforms, and a fault-injecting proxy.
//!
//! Built with the `e2e` feature (`cargo xtask ci`); it fails, never skips,
//! when `docker-registry` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use imagespec_tests::registry::{Fault, FaultProxy, Format, TestRegistry, TokenPolicy};

mod common;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        Case {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a spec for `name` in `registry` and returns its path.
    fn spec(&self, file: &str, name: &str, registry: &str, extra: &str) -> PathBuf {
        let p = self.path(file);
        std::fs::write(
            &p,
            format!("name: {name}\npython_version: \"3.12\"\nregistry: {registry}\n{extra}"),
        )
        .unwrap();
        p
    }

    /// A docker config folder holding `config` as config.json.
    fn docker_config(&self, config: serde_json::Value) -> PathBuf {
        let dir = self.path("docker-config");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        dir
    }
}

/// `imagespec` with no docker config of the machine's and fast retries.
fn cmd() -> Command {
    let mut c = common::imagespec();
    c.env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .env("IMAGESPEC_REGISTRY_TIMEOUT", "2")
        .env("IMAGESPEC_REGISTRY_RETRIES", "2")
        .env("IMAGESPEC_REGISTRY_BACKOFF_MS", "50")
        // Each check here is the registry's answer: none is remembered
        // (remembered existence has its own test).
        .env("IMAGESPEC_EXISTENCE_TTL", "0")
        .env_remove("FLYTE_FORCE_PUSH_IMAGE_SPEC")
        .env_remove("FLYTE_IMG_FAST_FAIL");
    c
}

/// `cmd()` with a docker client that does not exist: a build that gets as far
/// as asking the engine fails.
fn no_engine() -> Command {
    let mut c = cmd();
    c.env("IMAGESPEC_DOCKER", "/nonexistent/docker")
        .env("IMAGESPEC_BUILDER", "default");
    c
}

struct Checked {
    code: i32,
    rows: Vec<serde_json::Value>,
    stderr: String,
}

fn exists_with(mut c: Command, specs: &[&Path]) -> Checked {
    let out = c.args(["exists", "--json"]).args(specs).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let rows = serde_json::from_value(doc["images"].clone()).expect("an images array");
    Checked {
        code: out.status.code().unwrap_or(-1),
        rows,
        stderr,
    }
}

fn exists(specs: &[&Path]) -> Checked {
    exists_with(cmd(), specs)
}

/// The tag imagespec computes for a spec.
fn tag_of(spec: &Path) -> String {
    let out = cmd().args(["tag", "--json"]).arg(spec).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["tag"].as_str().unwrap().to_string()
}

#[test]
fn no_auth_registry_exists_missing_and_exit_codes() {
    let reg = TestRegistry::no_auth();
    let case = Case::new();
    let present = case.spec("present.yaml", "present", &reg.host(), "");
    let absent = case.spec("absent.yaml", "absent", &reg.host(), "");
    let digest = reg.push_image("present", &tag_of(&present), Format::Docker);

    let r = exists(&[&present]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.rows[0]["status"], "exists");
    assert_eq!(r.rows[0]["digest"], digest.as_str());

    let r = exists(&[&present, &absent]);
    assert_eq!(r.code, 3, "a missing image exits 3: {}", r.stderr);
    assert_eq!(r.rows[0]["status"], "exists");
    assert_eq!(r.rows[1]["status"], "missing");
    assert_eq!(
        r.rows[1]["image_name"],
        format!("{}/absent:{}", reg.host(), tag_of(&absent)).as_str()
    );
}

#[test]
fn indexes_must_hold_every_platform_asked_for() {
    let reg = TestRegistry::no_auth();
    let case = Case::new();
    let both = "platform: linux/amd64,linux/arm64\n";
    for (format, file) in [(Format::Docker, "docker"), (Format::Oci, "oci")] {
        let full = case.spec(
            &format!("{file}-full.yaml"),
            &format!("{file}-full"),
            &reg.host(),
            both,
        );
        let partial = case.spec(
            &format!("{file}-partial.yaml"),
            &format!("{file}-partial"),
            &reg.host(),
            both,
        );
        let single = case.spec(
            &format!("{file}-single.yaml"),
            &format!("{file}-single"),
            &reg.host(),
            "",
        );
        let d = reg.push_index(
            &format!("{file}-full"),
            &tag_of(&full),
            &[("linux", "amd64"), ("linux", "arm64/v8")],
            format,
        );
        reg.push_index(
            &format!("{file}-partial"),
            &tag_of(&partial),
            &[("linux", "amd64")],
            format,
        );
        reg.push_index(
            &format!("{file}-single"),
            &tag_of(&single),
            &[("linux", "amd64"), ("linux", "s390x")],
            format,
        );

        let r = exists(&[&full, &partial, &single]);
        assert_eq!(r.rows[0]["status"], "exists", "{file}: {:?}", r.rows);
        assert_eq!(r.rows[0]["digest"], d.as_str());
        assert_eq!(r.rows[1]["status"], "missing", "{file}: {:?}", r.rows);
        assert!(
            r.rows[1]["reason"]
                .as_str()
                .unwrap()
                .contains("linux/arm64"),
            "{:?}",
            r.rows[1]
        );
        assert_eq!(
            r.rows[2]["status"], "exists",
            "{file}: linux/amd64 is in it: {:?}",
            r.rows
        );
        assert_eq!(r.code, 3);
    }
}

#[test]
fn htpasswd_credentials_from_config_file_and_helper() {
    let (user, password) = ("ci-user", "s3cret-Pa55word");
    let reg = TestRegistry::htpasswd(user, password);
    let case = Case::new();
    let spec = case.spec("spec.yaml", "private", &reg.host(), "");
    reg.push_image("private", &tag_of(&spec), Format::Oci);

    // No credentials: the registry refuses, the answer is unknown (exit 4).
    let r = exists(&[&spec]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.rows[0]["status"], "unknown");
    assert!(
        r.rows[0]["reason"].as_str().unwrap().contains("refused"),
        "{:?}",
        r.rows
    );

    // auths in config.json.
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = case.docker_config(serde_json::json!({"auths": {reg.host(): {"auth": auth}}}));
    let mut c = cmd();
    c.env("DOCKER_CONFIG", &config);
    let r = exists_with(c, &[&spec]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.rows[0]["status"], "exists");

    // A credential helper on PATH.
    let bin = case.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-imagespectest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config =
        case.docker_config(serde_json::json!({"credHelpers": {reg.host(): "imagespectest"}}));
    let mut c = cmd();
    c.env("DOCKER_CONFIG", &config).env(
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    let r = exists_with(c, &[&spec]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.rows[0]["status"], "exists");

    // Wrong credentials: refused, and no credential in any message.
    let bad = base64::engine::general_purpose::STANDARD.encode(format!("{user}:wrong-{password}"));
    let config = case.docker_config(serde_json::json!({"auths": {reg.host(): {"auth": bad}}}));
    let mut c = cmd();
    c.env("DOCKER_CONFIG", &config)
        .env("IMAGESPEC_LOG", "trace");
    let out = c.args(["exists", "--json"]).arg(&spec).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(password), "a password leaked into the output");
    assert!(!all.contains(&bad), "a credential leaked into the output");
}

#[test]
fn token_auth_challenge_flow_and_scoped_refusals() {
    let reg = TestRegistry::token(TokenPolicy::pull_only("allowed/"));
    let case = Case::new();
    let allowed = case.spec("allowed.yaml", "allowed/app", &reg.host(), "");
    let denied = case.spec("denied.yaml", "denied/app", &reg.host(), "");
    reg.push_image("allowed/app", &tag_of(&allowed), Format::Docker);
    reg.push_image("denied/app", &tag_of(&denied), Format::Docker);
    let before = reg.token_server().unwrap().requests();

    let r = exists(&[&allowed]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.rows[0]["status"], "exists");
    assert!(
        reg.token_server().unwrap().requests() > before,
        "the 401 challenge sent the client to the token server"
    );

    // The token server grants nothing on `denied/`: the registry refuses the
    // scoped token, so the answer is unknown (not missing).
    let r = exists(&[&denied]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
}

#[test]
fn token_server_demanding_credentials_gets_docker_credentials() {
    let reg = TestRegistry::token(TokenPolicy::allow_all().require_basic("robot", "t0ken-pass"));
    let case = Case::new();
    let spec = case.spec("spec.yaml", "team/app", &reg.host(), "");
    reg.push_image("team/app", &tag_of(&spec), Format::Oci);
    assert_eq!(
        exists(&[&spec]).code,
        4,
        "anonymous token requests are refused"
    );
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("robot:t0ken-pass");
    let config = case.docker_config(serde_json::json!({"auths": {reg.host(): {"auth": auth}}}));
    let mut c = cmd();
    c.env("DOCKER_CONFIG", &config);
    let r = exists_with(c, &[&spec]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn faults_end_in_the_documented_outcome_within_bounded_time() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let present = case.spec("present.yaml", "present", &proxy.host(), "");
    let absent = case.spec("absent.yaml", "absent", &proxy.host(), "");
    reg.push_image("present", &tag_of(&present), Format::Docker);

    // (fault, spec, expected status). Retries: 2, backoff 50 ms, timeout 2 s.
    let cases: Vec<(Fault, &Path, &str)> = vec![
        (Fault::None, &present, "exists"),
        (Fault::None, &absent, "missing"),
        (Fault::Status(500), &present, "unknown"),
        (Fault::Status(503), &present, "unknown"),
        (Fault::Status(429), &present, "unknown"),
        (
            Fault::RetryAfter {
                status: 503,
                seconds: 1,
            },
            &present,
            "unknown",
        ),
        (
            Fault::StatusThenPass {
                status: 503,
                times: 2,
            },
            &present,
            "exists",
        ),
        (
            Fault::StatusThenPass {
                status: 429,
                times: 1,
            },
            &present,
            "exists",
        ),
        (Fault::Delay(Duration::from_secs(5)), &present, "unknown"),
        (Fault::Reset, &present, "unknown"),
        (Fault::HarborNotFound, &absent, "missing"),
        (Fault::Status(404), &absent, "missing"),
        (Fault::Status(401), &present, "unknown"),
    ];
    for (fault, spec, want) in cases {
        proxy.set(fault.clone());
        let start_requests = proxy.requests();
        let start = Instant::now();
        let r = exists(&[spec]);
        let took = start.elapsed();
        assert_eq!(
            r.rows[0]["status"], want,
            "{fault:?}: {:?}\n{}",
            r.rows, r.stderr
        );
        let expected_code = match want {
            "exists" => 0,
            "missing" => 3,
            _ => 4,
        };
        assert_eq!(r.code, expected_code, "{fault:?}");
        // 3 attempts of at most 2 s each, plus backoff: well under 20 s.
        assert!(took < Duration::from_secs(20), "{fault:?} took {took:?}");
        let requests = proxy.requests() - start_requests;
        if matches!(fault, Fault::Status(500 | 503 | 429)) {
            // The same check without retries makes a third of the requests:
            // one try and two retries, then it stops.
            let before = proxy.requests();
            let mut once = cmd();
            once.env("IMAGESPEC_REGISTRY_RETRIES", "0");
            assert_eq!(exists_with(once, &[spec]).rows[0]["status"], "unknown");
            let single = proxy.requests() - before;
            assert!(single > 0);
            assert_eq!(
                requests,
                3 * single,
                "{fault:?}: 3 attempts of {single} requests each"
            );
        }
    }
}

#[test]
fn build_skips_existing_images_builds_unknown_ones_and_fast_fail_makes_unknown_an_error() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let spec = case.spec("spec.yaml", "built", &proxy.host(), "");
    reg.push_image("built", &tag_of(&spec), Format::Docker);

    // exists: skipped, without a Docker engine being asked.
    let (v, _) = common::build_report(no_engine(), &[], &spec);
    assert_eq!(v["images"][0]["action"], "skipped");

    // unknown: built (never a silent success), so the missing engine is
    // asked for and the run fails, naming it ...
    proxy.set(Fault::Status(500));
    let out = no_engine().arg("build").arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", common::said(&stderr));
    assert!(stderr.contains("building it"), "{}", common::said(&stderr));
    assert!(
        stderr.contains("cannot run the docker client"),
        "{}",
        common::said(&stderr)
    );

    // ... assumed to exist only when asked (flytekit's behaviour) ...
    let (v, stderr) = common::build_report(no_engine(), &["--assume-exists-when-unknown"], &spec);
    assert_eq!(v["images"][0]["action"], "skipped");
    assert!(
        stderr.contains("assuming it does, as asked"),
        "{}",
        common::said(&stderr)
    );

    // ... and an error with fast fail (flag or flytekit's variable).
    for fast in [vec!["--fast-fail"], vec![]] {
        let mut c = no_engine();
        if fast.is_empty() {
            c.env("FLYTE_IMG_FAST_FAIL", "true");
        }
        let out = c.args(["build"]).args(&fast).arg(&spec).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("FLYTE_IMG_FAST_FAIL"));
    }

    // exists + force push: it builds (and so asks for the engine, which is missing here).
    proxy.set(Fault::None);
    for force in [vec!["--force-push"], vec![]] {
        let mut c = no_engine();
        if force.is_empty() {
            c.env("FLYTE_FORCE_PUSH_IMAGE_SPEC", "1");
        }
        let out = c.args(["build"]).args(&force).arg(&spec).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run the docker client"));
    }
}

/// What a bounded run printed.
struct Ran {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    took: Duration,
}

/// Runs `c`, killing it (and failing) if it has not ended within `limit`.
fn run_within(mut c: Command, limit: Duration) -> Ran {
    use std::io::Read as _;
    use std::process::Stdio;
    let start = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            // Only the process this test started, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            panic!("{c:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
        took,
    }
}

/// `c exists --json SPECS` within `limit`: what it printed and how long it took.
fn exists_within(mut c: Command, specs: &[&Path], limit: Duration) -> (Checked, Duration) {
    c.args(["exists", "--json"]).args(specs);
    let ran = run_within(c, limit);
    let doc: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}): {}\n{}",
            String::from_utf8_lossy(&ran.stdout),
            ran.stderr
        )
    });
    let rows = serde_json::from_value(doc["images"].clone()).expect("an images array");
    let checked = Checked {
        code: ran.code,
        rows,
        stderr: ran.stderr,
    };
    (checked, ran.took)
}

fn reason(r: &Checked) -> String {
    r.rows[0]["reason"].as_str().unwrap_or_default().to_string()
}

/// A registry behind a fault proxy, with `present` (an index holding
/// linux/amd64, asked for with that platform, so its manifest is read).
struct Proxied {
    _reg: TestRegistry,
    proxy: FaultProxy,
    case: Case,
    spec: PathBuf,
}

fn proxied_index() -> Proxied {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let spec = case.spec(
        "present.yaml",
        "present",
        &proxy.host(),
        "platform: linux/amd64\n",
    );
    reg.push_index(
        "present",
        &tag_of(&spec),
        &[("linux", "amd64")],
        Format::Oci,
    );
    let r = exists(&[&spec]);
    assert_eq!(r.rows[0]["status"], "exists", "{:?}\n{}", r.rows, r.stderr);
    Proxied {
        _reg: reg,
        proxy,
        case,
        spec,
    }
}

// Finding 1: a malformed index or an unparseable manifest is "unknown",
// naming what is wrong (it used to count as "exists").
#[test]
fn malformed_manifests_and_indexes_are_unknown() {
    let p = proxied_index();
    let oci_index = "application/vnd.oci.image.index.v1+json";
    let docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
    let cases: [(&str, &str, &str); 6] = [
        (
            oci_index,
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{"linux/amd64":{}}}"#,
            "`manifests` is missing or not a list",
        ),
        (
            oci_index,
            r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:00","platform":"linux/amd64"}]}"#,
            "entry 0 has a `platform` that is not an object",
        ),
        (
            docker_list,
            r#"{"schemaVersion":2,"manifests":[{"platform":{"architecture":"amd64"}}]}"#,
            "no `platform.os`",
        ),
        (
            "application/vnd.oci.image.manifest.v1+json",
            "<html><body>502 Bad Gateway</body></html>",
            "not JSON",
        ),
        (oci_index, r#"{"schemaVersion":2,"manifests":["#, "not JSON"),
        (
            "application/json",
            r#"{"hello":"world"}"#,
            "neither an image manifest nor an index",
        ),
    ];
    for (content_type, body, want) in cases {
        p.proxy.set(Fault::ManifestBody {
            content_type: content_type.into(),
            body: body.as_bytes().to_vec(),
        });
        let r = exists(&[&p.spec]);
        assert_eq!(r.rows[0]["status"], "unknown", "{body}: {:?}", r.rows);
        assert_eq!(r.code, 4, "{body}");
        assert!(reason(&r).contains(want), "{body}: {}", reason(&r));
    }
}

// Finding 2: every body read is capped at 4 MiB, streamed: an endless
// manifest or token answer ends the check quickly, as "unknown" naming the
// cap, after the client read little more than the cap.
#[test]
fn endless_bodies_are_cut_at_the_cap() {
    let p = proxied_index();
    let bounded = 32u64 << 20; // the 4 MiB cap, plus what socket buffers hold
    p.proxy.set(Fault::EndlessBody);
    let before = p.proxy.streamed_bytes();
    let (r, took) = exists_within(cmd(), &[&p.spec], Duration::from_secs(60));
    let streamed = p.proxy.streamed_bytes() - before;
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
    assert!(reason(&r).contains("larger than 4 MiB"), "{}", reason(&r));
    assert!(
        streamed < bounded,
        "the client took {streamed} bytes of an endless manifest"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    // A token server that never stops answering (the registry's challenge
    // sends the client to it): the same cap.
    let plain = p.case.spec("plain.yaml", "present", &p.proxy.host(), "");
    p.proxy.set(Fault::EndlessToken);
    let before = p.proxy.streamed_bytes();
    let (r, took) = exists_within(cmd(), &[&plain], Duration::from_secs(60));
    let streamed = p.proxy.streamed_bytes() - before;
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
    let why = reason(&r);
    assert!(
        why.contains("token") && why.contains("larger than 4 MiB"),
        "{why}"
    );
    assert!(
        streamed < bounded,
        "the client took {streamed} bytes of an endless token answer"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

// `explain --against image:` reads through the same bounded transport: an
// endless manifest ends it at the cap, quickly, naming it.
#[test]
fn explain_against_an_endless_manifest_stops_at_the_cap() {
    let p = proxied_index();
    p.proxy.set(Fault::EndlessBody);
    let before = p.proxy.streamed_bytes();
    let mut c = cmd();
    c.args(["explain", "--against"])
        .arg(format!(
            "image:{}/present:{}",
            p.proxy.host(),
            tag_of(&p.spec)
        ))
        .arg(&p.spec);
    let ran = run_within(c, Duration::from_secs(60));
    let streamed = p.proxy.streamed_bytes() - before;
    assert_ne!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("larger than 4 MiB"), "{}", ran.stderr);
    assert!(
        streamed < 32 << 20,
        "explain took {streamed} bytes of an endless manifest"
    );
    assert!(ran.took < Duration::from_secs(10), "{:?}", ran.took);
}

/// Kills the helper whose PID it wrote to `pid_file`, if still there.
struct HelperGuard(PathBuf);

impl Drop for HelperGuard {
    fn drop(&mut self) {
        if let Some(pid) = helper_pid(&self.0).filter(|p| alive(*p)) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

fn helper_pid(pid_file: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// Whether `pid` runs (a zombie does not count).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

// Finding 3: a credential helper runs with the registry timeout and is
// killed after it; a helper that hangs, fails or cannot be run makes the
// answer "unknown" naming it (docker's own pull fails then); one that has
// no credentials means anonymous, as for docker.
#[test]
fn credential_helpers_that_hang_or_fail_are_killed_and_named() {
    let reg = TestRegistry::no_auth();
    let case = Case::new();
    let spec = case.spec("spec.yaml", "present", &reg.host(), "");
    reg.push_image("present", &tag_of(&spec), Format::Docker);
    let bin = case.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pid_file = case.path("helper.pid");
    let _guard = HelperGuard(pid_file.clone());
    let helpers = [
        (
            "imagespechang",
            format!(
                "#!/bin/sh\necho $$ > {}\nexec sleep 600\n",
                pid_file.display()
            ),
        ),
        (
            "imagespecfail",
            "#!/bin/sh\necho 'helper-output-that-may-hold-a-secret'\nexit 1\n".to_string(),
        ),
        (
            "imagespecnone",
            "#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n".to_string(),
        ),
    ];
    for (name, script) in &helpers {
        let helper = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&helper, script).unwrap();
        std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let with_helper = |config: serde_json::Value| {
        let dir = case.docker_config(config);
        let mut c = cmd();
        c.env("DOCKER_CONFIG", dir).env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        );
        c
    };

    // Hangs: killed after the timeout (2 s here), and named.
    let c = with_helper(serde_json::json!({"credHelpers": {reg.host(): "imagespechang"}}));
    let (r, took) = exists_within(c, &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}\n{}", r.rows, r.stderr);
    assert_eq!(r.code, 4);
    let why = reason(&r);
    assert!(
        why.contains("`docker-credential-imagespechang` did not answer within 2s"),
        "{why}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    let pid = helper_pid(&pid_file).expect("the helper ran");
    assert!(!alive(pid), "the hung helper {pid} was not killed");

    // Fails: named, its output not shown.
    let c = with_helper(serde_json::json!({"credsStore": "imagespecfail"}));
    let (r, _) = exists_within(c, &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
    let why = reason(&r);
    assert!(
        why.contains("`docker-credential-imagespecfail` failed"),
        "{why}"
    );
    assert!(!format!("{why}{}", r.stderr).contains("helper-output-that-may-hold-a-secret"));

    // Not on PATH: named.
    let c = with_helper(serde_json::json!({"credsStore": "imagespecmissing"}));
    let (r, _) = exists_within(c, &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
    assert!(
        reason(&r).contains("`docker-credential-imagespecmissing` could not be run"),
        "{}",
        reason(&r)
    );

    // No credentials for this registry: anonymous, as for docker.
    let c = with_helper(serde_json::json!({"credsStore": "imagespecnone"}));
    let (r, _) = exists_within(c, &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "exists", "{:?}\n{}", r.rows, r.stderr);
}

// Finding 4: one attempt takes at most IMAGESPEC_REGISTRY_TIMEOUT, end to
// end (it used to take twice that): here a manifest that trickles in, a byte
// every 200 ms, never whole.
#[test]
fn one_attempt_takes_at_most_the_timeout() {
    let p = proxied_index();
    p.proxy.set(Fault::TrickleBody(Duration::from_millis(200)));
    for (retries, bound) in [
        (0, Duration::from_millis(3200)),
        (1, Duration::from_millis(5600)),
    ] {
        let mut c = cmd();
        c.env("IMAGESPEC_REGISTRY_RETRIES", retries.to_string());
        let (r, took) = exists_within(c, &[&p.spec], Duration::from_secs(60));
        assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
        assert!(reason(&r).contains("no answer within 2s"), "{}", reason(&r));
        // Timeout 2 s per attempt, 50 ms backoff, and the HEAD before.
        assert!(took < bound, "{} attempt(s) took {took:?}", retries + 1);
        assert!(took >= Duration::from_secs(2 * (retries + 1)), "{took:?}");
    }
}

// Finding 5: `Retry-After` on 429 and 503 is honoured, in seconds or as an
// HTTP date, up to 30 s; a longer one ends the retries, named.
#[test]
fn retry_after_is_honoured_bounded_and_named() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let spec = case.spec("present.yaml", "present", &proxy.host(), "");
    reg.push_image("present", &tag_of(&spec), Format::Docker);

    // Seconds: the retry waits 2 s, not the 50 ms backoff.
    proxy.set(Fault::RetryAfterThenPass {
        status: 429,
        value: "2".into(),
        times: 1,
    });
    let (r, took) = exists_within(cmd(), &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "exists", "{:?}\n{}", r.rows, r.stderr);
    assert!(
        took >= Duration::from_secs(2),
        "Retry-After: 2 ignored ({took:?})"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");

    // An HTTP date 3 s ahead (whole seconds: a wait of 2 to 3 s).
    let at = imagespec_tests::registry::http_date(SystemTime::now() + Duration::from_secs(3));
    proxy.set(Fault::RetryAfterThenPass {
        status: 503,
        value: at.clone(),
        times: 1,
    });
    let (r, took) = exists_within(cmd(), &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "exists", "{:?}\n{}", r.rows, r.stderr);
    assert!(
        took >= Duration::from_millis(1500),
        "Retry-After: {at} ignored ({took:?})"
    );
    assert!(took < Duration::from_secs(7), "{took:?}");

    // More than 30 s: no wait, no more attempts, and the reason says why.
    for status in [429, 503] {
        proxy.set(Fault::RetryAfter {
            status,
            seconds: 3600,
        });
        let before = proxy.requests();
        let (r, took) = exists_within(cmd(), &[&spec], Duration::from_secs(30));
        assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
        let why = reason(&r);
        assert!(
            why.contains("Retry-After: 3600") && why.contains("1 attempt"),
            "{why}"
        );
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(proxy.requests() - before, 1, "one attempt, one request");
    }
}

// Finding 6: a redirect loop is named as one (it used to be "connection
// failed"), and not retried.
#[test]
fn redirect_loops_are_named() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let spec = case.spec("present.yaml", "present", &proxy.host(), "");
    reg.push_image("present", &tag_of(&spec), Format::Docker);
    proxy.set(Fault::RedirectLoop);
    let before = proxy.requests();
    let (r, _) = exists_within(cmd(), &[&spec], Duration::from_secs(30));
    assert_eq!(r.rows[0]["status"], "unknown", "{:?}", r.rows);
    assert_eq!(r.code, 4);
    let why = reason(&r);
    assert!(why.contains("redirect loop"), "{why}");
    assert!(why.contains("/v2/present/manifests/"), "{why}");
    // The ping, then HEAD, its redirect, and the redirect back: no retry.
    assert_eq!(proxy.requests() - before, 3, "{why}");
}

// Finding 7: every knob is validated at start by `exists` and `build`: a
// clear error (exit 1) naming the variable, its value and what it accepts.
#[test]
fn invalid_registry_knobs_fail_at_start_naming_the_variable() {
    let case = Case::new();
    // Nothing listens there: a check that ran would fail and retry.
    let spec = case.spec("spec.yaml", "app", "127.0.0.1:9", "");
    let bad = [
        ("IMAGESPEC_REGISTRY_TIMEOUT", "inf", "0 < t ≤ 600"),
        ("IMAGESPEC_REGISTRY_TIMEOUT", "0", "0 < t ≤ 600"),
        ("IMAGESPEC_REGISTRY_TIMEOUT", "ten", "0 < t ≤ 600"),
        ("IMAGESPEC_REGISTRY_RETRIES", "11", "from 0 to 10"),
        ("IMAGESPEC_REGISTRY_RETRIES", "-1", "from 0 to 10"),
        ("IMAGESPEC_REGISTRY_BACKOFF_MS", "1e300", "from 0 to 30000"),
        (
            "IMAGESPEC_INSECURE_REGISTRIES",
            "http://reg:5000",
            "host[:port]",
        ),
    ];
    for (name, value, accepted) in bad {
        for command in ["exists", "build"] {
            let mut c = no_engine();
            c.env(name, value).arg(command).arg(&spec);
            let ran = run_within(c, Duration::from_secs(30));
            let what = format!("{command} with {name}={value}: {}", ran.stderr);
            assert_eq!(ran.code, 1, "{what}");
            assert!(
                ran.stderr.contains(&format!("`{name}={value}`")) && ran.stderr.contains(accepted),
                "{what}"
            );
            assert!(ran.stdout.is_empty(), "{what}");
            assert!(ran.took < Duration::from_secs(10), "{what}");
        }
    }
}

/// Remembered existence: a second `exists` over the same specs asks the
/// registry nothing; `--refresh` (or `IMAGESPEC_REFRESH`) asks again; a
/// missing image is always asked about, so it is found once pushed; a
/// stale answer (the time to live) is asked again; and concurrent processes
/// share the file.
#[test]
fn exists_answers_are_remembered_for_their_time_to_live_and_never_missing_ones() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let cache = case.path("cache");
    let remembering = || {
        let mut c = cmd();
        c.env("IMAGESPEC_CACHE_DIR", &cache)
            .env("IMAGESPEC_EXISTENCE_TTL", "600")
            .env_remove("IMAGESPEC_REFRESH");
        c
    };
    let specs: Vec<PathBuf> = (0..20)
        .map(|i| {
            case.spec(
                &format!("s{i}.yaml"),
                &format!("remembered{i}"),
                &proxy.host(),
                "",
            )
        })
        .collect();
    for (i, s) in specs[..10].iter().enumerate() {
        reg.push_image(&format!("remembered{i}"), &tag_of(s), Format::Docker);
    }
    let refs: Vec<&Path> = specs.iter().map(PathBuf::as_path).collect();
    let first = exists_with(remembering(), &refs);
    assert_eq!(first.code, 3, "{}", first.stderr);
    let statuses = |c: &Checked| -> Vec<String> {
        c.rows
            .iter()
            .map(|r| r["status"].as_str().unwrap().to_string())
            .collect()
    };
    let expected: Vec<&str> = (0..20)
        .map(|i| if i < 10 { "exists" } else { "missing" })
        .collect();
    assert_eq!(statuses(&first), expected);
    let asked = proxy.requests();
    assert!(asked >= 20, "every image asked once: {asked}");

    // Again: the ten that exist are remembered, the ten missing asked again.
    let second = exists_with(remembering(), &refs);
    assert_eq!(statuses(&second), expected);
    let again = proxy.requests() - asked;
    assert!(
        again > 0 && again <= asked / 2 + 1,
        "only the missing ones were asked: {again} of {asked}"
    );
    assert_eq!(
        second.rows[0]["digest"], first.rows[0]["digest"],
        "the remembered digest"
    );

    // A missing image, once pushed, is found at once (never remembered missing).
    reg.push_image("remembered10", &tag_of(&specs[10]), Format::Docker);
    let third = exists_with(remembering(), &[specs[10].as_path()]);
    assert_eq!(statuses(&third), ["exists"]);

    // Only the existing ones, with everything remembered: nothing asked.
    let before = proxy.requests();
    let fourth = exists_with(remembering(), &refs[..10]);
    assert_eq!(fourth.code, 0, "{}", fourth.stderr);
    assert_eq!(
        proxy.requests(),
        before,
        "all remembered: the registry is not asked"
    );

    // --refresh and IMAGESPEC_REFRESH ask again.
    let mut refresh = remembering();
    refresh
        .arg("exists")
        .arg("--json")
        .arg("--refresh")
        .args(&refs[..10]);
    assert!(refresh.output().unwrap().status.success());
    let refreshed = proxy.requests();
    assert!(
        refreshed >= before + 10,
        "refreshed: {}",
        refreshed - before
    );
    let mut env_refresh = remembering();
    env_refresh.env("IMAGESPEC_REFRESH", "1");
    let _ = exists_with(env_refresh, &refs[..10]);
    assert!(
        proxy.requests() >= refreshed + 10,
        "IMAGESPEC_REFRESH asks again"
    );

    // A stale answer is asked again: a time to live of one second.
    std::thread::sleep(Duration::from_millis(2100));
    let mut short = remembering();
    short.env("IMAGESPEC_EXISTENCE_TTL", "1");
    let before = proxy.requests();
    let _ = exists_with(short, &refs[..10]);
    assert!(
        proxy.requests() >= before + 10,
        "stale answers are asked again"
    );

    // Two processes at once share the file.
    let mut a = remembering();
    a.arg("exists").arg("--json").args(&refs[..10]);
    let mut b = remembering();
    b.arg("exists").arg("--json").args(&refs[..10]);
    let (ca, cb) = (a.spawn().unwrap(), b.spawn().unwrap());
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    assert!(
        oa.status.success() && ob.status.success(),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
}
