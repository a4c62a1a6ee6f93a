//! `imagespec exists` and `build`'s skip decision against real registries on
//! loopback (Debian's `docker-registry`, started by the tests): no auth,
//! htpasswd with docker config files and credential helpers, token auth with
//! scoped tokens, indexes with platforms, and a fault-injecting proxy.
//!
//! Built with the `e2e` feature (`cargo xtask ci`); it fails, never skips,
//! when `docker-registry` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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
        .env_remove("FLYTE_FORCE_PUSH_IMAGE_SPEC")
        .env_remove("FLYTE_IMG_FAST_FAIL");
    c
}

/// `cmd()` with a docker client that does not exist: a build that gets as far
/// as asking the engine fails.
fn no_engine() -> Command {
    let mut c = cmd();
    c.env("IMAGESPEC_DOCKER", "/nonexistent/docker");
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
    let rows = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
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
fn build_skips_existing_images_and_fast_fail_turns_unknown_into_an_error() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let case = Case::new();
    let spec = case.spec("spec.yaml", "built", &proxy.host(), "");
    reg.push_image("built", &tag_of(&spec), Format::Docker);

    // exists: skipped, without a Docker engine being asked.
    let (v, _) = common::build_report(no_engine(), &[], &spec);
    assert_eq!(v["images"][0]["action"], "skipped");

    // unknown: assumed to exist (skipped, with a warning) ...
    proxy.set(Fault::Status(500));
    let (v, stderr) = common::build_report(no_engine(), &[], &spec);
    assert_eq!(v["images"][0]["action"], "skipped");
    assert!(stderr.contains("assuming it does"));

    // ... unless fast fail is set (flag or flytekit's variable).
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
