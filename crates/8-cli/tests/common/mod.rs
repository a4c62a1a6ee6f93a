//! Shared helpers of the CLI test binaries (each uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The flytekit oracle cases.
pub fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/oracle")
}

/// The `imagespec` binary with the oracle's Python defaults and no log filter.
pub fn imagespec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imagespec"));
    c.env("IMAGESPEC_DEFAULT_PYTHON", "3.11")
        .env("IMAGESPEC_FLYTEKIT_REQUIREMENT", "flytekit==1.16.31")
        .env_remove("IMAGESPEC_LOG");
    c
}

/// What a command said on stderr, for a failed assertion's message: its
/// last lines first (where imagespec says what went wrong, after any build
/// log), then all of it. A CI log that shows only a failure's first lines
/// then still shows the error.
pub fn said(stderr: &str) -> String {
    const LAST: usize = 25;
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.len() <= LAST {
        return stderr.to_string();
    }
    format!(
        "[the last {LAST} of {} lines]\n{}\n[all of it]\n{stderr}",
        lines.len(),
        lines[lines.len() - LAST..].join("\n")
    )
}

/// Runs `cmd build --json EXTRA SPEC`, asserts that it succeeded, and returns
/// the report (`{ok, images}`) and what it printed on stderr.
pub fn build_report(mut cmd: Command, extra: &[&str], spec: &Path) -> (serde_json::Value, String) {
    let out = cmd
        .args(["build", "--json"])
        .args(extra)
        .arg(spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "build failed:\n{}", said(&stderr));
    (
        serde_json::from_slice(&out.stdout).expect("JSON on stdout"),
        stderr,
    )
}

/// The entry of the (one) requested spec in `build --json`'s report.
pub fn requested_entry(report: &serde_json::Value) -> serde_json::Value {
    report["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|e| e["requested"] == true)
        .cloned()
        .expect("a requested image")
}

/// [`build_report`], then the requested image's entry (and the stderr).
pub fn build_entry(cmd: Command, extra: &[&str], spec: &Path) -> (serde_json::Value, String) {
    let (report, stderr) = build_report(cmd, extra, spec);
    (requested_entry(&report), stderr)
}

/// The environment `cargo xtask e2e up` describes in `target/e2e/env`.
pub struct E2e {
    pub docker: String,
    pub registry: String,
    pub python_image: String,
    pub uv_image: String,
}

pub fn e2e() -> E2e {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!(
                "{k} is not set: run these tests with `cargo xtask e2e test` (or `cargo xtask ci`)"
            )
        })
    };
    let env = E2e {
        docker: var("IMAGESPEC_DOCKER"),
        registry: var("IMAGESPEC_E2E_REGISTRY"),
        python_image: var("IMAGESPEC_E2E_PYTHON_IMAGE"),
        uv_image: var("IMAGESPEC_E2E_UV_IMAGE"),
    };
    let info = Command::new(&env.docker)
        .arg("info")
        .output()
        .expect("the docker client runs");
    assert!(
        info.status.success(),
        "no Docker engine answers ({}): {}",
        env.docker,
        String::from_utf8_lossy(&info.stderr)
    );
    env
}

impl E2e {
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new(&self.docker)
            .args(args)
            .output()
            .expect("docker runs")
    }

    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every place a built image keeps what went into it: each layer, the config
    /// and the history (`docker save` holds them all), and `docker history`.
    pub fn assert_image_free_of(&self, image: &str, dir: &Path, secrets: &[&str]) {
        let history = self.docker_ok(&["history", "--no-trunc", image]);
        let inspect = self.docker_ok(&["image", "inspect", image]);
        let saved = dir.join("image-scan.tar");
        let _ = std::fs::remove_file(&saved);
        self.docker_ok(&["save", "-o", saved.to_str().unwrap(), image]);
        let bytes = std::fs::read(&saved).unwrap();
        assert!(bytes.len() > 1_000_000, "the saved image has its layers");
        for secret in secrets {
            assert!(
                !history.contains(secret),
                "{secret} is in the image history"
            );
            assert!(!inspect.contains(secret), "{secret} is in the image config");
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in a layer or the config"
            );
        }
    }

    /// The spec line pointing flytekit's helper images at the local ones.
    pub fn builder_config(&self) -> String {
        format!(
            "builder_config: {{uv_image: \"{}\", micromamba_image: \"{}\"}}\n",
            self.uv_image, self.python_image
        )
    }

    /// The image's tree, from inside it.
    pub fn tree(&self, image: &str) -> serde_json::Value {
        let out = self.docker_ok(&[
            "run",
            "--rm",
            "--user",
            "root",
            "--entrypoint",
            "python3",
            image,
            "-c",
            TREE_SCRIPT,
        ]);
        serde_json::from_str(&out).unwrap()
    }

    /// What the image runs as: env, entrypoint, cmd, working folder, user
    /// and labels.
    pub fn config(&self, image: &str) -> serde_json::Value {
        let out = self.docker_ok(&["image", "inspect", image]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let c = &v[0]["Config"];
        let mut env: Vec<String> = c["Env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        env.sort();
        serde_json::json!({
            "env": env,
            "entrypoint": c["Entrypoint"],
            "cmd": c["Cmd"],
            "workdir": c["WorkingDir"],
            "user": c["User"],
            "labels": c["Labels"],
        })
    }
}

/// Every path of an image's file system (but the kernel's and the
/// run-time's): type and mode, owner, group, a symbolic link's target, a
/// regular file's sha256 (under /root: the spec's files).
const TREE_SCRIPT: &str = r#"
import hashlib, json, os, stat
skip = ("/proc", "/sys", "/dev", "/tmp", "/run", "/var/cache", "/var/log",
        "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab")
out = {}
for dirpath, dirnames, filenames in os.walk("/"):
    dirnames[:] = [d for d in dirnames if not os.path.join(dirpath, d).startswith(skip)]
    for name in dirnames + filenames:
        p = os.path.join(dirpath, name)
        if p.startswith(skip):
            continue
        st = os.lstat(p)
        entry = [stat.filemode(st.st_mode), st.st_uid, st.st_gid]
        if stat.S_ISLNK(st.st_mode):
            entry.append(os.readlink(p))
        elif stat.S_ISREG(st.st_mode) and p.startswith("/root/") and "__pycache__" not in p:
            entry.append(hashlib.sha256(open(p, "rb").read()).hexdigest())
        out[p] = entry
print(json.dumps(out, sort_keys=True))
"#;

/// Differences between two trees (the first image, the second), for the message.
pub fn differences(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
    let mut out = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => out.push(format!("only in the first image: {k} {v}")),
            Some(w) if w != v => out.push(format!("{k}: first {v}, second {w}")),
            _ => {}
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            out.push(format!("only in the second image: {k} {}", b[k]));
        }
    }
    out
}
