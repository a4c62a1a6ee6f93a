//! End-to-end: real images built with the local Docker engine, pushed to the
//! local registry, pulled back and run.
//!
//! Built only with the `e2e` feature (`cargo xtask ci`, `cargo xtask e2e
//! test`), which first brings up the engine, the registry and the base images
//! (`cargo xtask e2e up`). Without an engine these tests fail; they never skip.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

mod common;

use common::{e2e, E2e};

impl E2e {
    /// `builder_config` pointing at the local helper images (nothing can be pulled here).
    /// The manifest digest the registry serves for `name:tag`, or `None` on 404.
    fn registry_digest(&self, name: &str, tag: &str) -> Option<String> {
        let port = self.registry.rsplit(':').next().unwrap();
        let mut s =
            std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        write!(
            s,
            "HEAD /v2/{name}/manifests/{tag} HTTP/1.0\r\nHost: {}\r\nAccept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json\r\n\r\n",
            self.registry
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        if !resp.starts_with("HTTP/1.0 200") && !resp.starts_with("HTTP/1.1 200") {
            assert!(resp.contains(" 404 "), "unexpected registry answer: {resp}");
            return None;
        }
        resp.lines()
            .find_map(|l| {
                l.strip_prefix("Docker-Content-Digest: ")
                    .or_else(|| l.strip_prefix("docker-content-digest: "))
            })
            .map(|d| d.trim().to_string())
    }
}

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// Runs `imagespec ARGS` and returns (exit code, stdout, stderr).
fn imagespec(args: &[&str], spec: &Path) -> (i32, String, String) {
    let out = common::imagespec().args(args).arg(spec).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn build_json(spec: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    common::build_entry(common::imagespec(), extra, spec)
}

fn identity(spec: &Path) -> serde_json::Value {
    let (code, stdout, stderr) = imagespec(&["tag", "--json"], spec);
    assert_eq!(code, 0, "{}", common::said(&stderr));
    serde_json::from_str(&stdout).unwrap()
}

const CHECK_SCRIPT: &str = r#"
import json, os, pwd, shutil, six
def owner(p):
    return pwd.getpwuid(os.stat(p).st_uid).pw_name if os.path.exists(p) else None
paths = ["/root/app/main.py", "/root/app/util.py", "/root/notes.txt", "/root/.dockerignore",
         "/root/files/config.json", "/root/assets/logo.txt", "/root/assets/sub/more.txt",
         "/root/secret.env", "/root/build/out.bin", "/root/app/__pycache__/main.cpython-311.pyc"]
print(json.dumps({
    "six": six.__version__,
    "env": {k: os.environ.get(k) for k in ["SPACES", "QUOTES", "BACKSLASH", "FROM_PATH", "EMPTY", "_F_IMG_ID"]},
    "owners": {p: owner(p) for p in paths},
    "jq": shutil.which("jq"),
    "marker": open("/opt/made/marker").read().strip(),
    "user": pwd.getpwuid(os.getuid()).pw_name,
}))
"#;

#[test]
fn a_full_spec_is_built_pushed_pulled_and_runs_as_specified() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let spec = root.join("spec.yaml");
    write(
        root,
        "spec.yaml",
        &format!(
            r#"name: e2e-first
base_image: {python}
python_exec: /usr/bin/python3
packages: [six]
apt_packages: [jq]
env:
  SPACES: "hello  world"
  QUOTES: 'say "hi" and ''bye'''
  BACKSLASH: 'C:\temp\x'
  FROM_PATH: "$PATH"
  EMPTY: ""
  RUN_NONCE: "{nonce}"
commands: ["mkdir -p /opt/made", "echo built > /opt/made/marker"]
copy: [files/config.json, assets]
source_root: {source_root}
source_copy_mode: all
entrypoint: ["/bin/sh", "-c"]
registry: {registry}
{config}"#,
            // Absolute: flytekit applies .dockerignore as intended only then
            // (with a relative root it matches `src/secret.env`, not `secret.env`).
            source_root = root.join("src").display(),
            python = e.python_image,
            registry = e.registry,
            config = e.builder_config(),
            // A new tag each run: the build must happen, not be skipped as existing.
            nonce = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ),
    );
    write(root, "files/config.json", "{\"k\": 1}\n");
    write(root, "assets/logo.txt", "logo\n");
    write(root, "assets/sub/more.txt", "more\n");
    write(root, "src/app/main.py", "print('main')\n");
    write(root, "src/app/util.py", "X = 1\n");
    write(root, "src/app/__pycache__/main.cpython-311.pyc", "bytecode");
    write(root, "src/notes.txt", "notes\n");
    write(root, "src/secret.env", "TOKEN=nope\n");
    write(root, "src/build/out.bin", "artifact");
    write(root, "src/.dockerignore", "secret.env\nbuild/\n");

    let ident = identity(&spec);
    let image = ident["image_name"].as_str().unwrap().to_string();
    let (result, _) = build_json(&spec, &[]);
    assert_eq!(result["image_name"], image.as_str());
    assert_eq!(result["pushed"], true);
    let tag = ident["tag"].as_str().unwrap();
    let served = e
        .registry_digest("e2e-first", tag)
        .expect("the image is in the registry");
    assert_eq!(
        result["digest"],
        served.as_str(),
        "the reported digest is the registry's"
    );

    // Pull it back from the registry.
    e.docker_ok(&["rmi", &image]);
    e.docker_ok(&["pull", &image]);

    let entrypoint = e.docker_ok(&["inspect", "--format", "{{json .Config.Entrypoint}}", &image]);
    assert_eq!(entrypoint.trim(), r#"["/bin/sh","-c"]"#);
    let via = e.docker_ok(&["run", "--rm", &image, "echo via-entrypoint"]);
    assert_eq!(via.trim(), "via-entrypoint");

    let out = e.docker_ok(&[
        "run",
        "--rm",
        "--entrypoint",
        "python",
        &image,
        "-c",
        CHECK_SCRIPT,
    ]);
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(got["six"].as_str().unwrap().starts_with("1."), "{got}");
    let base_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    assert_eq!(
        got["env"],
        serde_json::json!({
            "SPACES": "hello  world",
            "QUOTES": "say \"hi\" and 'bye'",
            "BACKSLASH": "C:\\temp\\x",
            "FROM_PATH": base_path,
            "EMPTY": "",
            "_F_IMG_ID": ident["id"],
        })
    );
    for kept in [
        "/root/app/main.py",
        "/root/app/util.py",
        "/root/notes.txt",
        "/root/.dockerignore",
        "/root/files/config.json",
        "/root/assets/logo.txt",
        "/root/assets/sub/more.txt",
    ] {
        assert_eq!(
            got["owners"][kept], "flytekit",
            "{kept} is there, owned by flytekit: {got}"
        );
    }
    for ignored in [
        "/root/secret.env",
        "/root/build/out.bin",
        "/root/app/__pycache__/main.cpython-311.pyc",
    ] {
        assert!(
            got["owners"][ignored].is_null(),
            "{ignored} must be absent: {got}"
        );
    }
    assert_eq!(got["jq"], "/usr/bin/jq");
    assert_eq!(got["marker"], "built");
    assert_eq!(got["user"], "flytekit");
}

fn lock_project_spec(
    e: &E2e,
    root: &Path,
    project: &str,
    lock: &str,
    name: &str,
) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/e2e")
        .join(project);
    for f in ["pyproject.toml", lock] {
        std::fs::copy(fixtures.join(f), root.join(f)).unwrap();
    }
    write(
        root,
        "spec.yaml",
        &format!(
            // poetry reads certificates from certifi, not the system store:
            // point it at the store that trusts this machine's TLS proxy.
            "name: {name}\nbase_image: {}\npython_exec: /usr/bin/python3\nrequirements: {lock}\n\
             env: {{REQUESTS_CA_BUNDLE: /etc/ssl/certs/ca-certificates.crt}}\n{}",
            e.python_image,
            e.builder_config()
        ),
    );
    root.join("spec.yaml")
}

#[test]
fn uv_lock_and_poetry_lock_projects_build_and_run() {
    let e = e2e();
    for (project, lock, name) in [
        ("uv-project", "uv.lock", "e2e-uv-lock"),
        ("poetry-project", "poetry.lock", "e2e-poetry-lock"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let spec = lock_project_spec(&e, dir.path(), project, lock, name);
        let (result, _) = build_json(&spec, &["--no-push"]);
        let image = result["image_name"].as_str().unwrap();
        let out = e.docker_ok(&[
            "run",
            "--rm",
            image,
            "python",
            "-c",
            "import sys, six, idna; print(six.__version__, sys.prefix)",
        ]);
        assert_eq!(
            out.trim(),
            "1.16.0 /root/.venv",
            "{name}: the locked versions, in the venv"
        );

        // Without a registry, existence is the local engine's answer.
        let (code, stdout, stderr) = imagespec(&["exists", "--json"], &spec);
        assert_eq!(code, 0, "{}", common::said(&stderr));
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let rows = &doc["images"];
        assert_eq!(rows[0]["status"], "exists", "{rows}");
        e.docker_ok(&["rmi", image]);
        let (code, stdout, _) = imagespec(&["exists", "--json"], &spec);
        assert_eq!(code, 3);
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(doc["images"][0]["reason"], "not in the local engine");
    }
}

#[test]
fn pip_secrets_are_readable_while_installing_and_found_nowhere_after() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let marker = format!("IMAGESPEC-SECRET-{}", std::process::id());
    // The install step must really run (not come from an earlier run's cache):
    // an env value before it changes with every run.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // The constraint pins six below its newest release: the pinned version in
    // the image proves the install step read the secret.
    write(
        root,
        "constraints.txt",
        &format!("# {marker}\nsix==1.16.0\n"),
    );
    write(
        root,
        "spec.yaml",
        &format!(
            "name: e2e-secret\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             env: {{RUN_NONCE: \"{nonce}\"}}\n\
             pip_secret_mounts: [[constraints.txt, /etc/imagespec-constraints.txt]]\n\
             pip_extra_args: --constraint /etc/imagespec-constraints.txt\n{}",
            e.python_image,
            e.builder_config()
        ),
    );
    let (result, log) = build_json(&root.join("spec.yaml"), &["--no-push"]);
    let image = result["image_name"].as_str().unwrap();
    let out = e.docker_ok(&[
        "run",
        "--rm",
        image,
        "python",
        "-c",
        "import os, six; print(six.__version__, os.path.exists('/etc/imagespec-constraints.txt'))",
    ]);
    assert_eq!(out.trim(), "1.16.0 False");
    assert!(!log.contains(&marker), "the secret is in the build log");
    let history = e.docker_ok(&["history", "--no-trunc", image]);
    assert!(
        !history.contains(&marker),
        "the secret is in the image history"
    );
    let saved = root.join("image.tar");
    e.docker_ok(&["save", "-o", saved.to_str().unwrap(), image]);
    // `docker save` writes each layer as an uncompressed tar inside this tar.
    let bytes = std::fs::read(&saved).unwrap();
    assert!(bytes.len() > 1_000_000, "the saved image has its layers");
    assert!(
        !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
        "the secret is in a layer"
    );
}

#[test]
fn a_source_change_rebuilds_from_cache_with_a_new_tag() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "spec.yaml",
        &format!(
            "name: e2e-cache\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             source_root: src\nsource_copy_mode: all\n{}",
            e.python_image,
            e.builder_config()
        ),
    );
    // A nonce, so that a warm cache from an earlier run cannot hold this source.
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    write(
        root,
        "src/app.py",
        &format!("VERSION = 1\nNONCE = '{nonce}'\n"),
    );
    let spec = root.join("spec.yaml");
    let (first, _) = build_json(&spec, &["--no-push"]);
    write(
        root,
        "src/app.py",
        &format!("VERSION = 2\nNONCE = '{nonce}'\n"),
    );
    let (second, log) = build_json(&spec, &["--no-push"]);
    assert_ne!(
        first["image_name"], second["image_name"],
        "a source change gives a new tag"
    );

    let mut steps = imagespec_docker::progress::StepTracker::default();
    for line in log.lines() {
        steps.line(line.split_once("] ").map_or(line, |(_, rest)| rest));
    }
    let cached = steps.cached_steps().join("\n");
    for layer in ["useradd", "chown -R flytekit /root", "uv venv --python"] {
        assert!(
            cached.contains(layer),
            "the `{layer}` step was not taken from cache:\n{cached}"
        );
    }
    assert!(
        !cached.contains("COPY --chown=flytekit ./src"),
        "the changed source is copied again"
    );
    let image = second["image_name"].as_str().unwrap();
    let out = e.docker_ok(&[
        "run",
        "--rm",
        image,
        "python",
        "-c",
        "import app; print(app.VERSION)",
    ]);
    assert_eq!(out.trim(), "2");
}

#[test]
fn a_failed_build_names_its_step_and_pushes_nothing() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "spec.yaml",
        &format!(
            "name: e2e-fails\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             commands: [\"echo about-to-fail\", \"exit 3\"]\nregistry: {}\n{}",
            e.python_image,
            e.registry,
            e.builder_config()
        ),
    );
    let spec = root.join("spec.yaml");
    let tag = identity(&spec)["tag"].as_str().unwrap().to_string();
    let (code, stdout, stderr) = imagespec(&["build"], &spec);
    assert_eq!(code, 1, "{}", common::said(&stderr));
    assert!(stdout.is_empty());
    assert!(stderr.contains("build of `"), "{}", common::said(&stderr));
    assert!(
        stderr.contains("failed at step"),
        "names the step: {stderr}"
    );
    assert!(
        stderr.contains("exit 3"),
        "shows the failing command: {stderr}"
    );
    assert!(
        stderr.contains("about-to-fail"),
        "shows the last lines: {stderr}"
    );
    assert_eq!(
        e.registry_digest("e2e-fails", &tag),
        None,
        "nothing was pushed"
    );
}

#[test]
fn preflight_names_what_is_missing_and_the_fix() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        &format!(
            // A registry where the image is missing, so that a build is attempted.
            "name: e2e-pre\nbase_image: {}\npython_exec: /usr/bin/python3\nregistry: {}\n{}",
            e.python_image,
            e.registry,
            e.builder_config()
        ),
    );
    let spec = dir.path().join("spec.yaml");

    // The Docker builder by name: without an engine, a spec that names no
    // builder would get podman (e2e_podman checks that).
    let out = common::imagespec()
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(["build", "--builder", "default"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", common::said(&stderr));
    assert!(
        stderr.contains("no Docker engine is reachable") && stderr.contains("DOCKER_HOST"),
        "{stderr}"
    );

    // This machine's first docker on PATH is a 28.x client without buildx.
    let modern = "/usr/local/bin/docker";
    assert!(
        Path::new(modern).exists(),
        "this test needs the machine's {modern} (a client without buildx)"
    );
    let out = common::imagespec()
        .env("IMAGESPEC_DOCKER", modern)
        .args(["build"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", common::said(&stderr));
    assert!(
        stderr.contains("buildx") && stderr.contains("IMAGESPEC_DOCKER"),
        "{stderr}"
    );

    write(
        dir.path(),
        "multi.yaml",
        &format!(
            "name: e2e-multi\nbase_image: {}\npython_exec: /usr/bin/python3\nplatform: linux/amd64,linux/arm64\nregistry: {}\n{}",
            e.python_image,
            e.registry,
            e.builder_config()
        ),
    );
    let (code, _, stderr) = imagespec(&["build"], &dir.path().join("multi.yaml"));
    assert_eq!(code, 1, "{}", common::said(&stderr));
    assert!(
        stderr.contains("2 platforms") && stderr.contains("docker-container"),
        "{stderr}"
    );
}

#[test]
fn context_only_keeps_the_context_and_builds_nothing() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        &format!(
            "name: e2e-ctx-only\nbase_image: {}\npython_exec: /usr/bin/python3\n{}",
            e.python_image,
            e.builder_config()
        ),
    );
    let keep = dir.path().join("kept");
    let (code, stdout, stderr) = imagespec(
        &[
            "build",
            "--context-only",
            "--keep-context",
            keep.to_str().unwrap(),
        ],
        &dir.path().join("spec.yaml"),
    );
    assert_eq!(code, 0, "{}", common::said(&stderr));
    assert_eq!(stdout.trim(), keep.display().to_string());
    assert!(keep.join("Dockerfile").is_file());
    let name = identity(&dir.path().join("spec.yaml"))["image_name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !e.docker(&["image", "inspect", &name]).status.success(),
        "nothing was built"
    );
}

#[test]
fn three_specs_sharing_a_nested_base_build_it_once_then_skip_all() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = format!(
        "base_image:\n  name: e2e-shared-base\n  base_image: {}\n  python_exec: /usr/bin/python3\n  packages: [six]\n  \
         env: {{RUN_NONCE: \"{nonce}\"}}\n  registry: {}\n  builder_config: {{uv_image: \"{}\", micromamba_image: \"{}\"}}\n",
        e.python_image, e.registry, e.uv_image, e.python_image
    );
    let mut specs = Vec::new();
    for i in 1..=3 {
        let p = dir.path().join(format!("child{i}.yaml"));
        std::fs::write(
            &p,
            format!(
                "name: e2e-child-{i}\npython_exec: /usr/bin/python3\nenv: {{CHILD: \"{i}\"}}\nregistry: {}\n{}{base}",
                e.registry,
                e.builder_config()
            ),
        )
        .unwrap();
        specs.push(p);
    }
    let run = || {
        let out = common::imagespec()
            .args(["build", "--json", "-j", "3"])
            .args(&specs)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{}", common::said(&stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (report, stderr)
    };

    let (report, stderr) = run();
    let images = report["images"].as_array().unwrap();
    assert_eq!(
        images.len(),
        4,
        "the base and three children, each once: {report}"
    );
    let bases: Vec<&serde_json::Value> = images
        .iter()
        .filter(|i| {
            i["image_name"]
                .as_str()
                .unwrap()
                .contains("e2e-shared-base")
        })
        .collect();
    assert_eq!(bases.len(), 1);
    assert_eq!(bases[0]["action"], "built");
    assert_eq!(bases[0]["requested"], false);
    let base_name = bases[0]["image_name"].as_str().unwrap();
    for child in images.iter().filter(|i| i["requested"] == true) {
        assert_eq!(child["action"], "built", "{child}");
        assert_eq!(child["pushed"], true, "{child}");
        assert_eq!(child["base"], base_name);
        let name = child["image_name"].as_str().unwrap();
        let (repo, tag) = name.split_once('/').unwrap().1.split_once(':').unwrap();
        assert_eq!(
            e.registry_digest(repo, tag).as_deref(),
            child["digest"].as_str(),
            "{name} is in the registry"
        );
        let from = e.docker_ok(&[
            "run",
            "--rm",
            name,
            "python",
            "-c",
            "import os, six; print(os.environ['CHILD'])",
        ]);
        assert!(["1", "2", "3"].contains(&from.trim()));
    }
    assert!(
        stderr.contains("IMAGE") && stderr.contains("ACTION"),
        "a summary table: {stderr}"
    );

    let (again, _) = run();
    let actions: Vec<&str> = again["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["skipped"; 4], "a rerun finds all four: {again}");
}

#[test]
fn index_credentials_and_secret_files_reach_the_build_and_nothing_else() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let token = format!("idx-T0KEN-{}", std::process::id());
    let marker = format!("IMAGESPEC-FILE-SECRET-{}", std::process::id());
    let index = imagespec_tests::pyindex::PrivateIndex::start(
        "imagespec-probe",
        imagespec_tests::pyindex::wheel(
            "imagespec-probe",
            "1.0",
            "imagespec_probe",
            "VALUE = 'from-the-private-index'\n",
        ),
        "deploy",
        &token,
    );
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    write(root, "secret.txt", &format!("{marker}\n"));
    let spec = |package: &str| {
        format!(
            "name: e2e-index-secret\nbase_image: {}\npython_exec: /usr/bin/python3\n\
             packages: [{package}]\n\
             pip_extra_index_url: ['http://deploy:{token}@127.0.0.1:{}/simple/']\n\
             env: {{RUN_NONCE: \"{nonce}\"}}\n\
             pip_secret_mounts: [[secret.txt, /etc/imagespec-secret]]\n\
             commands: ['test -s /etc/imagespec-secret && wc -c < /etc/imagespec-secret > /opt/secret-seen']\n{}",
            e.python_image,
            index.port,
            e.builder_config()
        )
    };
    write(root, "spec.yaml", &spec("imagespec-probe"));
    // A private temporary folder: other tests build at the same time, and
    // only this run's leftovers are this test's business.
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = common::imagespec();
    cmd.env("IMAGESPEC_BUILD_NETWORK", "host")
        .env("TMPDIR", tmp.path());
    let (report, log) = common::build_report(cmd, &["--no-push", "-vv"], &root.join("spec.yaml"));
    let result = common::requested_entry(&report);
    let image = result["image_name"].as_str().unwrap();
    // The installer used the credentials: the private wheel is in the image.
    let seen = index.seen();
    assert!(
        seen.iter()
            .any(|s| s.authorized && s.path.starts_with("/files/imagespec_probe-1.0")),
        "the wheel was fetched with the credentials: {seen:?}"
    );
    let out = e.docker_ok(&[
        "run",
        "--rm",
        image,
        "sh",
        "-c",
        "python -c 'import imagespec_probe; print(imagespec_probe.VALUE)' && cat /opt/secret-seen \
         && ! test -e /etc/imagespec-secret && ! ls /run/secrets/imagespec_index_0 2>/dev/null",
    ]);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        ["from-the-private-index", &(marker.len() + 1).to_string()],
        "the commands step read the secret file"
    );
    assert!(
        !log.contains(&token) && !log.contains(&marker),
        "a secret is in imagespec's output"
    );
    assert!(!report.to_string().contains(&token));
    e.assert_image_free_of(image, root, &[&token, &marker]);

    // A build that fails (no such version) prints the failing step and its
    // output: still without the secrets.
    write(root, "spec.yaml", &spec("imagespec-probe==9.9"));
    let out = common::imagespec()
        .env("IMAGESPEC_BUILD_NETWORK", "host")
        .env("TMPDIR", tmp.path())
        .args(["build", "--no-push", "-vv"])
        .arg(root.join("spec.yaml"))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("imagespec-probe"),
        "the failure is explained: {all}"
    );
    assert!(!all.contains(&token) && !all.contains(&marker), "{all}");
    // No secret file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn two_builds_of_one_spec_at_once_push_it_once_and_both_succeed() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let spec = dir.path().join("spec.yaml");
    write(
        dir.path(),
        "spec.yaml",
        &format!(
            "name: e2e-concurrent\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             env: {{RUN_NONCE: \"{nonce}\"}}\nregistry: {}\n{}",
            e.python_image,
            e.registry,
            e.builder_config()
        ),
    );
    // Both processes share one lock folder (a user's cache), as two CI jobs
    // on one machine do.
    let cache = dir.path().join("cache");
    let start = || {
        common::imagespec()
            .env("IMAGESPEC_CACHE_DIR", &cache)
            .args(["build", "--json"])
            .arg(&spec)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let mut actions = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "both succeed: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let entry = common::requested_entry(&report);
        actions.push((
            entry["action"].as_str().unwrap().to_string(),
            entry["pushed"].as_bool().unwrap_or(false),
        ));
    }
    actions.sort();
    assert_eq!(
        actions,
        [("built".to_string(), true), ("skipped".to_string(), false)],
        "one builds and pushes, the other finds it once it holds the lock"
    );
    let name = identity(&spec)["image_name"].as_str().unwrap().to_string();
    let (repo, tag) = name.rsplit_once(':').unwrap();
    let repo = repo.split_once('/').unwrap().1;
    assert!(
        e.registry_digest(repo, tag).is_some(),
        "{name} is in the registry"
    );
}

#[test]
fn an_unreachable_registry_means_build_then_a_failed_push_exits_1() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    // A loopback port nothing listens on (taken, then let go).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    write(
        dir.path(),
        "spec.yaml",
        &format!(
            "name: e2e-unreachable\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             registry: 127.0.0.1:{port}\n{}",
            e.python_image,
            e.builder_config()
        ),
    );
    let spec = dir.path().join("spec.yaml");
    let (code, _, stderr) = imagespec(&["build", "--json"], &spec);
    assert_eq!(code, 1, "never a silent success: {stderr}");
    assert!(stderr.contains("building it"), "it was built: {stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "the registry is named: {stderr}"
    );
    assert!(stderr.contains("push"), "the push is what failed: {stderr}");
    // The image itself was built, locally.
    let name = identity(&spec)["image_name"].as_str().unwrap().to_string();
    e.docker_ok(&["image", "inspect", &name]);
    // flytekit's behaviour, asked for: assume it exists, build nothing, exit 0.
    let (code, _, stderr) = imagespec(&["build", "--assume-exists-when-unknown"], &spec);
    assert_eq!(code, 0, "{}", common::said(&stderr));
    assert!(
        stderr.contains("assuming it does, as asked"),
        "{}",
        common::said(&stderr)
    );
}

/// What `docker inspect` says an image runs as: env, entrypoint, cmd,
/// working folder and user, and its layers.
fn image_config(e: &E2e, image: &str) -> (serde_json::Value, Vec<String>) {
    let out = e.docker_ok(&["image", "inspect", image]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v[0]["Config"];
    let mut env: Vec<String> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    env.sort();
    let layers = v[0]["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    (
        serde_json::json!({
            "env": env,
            "entrypoint": c["Entrypoint"],
            "cmd": c["Cmd"],
            "workdir": c["WorkingDir"],
            "user": c["User"],
        }),
        layers,
    )
}

/// The index as it was on a fixed day, for specs built twice and compared
/// (by imagespec and by flytekit): two resolutions of unpinned requirements
/// minutes apart can differ (a CI run resolved cachetools 8.0.3, released
/// ten days before, for one and 8.0.2 for the other: index pages of
/// different ages). flytekit 1.16.31 is from 2026-10-22. uv reads it from the env the
/// spec sets before its install step, in both Dockerfiles.
const PINNED_INDEX_DATE: &str = "2026-11-01T00:00:00Z";

#[test]
fn the_image_has_flytekits_files_owners_env_and_entrypoint_and_a_source_change_rebuilds_one_layer()
{
    let e = e2e();
    let python = std::env::var("IMAGESPEC_FLYTEKIT_PYTHON").expect(
        "IMAGESPEC_FLYTEKIT_PYTHON is not set: run with `cargo xtask e2e test` (or `cargo xtask ci`)",
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    write(
        root,
        "spec.yaml",
        &format!(
            "name: e2e-parity\nbase_image: {}\npython_exec: /usr/bin/python3\npackages: [six]\n\
             env: {{GREETING: hello, RUN_NONCE: \"{nonce}\", UV_EXCLUDE_NEWER: \"{PINNED_INDEX_DATE}\"}}\n\
             copy: [files/config.json, assets]\nsource_root: {}\nsource_copy_mode: all\n\
             entrypoint: [\"/bin/sh\", \"-c\"]\n{}",
            e.python_image,
            root.join("src").display(),
            e.builder_config()
        ),
    );
    write(root, "files/config.json", "{\"k\": 1}\n");
    write(root, "assets/logo.txt", "logo\n");
    write(root, "assets/sub/more.txt", "more\n");
    write(root, "src/app/main.py", "print('main')\n");
    write(root, "src/app/util.py", "X = 1\n");
    write(root, "src/notes.txt", "notes\n");
    write(root, "src/skipped.env", "TOKEN=nope\n");
    write(root, "src/.dockerignore", "skipped.env\n");
    let spec = root.join("spec.yaml");

    // imagespec's image.
    let (result, _) = build_json(&spec, &["--no-push"]);
    let ours = result["image_name"].as_str().unwrap().to_string();

    // flytekit's, from its own context (without its `#syntax` line, which
    // would pull a frontend image), on the same engine.
    let fk_ctx = root.join("flytekit-context");
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/flytekit/context.py"))
        .arg(&spec)
        .arg(&fk_ctx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "flytekit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fk_name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(fk_name, ours, "flytekit names the image imagespec built");
    let dockerfile = std::fs::read_to_string(fk_ctx.join("Dockerfile")).unwrap();
    let dockerfile: String = dockerfile
        .lines()
        .filter(|l| !l.trim_start().to_lowercase().starts_with("#syntax"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(fk_ctx.join("Dockerfile"), dockerfile).unwrap();
    let theirs = format!("imagespec-e2e/flytekit-parity:{nonce}");
    let built = Command::new(&e.docker)
        .env("DOCKER_BUILDKIT", "1")
        .args(["build", "--progress", "plain", "-t", &theirs])
        .arg(&fk_ctx)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "flytekit's Dockerfile did not build: {}",
        String::from_utf8_lossy(&built.stderr)
    );

    // Same files, owners and modes; same env, entrypoint, cmd, workdir, user.
    let tree = |image: &str| -> serde_json::Map<String, serde_json::Value> {
        e.tree(image).as_object().cloned().unwrap()
    };
    let (a, b) = (tree(&ours), tree(&theirs));
    let differing: Vec<String> = a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: imagespec {:?}, flytekit {:?}", a.get(k), b.get(k)))
        .collect();
    assert!(
        differing.is_empty(),
        "{} paths differ:\n{}",
        differing.len(),
        differing[..differing.len().min(40)].join("\n")
    );
    assert!(a.contains_key("/root/app/main.py") && !a.contains_key("/root/skipped.env"));
    let ((ours_config, layers), (theirs_config, _)) =
        (image_config(&e, &ours), image_config(&e, &theirs));
    assert_eq!(ours_config, theirs_config);

    // A one-file source change: every layer but the source's is the same.
    write(root, "src/app/util.py", "X = 2\n");
    let (result, _) = build_json(&spec, &["--no-push"]);
    let changed = result["image_name"].as_str().unwrap().to_string();
    assert_ne!(changed, ours);
    let (_, new_layers) = image_config(&e, &changed);
    assert_eq!(layers.len(), new_layers.len());
    let moved: Vec<usize> = (0..layers.len())
        .filter(|&i| layers[i] != new_layers[i])
        .collect();
    assert_eq!(
        moved.len(),
        1,
        "a source change made layers {moved:?} of {} new",
        layers.len()
    );
}
