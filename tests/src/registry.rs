//! Real container registries on loopback, for integration tests of code that
//! talks to OCI registries.
//!
//! - [`TestRegistry`] runs Debian's `docker-registry` (distribution 2.8) on
//!   `127.0.0.1`, with no auth, htpasswd (basic) auth, or token (bearer) auth
//!   backed by a [`TokenServer`] whose grants a [`TokenPolicy`] decides. It can
//!   push tiny images and image indexes (OCI or Docker v2 schema).
//! - [`FaultProxy`] sits in front of a registry and injects failures
//!   ([`Fault`]): error statuses, delays, connection resets, Harbor's
//!   "500 for not found" quirk.
//! - [`http_request`] is a minimal blocking HTTP/1.1 client for assertions.
//!
//! Everything runs on its own threads and processes, so it works from plain
//! `#[test]`s and from `#[tokio::test]`s alike (the calls block). Every wait is
//! bounded and panics with a clear message; the registry process is killed (by
//! PID) and its temp dir removed on drop. The `docker-registry` binary must be
//! installed (`apt-get install -y docker-registry`, which `cargo xtask e2e up`
//! does): the harness panics, never skips, when it is missing. No traffic leaves
//! `127.0.0.1`.

use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine as _;
use rand::Rng as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// How long a registry may take to answer after it was started.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Connect timeout of every connection the harness opens.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Read/write timeout of every connection the harness opens or accepts.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request or response head the harness accepts.
const MAX_HEAD: usize = 64 * 1024;

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 schema 2 manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// An `Accept` header value naming the four manifest media types above.
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

// ---------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------

/// Which manifest schema [`TestRegistry::push_image`] and
/// [`TestRegistry::push_index`] write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OCI image manifest / OCI image index.
    Oci,
    /// Docker v2 schema 2 manifest / manifest list.
    Docker,
}

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
            let (arch, variant) = split_arch(arch);
            let mut platform = json!({"architecture": arch, "os": os});
            if let Some(v) = variant {
                platform["variant"] = json!(v);
            }
            entries.push(json!({
                "mediaType": image.media_type,
                "digest": digest,
                "size": image.manifest.len(),
                "platform": platform,
            }));
        }
        let media_type = match format {
            Format::Oci => OCI_INDEX,
            Format::Docker => DOCKER_MANIFEST_LIST,
        };
        let index = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": entries,
        }))
        .expect("index serializes");
        self.put_manifest(repo, tag, media_type, &index, auth.as_deref())
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
                fs::write(&file, &signing_material().cert_pem).expect("write token cert");
                format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    ts.realm(),
                    ts.service(),
                    TOKEN_ISSUER,
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
// Tiny images
// ---------------------------------------------------------------------------

struct Image {
    config: Vec<u8>,
    layer: Vec<u8>,
    manifest: Vec<u8>,
    media_type: &'static str,
}

fn split_arch(arch: &str) -> (&str, Option<&str>) {
    match arch.split_once('/') {
        Some((a, v)) => (a, Some(v)),
        None => (arch, None),
    }
}

fn build_image(repo: &str, tag: &str, os: &str, arch: &str, format: Format) -> Image {
    let content = format!("imagespec registry harness: {repo}:{tag} {os}/{arch}\n");
    let tar = tar_one_file("imagespec-test.txt", content.as_bytes());
    let layer = gzip_stored(&tar);
    let (arch_name, variant) = split_arch(arch);
    let mut config = json!({
        "architecture": arch_name,
        "os": os,
        "config": {"Labels": {"org.imagespec.test.ref": format!("{repo}:{tag}")}},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&tar)]},
        "history": [{"created_by": "imagespec registry harness"}],
    });
    if let Some(v) = variant {
        config["variant"] = json!(v);
    }
    let config = serde_json::to_vec(&config).expect("config serializes");
    let (media_type, config_type, layer_type) = match format {
        Format::Oci => (
            OCI_MANIFEST,
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        ),
        Format::Docker => (
            DOCKER_MANIFEST,
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        ),
    };
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": sha256_digest(&config), "size": config.len()},
        "layers": [{"mediaType": layer_type, "digest": sha256_digest(&layer), "size": layer.len()}],
    }))
    .expect("manifest serializes");
    Image {
        config,
        layer,
        manifest,
        media_type,
    }
}

/// A ustar archive holding one regular file.
fn tar_one_file(name: &str, data: &[u8]) -> Vec<u8> {
    fn octal(field: &mut [u8], value: u64) {
        let s = format!("{value:0width$o}", width = field.len() - 1);
        field[..s.len()].copy_from_slice(s.as_bytes());
        field[s.len()] = 0;
    }
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], data.len() as u64);
    octal(&mut h[136..148], 0);
    h[148..156].copy_from_slice(b"        ");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.resize(out.len() + 1024, 0);
    out
}

/// Gzip with one stored (uncompressed) deflate block; `data` < 64 KiB.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("tiny layer");
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // final block, stored
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Token server
// ---------------------------------------------------------------------------

const TOKEN_SERVICE: &str = "imagespec-test-registry";
const TOKEN_ISSUER: &str = "imagespec-test-issuer";

/// One scope of a token request, e.g. `repository:allowed/app:pull,push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `repository` (or `registry` for `registry:catalog:*`).
    pub kind: String,
    /// The repository name.
    pub name: String,
    /// Requested (or, in [`TokenRequest::granted`], granted) actions.
    pub actions: Vec<String>,
}

impl Scope {
    fn parse(s: &str) -> Option<Scope> {
        let (kind, rest) = s.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        Some(Scope {
            kind: kind.into(),
            name: name.into(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
        })
    }
}

/// What the token server saw in one request (the harness's own requests are
/// not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `service` query parameter.
    pub service: Option<String>,
    /// The basic-auth user name presented, if any.
    pub user: Option<String>,
    /// The scopes asked for (the `scope` parameter may repeat or be absent).
    pub scopes: Vec<Scope>,
    /// What was granted (empty when the request was refused with 401).
    pub granted: Vec<Scope>,
    /// The HTTP status the token server answered.
    pub status: u16,
}

type GrantFn = dyn Fn(Option<(&str, &str)>, &Scope) -> Vec<String> + Send + Sync;

/// Decides which actions a token grants, per requested scope and presented
/// basic credentials. Granted actions are always limited to those requested.
#[derive(Clone)]
pub struct TokenPolicy {
    grant: Arc<GrantFn>,
    required: Option<(String, String)>,
}

impl fmt::Debug for TokenPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPolicy")
            .field("required_user", &self.required.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl TokenPolicy {
    /// `grant(credentials, scope)` returns the actions to grant for `scope`;
    /// `credentials` is the `(user, password)` of the request's basic auth.
    pub fn new(
        grant: impl Fn(Option<(&str, &str)>, &Scope) -> Vec<String> + Send + Sync + 'static,
    ) -> TokenPolicy {
        TokenPolicy {
            grant: Arc::new(grant),
            required: None,
        }
    }

    /// Grants every requested action to anyone.
    pub fn allow_all() -> TokenPolicy {
        TokenPolicy::new(|_, scope| scope.actions.clone())
    }

    /// Grants `pull` (only) on repositories whose name starts with `prefix`
    /// (e.g. `"allowed/"`), nothing anywhere else.
    pub fn pull_only(prefix: &str) -> TokenPolicy {
        let prefix = prefix.to_string();
        TokenPolicy::new(move |_, scope| {
            if scope.kind == "repository" && scope.name.starts_with(&prefix) {
                vec!["pull".into()]
            } else {
                Vec::new()
            }
        })
    }

    /// Token requests without exactly these basic credentials are answered
    /// 401 by the token server (as a private registry's would).
    pub fn require_basic(mut self, user: &str, password: &str) -> TokenPolicy {
        self.required = Some((user.into(), password.into()));
        self
    }
}

struct SigningMaterial {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    cert_der: Vec<u8>,
    cert_pem: String,
}

/// One RSA key and self-signed certificate per test process (key generation
/// is the slow part).
fn signing_material() -> &'static SigningMaterial {
    static MATERIAL: OnceLock<SigningMaterial> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        use rsa::pkcs8::EncodePublicKey as _;
        use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
        use x509_cert::der::{Decode as _, Encode as _, EncodePem as _};

        let private =
            rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("generate an RSA key");
        let key = rsa::pkcs1v15::SigningKey::<Sha256>::new(private.clone());
        let spki_der = private
            .to_public_key()
            .to_public_key_der()
            .expect("encode public key");
        let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes())
            .expect("decode public key");
        let now = SystemTime::now();
        let validity = x509_cert::time::Validity {
            not_before: x509_cert::time::Time::try_from(now - Duration::from_secs(3600))
                .expect("time"),
            not_after: x509_cert::time::Time::try_from(now + Duration::from_secs(7 * 86400))
                .expect("time"),
        };
        let subject =
            x509_cert::name::Name::from_str("CN=imagespec-test-token-issuer").expect("name");
        let builder = CertificateBuilder::new(
            Profile::Root,
            x509_cert::serial_number::SerialNumber::from(1u32),
            validity,
            subject,
            spki,
            &key,
        )
        .expect("certificate builder");
        let cert = builder
            .build::<rsa::pkcs1v15::Signature>()
            .expect("sign certificate");
        SigningMaterial {
            cert_der: cert.to_der().expect("encode certificate"),
            cert_pem: cert
                .to_pem(x509_cert::der::pem::LineEnding::LF)
                .expect("encode certificate"),
            key,
        }
    })
}

/// An RS256 JWT the registry accepts, granting `access`.
fn sign_token(service: &str, subject: &str, access: &[Scope]) -> String {
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let material = signing_material();
    let now = now_secs();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [B64.encode(&material.cert_der)]});
    let access: Vec<Value> = access
        .iter()
        .map(|s| json!({"type": s.kind, "name": s.name, "actions": s.actions}))
        .collect();
    let claims = json!({
        "iss": TOKEN_ISSUER,
        "sub": subject,
        "aud": service,
        "exp": now + 600,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": random_string(20),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let signature = material.key.sign(input.as_bytes()).to_bytes();
    format!("{input}.{}", B64URL.encode(signature))
}

#[derive(Debug)]
struct TokenState {
    policy: TokenPolicy,
    admin: (String, String),
    log: Mutex<Vec<TokenRequest>>,
}

/// The token server of a [`TestRegistry::token`] registry: a small HTTP/1.1
/// server on `127.0.0.1` answering `GET /token?service=..&scope=..` with
/// `{"token": JWT, "access_token": JWT}`. Stopped on drop.
#[derive(Debug)]
pub struct TokenServer {
    server: Server,
    state: Arc<TokenState>,
}

impl TokenServer {
    fn start(policy: TokenPolicy) -> TokenServer {
        // Make the key before the first request needs it.
        signing_material();
        let state = Arc::new(TokenState {
            policy,
            admin: (format!("harness-{}", random_string(8)), random_string(24)),
            log: Mutex::new(Vec::new()),
        });
        let handler_state = Arc::clone(&state);
        let server = Server::start("token-server", move |stream, _stop| {
            handle_token_conn(&handler_state, stream)
        });
        TokenServer { server, state }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.server.addr.to_string()
    }

    /// `http://127.0.0.1:PORT/token`, the realm of the registry's challenge.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.host())
    }

    /// The `service` the registry names in its challenge (and expects as `aud`).
    pub fn service(&self) -> &str {
        TOKEN_SERVICE
    }

    /// How many token requests it has answered (the harness's own excluded).
    pub fn requests(&self) -> usize {
        self.state.log.lock().expect("token log").len()
    }

    /// The token requests it has answered (the harness's own excluded).
    pub fn log(&self) -> Vec<TokenRequest> {
        self.state.log.lock().expect("token log").clone()
    }

    /// A token with pull and push on `repo`, bypassing the policy.
    fn admin_token(&self, repo: &str) -> String {
        let scope = Scope {
            kind: "repository".into(),
            name: repo.into(),
            actions: vec!["pull".into(), "push".into()],
        };
        sign_token(TOKEN_SERVICE, &self.state.admin.0, &[scope])
    }
}

fn handle_token_conn(state: &TokenState, stream: TcpStream) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    let req = match read_request(&mut reader, &mut writer) {
        Ok(Some(r)) => r,
        _ => return,
    };
    let (path, query) = match req.target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (req.target.as_str(), ""),
    };
    if req.method != "GET" || path != "/token" {
        let _ = write_response(
            &mut writer,
            404,
            &[("Content-Type", "text/plain")],
            b"not found\n",
            req.method == "HEAD",
        );
        return;
    }
    let mut service = None;
    let mut scopes = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match percent_decode(k).as_str() {
            "service" => service = Some(v),
            "scope" => scopes.extend(v.split_whitespace().filter_map(Scope::parse)),
            _ => {}
        }
    }
    let creds = req.header("authorization").and_then(parse_basic);
    let creds_ref = creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    let is_admin = creds_ref == Some((state.admin.0.as_str(), state.admin.1.as_str()));
    let refused = !is_admin
        && state
            .policy
            .required
            .as_ref()
            .is_some_and(|(u, p)| creds_ref != Some((u.as_str(), p.as_str())));
    let granted: Vec<Scope> = if refused {
        Vec::new()
    } else {
        scopes
            .iter()
            .map(|s| {
                let allowed = if is_admin {
                    s.actions.clone()
                } else {
                    (state.policy.grant)(creds_ref, s)
                };
                Scope {
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                    actions: s
                        .actions
                        .iter()
                        .filter(|a| allowed.contains(a))
                        .cloned()
                        .collect(),
                }
            })
            .collect()
    };
    let status = if refused { 401 } else { 200 };
    if !is_admin {
        state.log.lock().expect("token log").push(TokenRequest {
            service: service.clone(),
            user: creds.as_ref().map(|(u, _)| u.clone()),
            scopes,
            granted: granted.clone(),
            status,
        });
    }
    if refused {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
        let _ = write_response(
            &mut writer,
            401,
            &[
                ("Content-Type", "application/json"),
                ("Www-Authenticate", "Basic realm=\"imagespec-test-token\""),
            ],
            body,
            false,
        );
        return;
    }
    let subject = creds.as_ref().map(|(u, _)| u.as_str()).unwrap_or("");
    let token = sign_token(
        service.as_deref().unwrap_or(TOKEN_SERVICE),
        subject,
        &granted,
    );
    let body = json!({"token": token, "access_token": token, "expires_in": 600});
    let _ = write_response(
        &mut writer,
        200,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
        false,
    );
}

/// `Basic base64(user:password)`, an `Authorization` header value.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", B64.encode(format!("{user}:{password}")))
}

fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(B64.decode(rest.trim()).ok()?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.into(), p.into()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// Fault proxy
// ---------------------------------------------------------------------------

/// What a [`FaultProxy`] does to the requests it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward every request unchanged.
    None,
    /// Answer every request with this status (and a distribution-style JSON
    /// error body), without forwarding.
    Status(u16),
    /// Like [`Fault::Status`], with a `Retry-After: seconds` header (for 429/503).
    RetryAfter {
        /// The status to answer.
        status: u16,
        /// The `Retry-After` value.
        seconds: u64,
    },
    /// Answer the first `times` requests (from when it is set) with `status`,
    /// then forward.
    StatusThenPass {
        /// The status to answer.
        status: u16,
        /// How many requests get it.
        times: usize,
    },
    /// Wait this long, then forward.
    Delay(Duration),
    /// Read the request, then reset the connection (SO_LINGER 0) without answering.
    Reset,
    /// Answer manifest requests (`/v2/NAME/manifests/REF`) with Harbor's quirk,
    /// HTTP 500 with `{"errors":[{"code":"UNKNOWN","message":"unknown: artifact
    /// NAME:REF not found"}]}`; forward the others.
    HarborNotFound,
}

#[derive(Debug)]
struct ProxyState {
    target: SocketAddr,
    /// The current fault and how many requests it has been applied to.
    fault: Mutex<(Fault, usize)>,
    requests: AtomicUsize,
}

/// An HTTP proxy on `127.0.0.1:PORT` in front of a registry (or any HTTP
/// server on loopback) that injects a [`Fault`]. Each connection carries one
/// request (answers say `Connection: close`); the `Host` header is passed
/// through, so the registry's `Location` headers point back at the proxy.
/// Stopped on drop.
#[derive(Debug)]
pub struct FaultProxy {
    server: Server,
    state: Arc<ProxyState>,
}

impl FaultProxy {
    /// Starts a proxy forwarding to `target` (`127.0.0.1:PORT`; must be a
    /// loopback address), with [`Fault::None`].
    pub fn start(target: &str) -> FaultProxy {
        let target = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("FaultProxy: cannot resolve target {target:?}"));
        assert!(
            target.ip().is_loopback(),
            "FaultProxy only forwards to loopback, not {target}"
        );
        let state = Arc::new(ProxyState {
            target,
            fault: Mutex::new((Fault::None, 0)),
            requests: AtomicUsize::new(0),
        });
        let handler_state = Arc::clone(&state);
        let server = Server::start("fault-proxy", move |stream, stop| {
            handle_proxy_conn(&handler_state, stream, stop)
        });
        FaultProxy { server, state }
    }

    /// `127.0.0.1:PORT`, to use as the registry host.
    pub fn host(&self) -> String {
        self.server.addr.to_string()
    }

    /// Sets the fault for the requests that follow (and restarts the count of
    /// [`Fault::StatusThenPass`]).
    pub fn set(&self, fault: Fault) {
        *self.state.fault.lock().expect("proxy fault") = (fault, 0);
    }

    /// How many requests the proxy has received (faulted or forwarded).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

enum ProxyAction {
    Respond(u16, Vec<(&'static str, String)>, Vec<u8>),
    Reset,
    Forward(Duration),
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    json!({"errors": [{"code": code, "message": message}]})
        .to_string()
        .into_bytes()
}

fn status_response(status: u16, retry_after: Option<u64>) -> ProxyAction {
    let code = match status {
        429 => "TOOMANYREQUESTS",
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "NOT_FOUND",
        _ => "UNKNOWN",
    };
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if let Some(s) = retry_after {
        headers.push(("Retry-After", s.to_string()));
    }
    ProxyAction::Respond(
        status,
        headers,
        error_body(
            code,
            &format!("fault injected by the test proxy: HTTP {status}"),
        ),
    )
}

/// `(NAME, REF)` of a `/v2/NAME/manifests/REF` path.
fn manifest_path(target: &str) -> Option<(&str, &str)> {
    let path = target.split('?').next().unwrap_or(target);
    let rest = path.strip_prefix("/v2/")?;
    let i = rest.rfind("/manifests/")?;
    let reference = &rest[i + "/manifests/".len()..];
    (!reference.is_empty() && !reference.contains('/')).then_some((&rest[..i], reference))
}

fn decide(fault: &mut (Fault, usize), req: &Request) -> ProxyAction {
    fault.1 += 1;
    match &fault.0 {
        Fault::None => ProxyAction::Forward(Duration::ZERO),
        Fault::Status(s) => status_response(*s, None),
        Fault::RetryAfter { status, seconds } => status_response(*status, Some(*seconds)),
        Fault::StatusThenPass { status, times } => {
            if fault.1 <= *times {
                status_response(*status, None)
            } else {
                ProxyAction::Forward(Duration::ZERO)
            }
        }
        Fault::Delay(d) => ProxyAction::Forward(*d),
        Fault::Reset => ProxyAction::Reset,
        Fault::HarborNotFound => match manifest_path(&req.target) {
            Some((name, reference)) => {
                let sep = if reference.contains(':') { '@' } else { ':' };
                ProxyAction::Respond(
                    500,
                    vec![("Content-Type", "application/json; charset=utf-8".into())],
                    error_body(
                        "UNKNOWN",
                        &format!("unknown: artifact {name}{sep}{reference} not found"),
                    ),
                )
            }
            None => ProxyAction::Forward(Duration::ZERO),
        },
    }
}

fn handle_proxy_conn(state: &ProxyState, stream: TcpStream, stop: &AtomicBool) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut client = stream;
    let req = match read_request(&mut reader, &mut client) {
        Ok(Some(r)) => r,
        _ => return,
    };
    state.requests.fetch_add(1, Ordering::SeqCst);
    let action = decide(&mut state.fault.lock().expect("proxy fault"), &req);
    match action {
        ProxyAction::Respond(status, headers, body) => {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let _ = write_response(&mut client, status, &headers, &body, req.method == "HEAD");
            let _ = client.shutdown(Shutdown::Write);
        }
        ProxyAction::Reset => {
            let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
            drop(client);
        }
        ProxyAction::Forward(delay) => {
            let start = Instant::now();
            while start.elapsed() < delay {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep((delay - start.elapsed()).min(Duration::from_millis(20)));
            }
            if forward(state.target, &req, &mut client).is_err() {
                // Nothing was sent yet if connecting failed; answer 502 then.
                let _ = write_response(
                    &mut client,
                    502,
                    &[("Content-Type", "application/json")],
                    &error_body("UNKNOWN", "test proxy: upstream unreachable"),
                    req.method == "HEAD",
                );
            }
            let _ = client.shutdown(Shutdown::Write);
        }
    }
}

/// Sends `req` to `target` with `Connection: close` and copies the raw answer
/// back. `Err` only when the upstream could not be reached or written to.
fn forward(target: SocketAddr, req: &Request, client: &mut TcpStream) -> io::Result<()> {
    let mut upstream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)?;
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        let lower = k.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "connection"
                | "keep-alive"
                | "proxy-connection"
                | "transfer-encoding"
                | "content-length"
                | "expect"
                | "te"
                | "upgrade"
        ) {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(&req.body)?;
    upstream.flush()?;
    // From here on the client may have got part of the answer: never Err.
    let _ = io::copy(&mut upstream, client);
    Ok(())
}

// ---------------------------------------------------------------------------
// Minimal HTTP/1.1
// ---------------------------------------------------------------------------

/// A background accept loop on `127.0.0.1:0`, one thread per connection.
/// Dropping it stops accepting (bounded: the loop polls every 10 ms).
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    fn start(
        name: &str,
        handler: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let loop_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                while !loop_stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let handler = Arc::clone(&handler);
                            let stop = Arc::clone(&loop_stop);
                            let _ = std::thread::Builder::new()
                                .name(format!("{}-conn", addr.port()))
                                .spawn(move || {
                                    if stream.set_nonblocking(false).is_ok()
                                        && stream.set_read_timeout(Some(IO_TIMEOUT)).is_ok()
                                        && stream.set_write_timeout(Some(IO_TIMEOUT)).is_ok()
                                    {
                                        handler(stream, &stop);
                                    }
                                });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
            .expect("spawn server thread");
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP request as a server here reads it (body de-chunked).
#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads the head lines up to the blank line. `Ok(None)` on EOF before any byte.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = Vec::new();
        let n = reader
            .by_ref()
            .take(MAX_HEAD as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if lines.is_empty() && total == 0 {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated HTTP head",
                ))
            };
        }
        total += n;
        if total > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "HTTP head too large",
            ));
        }
        let line = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // stray CRLF before a request
            }
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn parse_headers(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let size = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut t = String::new();
                if reader.read_line(&mut t)? == 0 || t.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn read_request(reader: &mut impl BufRead, writer: &mut impl Write) -> io::Result<Option<Request>> {
    let Some(lines) = read_head(reader)? else {
        return Ok(None);
    };
    let mut parts = lines[0].split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad request line",
        ));
    };
    let headers = parse_headers(&lines[1..]);
    if find_header(&headers, "expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if find_header(&headers, "transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        read_chunked(reader)?
    } else {
        let len: usize = find_header(&headers, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Some(Request {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    w.write_all(head.as_bytes())?;
    if !head_only {
        w.write_all(body)?;
    }
    w.flush()
}

/// An HTTP response as [`http_request`] returns it (body de-chunked).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (empty for `HEAD`).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }
}

/// Sends one HTTP/1.1 request to `host` (`127.0.0.1:PORT`) over a fresh
/// connection (`Connection: close`) and reads the whole answer. Connecting
/// times out after 5 s, each read or write after 30 s. `Host`, `Connection`
/// and `Content-Length` are set here; `headers` adds the others. `Err` for
/// connection failures, resets and truncated answers.
pub fn http_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let addr = host
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}")))?;
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if !body.is_empty() || !matches!(method, "GET" | "HEAD" | "DELETE") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut reader = BufReader::new(stream);
    loop {
        let lines = read_head(&mut reader)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed without an answer",
            )
        })?;
        let status: u16 = lines[0]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;
        if (100..200).contains(&status) {
            continue;
        }
        let headers = parse_headers(&lines[1..]);
        let body = if method == "HEAD" || status == 204 || status == 304 {
            Vec::new()
        } else if find_header(&headers, "transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            read_chunked(&mut reader)?
        } else if let Some(len) =
            find_header(&headers, "content-length").and_then(|v| v.parse().ok())
        {
            let mut body = vec![0; len];
            reader.read_exact(&mut body)?;
            body
        } else {
            let mut body = Vec::new();
            reader.read_to_end(&mut body)?;
            body
        };
        return Ok(HttpResponse {
            status,
            headers,
            body,
        });
    }
}
