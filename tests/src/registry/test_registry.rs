//! [`TestRegistry`]: a `docker-registry` process on `127.0.0.1`, its config
//! (no auth, htpasswd or token auth), and pushes through its HTTP API.

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::client::{http_request, HttpResponse};
use super::common::{random_string, ACCEPT_MANIFESTS};
use super::image::{self, build_image, sha256_digest, Format, Image};
use super::token::{basic_auth, TokenPolicy, TokenServer};

/// How long a registry may take to answer after it was started.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug)]
enum RegistryAuth {
    None,
    Basic { user: String, password: String },
    Token(TokenServer),
}

/// A `docker-registry` process serving on `127.0.0.1:PORT`, with its own temp
/// dir (config, storage, log). Killed and removed on drop.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    port: u16,
    auth: RegistryAuth,
    dir: tempfile::TempDir,
}

impl TestRegistry {
    /// A registry that needs no credentials.
    pub fn no_auth() -> TestRegistry {
        Self::start(RegistryAuth::None)
    }

    /// A registry that demands HTTP basic auth with exactly `user`/`password`
    /// (htpasswd, bcrypt); `/v2/` answers 401 with `Www-Authenticate: Basic`.
    pub fn htpasswd(user: &str, password: &str) -> TestRegistry {
        Self::start(RegistryAuth::Basic {
            user: user.into(),
            password: password.into(),
        })
    }

    /// A registry using token auth: `/v2/` answers 401 with a `Bearer` challenge
    /// whose realm is a [`TokenServer`] (reach it with
    /// [`TestRegistry::token_server`]) that grants what `policy` allows.
    pub fn token(policy: TokenPolicy) -> TestRegistry {
        Self::start(RegistryAuth::Token(TokenServer::start(policy)))
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The token server of a registry made with [`TestRegistry::token`].
    pub fn token_server(&self) -> Option<&TokenServer> {
        match &self.auth {
            RegistryAuth::Token(ts) => Some(ts),
            _ => None,
        }
    }

    /// The registry's own output so far (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// An `Authorization` header value with full (pull and push) access to
    /// `repo`: the harness's own credentials, which bypass any token policy.
    /// `None` for a registry without auth.
    pub fn authorization(&self, repo: &str) -> Option<String> {
        match &self.auth {
            RegistryAuth::None => None,
            RegistryAuth::Basic { user, password } => Some(basic_auth(user, password)),
            RegistryAuth::Token(ts) => Some(format!("Bearer {}", ts.admin_token(repo))),
        }
    }

    /// GETs `repo`'s manifest `reference` (tag or digest) with the harness's own
    /// credentials and an `Accept` header naming all manifest types.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> HttpResponse {
        let auth = self.authorization(repo);
        let mut headers = vec![("Accept", ACCEPT_MANIFESTS)];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let path = format!("/v2/{repo}/manifests/{reference}");
        http_request("GET", &self.host(), &path, &headers, b"")
            .unwrap_or_else(|e| panic!("GET {path} on test registry {}: {e}", self.host()))
    }

    /// Pushes a tiny single-platform (linux/amd64) image — a config and one
    /// small gzipped tar layer, unique to `repo:tag` — and tags it `tag`.
    /// Returns the manifest digest (`sha256:...`). Uses the harness's own
    /// credentials, whatever the auth mode.
    pub fn push_image(&self, repo: &str, tag: &str, format: Format) -> String {
        let auth = self.authorization(repo);
        let image = build_image(repo, tag, "linux", "amd64", format);
        self.push_parts(repo, &image, auth.as_deref());
        self.put_manifest(
            repo,
            tag,
            image.media_type,
            &image.manifest,
            auth.as_deref(),
        )
    }

    /// Pushes one tiny image per `(os, arch)` platform (an `arch` like `"arm/v7"`
    /// or `"arm64/v8"` carries a variant after the slash), untagged, then an
    /// image index (OCI) or manifest list (Docker) naming them with their
    /// platforms, tagged `tag`. Returns the index digest.
    pub fn push_index(
        &self,
        repo: &str,
        tag: &str,
        platforms: &[(&str, &str)],
        format: Format,
    ) -> String {
        let auth = self.authorization(repo);
        let mut entries = Vec::new();
        for (os, arch) in platforms {
            let image = build_image(repo, tag, os, arch, format);
            self.push_parts(repo, &image, auth.as_deref());
            let digest = sha256_digest(&image.manifest);
            self.put_manifest(
                repo,
                &digest,
                image.media_type,
                &image.manifest,
                auth.as_deref(),
            );
            entries.push(image::index_entry(&image, &digest, os, arch));
        }
        let index = image::index(format, entries);
        self.put_manifest(
            repo,
            tag,
            format.index_media_type(),
            &index,
            auth.as_deref(),
        )
    }

    fn start(auth: RegistryAuth) -> TestRegistry {
        let bin = registry_binary();
        let dir = tempfile::Builder::new()
            .prefix("imagespec-registry-")
            .tempdir()
            .expect("cannot create a temp dir for the test registry");
        let auth_yaml = match &auth {
            RegistryAuth::None => String::new(),
            RegistryAuth::Basic { user, password } => {
                let hash = bcrypt::hash_with_result(password, 4)
                    .expect("bcrypt hashes the password")
                    .format_for_version(bcrypt::Version::TwoY);
                let file = dir.path().join("htpasswd");
                fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: imagespec-test-registry\n    path: {}\n",
                    file.display()
                )
            }
            RegistryAuth::Token(ts) => {
                let file = dir.path().join("token-cert.pem");
                fs::write(&file, ts.cert_pem()).expect("write token cert");
                format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    ts.realm(),
                    ts.service(),
                    ts.issuer(),
                    file.display()
                )
            }
        };
        let log_path = dir.path().join("registry.log");
        let mut last_log = String::new();
        // The free port found below may be taken before the registry binds it:
        // try a few ports.
        for _attempt in 0..3 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            let yaml = format!(
                "version: 0.1\n\
                 log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: {secret}\n\
                 {auth_yaml}",
                data = dir.path().join("data").display(),
                secret = random_string(32),
            );
            fs::write(&config, yaml).expect("write registry config");
            let log = fs::File::create(&log_path).expect("create registry log");
            let mut cmd = Command::new(&bin);
            cmd.arg("serve")
                .arg(&config)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log);
            // The registry reads REGISTRY_* variables as config overrides.
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("REGISTRY_") {
                    cmd.env_remove(key);
                }
            }
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return TestRegistry {
                        child,
                        port,
                        auth,
                        dir,
                    }
                }
                Err(exited) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = fs::read_to_string(&log_path).unwrap_or_default();
                    if !(exited && last_log.contains("address already in use")) {
                        panic!(
                            "test registry on 127.0.0.1:{port} did not come up within {STARTUP_TIMEOUT:?} \
                             ({}); its log:\n{last_log}",
                            if exited { "it exited" } else { "timed out" }
                        );
                    }
                }
            }
        }
        panic!("test registry could not bind a free port in 3 tries; last log:\n{last_log}")
    }

    fn push_parts(&self, repo: &str, image: &Image, auth: Option<&str>) {
        self.push_blob(repo, &image.config, auth);
        self.push_blob(repo, &image.layer, auth);
    }

    /// Monolithic upload: POST to start, PUT the whole blob with its digest.
    fn push_blob(&self, repo: &str, data: &[u8], auth: Option<&str>) -> String {
        let host = self.host();
        let digest = sha256_digest(data);
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let start = format!("/v2/{repo}/blobs/uploads/");
        let resp = http_request("POST", &host, &start, &headers, b"")
            .unwrap_or_else(|e| panic!("POST {start} on {host}: {e}"));
        if resp.status != 202 {
            panic!(
                "POST {start} on {host}: HTTP {} {}",
                resp.status,
                resp.text()
            );
        }
        let location = resp
            .header("location")
            .unwrap_or_else(|| panic!("POST {start} on {host}: no Location header"));
        let mut path = location_path(location);
        path.push(if path.contains('?') { '&' } else { '?' });
        path.push_str("digest=");
        path.push_str(&digest);
        headers.push(("Content-Type", "application/octet-stream"));
        let resp = http_request("PUT", &host, &path, &headers, data)
            .unwrap_or_else(|e| panic!("PUT blob {digest} on {host}: {e}"));
        if resp.status != 201 {
            panic!(
                "PUT blob {digest} to {repo} on {host}: HTTP {} {}",
                resp.status,
                resp.text()
            );
        }
        digest
    }

    fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
        auth: Option<&str>,
    ) -> String {
        let host = self.host();
        let digest = sha256_digest(body);
        let mut headers = vec![("Content-Type", media_type)];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let path = format!("/v2/{repo}/manifests/{reference}");
        let resp = http_request("PUT", &host, &path, &headers, body)
            .unwrap_or_else(|e| panic!("PUT {path} on {host}: {e}"));
        if resp.status != 201 {
            panic!(
                "PUT {path} on {host}: HTTP {} {}\nregistry log:\n{}",
                resp.status,
                resp.text(),
                self.log()
            );
        }
        if let Some(got) = resp.header("docker-content-digest") {
            assert_eq!(got, digest, "registry computed another manifest digest");
        }
        digest
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        // Only the process this harness started, by its PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the registry on `port` answers `/v2/`. `Err(true)` if the
/// process exited first, `Err(false)` on timeout.
fn wait_ready(child: &mut Child, port: u16) -> Result<(), bool> {
    let start = Instant::now();
    let host = format!("127.0.0.1:{port}");
    while start.elapsed() < STARTUP_TIMEOUT {
        if let Ok(Some(_)) = child.try_wait() {
            return Err(true);
        }
        if let Ok(resp) = http_request("GET", &host, "/v2/", &[], b"") {
            if resp.status == 200 || resp.status == 401 {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(false)
}

fn registry_binary() -> PathBuf {
    let mut dirs: Vec<PathBuf> = vec!["/usr/bin".into()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the `docker-registry` binary (distribution 2.8) is missing: install it with \
                 `apt-get install -y docker-registry` (`cargo xtask e2e up` does); \
                 the registry tests need it and never skip"
            )
        })
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind 127.0.0.1:0")
}

/// The path and query of a `Location` header, absolute or relative.
fn location_path(location: &str) -> String {
    let rest = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"));
    match rest {
        Some(r) => match r.find('/') {
            Some(i) => r[i..].to_string(),
            None => "/".into(),
        },
        None => location.to_string(),
    }
}

// ---------------------------------------------------------------------------
